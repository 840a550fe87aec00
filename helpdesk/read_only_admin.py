"""An admin for records that only a service may write: they can be looked at, never edited.

The admin would otherwise write rows directly, past the services that keep the timeline, the
events and the audit trail; a record of what happened (a routing run, a delivery) is not
changed after the fact at all.
"""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    # Whether a record may be deleted (to prune old logs, say) is each admin's own choice.
    allow_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)
