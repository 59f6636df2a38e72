from django.contrib import admin

from printing.models import Edition, PrintSchedule


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["id", "manual", "status", "theme", "paper", "page_count", "created_at"]
    list_filter = ["status", "theme"]


@admin.register(PrintSchedule)
class PrintScheduleAdmin(admin.ModelAdmin):
    list_display = ["team", "every", "next_run_at", "enabled"]
