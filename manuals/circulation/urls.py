"""Copy, handover, transfer and the activity log (names in the manuals: namespace)."""

from django.urls import path

from manuals.circulation import views

section = "manual/<int:manual_id>/section/<int:section_id>/"

urlpatterns = [
    path(section + "copy/", views.copy_section, name="copy_section"),
    path("manual/<int:manual_id>/handover/", views.handover_page, name="handover"),
    path("manual/<int:manual_id>/handover/give/", views.hand_over, name="hand_over"),
    path("manual/<int:manual_id>/transfer/", views.transfer, name="transfer_manual"),
    path("manual/<int:manual_id>/archive/", views.archive, name="archive_manual"),
    path("activity/", views.activity, name="activity"),
]
