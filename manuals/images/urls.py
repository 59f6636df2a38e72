"""Pictures: serving, the editor's picture library, uploads (names in the manuals: namespace)."""

from django.urls import path

from manuals.images import views

urlpatterns = [
    path("images/<int:image_id>/", views.image, name="image"),
    path("images/<int:image_id>/thumb/", views.image_thumb, name="image_thumb"),
    path("manual/<int:manual_id>/images/", views.image_library, name="image_library"),
    path("manual/<int:manual_id>/images/upload/", views.image_upload, name="image_upload"),
]
