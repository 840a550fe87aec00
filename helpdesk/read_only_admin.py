"""An admin for records that only a service may write: they can be looked at, never edited.

The admin would otherwise write rows directly, past the services that keep the timeline, the
events and the audit trail; a record of what happened (a routing run, a delivery) is not
changed after the fact.
"""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    # Deleting stays as Django's permissions allow: deleting a ticket, a customer or a
    # department takes these records along, and the admin's delete page asks every model's
    # admin whether it may.

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
