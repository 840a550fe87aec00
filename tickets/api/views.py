from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tickets import services
from tickets.api.filters import TicketFilter
from tickets.api.serializers import (
    NoteCreateSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TimelineEntrySerializer,
)
from tickets.selectors import ticket_get, tickets_list, timeline_for


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tickets: every customer contact, as a call, bug, RFE or RMA."""

    serializer_class = TicketSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = TicketFilter
    ordering_fields = ["created_at", "updated_at", "priority", "status"]

    def get_queryset(self):
        return tickets_list()

    @extend_schema(
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
        examples=[
            OpenApiExample(
                "A bug reported by phone",
                request_only=True,
                value={
                    "kind": "bug",
                    "channel": "phone",
                    "customer": 1,
                    "subject": "Export to CSV crashes",
                    "description": "Since 2.3 the export stops at 1,000 rows.",
                    "product": "Reports",
                    "priority": "high",
                },
            )
        ],
    )
    def create(self, request):
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_create(**data.validated_data, created_by=request.user)
        return Response(TicketSerializer(ticket).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TicketUpdateSerializer, responses={200: TicketSerializer})
    def partial_update(self, request, pk=None):
        ticket = self.get_object()
        data = TicketUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_update(ticket=ticket, actor=request.user, **data.validated_data)
        return Response(TicketSerializer(ticket_get(ticket_id=ticket.pk)).data)

    @extend_schema(responses={200: TimelineEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request, pk=None):
        """Everything recorded on the ticket, oldest first."""
        ticket = get_object_or_404(self.get_queryset(), pk=pk)
        entries = timeline_for(ticket=ticket)
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(request=NoteCreateSerializer, responses={201: TimelineEntrySerializer})
    @timeline.mapping.post
    def add_note(self, request, pk=None):
        """Add a note, or log a call when ``call_duration_seconds`` is given."""
        ticket = get_object_or_404(self.get_queryset(), pk=pk)
        data = NoteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.note_add(ticket=ticket, author=request.user, **data.validated_data)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
