"""The image library: upload (writers), list (writers, for the editor panel), serve (readers).

Pictures are never served from MEDIA_URL: every request goes through ``_image_for`` so a
picture is visible exactly to the people who may open its manual.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from manuals.images import ImageRejected, check_upload_size, image_html, store_image
from manuals.models import Image, Manual, Section


def _image_for(request, image_id: int) -> Image:
    picture = get_object_or_404(
        Image.objects.select_related("manual"),
        pk=image_id,
        manual__in=Manual.objects.readable_by(request.user),
    )
    if not picture.manual.readable_in_full_by(request.user):
        # A colleague sees a picture only where a section they may read shows it: the
        # ids of pictures in private sections must not be guessable.
        shown = (
            Section.objects.readable_by(request.user)
            .live()
            .filter(manual=picture.manual, body__contains=f"/images/{picture.pk}/")
        )
        if not shown.exists():
            raise Http404
    return picture


def _writable_manual(request, manual_id: int) -> Manual:
    return get_object_or_404(Manual.objects.writable_by(request.user), pk=manual_id)


def image_json(image: Image) -> dict:
    return {
        "id": image.pk,
        "url": reverse("manuals:image", args=[image.pk]),
        "thumb_url": reverse("manuals:image_thumb", args=[image.pk]),
        "width": image.width,
        "height": image.height,
        "caption": image.caption,
        "purpose": image.purpose,
        "name": image.original_name,
        "html": image_html(image),
    }


def _file_response(field) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("图片文件不存在。")) from None
    response = FileResponse(handle)
    # A picture's bytes never change (a new upload is a new id), but it is private.
    response["Cache-Control"] = "private, max-age=86400, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@login_required
@require_GET
def image(request, image_id: int):
    return _file_response(_image_for(request, image_id).file)


@login_required
@require_GET
def image_thumb(request, image_id: int):
    picture = _image_for(request, image_id)
    return _file_response(picture.thumbnail or picture.file)


@login_required
@require_GET
def image_library(request, manual_id: int):
    manual = _writable_manual(request, manual_id)
    images = manual.images.order_by("-created_at", "-pk")[:500]
    return JsonResponse({"images": [image_json(i) for i in images]})


@login_required
@require_POST
def image_upload(request, manual_id: int):
    manual = _writable_manual(request, manual_id)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": _("请选择一张图片。")}, status=400)
    purpose = request.POST.get("purpose") or Image.Purpose.SECTION
    try:
        check_upload_size(upload.size)
        picture = store_image(
            manual=manual,
            data=upload.read(),
            original_name=upload.name or "",
            purpose=purpose,
            user=request.user,
            caption=request.POST.get("caption", ""),
        )
    except ImageRejected as rejected:
        return JsonResponse({"error": str(rejected)}, status=400)
    return JsonResponse(image_json(picture), status=201)
