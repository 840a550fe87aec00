"""Sending what rules queued: emails over SMTP and signed webhook calls, with retries.

A send first claims its row with a conditional ``UPDATE`` (due -> ``sending``, with the claim's
time), then calls out with no transaction open and no row locked, then records what came of it,
as healthchecks does: a slow peer holds one worker, never a lock routing waits for. Each call has
a total deadline (a peer trickling its answer a byte at a time is cut off, and retried), and a
claim whose worker died mid-send expires after ``DELIVERY_CLAIM_SECONDS``. A transient failure
sets ``next_attempt_at`` with exponential backoff and jitter, and the periodic sweep enqueues it
again when due; a permanent one (a 5xx SMTP reply, an HTTP 4xx) fails at once and says why. Every
webhook request is recorded as a ``WebhookAttempt``.
"""

import hashlib
import hmac
import json
import logging
import random
import smtplib
import socket
import time
from datetime import datetime, timedelta
from functools import partial

import httpx
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPEmailBackend
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from deliveries import webhook_client
from deliveries.models import EmailDelivery, WebhookAttempt, WebhookDelivery
from deliveries.refusals import address_gone, address_refused
from helpdesk.queue import enqueue_on_commit
from helpdesk.updates import update_returning

logger = logging.getLogger(__name__)

Status = EmailDelivery.Status
_OPEN = [Status.PENDING, Status.RETRYING]
_DIED = "Every attempt stopped unfinished (its worker died or was killed)"


class PermanentFailure(Exception):
    """Trying again cannot help (the server refused for good)."""


def email_delivery_retry(*, delivery_id: int, recipient: str) -> bool:
    """Send an email that failed for good once more, from a first attempt, to ``recipient``
    (the address as it is now: a rep may have corrected it): the customer's mail server is
    back, or a rep fixed what it refused. True if it had failed and is due again; one
    conditional UPDATE, so two reps asking at once send it once."""
    from deliveries.tasks import send_email_delivery  # the task module imports this one

    again = EmailDelivery.objects.filter(pk=delivery_id, status=Status.FAILED).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=None,
        claimed_at=None,
        reason="",
        recipient=recipient,
    )
    if again:
        enqueue_on_commit(send_email_delivery, delivery_id)
    return bool(again)


def backoff_seconds(attempt: int) -> float:
    """Delay before the next try: doubling from 30 s up to an hour, with ±50% jitter."""
    base = min(30 * 2 ** (attempt - 1), 3600)
    return base * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not cryptography


def _failure_fields(attempts: int, error: str, *, permanent: bool) -> dict:
    if permanent or attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        logger.warning("Delivery failed for good after %d attempts: %s", attempts, error)
        return {"status": Status.FAILED, "next_attempt_at": None, "reason": error[:300]}
    return {
        "status": Status.RETRYING,
        "next_attempt_at": timezone.now() + timedelta(seconds=backoff_seconds(attempts)),
        "reason": error[:300],
    }


def _abandoned(now: datetime) -> Q:
    """Rows whose sender died mid-send (their claim expired) with attempts left."""
    expired = now - timedelta(seconds=settings.DELIVERY_CLAIM_SECONDS)
    return Q(
        status=Status.SENDING,
        claimed_at__lte=expired,
        attempts__lt=settings.DELIVERY_MAX_ATTEMPTS,
    )


def _claimable(now: datetime) -> Q:
    """Due rows, and abandoned ones."""
    due = Q(status__in=_OPEN) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return due | _abandoned(now)


def _claim(model, delivery_id: int):
    """Claim a due delivery for this worker (one conditional UPDATE: of two workers, one wins);
    the claimed row, or None if it is not due or another worker has it."""
    claimed = _claim_many(model, [delivery_id])
    return claimed[0] if claimed else None


def _record(delivery, **fields) -> bool:
    """Store the result of the claimed send; False if the claim was lost meanwhile (it expired
    and another worker took the delivery over, whose result is the one that counts)."""
    recorded = (
        type(delivery)
        .objects.filter(pk=delivery.pk, status=Status.SENDING, claimed_at=delivery.claimed_at)
        .update(claimed_at=None, **fields)
    )
    if not recorded:
        logger.warning("%s: claim expired before its result was recorded", delivery)
    return bool(recorded)


