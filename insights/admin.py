from django.contrib import admin

from insights.models import Rollup, RootCauseOwner


@admin.register(RootCauseOwner)
class RootCauseOwnerAdmin(admin.ModelAdmin):
    list_display = ("root_cause", "department")
    list_editable = ("department",)
    list_display_links = ("root_cause",)


@admin.register(Rollup)
class RollupAdmin(admin.ModelAdmin):
    """How far each report rollup reaches and when it was last counted; written by beat only."""

    list_display = ("name", "complete_before", "time_zone", "refreshed_at", "refresh_seconds")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
