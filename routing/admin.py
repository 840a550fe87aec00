from django.contrib import admin

from routing import services
from routing.models import (
    EmailDelivery,
    FollowUpTask,
    Notification,
    RoutingRun,
    Rule,
    RuleMatch,
    RuleVersion,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from routing.models.rules import VERSIONED_FIELDS


class RuleVersionInline(admin.TabularInline):
    model = RuleVersion
    extra = 0
    can_delete = False
    fields = ["number", "summary", "author", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Rules are data: validated on save (``Rule.clean``) with each error at its place, and
    saved through the services so every edit is a new version."""

    list_display = ["name", "order", "trigger", "is_active", "stop_processing", "version"]
    list_editable = ["order", "is_active"]
    list_filter = ["trigger", "is_active"]
    search_fields = ["name", "description"]
    readonly_fields = ["version", "archived_at"]
    inlines = [RuleVersionInline]

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


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Endpoints rules may call. The secret signs every payload; share it with the receiver."""

    list_display = ["name", "url", "is_active", "created_at"]
    list_filter = ["is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "recipient", "ticket", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["recipient", "subject"]
    list_select_related = ["ticket"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "status_code", "error", "duration_ms", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "webhook", "ticket", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "webhook"]
    list_select_related = ["webhook", "ticket"]
    inlines = [WebhookAttemptInline]
