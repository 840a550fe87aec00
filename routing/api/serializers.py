from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from routing.engine.validation import rule_definition_errors
from routing.models import FollowUpTask, Notification, Rule, RuleMatch


class RuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "description",
            "is_active",
            "order",
            "trigger",
            "conditions",
            "actions",
            "stop_processing",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]

    def validate(self, attrs):
        conditions = attrs.get("conditions", getattr(self.instance, "conditions", {}))
        actions = attrs.get("actions", getattr(self.instance, "actions", []))
        trigger = attrs.get("trigger", getattr(self.instance, "trigger", None))
        errors = rule_definition_errors(conditions=conditions, actions=actions, trigger=trigger)
        if errors:
            # One key per exact place, e.g. "conditions.all[2].value".
            detail: dict[str, list[str]] = {}
            for path, message in errors:
                detail.setdefault(path, []).append(message)
            raise serializers.ValidationError(detail)
        return attrs


class NotificationSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    ticket_reference = serializers.CharField(source="ticket.reference", read_only=True)
    ticket_kind = serializers.CharField(source="ticket.kind", read_only=True)
    customer = serializers.CharField(source="ticket.customer.name", read_only=True)
    rule_name = serializers.SerializerMethodField()
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "department",
            "ticket",
            "ticket_reference",
            "ticket_kind",
            "customer",
            "rule",
            "rule_name",
            "event",
            "event_type",
            "message",
            "status",
            "acted_by",
            "acted_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_rule_name(self, notification: Notification) -> str | None:
        return notification.rule.name if notification.rule else None


class FollowUpTaskSerializer(serializers.ModelSerializer):
    ticket_reference = serializers.CharField(source="ticket.reference", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = FollowUpTask
        fields = [
            "id",
            "ticket",
            "ticket_reference",
            "customer",
            "customer_name",
            "salesperson",
            "reason",
            "due_on",
            "status",
            "outcome",
            "outcome_notes",
            "rule",
            "event",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class RuleMatchSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = RuleMatch
        fields = [
            "id",
            "event",
            "event_type",
            "rule",
            "rule_name",
            "conditions",
            "actions",
            "created_at",
        ]
        read_only_fields = fields
