from django.contrib import admin

from insights.models import RootCauseOwner


@admin.register(RootCauseOwner)
class RootCauseOwnerAdmin(admin.ModelAdmin):
    list_display = ("root_cause", "department")
    list_editable = ("department",)
    list_display_links = ("root_cause",)