class _DeadlineSocket:
    """A socket whose every read and write waits only until one deadline.

    A socket's own timeout starts again with each byte, so a peer sending one byte every few
    seconds keeps a call alive for ever; here the time left shrinks with each read and write,
    so the whole exchange ends by the deadline.
    """

    def __init__(self, sock, deadline: float):
        self._sock = sock
        self._deadline = deadline

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def _within_deadline(self, operation, *args):
        remaining = self._deadline - time.monotonic()
        if remaining > 0:
            self._sock.settimeout(remaining)
            try:
                return operation(*args)
            except TimeoutError:
                pass
        raise TimeoutError("no complete answer before the deadline")

    def recv_into(self, *args):
        return self._within_deadline(self._sock.recv_into, *args)

    def recv(self, *args):
        return self._within_deadline(self._sock.recv, *args)

    def sendall(self, *args):
        # Since Python 3.5 a socket's timeout bounds a whole sendall.
        return self._within_deadline(self._sock.sendall, *args)

    def makefile(self, *args, **kwargs):
        # socket.makefile builds its reader on ``self``: reads through the file are bounded too.
        # (The wrapper is a socket by duck typing, which the type stubs cannot know.)
        return socket.socket.makefile(self, *args, **kwargs)  # type: ignore[call-overload]


# --- email ------------------------------------------------------------------------------------


def _error_text(exc: Exception) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return "Stopped at the task's time limit (CELERY_TASK_SOFT_TIME_LIMIT)"
    return f"{type(exc).__name__}: {exc}"


def _smtp_failure(exc: Exception) -> tuple[str, bool]:
    """(reason, permanent) for an error raised while sending."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()))
        return f"Recipient refused: {code} {message!r}", code >= 500
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", exc.smtp_code >= 500
    return _error_text(exc), False


class _DeadlineSMTP(smtplib.SMTP):
    # Every read and write of the SMTP exchange (greeting, EHLO, STARTTLS, login, the message,
    # QUIT) ends by one deadline. Name resolution is not covered: the system resolver bounds it.
    def __init__(self, *args, deadline: float, **kwargs):
        self._deadline = deadline  # before super().__init__, which connects
        super().__init__(*args, **kwargs)

    # smtplib's own hook for making its socket, private and so not in the type stubs.
    def _get_socket(self, host, port, timeout):
        return _DeadlineSocket(super()._get_socket(host, port, timeout), self._deadline)  # type: ignore[misc]

    def starttls(self, *args, **kwargs):
        reply = super().starttls(*args, **kwargs)
        # The TLS socket replaced ours. (A socket by duck typing: see _DeadlineSocket.)
        self.sock = _DeadlineSocket(self.sock, self._deadline)  # type: ignore[assignment]
        return reply


class _DeadlineSMTPSSL(_DeadlineSMTP, smtplib.SMTP_SSL):
    pass


class _DeadlineEmailBackend(SMTPEmailBackend):
    """Django's SMTP backend (the same ``EMAIL_*`` settings) with a total deadline."""

    def __init__(self, *, deadline: float, **kwargs):
        super().__init__(**kwargs)
        self.deadline = deadline

    @property
    def connection_class(self):
        base = _DeadlineSMTPSSL if self.use_ssl else _DeadlineSMTP
        return partial(base, deadline=self.deadline)

    def renew_deadline(self) -> None:
        """Give the next message EMAIL_TIMEOUT of its own, on the connection already open."""
        self.deadline = time.monotonic() + settings.EMAIL_TIMEOUT
        smtp = self.connection
        if isinstance(smtp, _DeadlineSMTP):
            smtp._deadline = self.deadline
            if isinstance(smtp.sock, _DeadlineSocket):
                smtp.sock._deadline = self.deadline


def _email_connection():
    connection = get_connection()
    if type(connection) is SMTPEmailBackend:
        # EMAIL_TIMEOUT bounds each socket operation in Django's backend; here it bounds them all.
        return _DeadlineEmailBackend(deadline=time.monotonic() + settings.EMAIL_TIMEOUT)
    return connection  # the console backend, or one a test or deployment chose


def email_deliver(*, delivery_id: int) -> str:
    """Send one email delivery if it is due (and not being sent); returns its status afterwards."""
    return emails_deliver(delivery_ids=[delivery_id]).get(delivery_id, "not due")


