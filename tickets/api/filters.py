import django_filters

from tickets.models import Ticket


class TicketFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(lookup_expr="iexact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Ticket
        fields = [
            "kind",
            "channel",
            "status",
            "priority",
            "customer",
            "contact",
            "assignee",
            "product",
            "created_after",
            "created_before",
        ]
