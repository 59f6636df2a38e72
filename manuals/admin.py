from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from manuals import tree
from manuals.models import Activity, Manual, Member, Team

User = get_user_model()


class MemberInline(admin.StackedInline):
    model = Member
    can_delete = False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Manual)
class ManualAdmin(admin.ModelAdmin):
    # Tree content is edited in the app, never here: the admin would save stale nodes.
    list_display = ["title", "owner", "team", "is_template", "archived_at", "updated_at"]
    list_filter = ["team", "is_template"]
    search_fields = ["title", "owner__username"]
    readonly_fields = ["root", "template"]

    def delete_model(self, request, obj):
        tree.delete_manual(manual=obj)

    def delete_queryset(self, request, queryset):
        for manual in queryset:
            tree.delete_manual(manual=manual)


admin.site.unregister(User)


@admin.register(User)
class LanbitouUserAdmin(UserAdmin):
    inlines = [MemberInline]
    list_display = ["username", "first_name", "last_name", "is_staff", "member__team"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """The handover log is a record: readable here, written only by manuals.circulation.handover."""

    list_display = ["created_at", "kind", "title", "actor", "from_user", "to_user", "team"]
    list_filter = ["team", "kind"]
    search_fields = ["title", "note"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
