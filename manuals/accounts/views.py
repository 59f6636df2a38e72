"""The lead's member pages, set-password links and everyone's own password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from manuals.access import lead_required, member_for
from manuals.accounts import hiring
from manuals.accounts.forms import HireForm, HiresCsvForm
from manuals.models import Manual, Member


def _members_page(request, *, hire_form=None, csv_form=None, csv_errors=(), status=200):
    team = request.lead.team
    manuals = Prefetch(
        "user__manuals",
        queryset=Manual.objects.filter(is_template=False).order_by("pk"),
        to_attr="own_manuals",
    )
    members = (
        Member.objects.filter(team=team)
        .select_related("user")
        .prefetch_related(manuals)
        .order_by("user__username")
    )
    context = {
        "team": team,
        "members": members,
        "hire_form": hire_form or HireForm(),
        "csv_form": csv_form or HiresCsvForm(),
        "csv_errors": csv_errors,
    }
    return render(request, "accounts/members.html", context, status=status)


def _links_page(request, accounts: list[hiring.NewAccount], *, title: str) -> HttpResponse:
    # Shown once, in the answer to the POST: the links are never stored anywhere.
    links = []
    for account in accounts:
        url = request.build_absolute_uri(account.link)
        links.append((account, url, hiring.mail_link(user=account.user, url=url)))
    response = render(request, "accounts/links.html", {"links": links, "title": title})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@lead_required
def members(request: HttpRequest) -> HttpResponse:
    return _members_page(request)


@login_required
@lead_required
@require_POST
def add_member(request: HttpRequest) -> HttpResponse:
    form = HireForm(request.POST)
    if not form.is_valid():
        return _members_page(request, hire_form=form, status=400)
    account = hiring.add_hire(team=request.lead.team, row=form.row())
    return _links_page(request, [account], title=_("新成员已添加"))


@login_required
@lead_required
@require_POST
def add_members_csv(request: HttpRequest) -> HttpResponse:
    form = HiresCsvForm(request.POST, request.FILES)
    if not form.is_valid():
        return _members_page(request, csv_form=form, status=400)
    try:
        rows = hiring.parse_hires_csv(form.cleaned_data["file"].read())
    except ValidationError as error:
        return _members_page(request, csv_errors=error.messages, status=400)
    accounts = hiring.add_hires(team=request.lead.team, rows=rows)
    return _links_page(request, accounts, title=_("已添加 %(n)d 位新成员") % {"n": len(accounts)})


@login_required
@lead_required
@require_POST
def reset_member_password(request: HttpRequest, user_id: int) -> HttpResponse:
    member = member_for(request, user_id)
    link = hiring.reset_password(user=member.user)
    account = hiring.NewAccount(user=member.user, manual=None, link=link)
    return _links_page(request, [account], title=_("密码已重置"))


@login_required
@lead_required
@require_POST
def set_member_active(request: HttpRequest, user_id: int) -> HttpResponse:
    member = member_for(request, user_id)
    if member.user_id == request.user.pk:
        messages.error(request, _("不能停用自己的账号。"))
        return redirect("manuals:members")
    active = request.POST.get("active") == "1"
    hiring.set_active(user=member.user, active=active)
    if active:
        messages.success(request, _("%(name)s 的账号已恢复。") % {"name": member.name})
    else:
        messages.success(
            request,
            _("%(name)s 已停用，不能再登录；TA 的手册还在，可以移交或归档。")
            % {"name": member.name},
        )
    return redirect("manuals:members")


@sensitive_post_parameters()
@never_cache
def set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The one-time page a new hire (or someone whose password was reset) opens."""
    user = hiring.user_from_link(uidb64, token)
    if user is None:
        return render(request, "accounts/link_invalid.html", status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("密码已设置，欢迎使用烂笔头。"))
        manual = Manual.objects.filter(owner=user, is_template=False).order_by("pk").first()
        if manual is not None:
            return redirect("manuals:manual", manual_id=manual.pk)
        return redirect("manuals:home")
    return render(request, "accounts/set_password.html", {"form": form, "hire": user})


@sensitive_post_parameters()
@login_required
def change_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)  # stay logged in here
        messages.success(request, _("密码已修改。"))
        return redirect("manuals:home")
    return render(request, "accounts/change_password.html", {"form": form})
