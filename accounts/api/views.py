from django.utils import timezone
from rest_framework import permissions, viewsets

from accounts import services
from accounts.api.filters import ContactFilter, CustomerFilter, InvoiceFilter
from accounts.api.permissions import READ_OR_EDIT_INVOICES
from accounts.api.serializers import (
    ContactSerializer,
    CustomerSerializer,
    DepartmentSerializer,
    InvoiceSerializer,
)
from accounts.selectors import (
    contacts_list,
    customers_with_standing,
    departments_list,
    invoices_list,
)


class TodayContextMixin:
    """Serializers judge contracts and due dates against one 'today' per request."""

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DepartmentSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["slug"]
    ordering_fields = ["name"]
    lookup_field = "slug"

    def get_queryset(self):
        return departments_list()


class CustomerViewSet(TodayContextMixin, viewsets.ModelViewSet):
    """Customers and their standing. Any member of staff adds them and edits their names; the
    contract, pay-for-bug and salesperson are for those ``accounts.roles`` lets change them
    (the service refuses the others with a 403 naming the field)."""

    serializer_class = CustomerSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = CustomerFilter
    ordering_fields = ["name", "created_at", "unpaid_amount", "overdue_amount"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return customers_with_standing()

    def perform_create(self, serializer):
        customer = services.customer_create(actor=self.request.user, **serializer.validated_data)
        self._reload(serializer, customer)

    def perform_update(self, serializer):
        customer = services.customer_update(
            customer=serializer.instance, actor=self.request.user, **serializer.validated_data
        )
        self._reload(serializer, customer)

    def _reload(self, serializer, customer):
        # The answer carries the derived standing, which only the annotated query knows.
        serializer.instance = self.get_queryset().get(pk=customer.pk)


class ContactViewSet(viewsets.ModelViewSet):
    serializer_class = ContactSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = ContactFilter
    ordering_fields = ["name"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return contacts_list()

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(
            contact=serializer.instance, **serializer.validated_data
        )


class InvoiceViewSet(TodayContextMixin, viewsets.ModelViewSet):
    serializer_class = InvoiceSerializer
    permission_classes = READ_OR_EDIT_INVOICES
    filterset_class = InvoiceFilter
    ordering_fields = ["due_on", "issued_on", "amount"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return invoices_list()

    def perform_create(self, serializer):
        serializer.instance = services.invoice_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.invoice_update(
            invoice=serializer.instance, **serializer.validated_data
        )
