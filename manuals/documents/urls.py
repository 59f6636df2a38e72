"""Word/Markdown/archive in and out (names in the manuals: namespace)."""

from django.urls import path

from manuals.documents import views

urlpatterns = [
    path("import/", views.upload, name="import_upload"),
    path("import/<int:import_id>/", views.preview, name="import_preview"),
    path("import/<int:import_id>/confirm/", views.confirm, name="import_confirm"),
    path("import/<int:import_id>/cancel/", views.cancel, name="import_cancel"),
    path("import/<int:import_id>/status/", views.status, name="import_status"),
    path("manual/<int:manual_id>/export/<str:fmt>/", views.export, name="export_manual"),
]
