"""A lead adds a new hire in the browser; the hire opens the link and is in a manual."""

import pytest

from manuals.models import Manual
from manuals.team_templates.default_template import ensure_default_template
from tests.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_adds_a_hire_who_sets_a_password_and_lands_in_a_cloned_manual(
    page, chromium, live_server, lena
):
    template = ensure_default_template(team=lena.member.team)
    log_in(page, "lena")
    page.click("nav.topnav >> text=团队")
    page.click("text=成员和账号")
    page.fill("#add-member input[name=username]", "xiaoli")
    page.fill("#add-member input[name=display_name]", "小李")
    page.select_option("#add-member select[name=role]", "agent")
    page.click("#add-member button[type=submit]")
    link = page.input_value("#set-password-links tr[data-username=xiaoli] input")
    assert link.startswith(live_server.url + "/account/set-password/")

    hire = chromium.new_context(locale="zh-CN").new_page()  # the hire's own browser
    hire.goto(link)
    assert "xiaoli" in hire.inner_text("main")
    hire.fill("input[name=new_password1]", "Qiu-shui-2026-hai")
    hire.fill("input[name=new_password2]", "Qiu-shui-2026-hai")
    hire.click("button[type=submit]")
    hire.wait_for_url("**/manual/*/")
    manual = Manual.objects.get(owner__username="xiaoli", is_template=False)
    assert hire.url.endswith(f"/manual/{manual.pk}/")
    assert manual.template_id == template.pk
    assert "管理制度" in hire.locator("#outline").inner_text()

    # The link was for once; the password is hers from now on.
    hire.goto(link)
    assert "链接已失效" in hire.inner_text("main")
    hire.context.clear_cookies()
    hire.goto(live_server.url + "/login/")
    hire.fill("input[name=username]", "xiaoli")
    hire.fill("input[name=password]", "Qiu-shui-2026-hai")
    hire.click("button[type=submit]")
    hire.wait_for_url(lambda url: "/login/" not in url)
    assert manual.title in hire.inner_text("main")
    hire.context.close()
