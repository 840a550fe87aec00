from django.contrib import admin

from helpdesk.read_only_admin import ReadOnlyAdmin
from insights.models import Rollup, RootCauseOwner


@admin.register(RootCauseOwner)
class RootCauseOwnerAdmin(admin.ModelAdmin):
    list_display = ("root_cause", "department")
    list_editable = ("department",)
    list_display_links = ("root_cause",)


@admin.register(Rollup)
class RollupAdmin(ReadOnlyAdmin):
    """How far each report rollup reaches and when it was last counted; written by beat only."""

    list_display = ("name", "complete_before", "time_zone", "refreshed_at", "refresh_seconds")