def emails_deliver(*, delivery_ids: list[int]) -> dict[int, str]:
    """Send those of these email deliveries that are due, through one connection, each within
    EMAIL_TIMEOUT of its own; their statuses afterwards, by id (those not due are left out).

    They are claimed in one UPDATE (the emails a routed batch of events makes are one task, not
    one each), and each is recorded as soon as it is sent or has failed, so a worker dying
    mid-batch sends none of those again. Those not tried (the task's soft time limit would
    leave no room for them, or the batch stopped on an error) are handed back, unsent, and
    enqueued again.
    """
    from deliveries.tasks import send_email_deliveries

    claimed = _claim_many(EmailDelivery, delivery_ids)
    if not claimed:
        return {}
    statuses: dict[int, str] = {}
    started = time.monotonic()
    room = settings.DELIVERY_TASK_SOFT_TIME_LIMIT - 5
    connection = _email_connection()
    tried = 0
    try:
        for index, delivery in enumerate(claimed):
            if index and time.monotonic() - started + settings.EMAIL_TIMEOUT > room:
                break
            tried = index + 1
            statuses[delivery.pk], go_on = _send_one(delivery, connection)
            if not go_on:
                break
    finally:
        _close_quietly(connection)
        rest = claimed[tried:]
        if rest:
            _hand_back(rest)
            enqueue_on_commit(send_email_deliveries, [delivery.pk for delivery in rest])
    return statuses


def _send_one(delivery: EmailDelivery, connection) -> tuple[str, bool]:
    """Send one claimed delivery and record the outcome: (its status, whether the batch may go
    on: not once the task's soft time limit has struck)."""
    go_on = True
    try:
        if isinstance(connection, _DeadlineEmailBackend):
            connection.renew_deadline()
        # Opened once and kept for the next message (again after a failure closed it).
        connection.open()
        message = _email_message(delivery, connection)
        message.send()
    except (smtplib.SMTPException, OSError, SoftTimeLimitExceeded) as exc:
        reason, permanent = _smtp_failure(exc)
        go_on = not isinstance(exc, SoftTimeLimitExceeded)
        gone = address_gone(exc)
    except Exception as exc:  # the message itself cannot be made (a header, an address)
        reason, permanent, gone = _error_text(exc), True, False
    else:
        _record(
            delivery,
            status=Status.SENT,
            sent_at=timezone.now(),
            next_attempt_at=None,
            reason="",
            provider_message_id=_provider_message_id(message),
        )
        return Status.SENT, go_on
    fields = _failure_fields(delivery.attempts, reason, permanent=permanent)
    _record(delivery, **fields)
    if gone:
        address_refused(address=delivery.recipient, reason=reason)
    _close_quietly(connection)  # the next message starts on a new connection
    return str(fields["status"]), go_on


def _email_message(delivery: EmailDelivery, connection) -> EmailMessage:
    headers = delivery.headers or {
        "Message-ID": delivery.message_id,
        # RFC 3834: tells auto-responders not to answer, so no mail loop starts.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.body,
        from_email=delivery.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        headers=headers,
        connection=connection,
    )
    if delivery.html_body:
        message.attach_alternative(delivery.html_body, "text/html")
    for attachment in delivery.attachments:
        with default_storage.open(attachment["path"], "rb") as handle:
            message.attach(attachment["filename"], handle.read(), attachment["content_type"])
    return message


def _provider_message_id(message: EmailMessage) -> str:
    """The id a provider's backend (django-anymail) reports for a message it sent, if any."""
    status = getattr(message, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    return "" if message_id is None else str(message_id)[:255]


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):
        pass  # a broken connection is closed by dropping it; the backend forgets it either way
    if isinstance(connection, SMTPEmailBackend):
        connection.connection = None


def _claim_many(model, delivery_ids: list[int]) -> list:
    """``_claim`` of several at once: one conditional UPDATE, which returns the rows it
    claimed, in the order of their ids."""
    now = timezone.now()
    return update_returning(
        model.objects.filter(_claimable(now), pk__in=delivery_ids),
        status=Status.SENDING,
        claimed_at=now,
        enqueued_at=None,
        attempts=F("attempts") + 1,
    )


