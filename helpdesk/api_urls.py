"""Wires every app's API resources under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api.auth import TokenObtainView
from accounts.api.views import ContactViewSet, CustomerViewSet, DepartmentViewSet, InvoiceViewSet
from routing.api.rules import RuleViewSet
from routing.api.views import FollowUpTaskViewSet, NotificationViewSet, TicketRoutingView
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

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("tickets/<int:pk>/routing/", TicketRoutingView.as_view(), name="ticket-routing"),
    *router.urls,
]
