from copy import copy

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from routing.engine.validation import MAX_DEPTH, depth, rule_definition_errors
from routing.models import Rule, RuleAuditEntry, RuleMatch, RuleVersion
from routing.models.rules import EDITABLE_FIELDS
from routing.preview import MAX_TICKETS as PREVIEW_MAX_TICKETS
from routing.preview import SHOWN as PREVIEW_SHOWN
from routing.services import definition_needs_check


class DefinitionJSONField(serializers.JSONField):
    """A rule's conditions or actions. DRF's JSONField re-encodes its input to check it, which
    fails with a RecursionError (a 500) on JSON nested hundreds deep; such input is passed on
    untouched instead, for ``validate`` to refuse at its exact place (rule_definition_errors)."""

    def to_internal_value(self, data):
        if depth(data) > MAX_DEPTH:
            return data
        return super().to_internal_value(data)


class RuleSerializer(serializers.ModelSerializer):
    conditions = DefinitionJSONField(required=False)
    actions = DefinitionJSONField(required=False)

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
        if self.instance is not None:
            draft = copy(self.instance)
            for name, value in attrs.items():
                setattr(draft, name, value)
            previous = {name: getattr(self.instance, name) for name in EDITABLE_FIELDS}
            if not definition_needs_check(draft, previous):
                return attrs  # switching off, renaming, reordering: always allowed
        conditions = attrs.get("conditions", getattr(self.instance, "conditions", {}))
        actions = attrs.get("actions", getattr(self.instance, "actions", []))
        trigger = attrs.get("trigger", getattr(self.instance, "trigger", None))
        errors = rule_definition_errors(conditions=conditions, actions=actions, trigger=trigger)
        if errors:
            # One key per exact place, e.g. "conditions.all[2].value".
            raise serializers.ValidationError(_path_errors(errors))
        return attrs


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


def _path_errors(errors) -> dict[str, list[str]]:
    detail: dict[str, list[str]] = {}
    for path, message in errors:
        detail.setdefault(path, []).append(message)
    return detail


class RuleVersionSerializer(serializers.ModelSerializer):
    # None for a version made by a command or migration, or whose author was deleted.
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = RuleVersion
        fields = ["number", "summary", "changed_fields", "definition", "author", "created_at"]
        read_only_fields = fields


class RuleAuditEntrySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    rule_name = serializers.SerializerMethodField()
    action_label = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = RuleAuditEntry
        fields = ["id", "rule", "rule_name", "action", "action_label", "detail", "author",
                  "created_at"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_rule_name(self, entry: RuleAuditEntry) -> str | None:
        return entry.rule.name if entry.rule else None


class RestoreSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)

    def validate_version(self, number):
        if not self.context["rule"].versions.filter(number=number).exists():
            raise serializers.ValidationError("This rule has no such version.")
        return number


class ReorderSerializer(serializers.Serializer):
    rules = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)

    def validate_rules(self, ids):
        current = set(Rule.objects.filter(archived_at__isnull=True).values_list("id", flat=True))
        if len(ids) != len(set(ids)) or set(ids) != current:
            raise serializers.ValidationError("List the id of every current rule exactly once.")
        return ids


class PreviewSerializer(serializers.Serializer):
    """A draft rule, and which past tickets to try it on: the last N, or a date range (its
    newest tickets, up to the same maximum)."""

    trigger = serializers.ChoiceField(choices=Rule.Trigger.choices)
    conditions = DefinitionJSONField(required=False, default=dict)
    actions = DefinitionJSONField()
    since = serializers.DateTimeField(required=False, allow_null=True, default=None)
    until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    last = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=PREVIEW_MAX_TICKETS,
        help_text=f"How many of the newest tickets to try, at most {PREVIEW_MAX_TICKETS}.",
    )

    def validate(self, attrs):
        errors = rule_definition_errors(
            conditions=attrs["conditions"], actions=attrs["actions"], trigger=attrs["trigger"]
        )
        if errors:
            raise serializers.ValidationError(_path_errors(errors))
        if attrs["since"] and attrs["until"] and attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs


# --- response shapes, for the OpenAPI schema ---------------------------------------------------


class RuleDefinitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(required=False)
    is_active = serializers.BooleanField(required=False)
    order = serializers.IntegerField(required=False)
    trigger = serializers.ChoiceField(choices=Rule.Trigger.choices)
    conditions = serializers.JSONField(required=False)
    actions = serializers.JSONField()
    stop_processing = serializers.BooleanField(required=False)


class RuleSetSerializer(serializers.Serializer):
    format = serializers.CharField(default="switchboard.rules")
    version = serializers.IntegerField(default=1)
    rules = RuleDefinitionSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    archived = serializers.IntegerField()


class PreviewEffectSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField(help_text="The action, e.g. “Notify a department”.")
    text = serializers.CharField(help_text="What it would do here, e.g. “Notify Engineering”.")
    effective = serializers.BooleanField(
        help_text="False when it would change nothing (already tagged, no salesperson)."
    )


class PreviewMatchSerializer(serializers.Serializer):
    ticket = serializers.IntegerField()
    reference = serializers.CharField()
    subject = serializers.CharField()
    customer = serializers.CharField()
    created_at = serializers.DateTimeField()
    effects = PreviewEffectSerializer(many=True, help_text="Each action, in the rule's order.")


class PreviewActionSerializer(serializers.Serializer):
    type = serializers.CharField()
    text = serializers.CharField()
    tickets = serializers.IntegerField(help_text="Matched tickets on which it would act.")


class PreviewResultSerializer(serializers.Serializer):
    scope = serializers.CharField()
    limit = serializers.IntegerField()
    events_evaluated = serializers.IntegerField()
    tickets_evaluated = serializers.IntegerField()
    events_matched = serializers.IntegerField()
    tickets_matched = serializers.IntegerField()
    by_action = PreviewActionSerializer(many=True)
    matches = PreviewMatchSerializer(
        many=True, help_text=f"The newest matched tickets (at most {PREVIEW_SHOWN}), newest first."
    )


class VersionChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()
    diff = serializers.ListField(child=serializers.CharField(), required=False)


class ExplainedConditionSerializer(serializers.Serializer):
    group = serializers.ChoiceField(choices=["all", "any"])
    field = serializers.CharField()
    operator = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    actual = serializers.JSONField(allow_null=True)
    actual_text = serializers.CharField()
    held = serializers.BooleanField()
    checked = serializers.BooleanField(help_text="False when the engine did not need it.")
    text = serializers.CharField()


class ExplainedRuleSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    matched = serializers.BooleanField()
    conditions = ExplainedConditionSerializer(many=True)
    actions = serializers.ListField(child=serializers.DictField())


class ExplainedEventSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    type = serializers.CharField()
    type_label = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    changes = serializers.DictField()
    routed = serializers.BooleanField()
    skipped_reason = serializers.CharField()
    rules = ExplainedRuleSerializer(many=True)
