from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.admin import ServiceWritesAdmin
from tickets import services
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.returns import rma_advance

# What the add form hands to ``ticket_create``; the rest it offers (a status with its
# resolution, a return step) is applied after, through the services that own those.
CREATE_FIELDS = (
    "customer",
    "contact",
    "kind",
    "channel",
    "subject",
    "description",
    "product",
    "priority",
    "assignee",
    "department",
    "tags",
    "rma_serial_number",
    "rma_order_number",
    "rma_reason",
)
# Fixed once the ticket exists, so shown read-only on the change page: the channel is how it
# came in, and the customer owns its contact, history and follow-ups; no service changes them.
FIXED_AFTER_CREATE = ("channel", "customer")


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "author", "body", "changes", "call_duration_seconds"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ServiceWritesAdmin):
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
        "status_changed_at",
        "first_response_at",
    ]
    inlines = [TimelineEntryInline]

    def get_readonly_fields(self, request, obj=None):
        fixed = FIXED_AFTER_CREATE if obj is not None else ()
        return [*super().get_readonly_fields(request, obj), *fixed]

    def save_model(self, request, obj, form, change) -> None:
        data = dict(form.cleaned_data)
        if "tags" in data:
            data["tags"] = [tag.name for tag in data["tags"]]
        changed = set(form.changed_data)
        if not change:
            created = services.ticket_create(
                created_by=request.user,
                **{name: data[name] for name in CREATE_FIELDS if name in data},
            )
            obj.pk = created.pk
            changed -= set(CREATE_FIELDS)
        # Every change the form made is saved by a service, or refused: never dropped.
        unsaved = changed - services.UPDATABLE_FIELDS - {"rma_status"}
        if unsaved:
            raise ValidationError({name: "This cannot be changed here." for name in unsaved})
        fields = {name: data[name] for name in changed & services.UPDATABLE_FIELDS}
        if fields:
            services.ticket_update(ticket=obj, actor=request.user, **fields)
        if "rma_status" in changed:
            try:
                rma_advance(ticket=obj, status=data["rma_status"], actor=request.user)
            except ValidationError as error:
                raise ValidationError({"rma_status": error.messages}) from error

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
