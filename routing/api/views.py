from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from routing.api.serializers import ExplainedEventSerializer
from routing.selectors import ticket_routing_explanation
from tickets.selectors import tickets_brief


class TicketRoutingView(APIView):
    """Why a ticket was routed as it was: for each of its events, every rule evaluated, each
    condition with the value it was tested on and whether it held, and what fired rules did."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: ExplainedEventSerializer(many=True)})
    def get(self, request, pk: int):
        ticket = get_object_or_404(tickets_brief(), pk=pk)
        return Response(ticket_routing_explanation(ticket_id=ticket.pk))
