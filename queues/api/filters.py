from datetime import timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone

from queues.models import FollowUpTask, Notification
from tickets.models import Ticket


class NotificationFilter(django_filters.FilterSet):
    """Filters shared by the API and the queue pages."""

    department = django_filters.CharFilter(field_name="department__slug")
    kind = django_filters.ChoiceFilter(field_name="ticket__kind", choices=Ticket.Kind.choices)
    priority = django_filters.ChoiceFilter(
        field_name="ticket__priority", choices=Ticket.Priority.choices
    )
    customer_name = django_filters.CharFilter(
        field_name="ticket__customer__name", lookup_expr="icontains", label="Customer"
    )
    older_than_hours = django_filters.NumberFilter(
        method="older_than", label="Older than (hours)", min_value=0, max_value=87_600
    )
    overdue = django_filters.BooleanFilter(method="past_target", label="Past response target")
    taken = django_filters.ChoiceFilter(
        method="taken_by",
        label="Taken on by",
        choices=[("mine", "Me"), ("anyone", "Anyone"), ("nobody", "No one yet")],
    )

    class Meta:
        model = Notification
        fields = [
            "department",
            "ticket",
            "status",
            "rule",
            "kind",
            "priority",
            "customer_name",
            "older_than_hours",
            "overdue",
            "taken",
        ]

    def older_than(self, queryset, name, value):
        return queryset.filter(created_at__lte=timezone.now() - timedelta(hours=float(value)))

    def taken_by(self, queryset, name, value):
        if value == "nobody":
            return queryset.filter(acted_by__isnull=True)
        if value == "anyone":
            return queryset.filter(acted_by__isnull=False)
        # "mine": whoever asks. Every caller here has a signed-in user; without one it is no one.
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return queryset.none()
        return queryset.filter(acted_by=user)

    def past_target(self, queryset, name, value):
        past = Q(status=Notification.Status.NEW, due_at__lte=timezone.now())
        return queryset.filter(past if value else ~past)


class FollowUpTaskFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")
    overdue = django_filters.BooleanFilter(method="is_overdue", label="Overdue")

    def is_overdue(self, queryset, name, value):
        late = Q(status=FollowUpTask.Status.OPEN, due_on__lt=timezone.localdate())
        return queryset.filter(late if value else ~late)

    class Meta:
        model = FollowUpTask
        fields = ["ticket", "salesperson", "status", "customer", "due_before", "overdue"]
