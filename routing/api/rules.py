"""The rules API: CRUD for admins, versions and restore, the audit trail, reorder, dry run,
export and import."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import READ_OR_EDIT_RULES, CanEditRules
from routing import interchange, services
from routing.api.filters import RuleFilter
from routing.api.serializers import (
    ImportResultSerializer,
    PreviewResultSerializer,
    PreviewSerializer,
    ReorderSerializer,
    RestoreSerializer,
    RuleAuditEntrySerializer,
    RuleSerializer,
    RuleSetSerializer,
    RuleVersionSerializer,
    VersionChangeSerializer,
)
from routing.engine.language import language_description
from routing.models import RuleVersion
from routing.preview import rule_preview
from routing.selectors import rule_audit_entries, rule_versions, rules_list, version_diff

RULE_EXAMPLE = {
    "name": "RFE from a customer whose contract ends soon",
    "order": 60,
    "trigger": "ticket.created",
    "conditions": {
        "all": [
            {"field": "kind", "operator": "is", "value": "rfe"},
            {"field": "customer.contract_ends_in_days", "operator": "lte", "value": 30},
        ]
    },
    "actions": [
        {"type": "notify_department", "department": "marketing",
         "message": "{{ customer.name }} renews soon and asks: {{ ticket.subject }}"},
        {"type": "create_followup", "due_in_working_days": 2,
         "reason": "Renewal coming: discuss {{ ticket.reference }}"},
    ],
}  # fmt: skip


class RuleViewSet(viewsets.ModelViewSet):
    """Routing rules: readable by all staff, editable by those who may edit rules
    (``accounts.roles.can_edit_rules``). Deleting archives."""

    serializer_class = RuleSerializer
    permission_classes = READ_OR_EDIT_RULES
    filterset_class = RuleFilter
    ordering_fields = ["order", "name", "updated_at"]

    def get_queryset(self):
        return rules_list()

    @extend_schema(examples=[OpenApiExample("A renewal rule", value=RULE_EXAMPLE)])
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.rule_create(
            author=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.rule_update(
            rule=serializer.instance, author=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        # Archived, not deleted: past routing decisions keep their rule and its history.
        services.rule_archive(rule=instance, author=self.request.user)

    @extend_schema(responses=RuleVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def versions(self, request, pk=None):
        """Every version of the rule, newest first: who changed what, and when."""
        rule = self.get_object()
        return Response(RuleVersionSerializer(rule_versions(rule_id=rule.pk), many=True).data)

    @extend_schema(
        operation_id="v1_rules_audit_retrieve_for_rule",
        responses=RuleAuditEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="audit", filterset_class=None)
    def rule_audit(self, request, pk=None):
        """What was done to the rule besides editing it (moved, switched, archived), newest
        first."""
        rule = self.get_object()
        page = self.paginate_queryset(rule_audit_entries(rule_id=rule.pk))
        return self.get_paginated_response(RuleAuditEntrySerializer(page, many=True).data)

    @extend_schema(responses=RuleAuditEntrySerializer(many=True))
    @action(detail=False, methods=["get"], url_path="audit", filterset_class=None)
    def audit(self, request):
        """The audit trail of the whole rule set, imports included, newest first."""
        page = self.paginate_queryset(rule_audit_entries())
        return self.get_paginated_response(RuleAuditEntrySerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True),
            OpenApiParameter("to", int, required=True),
        ],
        responses={200: VersionChangeSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def diff(self, request, pk=None):
        """What changed between two versions, field by field (JSON fields as a unified diff)."""
        rule = self.get_object()
        try:
            before, after = int(request.query_params["from"]), int(request.query_params["to"])
        except (KeyError, ValueError):
            return Response(
                {"detail": ["Give the versions to compare as ?from=N&to=M."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            return Response(version_diff(rule_id=rule.pk, before=before, after=after))
        except RuleVersion.DoesNotExist:
            return Response({"detail": "No such version."}, status=status.HTTP_404_NOT_FOUND)

    @extend_schema(request=RestoreSerializer, responses=RuleSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CanEditRules], filterset_class=None)
    def restore(self, request, pk=None):
        """Make an earlier version current again (recorded as a new version)."""
        rule = self.get_object()
        data = RestoreSerializer(data=request.data, context={"rule": rule})
        data.is_valid(raise_exception=True)
        restored = services.rule_restore(
            rule=rule, number=data.validated_data["version"], author=request.user
        )
        return Response(RuleSerializer(restored).data)

    @extend_schema(request=ReorderSerializer, responses=RuleSerializer(many=True))
    @action(detail=False, methods=["post"], permission_classes=[CanEditRules], filterset_class=None)
    def reorder(self, request):
        """Set the evaluation order: list every current rule's id once, first to last."""
        data = ReorderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.rules_reorder(rule_ids=data.validated_data["rules"], author=request.user)
        return Response(RuleSerializer(rules_list(), many=True).data)

    @extend_schema(
        request=PreviewSerializer,
        responses={200: PreviewResultSerializer},
        examples=[OpenApiExample("Preview a draft", value={**RULE_EXAMPLE, "last": 500})],
    )
    @action(detail=False, methods=["post"], permission_classes=[CanEditRules], filterset_class=None)
    def preview(self, request):
        """Dry run a draft rule over past tickets (a date range or the last N), changing
        nothing: how many would match, which, and what the rule would do."""
        data = PreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(rule_preview(**data.validated_data))

    @extend_schema(responses={200: RuleSetSerializer})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def export(self, request):
        """The whole current rule set as JSON, in evaluation order."""
        return Response(interchange.rules_export())

    @extend_schema(
        request=RuleSetSerializer,
        responses={200: ImportResultSerializer, 400: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Errors keyed by place",
                response_only=True,
                status_codes=["400"],
                value={"rules[3].actions[0].type": ["Unknown action 'fax'; use ..."]},
            )
        ],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        permission_classes=[CanEditRules],
        filterset_class=None,
    )
    def import_rules(self, request):
        """Replace the rule set with an export: validated first, all or nothing."""
        try:
            result = interchange.rules_import(request.data, author=request.user)
        except interchange.RuleSetInvalid as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def language(self, request):
        """Fields, operators and actions of the rule language, with the departments, users
        and webhooks a value may name: what the editor builds its pickers from."""
        return Response(language_description())
