"""Team templates, day one and template updates (names in the manuals: namespace)."""

from django.urls import path

from manuals.team_templates import views

urlpatterns = [
    path("start/", views.start_manual, name="start_manual"),
    path("templates/<int:template_id>/clone/", views.clone, name="clone_template"),
    path("templates/", views.templates_home, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path(
        "templates/<int:template_id>/status/",
        views.template_status_page,
        name="template_status",
    ),
    path(
        "templates/<int:template_id>/retire/",
        views.template_retire,
        name="template_retire",
    ),
    path(
        "templates/<int:template_id>/delete/",
        views.template_delete,
        name="template_delete",
    ),
    path(
        "manual/<int:manual_id>/template-updates/",
        views.template_updates,
        name="template_updates",
    ),
    path(
        "manual/<int:manual_id>/template-updates/accept-all/",
        views.template_updates_accept_all,
        name="template_updates_accept_all",
    ),
    path(
        "manual/<int:manual_id>/template-updates/<int:template_section_id>/",
        views.template_update_decide,
        name="template_update_decide",
    ),
    path(
        "manual/<int:manual_id>/template-updates/removed/<int:section_id>/",
        views.template_removal_decide,
        name="template_removal_decide",
    ),
]
