from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from routing.api.filters import FollowUpTaskFilter, NotificationFilter
from routing.api.serializers import (
    ExplainedEventSerializer,
    FollowUpTaskSerializer,
    NotificationSerializer,
)
from routing.selectors import followups_list, notifications_list, ticket_routing_explanation
from tickets.selectors import tickets_brief


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


class TicketRoutingView(APIView):
    """Why a ticket was routed as it was: for each of its events, every rule evaluated, each
    condition with the value it was tested on and whether it held, and what fired rules did."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: ExplainedEventSerializer(many=True)})
    def get(self, request, pk: int):
        ticket = get_object_or_404(tickets_brief(), pk=pk)
        return Response(ticket_routing_explanation(ticket_id=ticket.pk))
