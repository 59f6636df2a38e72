"""The image library: upload (writers), list (writers, for the editor panel), serve (readers).

Pictures are never served from MEDIA_URL: every request goes through
``manuals.access.image_for`` so a picture is visible exactly to the people who may open its manual.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from manuals.access import image_for, manual_for
from manuals.images.pipeline import ImageRejected, check_upload_size, image_html, store_image
from manuals.models import Image


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
    if not field:
        raise Http404(_("图片文件不存在。"))
    try:
        handle = field.storage.open(field.name, "rb")  # any node: the storage is shared
    except (OSError, ValueError):
        raise Http404(_("图片文件不存在。")) from None
    response = FileResponse(handle)
    # A picture's bytes never change (a new upload is a new id), but it is private.
    response["Cache-Control"] = "private, max-age=86400, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@login_required
@require_GET
def image(request, image_id: int):
    return _file_response(image_for(request, image_id).file)


@login_required
@require_GET
def image_thumb(request, image_id: int):
    picture = image_for(request, image_id)
    return _file_response(picture.thumbnail or picture.file)


@login_required
@require_GET
def image_library(request, manual_id: int):
    manual = manual_for(request, manual_id, write=True)
    images = manual.images.order_by("-created_at", "-pk")[:500]
    return JsonResponse({"images": [image_json(i) for i in images]})


@login_required
@require_POST
def image_upload(request, manual_id: int):
    manual = manual_for(request, manual_id, write=True)
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
