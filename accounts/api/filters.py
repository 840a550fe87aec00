import django_filters
from django.utils import timezone

from accounts.models import Contact, Customer, Invoice


class CustomerFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Customer
        fields = ["name", "salesperson", "pay_for_bug"]


class ContactFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ["customer", "name", "email"]


class InvoiceFilter(django_filters.FilterSet):
    paid = django_filters.BooleanFilter(field_name="paid_on", lookup_expr="isnull", exclude=True)
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = Invoice
        fields = ["customer", "paid", "overdue"]

    def filter_overdue(self, queryset, name, value):
        overdue = {"paid_on__isnull": True, "due_on__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)
