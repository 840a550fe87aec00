"""Sending what rules queued: emails over SMTP and signed webhook calls, with retries.

Each send claims its row with ``SELECT ... FOR UPDATE SKIP LOCKED`` so two workers never send the
same delivery at once. A transient failure sets ``next_attempt_at`` with exponential backoff and
jitter, and the periodic sweep sends it again when due; a permanent one (a 5xx SMTP reply, an
HTTP 4xx) fails at once and says why. Every webhook request is recorded as a ``WebhookAttempt``.
"""

import hashlib
import hmac
import http.client
import json
import logging
import random
import smtplib
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.queue import enqueue_on_commit
from routing.models import EmailDelivery, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

Status = EmailDelivery.Status
_OPEN = [Status.PENDING, Status.RETRYING]


class PermanentFailure(Exception):
    """Trying again cannot help (the server refused for good)."""


def backoff_seconds(attempt: int) -> float:
    """Delay before the next try: doubling from 30 s up to an hour, with ±50% jitter."""
    base = min(30 * 2 ** (attempt - 1), 3600)
    return base * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not cryptography


def _after_failure(delivery, error: str, *, permanent: bool) -> None:
    delivery.reason = error[:300]
    if permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        delivery.status = Status.FAILED
        delivery.next_attempt_at = None
        logger.warning("Delivery %s failed for good: %s", delivery, error)
    else:
        delivery.status = Status.RETRYING
        delivery.next_attempt_at = timezone.now() + timedelta(
            seconds=backoff_seconds(delivery.attempts)
        )


def _claim(model, delivery_id: int):
    now = timezone.now()
    return (
        model.objects.select_for_update(skip_locked=True)
        .filter(pk=delivery_id, status__in=_OPEN)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .first()
    )


# --- email ------------------------------------------------------------------------------------


def _smtp_failure(exc: Exception) -> tuple[str, bool]:
    """(reason, permanent) for an error raised while sending."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()))
        return f"Recipient refused: {code} {message!r}", code >= 500
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", exc.smtp_code >= 500
    return f"{type(exc).__name__}: {exc}", False


@transaction.atomic
def email_deliver(*, delivery_id: int) -> str:
    """Send one email delivery if it is due; returns its status afterwards."""
    delivery = _claim(EmailDelivery, delivery_id)
    if delivery is None:
        return "not due"
    delivery.attempts += 1
    message = EmailMessage(
        subject=delivery.subject,
        body=delivery.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        headers={
            "Message-ID": delivery.message_id,
            # RFC 3834: tells auto-responders not to answer, so no mail loop starts.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        reason, permanent = _smtp_failure(exc)
        _after_failure(delivery, reason, permanent=permanent)
    else:
        delivery.status = Status.SENT
        delivery.sent_at = timezone.now()
        delivery.next_attempt_at = None
        delivery.reason = ""
    delivery.save()
    return delivery.status


# --- webhooks ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` with the webhook's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # Following a redirect would turn the POST into a GET without the payload and report it
    # delivered; a 3xx is answered as what it is, a failure to deliver to this URL.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@transaction.atomic
def webhook_deliver(*, delivery_id: int) -> str:
    """Make one attempt at a webhook delivery if it is due; returns its status afterwards."""
    delivery = _claim(WebhookDelivery, delivery_id)
    if delivery is None:
        return "not due"
    webhook = delivery.webhook
    delivery.attempts += 1
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Switchboard-Webhook/1",
        "X-Switchboard-Delivery": str(delivery.pk),
        "X-Switchboard-Timestamp": str(timestamp),
        "X-Switchboard-Signature": sign(webhook.secret, timestamp, body),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = _post(webhook.url, body, headers)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        # HTTPException: a peer that answers with something other than HTTP.
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        status_code=status_code,
        error=error[:300],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = Status.SENT
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
        delivery.reason = ""
    elif status_code is not None:
        # 408 and 429 ask to come back later; other 4xx, and redirects, will not change by
        # retrying: the URL must be corrected.
        permanent = 300 <= status_code < 500 and status_code not in (408, 429)
        _after_failure(delivery, f"HTTP {status_code}", permanent=permanent)
    else:
        _after_failure(delivery, error, permanent=False)
    delivery.save()
    return delivery.status


def deliveries_sweep() -> int:
    """Enqueue every delivery that is due: retries whose time has come, and first sends whose
    message was lost. Returns how many were enqueued."""
    from routing.tasks import call_webhook_delivery, send_email_delivery

    now = timezone.now()
    grace = now - timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS)
    due = Q(status=Status.RETRYING, next_attempt_at__lte=now) | Q(
        status=Status.PENDING, created_at__lte=grace
    )
    count = 0
    for model, task in (
        (EmailDelivery, send_email_delivery),
        (WebhookDelivery, call_webhook_delivery),
    ):
        for delivery_id in model.objects.filter(due).values_list("id", flat=True)[:500]:
            enqueue_on_commit(task, delivery_id)
            count += 1
    return count
