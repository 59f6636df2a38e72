from django.urls import path

from printing import views

app_name = "printing"

urlpatterns = [
    path("", views.archive, name="archive"),
    path("manual/<int:manual_id>/", views.request_print, name="request"),
    path("edition/<int:edition_id>/", views.edition_detail, name="edition"),
    path("edition/<int:edition_id>/status/", views.edition_status, name="status"),
    path("edition/<int:edition_id>/download/", views.download, name="download"),
    path("edition/<int:edition_id>/retry/", views.retry_edition, name="retry"),
    path("schedule/", views.schedule, name="schedule"),
]
