from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets

from helpdesk.permissions import IsAdminOrReadOnly
from routing import services
from routing.api.filters import FollowUpTaskFilter, NotificationFilter, RuleFilter
from routing.api.serializers import (
    FollowUpTaskSerializer,
    NotificationSerializer,
    RuleSerializer,
)
from routing.selectors import followups_list, notifications_list, rules_list

_RULE_EXAMPLE = OpenApiExample(
    "Bugs go to engineering",
    request_only=True,
    value={
        "name": "Bugs go to engineering",
        "order": 10,
        "trigger": "ticket.created",
        "conditions": {"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        "actions": [{"type": "notify_department", "department": "engineering"}],
    },
)


@extend_schema_view(create=extend_schema(examples=[_RULE_EXAMPLE]))
class RuleViewSet(viewsets.ModelViewSet):
    """Routing rules: readable by all staff, editable by admins."""

    serializer_class = RuleSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_class = RuleFilter
    ordering_fields = ["order", "name", "updated_at"]

    def get_queryset(self):
        return rules_list()

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


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Items in department queues, made by routing rules."""

    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "status"]

    def get_queryset(self):
        return notifications_list()


class FollowUpTaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Follow-up tasks for salespeople, made by routing rules."""

    serializer_class = FollowUpTaskSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = FollowUpTaskFilter
    ordering_fields = ["due_on", "created_at"]

    def get_queryset(self):
        return followups_list()
