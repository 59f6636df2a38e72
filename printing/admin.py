from django.contrib import admin

from printing.models import Edition, PrintSchedule


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["id", "manual", "status", "theme", "paper", "page_count", "created_at"]
    list_filter = ["status", "theme"]


@admin.register(PrintSchedule)
class PrintScheduleAdmin(admin.ModelAdmin):
    list_display = ["team", "every", "next_run_at", "day_of_month", "enabled"]
    readonly_fields = ["day_of_month"]

    def save_model(self, request, obj, form, change):
        if not change or "next_run_at" in form.changed_data:
            obj.run_next_at(obj.next_run_at)
        super().save_model(request, obj, form, change)
