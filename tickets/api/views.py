from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not a 500
from rest_framework.response import Response

from tickets import services
from tickets.api.filters import TicketFilter
from tickets.api.serializers import (
    NoteCreateSerializer,
    TicketCreateSerializer,
    TicketLinkSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TimelineEntrySerializer,
    ticket_create_input,
    ticket_created_data,
    ticket_data,
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
        # One transaction for the rows validation reads (the customer, and a contact, assignee
        # or department named) and those the service writes; bad input rolls it back, a 400.
        with transaction.atomic():
            fields = ticket_create_input(request.data)
            ticket = services.ticket_create(**fields, created_by=request.user)
        body = ticket_created_data(ticket, tags=fields["tags"])
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TicketUpdateSerializer,
        responses={200: TicketSerializer, 409: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Resolve a bug",
                request_only=True,
                value={
                    "status": "resolved",
                    "root_cause": "product_defect",
                    "resolution": "Fixed in 2.4.1; the customer confirmed.",
                    "version": 3,
                },
            )
        ],
    )
    def partial_update(self, request, pk=None):
        """Change fields. Send the ``version`` you read to have a concurrent edit refused."""
        ticket = self.get_object()
        data = TicketUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = fields.pop("version", None)
        try:
            services.ticket_update(
                ticket=ticket, actor=request.user, expected_version=version, **fields
            )
        except services.TicketChanged as exc:
            current = ticket_data(ticket_get(ticket_id=ticket.pk))
            return Response(
                {"version": [str(exc)], "current": current}, status=status.HTTP_409_CONFLICT
            )
        return Response(ticket_data(ticket_get(ticket_id=ticket.pk)))

    @extend_schema(request=TicketLinkSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"], url_path="related")
    def link(self, request, pk=None):
        """Link another ticket about the same problem (both tickets list each other)."""
        ticket = self.get_object()
        data = TicketLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_link(ticket=ticket, other=data.validated_data["ticket"], actor=request.user)
        return Response(ticket_data(ticket_get(ticket_id=ticket.pk)))

    @extend_schema(responses={200: TimelineEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[])
    def timeline(self, request, pk=None):
        """Everything recorded on the ticket, oldest first, in pages like every list: a ticket
        that runs for years can hold thousands of entries."""
        ticket = get_object_or_404(self.get_queryset(), pk=pk)
        page = self.paginate_queryset(timeline_for(ticket=ticket))
        return self.get_paginated_response(TimelineEntrySerializer(page, many=True).data)

    @extend_schema(request=NoteCreateSerializer, responses={201: TimelineEntrySerializer})
    @timeline.mapping.post
    def add_note(self, request, pk=None):
        """Add a note, or log a call when ``call_duration_seconds`` is given."""
        ticket = get_object_or_404(self.get_queryset(), pk=pk)
        data = NoteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.note_add(ticket=ticket, author=request.user, **data.validated_data)
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
