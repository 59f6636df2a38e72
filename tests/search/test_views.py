import pytest
from django.urls import reverse

from manuals.tree import SectionContent, add_section
from search import backends
from search.index import index_dir
from tests.conftest import section_titled

pytestmark = pytest.mark.django_db


def results_url(**params):
    from urllib.parse import urlencode

    return reverse("search:results") + "?" + urlencode(params)


def test_results_page_groups_hits_with_highlighted_snippets(client, alice, alice_manual):
    backends.current().rebuild()
    client.force_login(alice)
    page = client.get(results_url(q="客户"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "找到 1 个章节" in html
    assert "王丽" in html and "王丽的工作手册" in html  # grouped by agent and manual
    assert "<mark>客户</mark>情绪" in html
    section = section_titled(alice_manual, "客户情绪")
    link = reverse("manuals:section", kwargs={"manual_id": alice_manual.pk,
                                              "section_id": section.pk})  # fmt: skip
    assert f'href="{link}?q=%E5%AE%A2%E6%88%B7"' in html
    assert "工作复盘 › 2024-03 退款纠纷" in html


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "工作复盘"), ("en", "Retrospective")])
def test_each_hit_says_its_kind_in_the_readers_language(client, alice, alice_manual, language,
                                                        label):  # fmt: skip
    from manuals.models import Section

    section = section_titled(alice_manual, "客户情绪")
    Section.objects.filter(pk=section.pk).update(kind=Section.Kind.RETROSPECTIVE)
    backends.current().rebuild()
    client.force_login(alice)
    client.cookies["django_language"] = language
    html = client.get(results_url(q="客户")).content.decode()
    assert f'<span class="badge kind-retrospective">{label}</span>' in html


def test_html_in_query_and_content_is_escaped(client, alice, alice_manual):
    add_section(
        manual=alice_manual,
        content=SectionContent(
            title="<img src=x onerror=alert(1)>", body="<p>&lt;b&gt;粗&lt;/b&gt;</p>"
        ),
    )
    backends.current().rebuild()
    client.force_login(alice)
    html = client.get(results_url(q="<img src=x onerror=alert(1)>")).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img" in html
    html = client.get(results_url(q="<b>粗")).content.decode()
    assert "<b>" not in html and "<mark>&lt;b&gt;粗</mark>" in html


def test_filters_and_pagination(client, alice, alice_manual):
    for i in range(25):
        content = SectionContent(title=f"批量{i:02d}", body="<p>回访记录</p>", kind="retrospective")
        add_section(manual=alice_manual, content=content)
    backends.current().rebuild()
    client.force_login(alice)
    first = client.get(results_url(q="回访")).content.decode()
    assert "找到 25 个章节" in first and "第 1 / 2 页" in first
    second = client.get(results_url(q="回访", page=2)).content.decode()
    assert second.count('class="search-hit"') == 5
    assert "找到 0 个章节" in client.get(results_url(q="回访", kind="rule")).content.decode()
    assert (
        "找到 25 个章节" in client.get(results_url(q="回访", kind="retrospective")).content.decode()
    )
    assert "找到 0 个章节" in client.get(results_url(q="回访", agent="bob")).content.decode()
    assert "找到 25 个章节" in client.get(results_url(q="回访", agent="alice")).content.decode()
    html = client.get(results_url(q="回访", since="yesterday")).content.decode()
    assert "日期格式" in html
    assert client.get(results_url(q="回访", page="x9")).status_code == 200
    assert client.get(results_url(q="回访", page="999999")).status_code == 200


def test_facets_keep_the_choice_and_escape_what_people_typed(client, alice, alice_manual):
    from manuals.models import Manual

    Manual.objects.filter(pk=alice_manual.pk).update(title="<b>王丽</b>的手册")
    backends.current().rebuild()
    client.force_login(alice)
    html = client.get(results_url(q="客户", manual=alice_manual.pk, agent="王丽")).content.decode()
    assert "找到 1 个章节" in html
    title = "&lt;b&gt;王丽&lt;/b&gt;的手册"
    assert f'<option value="{alice_manual.pk}" selected>{title} (1)</option>' in html
    assert '<option value="王丽" selected>王丽 (1)</option>' in html
    assert "<b>王丽</b>" not in html


