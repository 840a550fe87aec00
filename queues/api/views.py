from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from queues import services
from queues.api.filters import FollowUpTaskFilter, NotificationFilter
from queues.api.serializers import (
    BulkAcknowledgeSerializer,
    FollowUpTaskSerializer,
    NotificationSerializer,
    OutcomeInputSerializer,
    ResponseInputSerializer,
)
from queues.followups import followup_record_outcome
from queues.models import FollowUpTask, Notification
from queues.selectors import (
    followup_for_work,
    followups_for_user,
    followups_list,
    followups_readable_by,
    notification_for_work,
    notifications_for_user,
    notifications_list,
    notifications_readable_by,
)


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Items in department queues, made by routing rules. The list is your departments' items
    (admins: all); with ``?ticket=`` it is every item of that ticket, and any item can be read
    by its id, for whoever can see the ticket (who was told, and what became of it). Acting on
    an item stays with its department's members, leads and admins (403 otherwise)."""

    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "status", "due_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Notification.objects.none()
        if self.action == "retrieve" or (
            self.action == "list" and self.request.query_params.get("ticket")
        ):
            return notifications_readable_by(self.request.user)
        return notifications_for_user(self.request.user)

    def get_object(self):
        if self.action == "retrieve":
            return super().get_object()
        try:
            return notification_for_work(
                user=self.request.user, notification_id=int(self.kwargs["pk"])
            )
        except (Notification.DoesNotExist, ValueError):
            raise Http404("No such queue item.") from None

    def _answer(self, item) -> Response:
        return Response(NotificationSerializer(notifications_list().get(pk=item.pk)).data)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Take the item on: it becomes yours. 400 if someone else took it first."""
        item = services.notification_acknowledge(notification=self.get_object(), user=request.user)
        return self._answer(item)

    @extend_schema(request=ResponseInputSerializer, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        """Answer on the ticket for the department; ``done`` completes the item too."""
        item = self.get_object()  # one who may not work it hears so before any input error
        data = ResponseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.notification_respond(
            notification=item, user=request.user, **data.validated_data
        )
        return self._answer(item)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        item = services.notification_complete(notification=self.get_object(), user=request.user)
        return self._answer(item)

    @extend_schema(
        request=BulkAcknowledgeSerializer,
        responses={200: OpenApiTypes.OBJECT},
        operation_id="v1_notifications_acknowledge_many",
    )
    @action(detail=False, methods=["post"], url_path="acknowledge", filterset_class=None)
    def acknowledge_many(self, request):
        """Take on several new items at once; answers how many were taken."""
        data = BulkAcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        chosen = self.get_queryset().filter(pk__in=data.validated_data["ids"])
        count = services.notifications_acknowledge(notifications=chosen, user=request.user)
        return Response({"acknowledged": count})


class FollowUpTaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Follow-up tasks for salespeople, made by routing rules: a salesperson's list is their
    own, a sales lead's the team's, admins' all; with ``?ticket=`` (or by id) any task of a
    ticket the user can see, read-only. Outcomes are recorded by those who work the task."""

    serializer_class = FollowUpTaskSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = FollowUpTaskFilter
    ordering_fields = ["due_on", "created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return FollowUpTask.objects.none()
        if self.action == "retrieve" or (
            self.action == "list" and self.request.query_params.get("ticket")
        ):
            return followups_readable_by(self.request.user)
        return followups_for_user(self.request.user)

    def get_object(self):
        if self.action == "retrieve":
            return super().get_object()
        try:
            return followup_for_work(user=self.request.user, task_id=int(self.kwargs["pk"]))
        except (FollowUpTask.DoesNotExist, ValueError):
            raise Http404("No such follow-up.") from None

    @extend_schema(request=OutcomeInputSerializer, responses=FollowUpTaskSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        """Record how the follow-up call went (see docs/api.md for each outcome's effect)."""
        task = self.get_object()  # one who may not work it hears so before any input error
        data = OutcomeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = followup_record_outcome(task=task, user=request.user, **data.validated_data)
        return Response(FollowUpTaskSerializer(followups_list().get(pk=task.pk)).data)
