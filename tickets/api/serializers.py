from functools import cache

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import ReturnDict

from accounts.models import Contact, Customer, Department, User
from helpdesk.prepared import PreparedQuery
from tickets.limits import TAG_MAX_LENGTH, TAGS_MAX_PER_TICKET, TEXT_MAX_LENGTH
from tickets.models import Tag, Ticket, TimelineEntry
from tickets.services import clean_tag_names


class WholeIdRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key given as a whole number (or its digits as text). The stock field hands
    anything to the database lookup, which reads 1.5, 1.0 or true as 1: a typo or a client's
    float arithmetic would file the ticket under another customer than meant.

    ``by_pk``: the queryset's rows with a primary key, as a prepared query (its SQL built once
    per process), for a lookup made by every request of a busy endpoint."""

    def __init__(self, *, by_pk: PreparedQuery | None = None, **kwargs):
        self.by_pk = by_pk
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not (data.isascii() and data.strip().isdigit()):
            self.fail("incorrect_type", data_type="str")
        if self.by_pk is None:
            return super().to_internal_value(data)
        found = self.by_pk(int(data))
        if not found:
            self.fail("does_not_exist", pk_value=data)
        return found[0]


def long_text(**kwargs) -> serializers.CharField:
    """A description, resolution or note: up to ``TEXT_MAX_LENGTH`` characters."""
    return serializers.CharField(max_length=TEXT_MAX_LENGTH, **kwargs)


class TagListField(serializers.ListField):
    """A list of tag names; cleaned (lower case, unique, sorted) as the service stores them."""

    child = serializers.CharField(max_length=TAG_MAX_LENGTH)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", TAGS_MAX_PER_TICKET)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        try:
            return clean_tag_names(names)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["tags"]) from None


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    department = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    related = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    # Declared, not derived: a read-only model field loses ``allow_blank``, and the schema would
    # refuse the "" of a ticket not yet resolved.
    root_cause = serializers.ChoiceField(
        choices=Ticket.RootCause.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "kind",
            "channel",
            "subject",
            "description",
            "customer",
            "contact",
            "product",
            "priority",
            "status",
            "assignee",
            "department",
            "tags",
            "rma_number",
            "rma_serial_number",
            "rma_order_number",
            "rma_reason",
            "root_cause",
            "resolution",
            "related",
            "version",
            "created_by",
            "created_at",
            "updated_at",
            "status_changed_at",
            "first_response_at",
            "resolved_at",
        ]
        read_only_fields = fields


@cache
def _ticket_serializer() -> TicketSerializer:
    # Building the fields of a ModelSerializer this wide costs ten times what using them does
    # (about 1.3 ms against 0.1 per ticket). They keep no state between tickets and none of
    # them needs the request, so one instance serves every single-ticket response.
    return TicketSerializer()


def ticket_data(ticket: Ticket) -> ReturnDict:
    """``TicketSerializer(ticket).data``, without building the serializer again."""
    serializer = _ticket_serializer()
    return ReturnDict(serializer.to_representation(ticket), serializer=serializer)


def ticket_created_data(ticket: Ticket, *, tags: list[str]) -> ReturnDict:
    """The answer to a create: a ticket just created is linked to no other and has exactly the
    ``tags`` it was given (cleaned, as the service stored them), so neither is read back."""
    _as_prefetched(ticket, "tags", [Tag(name=name) for name in tags])
    _as_prefetched(ticket, "related", [])
    return ticket_data(ticket)


def _as_prefetched(ticket: Ticket, relation: str, rows: list) -> None:
    # What prefetch_related() leaves on an instance (django.db.models.query.prefetch_one_level),
    # so that ``ticket.<relation>.all()`` answers from memory. Only this response's own
    # instance gets it: a caller holding the ticket would otherwise miss later links and tags.
    queryset = getattr(ticket, relation).get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    ticket.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset


# Read by every API create: their SQL is built once (helpdesk.prepared).
_CUSTOMER = PreparedQuery(lambda pk: Customer.objects.filter(pk=pk))
_CONTACT = PreparedQuery(lambda pk: Contact.objects.filter(pk=pk))


class TicketCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Ticket.Kind.choices)
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.API)
    subject = serializers.CharField(max_length=200)
    description = long_text(required=False, allow_blank=True, default="")
    customer = WholeIdRelatedField(queryset=Customer.objects.all(), by_pk=_CUSTOMER)
    contact = WholeIdRelatedField(
        queryset=Contact.objects.all(),
        by_pk=_CONTACT,
        required=False,
        allow_null=True,
        default=None,
    )
    product = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(
        choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL
    )
    assignee = WholeIdRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    department = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    tags = TagListField(required=False, default=list)
    rma_serial_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    rma_order_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    rma_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        contact = attrs.get("contact")
        if contact is not None and contact.customer_id != attrs["customer"].pk:
            raise serializers.ValidationError(
                {"contact": "This contact does not belong to the ticket's customer."}
            )
        return attrs


@cache
def _ticket_create_serializer() -> TicketCreateSerializer:
    # As for _ticket_serializer: its fields cost more to build than to use, keep no state
    # between requests and need no request.
    return TicketCreateSerializer()


def ticket_create_input(data) -> dict:
    """``TicketCreateSerializer(data=data)``'s validated data, without building the serializer
    again; bad input raises its ValidationError, with the field errors ``is_valid`` gives."""
    return _ticket_create_serializer().run_validation(data)


class TicketUpdateSerializer(serializers.Serializer):
    """Fields that may change after creation; send only those that change."""

    kind = serializers.ChoiceField(choices=Ticket.Kind.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False)
    description = long_text(required=False, allow_blank=True)
    contact = WholeIdRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    product = serializers.CharField(max_length=100, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    assignee = WholeIdRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    department = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all(), required=False, allow_null=True
    )
    tags = TagListField(required=False)
    root_cause = serializers.ChoiceField(
        choices=Ticket.RootCause.choices, required=False, allow_blank=True
    )
    resolution = long_text(required=False, allow_blank=True)
    rma_serial_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    rma_order_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    rma_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; the change is refused with 409 if the ticket has "
        "changed since.",
    )

    def validate(self, attrs):
        if not attrs.keys() - {"version"}:
            raise serializers.ValidationError({"detail": "Send at least one field to change."})
        return attrs


class TimelineEntrySerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField(allow_null=True)  # routing's entries have none

    class Meta:
        model = TimelineEntry
        fields = [
            "id",
            "kind",
            "author",
            "body",
            "is_internal",
            "call_duration_seconds",
            "changes",
            "created_at",
        ]
        read_only_fields = fields


class TicketLinkSerializer(serializers.Serializer):
    ticket = WholeIdRelatedField(
        queryset=Ticket.objects.all(), help_text="The ticket to link to this one."
    )


class NoteCreateSerializer(serializers.Serializer):
    """A note; with ``call_duration_seconds`` it records a call instead."""

    body = long_text()
    is_internal = serializers.BooleanField(default=True)
    call_duration_seconds = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=24 * 3600
    )
