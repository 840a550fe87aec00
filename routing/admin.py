from django.contrib import admin

from routing import services
from routing.models import FollowUpTask, Notification, RoutingRun, Rule, RuleMatch
from routing.models.rules import VERSIONED_FIELDS


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Rules are data: validated on save (``Rule.clean``) with each error at its place, and
    saved through the services so every edit is a new version."""

    list_display = ["name", "order", "trigger", "is_active", "stop_processing", "version"]
    list_editable = ["order", "is_active"]
    list_filter = ["trigger", "is_active"]
    search_fields = ["name", "description"]
    readonly_fields = ["version", "archived_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(archived_at__isnull=True)

    def save_model(self, request, obj, form, change) -> None:
        fields = {name: getattr(obj, name) for name in VERSIONED_FIELDS}
        if change:
            services.rule_update(rule=obj, author=request.user, **fields)
        else:
            obj.pk = services.rule_create(author=request.user, **fields).pk

    def delete_model(self, request, obj) -> None:
        services.rule_archive(rule=obj, author=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for rule in queryset:
            services.rule_archive(rule=rule, author=request.user)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "department", "ticket", "rule", "status", "created_at"]
    list_filter = ["department", "status"]
    list_select_related = ["department", "ticket", "rule"]
    raw_id_fields = ["ticket", "event", "acted_by"]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket", "customer", "salesperson", "due_on", "status", "outcome"]
    list_filter = ["status", "outcome"]
    list_select_related = ["ticket", "customer", "salesperson"]
    raw_id_fields = ["ticket", "event"]


@admin.register(RuleMatch)
class RuleMatchAdmin(admin.ModelAdmin):
    list_display = ["id", "rule", "ticket", "event", "created_at"]
    list_select_related = ["rule", "ticket", "event"]
    readonly_fields = [f.name for f in RuleMatch._meta.fields]


@admin.register(RoutingRun)
class RoutingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "rules_evaluated", "rules_fired", "skipped_reason"]
    list_select_related = ["event"]
    readonly_fields = [f.name for f in RoutingRun._meta.fields]
