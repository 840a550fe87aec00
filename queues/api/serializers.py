from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from queues.models import FollowUpTask, Notification
from tickets.limits import TEXT_MAX_LENGTH


class NotificationSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    ticket_reference = serializers.CharField(source="ticket.reference", read_only=True)
    ticket_kind = serializers.CharField(source="ticket.kind", read_only=True)
    ticket_status = serializers.CharField(source="ticket.status", read_only=True)
    customer = serializers.CharField(source="ticket.customer.name", read_only=True)
    rule_name = serializers.SerializerMethodField()
    event_type = serializers.CharField(source="event.type", read_only=True)
    acted_by_name = serializers.SerializerMethodField(help_text="Who took the item on.")

    class Meta:
        model = Notification
        fields = [
            "id",
            "department",
            "ticket",
            "ticket_reference",
            "ticket_kind",
            "ticket_status",
            "customer",
            "rule",
            "rule_name",
            "event",
            "event_type",
            "message",
            "status",
            "acted_by",
            "acted_by_name",
            "acted_at",
            "done_at",
            "responses",
            "due_at",
            "escalated_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_rule_name(self, notification: Notification) -> str | None:
        return notification.rule.name if notification.rule else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acted_by_name(self, notification: Notification) -> str | None:
        return str(notification.acted_by) if notification.acted_by else None


class FollowUpTaskSerializer(serializers.ModelSerializer):
    ticket_reference = serializers.CharField(source="ticket.reference", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    salesperson_name = serializers.CharField(source="salesperson.__str__", read_only=True)
    # Declared, not derived: a read-only model field loses ``allow_blank`` (no outcome yet).
    outcome = serializers.ChoiceField(
        choices=FollowUpTask.Outcome.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = FollowUpTask
        fields = [
            "id",
            "ticket",
            "ticket_reference",
            "customer",
            "customer_name",
            "salesperson",
            "salesperson_name",
            "reason",
            "due_on",
            "status",
            "outcome",
            "outcome_notes",
            "upsell_value",
            "attempts",
            "reopened_ticket",
            "rule",
            "event",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class ResponseInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    done = serializers.BooleanField(default=False)


class BulkAcknowledgeSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=500
    )


class OutcomeInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=FollowUpTask.Outcome.choices)
    notes = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    upsell_value = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    reschedule_on = serializers.DateField(required=False, allow_null=True, default=None)
    not_satisfied_action = serializers.ChoiceField(
        choices=["reopen", "new_ticket"], default="reopen"
    )
