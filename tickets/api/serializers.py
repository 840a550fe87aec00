from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import Contact, Customer, Department, User
from tickets.models import Ticket, TimelineEntry
from tickets.services import clean_tag_names


class TagListField(serializers.ListField):
    """A list of tag names; cleaned (lower case, unique, sorted) as the service stores them."""

    child = serializers.CharField(max_length=50)

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        try:
            return clean_tag_names(names)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["tags"]) from None


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    department = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    related = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

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


class TicketCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Ticket.Kind.choices)
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.API)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, default=None
    )
    product = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(
        choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL
    )
    assignee = serializers.PrimaryKeyRelatedField(
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


class TicketUpdateSerializer(serializers.Serializer):
    """Fields that may change after creation; send only those that change."""

    kind = serializers.ChoiceField(choices=Ticket.Kind.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    product = serializers.CharField(max_length=100, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    department = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all(), required=False, allow_null=True
    )
    tags = TagListField(required=False)
    root_cause = serializers.ChoiceField(
        choices=Ticket.RootCause.choices, required=False, allow_blank=True
    )
    resolution = serializers.CharField(required=False, allow_blank=True)
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
    author = serializers.StringRelatedField()

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
    ticket = serializers.PrimaryKeyRelatedField(
        queryset=Ticket.objects.all(), help_text="The ticket to link to this one."
    )


class NoteCreateSerializer(serializers.Serializer):
    """A note; with ``call_duration_seconds`` it records a call instead."""

    body = serializers.CharField()
    is_internal = serializers.BooleanField(default=True)
    call_duration_seconds = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=24 * 3600
    )
