from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from tickets.models import Ticket
from tickets.selectors import tickets_search

# The widest offset any place uses (Kiribati, +14:00; the furthest west is -12:00). Python accepts
# up to a day either way but PostgreSQL only 15:59, so a wider one was a 500.
MAX_UTC_OFFSET = timedelta(hours=14)


class PlaceTimeField(IsoDateTimeField):
    """An ISO 8601 moment whose time-zone offset, if any, is one some place on Earth uses."""

    def to_python(self, value):
        moment = super().to_python(value)
        offset = moment.utcoffset() if moment is not None else None
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError(
                "No place uses this time-zone offset: use one between -12:00 and +14:00, "
                "or Z for UTC.",
                code="offset",
            )
        return moment


class PlaceTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = PlaceTimeField


class TicketFilterForm(forms.Form):
    """A period that ends before it starts is refused: it would silently list nothing."""

    PERIODS = (("created_from", "created_to"), ("created_after", "created_before"))

    def clean(self):
        cleaned = super().clean()
        for start, end in self.PERIODS:
            first, last = cleaned.get(start), cleaned.get(end)
            if first is not None and last is not None and first > last:
                self.add_error(
                    end, f"This is before “{self.fields[start].label}”, so nothing could match."
                )
        return cleaned


class TicketFilter(django_filters.FilterSet):
    """Filters shared by the API and the ticket list page, so a page's URL is an API query too."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        help_text="Words, an RMA, serial, order or tracking number, or a reference such as T-1042.",
    )
    product = django_filters.CharFilter(lookup_expr="icontains")
    customer_name = django_filters.CharFilter(
        field_name="customer__name", lookup_expr="icontains", label="Customer"
    )
    created_after = PlaceTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created after"
    )
    created_before = PlaceTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before"
    )
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from"
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created to"
    )
    is_open = django_filters.BooleanFilter(method="open_only", label="Open")
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label="Unassigned"
    )

    class Meta:
        model = Ticket
        form = TicketFilterForm
        fields = [
            "q",
            "kind",
            "channel",
            "status",
            "priority",
            "customer",
            "customer_name",
            "contact",
            "assignee",
            "product",
            "root_cause",
            "created_after",
            "created_before",
            "created_from",
            "created_to",
            "is_open",
            "unassigned",
        ]

    def search(self, queryset, name, value):
        return tickets_search(queryset, value)

    def open_only(self, queryset, name, value):
        in_open = Q(status__in=Ticket.OPEN_STATUSES)
        return queryset.filter(in_open if value else ~in_open)
