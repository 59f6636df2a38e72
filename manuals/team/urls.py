"""The lead's team dashboard and the casebook (names in the manuals: namespace)."""

from django.urls import path

from manuals.team import views

section = "manual/<int:manual_id>/section/<int:section_id>/"

urlpatterns = [
    path("team/", views.team_dashboard, name="team"),
    path("cases/", views.casebook, name="casebook"),
    path(section + "excellent/", views.mark_case, name="mark_case"),
]
