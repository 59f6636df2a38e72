"""Who may read or write what, asked in one place by every view of every app.

The rule itself lives on the querysets (``Manual.objects.readable_by`` / ``writable_by``,
``Section.objects.readable_by``); this module is the only way views look objects up, so no
view can forget it: whatever the user may not read (or write, with ``write=True``) is a 404,
the same answer as for an id that does not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from manuals.models import Image, Manual, Member, Section, member_of
from manuals.sanitize import referenced_image_ids


def lead_of(user, team_id: int | None = None) -> Member | None:
    """The user's membership if they lead a team (``team_id``'s team, when given)."""
    member = member_of(user)
    if member is None or not member.is_lead:
        return None
    if team_id is not None and member.team_id != team_id:
        return None
    return member


def owner_or_lead(user, manual: Manual) -> bool:
    """The manual's owner or the lead of its team: who may act on every section of it
    (export or print it whole, hand it over)."""
    member = member_of(user)
    if member is None or member.team_id != manual.team_id:
        return False
    return manual.owner_id == user.pk or member.is_lead


def lead_required(view: Callable) -> Callable:
    """A view for team leads only (others get 404); ``request.lead`` is their membership."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        lead = lead_of(request.user)
        if lead is None:
            raise Http404
        request.lead = lead
        return view(request, *args, **kwargs)

    return wrapper


def member_for(request: HttpRequest, user_id: int) -> Member:
    """A member of the requesting lead's team (``@lead_required`` views), else 404."""
    lead = lead_of(request.user)
    if lead is None:
        raise Http404
    return get_object_or_404(
        Member.objects.select_related("user", "team"), team=lead.team, user_id=user_id
    )


def manual_for(
    request: HttpRequest,
    manual_id: int,
    *,
    write: bool = False,
    manage: bool = False,
    among: QuerySet[Manual] | None = None,
) -> Manual:
    """The manual the user may read (or ``write``), else 404. ``manage``: only its owner or
    the lead of its team (whole-manual actions: export in full, hand over, print all).
    ``among`` narrows the candidates (e.g. templates only) without loosening the rule."""
    manuals = among if among is not None else Manual.objects.all()
    manuals = manuals.writable_by(request.user) if write else manuals.readable_by(request.user)
    manual = get_object_or_404(
        manuals.select_related("owner", "team", "owner__member"), pk=manual_id
    )
    if manage and not owner_or_lead(request.user, manual):
        raise Http404
    return manual


def section_for(
    request: HttpRequest, manual_id: int, section_id: int, *, write: bool = False
) -> Section:
    """A section of a manual the user may write (any state, trash included), or a live
    section they may read, else 404."""
    manual = manual_for(request, manual_id, write=write)
    sections = Section.objects.filter(manual=manual, level__gt=0).select_related("manual")
    if not write:
        sections = sections.readable_by(request.user).live()
    section = get_object_or_404(sections, pk=section_id)
    section.manual = manual
    return section


def image_for(request: HttpRequest, image_id: int) -> Image:
    """A picture the user may see, else 404: everyone who reads its whole manual; a
    colleague only where a live section they may read shows it (ids of pictures in private
    sections must not be guessable)."""
    picture = get_object_or_404(
        Image.objects.select_related("manual"),
        pk=image_id,
        manual__in=Manual.objects.readable_by(request.user),
    )
    if not picture.manual.readable_in_full_by(request.user):
        # Bodies show only pictures of their own manual (tree writes make sure), so a
        # section of this manual that really shows the picture decides; the text search
        # only narrows the candidates, the <img> tags are then read.
        candidates = (
            Section.objects.readable_by(request.user)
            .live()
            .filter(manual=picture.manual, body__contains=f"/images/{picture.pk}/")
            .values_list("body", flat=True)
        )
        if not any(picture.pk in referenced_image_ids([body]) for body in candidates):
            raise Http404
    return picture
