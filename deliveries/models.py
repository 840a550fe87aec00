"""Outbound deliveries made by rules: each email and webhook call is a row before it is sent."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper

from deliveries.webhook_client import url_refusal
from routing.models.rules import Rule
from tickets.models import Ticket, TicketEvent


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Waiting to retry"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    THROTTLED = "throttled", "Not sent: throttled"
    SUPPRESSED = "suppressed", "Not sent"  # the reason says why: a no-reply address, a bounce


class Delivery(models.Model):
    """What every outbound delivery records: what made it, where it stands, when to try again."""

    Status = DeliveryStatus

    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker claims a delivery (status "sending") before it calls out, without a transaction or
    # a row lock held across the call; a claim older than DELIVERY_CLAIM_SECONDS is a worker that
    # died mid-send, and the delivery is due again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the sweep last enqueued it: the sweep's claim, so a backlog is not enqueued again on
    # every sweep. Cleared when a worker claims it.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class EmailDelivery(Delivery):
    """One email to one recipient: from a rule (with its event and rule), or to a member of staff
    about their queue or follow-ups (with a ``key`` naming what it is about, unique, so a retried
    task never sends it twice)."""

    event = models.ForeignKey(
        TicketEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(
        max_length=120,
        null=True,
        blank=True,
        unique=True,
        help_text="For staff emails: e.g. notification:12:user:5, digest:2026-11-23:user:5.",
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="email_deliveries"
    )
    recipient = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    # What an email to a customer (a reply, an acknowledgement) carries beyond a staff email:
    # its own sender, headers (Message-ID, In-Reply-To, References, Reply-To, Auto-Submitted:
    # these replace the defaults when given), an HTML alternative and files from the storage.
    from_email = models.CharField(max_length=320, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    html_body = models.TextField(blank=True)
    attachments = models.JSONField(
        default=list, blank=True, help_text='[{"path": ..., "filename": ..., "content_type": ...}]'
    )
    provider_message_id = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text="The id the sending provider gave it, when it replaces ours (Amazon SES).",
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Moved here from routing with its table, which keeps its name (no data is copied).
        db_table = "routing_emaildelivery"
        ordering = ["-created_at", "-id"]
        verbose_name = "email delivery"
        verbose_name_plural = "email deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "rule", "recipient"], name="email_once_per_event_rule_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "recipient", "created_at"], name="email_throttle_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="email_due_idx"),
            # What was sent to an address lately, whatever the ticket (the acknowledgement's
            # once an hour per sender): without it, every incoming request read the whole
            # throttle index.
            models.Index(Upper("recipient"), "created_at", name="email_recipient_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"Email to {self.recipient} about T-{self.ticket_id}"

    @property
    def message_id(self) -> str:
        # Stable across retries, so a receiver can recognise a message it already has.
        return (
            self.headers.get("Message-ID") or f"<switchboard-email-{self.pk}@switchboard.invalid>"
        )


def _new_secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """An HTTP endpoint rules can call; payloads are signed with its secret (HMAC-SHA256)."""

    name = models.SlugField(unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=_new_secret)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Moved here from routing with its table, which keeps its name (no data is copied).
        db_table = "routing_webhook"
        ordering = ["name"]
        verbose_name = "webhook"
        verbose_name_plural = "webhooks"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Refused at the edge when it can be told from the URL alone; a host name is checked each
        # time it is called, since what it resolves to may change.
        refusal = url_refusal(self.url) if self.url else None
        if refusal is not None:
            raise ValidationError({"url": f"This URL cannot be called: {refusal}."})


class WebhookDelivery(Delivery):
    """One call of a webhook by a rule for an event, with its attempts."""

    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="deliveries")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="webhook_deliveries")
    payload = models.JSONField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Moved here from routing with its table, which keeps its name (no data is copied).
        db_table = "routing_webhookdelivery"
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "rule", "webhook"], name="webhook_once_per_event_rule"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.webhook} for T-{self.ticket_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came of it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Moved here from routing with its table, which keeps its name (no data is copied).
        db_table = "routing_webhookattempt"
        ordering = ["delivery", "number"]
        verbose_name = "webhook attempt"
        verbose_name_plural = "webhook attempts"
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhookattempt_unique"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery}"
