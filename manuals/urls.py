from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from manuals import drafts, views

app_name = "manuals"

section = "manual/<int:manual_id>/section/<int:section_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("manual/new/", views.new_manual, name="new_manual"),
    path("manual/<int:manual_id>/", views.manual_detail, name="manual"),
    path("manual/<int:manual_id>/document/", views.document_chunk, name="document_chunk"),
    path("manual/<int:manual_id>/sections/add/", views.add_section, name="add_section"),
    path("manual/<int:manual_id>/trash/", views.trash, name="trash"),
    path(section, views.section_detail, name="section"),
    path(section + "outline/", views.outline_branch, name="outline_branch"),
    path(section + "read/", views.read_section, name="read_section"),
    path(section + "edit/", views.edit_section, name="edit_section"),
    path(section + "save/", views.save_section_inline, name="save_section_inline"),
    path(section + "move/", views.move_section, name="move_section"),
    path(section + "shift/<str:direction>/", views.shift_section, name="shift_section"),
    path(section + "trash/", views.trash_section, name="trash_section"),
    path(section + "restore/", views.restore_section, name="restore_section"),
    path(section + "purge/", views.purge_section, name="purge_section"),
    path(section + "history/", views.history, name="history"),
    path(
        section + "history/<int:version>/restore/",
        views.restore_revision,
        name="restore_revision",
    ),
    # What the editor keeps while one types (static/js/drafts.js).
    path(section + "draft/", drafts.section_draft, name="section_draft"),
    # The editor's toolbar strings (window.gettext) in the user's language.
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["manuals"]), name="jsi18n"),
    # Feature folders, one include each; their URL names stay in this namespace.
    path("", include("manuals.team_templates.urls")),
    path("", include("manuals.circulation.urls")),
    path("", include("manuals.images.urls")),
    path("", include("manuals.documents.urls")),
    path("", include("manuals.team.urls")),
    path("", include("manuals.accounts.urls")),
]
