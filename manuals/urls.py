from django.urls import path

from manuals import image_views

app_name = "manuals"

urlpatterns: list = [
    path("images/<int:image_id>/", image_views.image, name="image"),
    path("images/<int:image_id>/thumb/", image_views.image_thumb, name="image_thumb"),
    path("manuals/<int:manual_id>/images/", image_views.image_library, name="image_library"),
    path("manuals/<int:manual_id>/images/upload/", image_views.image_upload, name="image_upload"),
]
