import django_filters

from routing.models import Rule


class RuleFilter(django_filters.FilterSet):
    class Meta:
        model = Rule
        fields = ["trigger", "is_active"]
