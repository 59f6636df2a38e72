"""Members of the lead's team and passwords (names in the manuals: namespace)."""

from django.urls import path

from manuals.accounts import views

urlpatterns = [
    path("team/members/", views.members, name="members"),
    path("team/members/add/", views.add_member, name="add_member"),
    path("team/members/add-csv/", views.add_members_csv, name="add_members_csv"),
    path(
        "team/members/<int:user_id>/reset-password/",
        views.reset_member_password,
        name="reset_member_password",
    ),
    path("team/members/<int:user_id>/active/", views.set_member_active, name="set_member_active"),
    path("account/password/", views.change_password, name="change_password"),
    path(
        "account/set-password/<str:uidb64>/<str:token>/",
        views.set_password,
        name="set_password",
    ),
]