def test_search_needs_login(client):
    assert client.get(results_url(q="x")).status_code == 302


def test_missing_or_corrupt_index_offers_a_rebuild(client, alice, lena, alice_manual):
    client.force_login(lena)
    html = client.get(results_url(q="客户")).content.decode()  # no index yet
    assert "搜索索引暂时不可用" in html and "重建搜索索引" in html
    backends.current().rebuild()
    for path in index_dir().iterdir():
        if path.suffix == ".toc" or path.name.startswith("_MAIN"):
            path.write_bytes(b"garbage")
    page = client.get(results_url(q="客户"))
    assert page.status_code == 200 and "重建搜索索引" in page.content.decode()
    # The rest of the site keeps working.
    assert client.get(reverse("manuals:manual", args=[alice_manual.pk])).status_code == 200
    # An agent is told whom to ask instead of getting a button.
    client.force_login(alice)
    html = client.get(results_url(q="客户")).content.decode()
    assert "请联系主管" in html and "重建搜索索引</button>" not in html


def test_lead_can_ask_for_a_rebuild(client, lena, alice, alice_manual):
    client.force_login(alice)
    assert client.post(reverse("search:rebuild")).status_code == 404
    client.force_login(lena)
    page = client.post(reverse("search:rebuild"), {"next_query": "q=客户"}, follow=True)
    assert "已开始重建搜索索引" in page.content.decode()
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="rebuild_search_index").exists()


def test_find_in_manual_json(client, alice, bob, alice_manual):
    backends.current().rebuild()
    client.force_login(alice)
    url = reverse("search:find_in_manual", args=[alice_manual.pk])
    data = client.get(url, {"q": "的内容"}).json()
    assert data["total"] == 9
    assert [s["title"] for s in data["sections"]][:3] == ["管理制度", "考勤制度", "质检标准"]
    assert data["sections"][1]["path"] == ["管理制度"]
    assert data["sections"][1]["url"].endswith(f"/section/{data['sections'][1]['id']}/")
    assert client.get(url, {"q": ""}).json()["total"] == 0
    # bob may open alice's manual outline but reads none of its private sections
    client.force_login(bob)
    assert client.get(url, {"q": "的内容"}).json()["total"] == 0


def test_find_starts_at_the_section_being_read_even_one_the_page_has_not_loaded(
    client, alice, alice_manual
):
    backends.current().rebuild()
    client.force_login(alice)
    url = reverse("search:find_in_manual", args=[alice_manual.pk])
    titles = [s["title"] for s in client.get(url, {"q": "的内容"}).json()["sections"]]
    reading = section_titled(alice_manual, titles[4])
    data = client.get(url, {"q": "的内容", "reading": reading.pk}).json()
    assert data["sections"][data["start"]]["title"] == titles[4]
    # Reading past the last hit wraps to the first; nonsense is the manual's start.
    last_chapter = [s for s in alice_manual.sections.in_outline_order() if s.level == 1][-1]
    after = add_section(
        manual=alice_manual, target=last_chapter, content=SectionContent(title="末尾", body="无")
    )
    assert after.pk == list(alice_manual.sections.in_outline_order())[-1].pk
    assert client.get(url, {"q": "的内容", "reading": after.pk}).json()["start"] == 0
    assert client.get(url, {"q": "的内容", "reading": "x"}).json()["start"] == 0


def test_find_in_another_teams_manual_is_404(client, carol, alice_manual):
    client.force_login(carol)
    url = reverse("search:find_in_manual", args=[alice_manual.pk])
    assert client.get(url, {"q": "的"}).status_code == 404


def test_find_in_manual_works_without_an_index(client, alice, alice_manual):
    client.force_login(alice)
    url = reverse("search:find_in_manual", args=[alice_manual.pk])
    data = client.get(url, {"q": "质检"}).json()
    assert data["total"] == 2 and data["index_unavailable"] is True


def test_search_box_on_every_page(client, alice, alice_manual):
    client.force_login(alice)
    html = client.get(reverse("manuals:home")).content.decode()
    assert 'id="site-search"' in html and "js/search-box.js" in html
    html = client.get(reverse("manuals:manual", args=[alice_manual.pk])).content.decode()
    assert 'id="find-in-manual"' in html and "js/find.js" in html
