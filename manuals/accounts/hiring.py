"""Accounts a team lead runs: new hires (one by one or from a CSV), set-password links,
leavers. No e-mail needed: the lead hands the one-time link over.

A link is Django's password-reset token: it stops working once the password is set (the
token covers the password hash) or after ``PASSWORD_RESET_TIMEOUT``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from manuals.models import Manual, Member, Team
from manuals.team_templates.cloning import start_my_manual

MAX_CSV_ROWS = 500


@dataclass(frozen=True)
class HireRow:
    username: str
    display_name: str
    role: str = Member.Role.AGENT
    email: str = ""


@dataclass(frozen=True)
class NewAccount:
    user: object
    manual: Manual | None
    link: str  # path of the one-time set-password page


def set_password_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("manuals:set_password", kwargs={"uidb64": uid, "token": token})


def user_from_link(uidb64: str, token: str):
    """The active user a set-password link is for, or None (wrong, used or expired)."""
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        user = get_user_model().objects.get(pk=pk, is_active=True)
    except (ValueError, OverflowError, get_user_model().DoesNotExist):
        return None
    return user if default_token_generator.check_token(user, token) else None


def _check_username_free(username: str) -> None:
    if get_user_model().objects.filter(username__iexact=username).exists():
        raise ValidationError(_("用户名“%(name)s”已被占用。") % {"name": username})


def add_hire(*, team: Team, row: HireRow) -> NewAccount:
    """The account, its membership and (for agents) the manual from the team template."""
    _check_username_free(row.username)
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=row.username, email=row.email)
        user.set_unusable_password()  # nobody knows a password until the hire sets one
        user.save(update_fields=["password"])
        Member.objects.create(user=user, team=team, role=row.role, display_name=row.display_name)
    manual = start_my_manual(user=user) if row.role == Member.Role.AGENT else None
    return NewAccount(user=user, manual=manual, link=set_password_link(user))


def parse_hires_csv(data: bytes) -> list[HireRow]:
    """Rows of ``username,display_name[,role][,email]`` (a header row is allowed), all
    checked before anyone is added; a ValidationError lists every bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV this way
        except UnicodeDecodeError:
            raise ValidationError(_("无法读取这个文件：请保存为 UTF-8 编码的 CSV。")) from None
    rows, errors, seen = [], [], set()
    # Whatever the lead's language, both spellings work (Excel sheets travel).
    roles = {"agent": Member.Role.AGENT, "lead": Member.Role.LEAD}
    roles |= {"客服": Member.Role.AGENT, "主管": Member.Role.LEAD}
    for number, cells in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or (number == 1 and cells[0].lower() in {"username", "用户名"}):
            continue
        username = cells[0]
        display_name = cells[1] if len(cells) > 1 else ""
        role = roles.get(cells[2].lower() if len(cells) > 2 and cells[2] else "agent")
        email = cells[3] if len(cells) > 3 else ""
        problem = None
        if role is None:
            problem = _("角色只能是 agent/客服 或 lead/主管")
        elif not username or not display_name:
            problem = _("需要用户名和显示名")
        elif username.lower() in seen:
            problem = _("用户名重复")
        else:
            try:
                get_user_model().username_validator(username)
                _check_username_free(username)
            except ValidationError as error:
                problem = " ".join(error.messages)
        if problem:
            errors.append(_("第 %(n)d 行：%(problem)s") % {"n": number, "problem": problem})
            continue
        seen.add(username.lower())
        rows.append(HireRow(username, display_name, role, email))
    if len(rows) > MAX_CSV_ROWS:
        errors.append(_("一次最多添加 %(n)d 人。") % {"n": MAX_CSV_ROWS})
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError(_("文件里没有要添加的人。"))
    return rows


def add_hires(*, team: Team, rows: list[HireRow]) -> list[NewAccount]:
    with transaction.atomic():  # all of them or none
        return [add_hire(team=team, row=row) for row in rows]


def reset_password(*, user) -> str:
    """The old password stops working (and every session with it); a new link."""
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return set_password_link(user)


def set_active(*, user, active: bool) -> None:
    """A leaver can no longer log in; their manuals stay for the handover."""
    user.is_active = active
    user.save(update_fields=["is_active"])


def mail_link(*, user, url: str) -> bool:
    """Send the set-password link when the site has e-mail and the person an address."""
    if not (settings.LANBITOU_EMAIL_ENABLED and user.email):
        return False
    send_mail(
        _("烂笔头：设置你的密码"),
        _(
            "你好！你的烂笔头用户名是 %(username)s。"
            "请打开下面的链接设置密码（只能用一次）：\n\n%(url)s"
        )
        % {"username": user.get_username(), "url": url},
        None,
        [user.email],
    )
    return True
