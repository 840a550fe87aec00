from rest_framework import serializers

from accounts.models import Contact, Customer, Department, Invoice
from accounts.selectors import customer_has_service_contract


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "slug", "name"]


class CustomerSerializer(serializers.ModelSerializer):
    """A customer with its standing; the figures are derived from its invoices, never set."""

    has_service_contract = serializers.SerializerMethodField()
    unpaid_invoice_count = serializers.IntegerField(read_only=True)
    unpaid_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    overdue_invoice_count = serializers.IntegerField(read_only=True)
    overdue_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "salesperson",
            "contract_starts_on",
            "contract_ends_on",
            "has_service_contract",
            "pay_for_bug",
            "colleagues_see_tickets",
            "is_internal",
            "unpaid_invoice_count",
            "unpaid_amount",
            "overdue_invoice_count",
            "overdue_amount",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_has_service_contract(self, customer: Customer) -> bool:
        return customer_has_service_contract(customer, today=self.context["today"])


class ContactSerializer(serializers.ModelSerializer):
    """A person at a customer; the customer is chosen on creation and cannot change after."""

    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "email", "phone", "title"]


class InvoiceSerializer(serializers.ModelSerializer):
    is_paid = serializers.BooleanField(read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "customer",
            "number",
            "amount",
            "issued_on",
            "due_on",
            "paid_on",
            "is_paid",
            "is_overdue",
        ]
        extra_kwargs = {"amount": {"min_value": 0}}

    def get_is_overdue(self, invoice: Invoice) -> bool:
        return invoice.paid_on is None and invoice.due_on < self.context["today"]
