from django.contrib import admin

from tickets import services
from tickets.models import Ticket, TicketEvent, TimelineEntry


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "author", "body", "changes", "call_duration_seconds"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Tickets in the admin go through the same services as the API, so events are recorded."""

    list_display = ["reference", "kind", "subject", "customer", "status", "priority", "created_at"]
    list_filter = ["kind", "status", "priority", "channel"]
    search_fields = ["subject", "customer__name", "rma_number"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "contact", "assignee"]
    filter_horizontal = ["tags"]
    readonly_fields = [
        "rma_number",
        "related",
        "version",
        "created_by",
        "created_at",
        "updated_at",
        "resolved_at",
    ]
    inlines = [TimelineEntryInline]

    def save_model(self, request, obj, form, change) -> None:
        data = dict(form.cleaned_data)
        if "tags" in data:
            data["tags"] = [tag.name for tag in data["tags"]]
        if not change:
            created = services.ticket_create(
                customer=data["customer"],
                contact=data.get("contact"),
                kind=data["kind"],
                channel=data["channel"],
                subject=data["subject"],
                description=data.get("description", ""),
                product=data.get("product", ""),
                priority=data["priority"],
                assignee=data.get("assignee"),
                department=data.get("department"),
                tags=data.get("tags", []),
                created_by=request.user,
                rma_serial_number=data.get("rma_serial_number", ""),
                rma_order_number=data.get("rma_order_number", ""),
                rma_reason=data.get("rma_reason", ""),
            )
            obj.pk = created.pk
            return
        fields = {
            name: data[name] for name in form.changed_data if name in services.UPDATABLE_FIELDS
        }
        services.ticket_update(ticket=obj, actor=request.user, **fields)

    def save_related(self, request, form, formsets, change) -> None:
        # Tags were saved by the service, with their event; the timeline inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "ticket", "depth", "created_at", "dispatched_at"]
    list_filter = ["type"]
    list_select_related = ["ticket"]
    readonly_fields = [f.name for f in TicketEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
