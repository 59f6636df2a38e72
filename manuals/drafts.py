"""The editor's drafts: what a writer typed and has not saved, kept every few seconds by
static/js/drafts.js and offered again when they reopen the section (README "Drafts").

One endpoint per section: GET the writer's own draft, POST to keep one, DELETE to discard
it. Saving the section (``tree.save_section_content``) deletes it too.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from manuals.access import section_for
from manuals.models import BODY_MAX_CHARS, TITLE_MAX_LENGTH, Draft
from manuals.sanitize import sanitize_html


def draft_json(draft: Draft | None) -> dict:
    if draft is None:
        return {"draft": None}
    return {
        "draft": {
            "title": draft.title,
            "body": draft.body,
            "base_version": draft.base_version,
            "saved_at": draft.saved_at.isoformat(),
        }
    }


@login_required
@require_http_methods(["GET", "POST", "DELETE"])
def section_draft(request: HttpRequest, manual_id: int, section_id: int) -> JsonResponse:
    section = section_for(request, manual_id, section_id, write=True)
    mine = Draft.objects.filter(section=section, user=request.user)
    if request.method == "GET":
        return JsonResponse(draft_json(mine.first()))
    if request.method == "DELETE":
        mine.delete()
        return JsonResponse(draft_json(None))
    try:
        base_version = int(request.POST.get("version", ""))
    except ValueError:
        return JsonResponse({"error": _("草稿缺少版本号。")}, status=400)
    body = sanitize_html(request.POST.get("body", ""))
    if len(body) > BODY_MAX_CHARS:
        return JsonResponse({"error": _("正文太长，草稿没有保存到服务器。")}, status=400)
    draft, _created = Draft.objects.update_or_create(
        section=section,
        user=request.user,
        defaults={
            "title": request.POST.get("title", "")[:TITLE_MAX_LENGTH],
            "body": body,
            "base_version": max(base_version, 1),
            "saved_at": timezone.now(),
        },
    )
    return JsonResponse(draft_json(draft))
