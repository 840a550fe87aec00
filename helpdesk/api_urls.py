"""Wires every app's API resources under /api/v1/."""

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.routers import DefaultRouter

from accounts.api.auth import TokenObtainView
from accounts.api.views import ContactViewSet, CustomerViewSet, DepartmentViewSet, InvoiceViewSet
from queues.api.views import FollowUpTaskViewSet, NotificationViewSet
from routing.api.rules import RuleViewSet
from routing.api.views import TicketRoutingView
from tickets.api.views import TicketViewSet

router = DefaultRouter()
router.register("departments", DepartmentViewSet, basename="department")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("followups", FollowUpTaskViewSet, basename="followup")
router.register("rules", RuleViewSet, basename="rule")


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, rest):
    """What no route matches (``tickets/1.5/``) is a JSON 404 like any other, not the site's
    HTML page, which no API client can read."""
    raise NotFound()


urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("tickets/<int:pk>/routing/", TicketRoutingView.as_view(), name="ticket-routing"),
    *router.urls,
    # Last; ending in a slash, so a missing one is still added by a redirect (APPEND_SLASH).
    re_path(r"^(?P<rest>.*/)$", not_found, name="api-not-found"),
]
