from django.urls import path
from django.views.i18n import JavaScriptCatalog

from manuals import circulation_views, image_views, import_views, template_views, views

app_name = "manuals"

section = "manual/<int:manual_id>/section/<int:section_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("manual/new/", views.new_manual, name="new_manual"),
    path("team/", views.team_dashboard, name="team"),
    path("cases/", views.casebook, name="casebook"),
    path("manual/<int:manual_id>/", views.manual_detail, name="manual"),
    path("manual/<int:manual_id>/sections/add/", views.add_section, name="add_section"),
    path("manual/<int:manual_id>/trash/", views.trash, name="trash"),
    path(section, views.section_detail, name="section"),
    path(section + "edit/", views.edit_section, name="edit_section"),
    path(section + "move/", views.move_section, name="move_section"),
    path(section + "shift/<str:direction>/", views.shift_section, name="shift_section"),
    path(section + "trash/", views.trash_section, name="trash_section"),
    path(section + "restore/", views.restore_section, name="restore_section"),
    path(section + "purge/", views.purge_section, name="purge_section"),
    path(section + "history/", views.history, name="history"),
    path(section + "excellent/", views.mark_case, name="mark_case"),
    path(
        section + "history/<int:version>/restore/",
        views.restore_revision,
        name="restore_revision",
    ),
    # The editor's toolbar strings (window.gettext) in the user's language.
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["manuals"]), name="jsi18n"),
    # Templates, day one and template updates (manuals/template_views.py).
    path("start/", template_views.start_manual, name="start_manual"),
    path("templates/<int:template_id>/clone/", template_views.clone, name="clone_template"),
    path("templates/", template_views.templates_home, name="templates"),
    path("templates/new/", template_views.template_new, name="template_new"),
    path(
        "templates/<int:template_id>/status/",
        template_views.template_status_page,
        name="template_status",
    ),
    path(
        "templates/<int:template_id>/retire/",
        template_views.template_retire,
        name="template_retire",
    ),
    path(
        "templates/<int:template_id>/delete/",
        template_views.template_delete,
        name="template_delete",
    ),
    path(
        "manual/<int:manual_id>/template-updates/",
        template_views.template_updates,
        name="template_updates",
    ),
    path(
        "manual/<int:manual_id>/template-updates/accept-all/",
        template_views.template_updates_accept_all,
        name="template_updates_accept_all",
    ),
    path(
        "manual/<int:manual_id>/template-updates/<int:template_section_id>/",
        template_views.template_update_decide,
        name="template_update_decide",
    ),
    path(
        "manual/<int:manual_id>/template-updates/removed/<int:section_id>/",
        template_views.template_removal_decide,
        name="template_removal_decide",
    ),
    # Circulation and handover (manuals/circulation_views.py).
    path(section + "copy/", circulation_views.copy_section, name="copy_section"),
    path("manual/<int:manual_id>/handover/", circulation_views.handover_page, name="handover"),
    path("manual/<int:manual_id>/handover/give/", circulation_views.hand_over, name="hand_over"),
    path("manual/<int:manual_id>/transfer/", circulation_views.transfer, name="transfer_manual"),
    path("manual/<int:manual_id>/archive/", circulation_views.archive, name="archive_manual"),
    path("activity/", circulation_views.activity, name="activity"),
    path("images/<int:image_id>/", image_views.image, name="image"),
    path("images/<int:image_id>/thumb/", image_views.image_thumb, name="image_thumb"),
    path("manual/<int:manual_id>/images/", image_views.image_library, name="image_library"),
    path("manual/<int:manual_id>/images/upload/", image_views.image_upload, name="image_upload"),
]

# Word/Markdown/archive in and out (manuals.import_views).
urlpatterns += [
    path("import/", import_views.upload, name="import_upload"),
    path("import/<int:import_id>/", import_views.preview, name="import_preview"),
    path("import/<int:import_id>/confirm/", import_views.confirm, name="import_confirm"),
    path("import/<int:import_id>/cancel/", import_views.cancel, name="import_cancel"),
    path("import/<int:import_id>/status/", import_views.status, name="import_status"),
    path("manual/<int:manual_id>/export/<str:fmt>/", import_views.export, name="export_manual"),
]