def _hand_back(deliveries: list[EmailDelivery]) -> None:
    """Give up the claim of deliveries not tried: due again at once (for the sweep too, should
    their new task be lost), the attempt not counted."""
    if not deliveries:
        return
    EmailDelivery.objects.filter(
        pk__in=[delivery.pk for delivery in deliveries],
        status=Status.SENDING,
        claimed_at=deliveries[0].claimed_at,
    ).update(
        status=Case(
            When(attempts__lte=1, then=Value(Status.PENDING)), default=Value(Status.RETRYING)
        ),
        attempts=F("attempts") - 1,
        claimed_at=None,
        next_attempt_at=timezone.now(),
    )


# --- webhooks ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` with the webhook's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_deliver(*, delivery_id: int) -> str:
    """Make one attempt at a webhook delivery if it is due (and not being made); returns its
    status afterwards."""
    delivery = _claim(WebhookDelivery, delivery_id)
    if delivery is None:
        return "not due"
    webhook = delivery.webhook
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
    status_code, error, refused = None, "", False
    try:
        status_code = webhook_client.post(
            webhook.url,
            content=body,
            # Connection: close, one request per call: nothing is kept open between calls.
            headers=headers | {"Connection": "close"},
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except webhook_client.RefusedTarget as exc:
        # An internal address, or a URL that is not http(s): the URL (or its DNS) must change.
        error, refused = str(exc), True
    except (httpx.HTTPError, SoftTimeLimitExceeded) as exc:
        # Not connected, not complete by the deadline, a peer that does not speak HTTP, or the
        # task's soft time limit: all worth another try.
        error = _error_text(exc)
    duration_ms = int((time.monotonic() - started) * 1000)
    if refused:
        fields = _failure_fields(delivery.attempts, error, permanent=True)
    elif status_code is not None and 200 <= status_code < 300:
        fields = {
            "status": Status.SENT,
            "delivered_at": timezone.now(),
            "next_attempt_at": None,
            "reason": "",
        }
    elif status_code is not None:
        # 408 and 429 ask to come back later; other 4xx, and redirects, will not change by
        # retrying: the URL must be corrected.
        permanent = 300 <= status_code < 500 and status_code not in (408, 429)
        fields = _failure_fields(delivery.attempts, f"HTTP {status_code}", permanent=permanent)
    else:
        fields = _failure_fields(delivery.attempts, error, permanent=False)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            status_code=status_code,
            error=error[:300],
            duration_ms=duration_ms,
        )
        _record(delivery, **fields)
    return fields["status"]


def deliveries_sweep() -> int:
    """Enqueue every delivery that is due: retries whose time has come, first sends whose message
    was lost, and sends whose worker died (failed, once that has used up their attempts).
    Returns how many were enqueued.

    Each one enqueued is claimed (``enqueued_at``) until a worker takes it or
    DELIVERY_CLAIM_SECONDS pass, so a backlog is not enqueued again on every sweep.
    """
    from deliveries.tasks import call_webhook_delivery, send_email_delivery

    now = timezone.now()
    grace = now - timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS)
    expired = now - timedelta(seconds=settings.DELIVERY_CLAIM_SECONDS)
    due = (
        Q(status=Status.RETRYING, next_attempt_at__lte=now)
        | Q(status=Status.PENDING, created_at__lte=grace)
        | _abandoned(now)
    )
    unclaimed = Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=expired)
    count = 0
    with transaction.atomic():
        for model, task in (
            (EmailDelivery, send_email_delivery),
            (WebhookDelivery, call_webhook_delivery),
        ):
            # SKIP LOCKED: two beat schedulers running by mistake split the work.
            ids = list(
                model.objects.filter(due & unclaimed)
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[: settings.OUTBOX_SWEEP_BATCH]
            )
            model.objects.filter(pk__in=ids).update(enqueued_at=now)
            # A send that kills its worker every time (say, by exhausting its memory) must stop.
            model.objects.filter(
                status=Status.SENDING,
                claimed_at__lte=expired,
                attempts__gte=settings.DELIVERY_MAX_ATTEMPTS,
            ).update(status=Status.FAILED, claimed_at=None, reason=_DIED)
            for delivery_id in ids:
                enqueue_on_commit(task, delivery_id)
            count += len(ids)
    return count
