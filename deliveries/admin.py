from django.contrib import admin
from django.db import models

from deliveries.models import EmailDelivery, Webhook, WebhookAttempt, WebhookDelivery
from helpdesk.read_only_admin import ReadOnlyAdmin


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Endpoints rules may call. The secret signs every payload; share it with the receiver.
    ``Webhook.clean`` refuses, as a field error, a URL that is not http(s), carries credentials or
    names an internal address (WEBHOOK_ALLOWED_NETWORKS)."""

    list_display = ["name", "url", "is_active", "created_at"]
    list_filter = ["is_active"]
    # An address typed without a scheme is taken as https (Django 6's default), not http.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    """What was sent, as sent: the sending task writes these; old ones may be pruned."""

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
