import django_filters

from routing.models import FollowUpTask, Notification, Rule


class NotificationFilter(django_filters.FilterSet):
    department = django_filters.CharFilter(field_name="department__slug")

    class Meta:
        model = Notification
        fields = ["department", "ticket", "status", "rule"]


class FollowUpTaskFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = FollowUpTask
        fields = ["ticket", "salesperson", "status", "customer", "due_before"]


class RuleFilter(django_filters.FilterSet):
    class Meta:
        model = Rule
        fields = ["trigger", "is_active"]
