from django.contrib import admin

from helpdesk.read_only_admin import ReadOnlyAdmin
from queues.models import FollowUpTask, Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Queue items are made by routing and worked on the queue pages (or the API), whose
    services write the timeline and the events; here they can only be looked at."""

    list_display = ["id", "department", "ticket", "rule", "status", "created_at"]
    list_filter = ["department", "status"]
    list_select_related = ["department", "ticket", "rule"]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ReadOnlyAdmin):
    """Follow-ups are made by routing and closed on the follow-ups page (or the API), which
    records the outcome on the timeline and reopens the ticket when asked; here they can only
    be looked at."""

    list_display = ["id", "ticket", "customer", "salesperson", "due_on", "status", "outcome"]
    list_filter = ["status", "outcome"]
    list_select_related = ["ticket", "customer", "salesperson"]
