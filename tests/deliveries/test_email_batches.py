"""Emails sent together (a routed batch's queue alerts): one task, one SMTP connection, one
claim, each email's own outcome recorded as it comes, and none lost when the task's time runs
short."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deliveries import services
from deliveries.models import EmailDelivery
from deliveries.staff_emails import staff_email_row
from routing.engine.rows import insert_or_get

pytestmark = pytest.mark.django_db

Status = EmailDelivery.Status


def stored(*recipients: str) -> list[int]:
    rows = [
        staff_email_row(key=f"test:{address}", recipient=address, subject="New item", body="Hi")
        for address in recipients
    ]
    return [row.pk for row, _ in insert_or_get(rows, unique=("key",))]


def test_a_batch_goes_through_one_connection_with_one_claim(smtp_server):
    ids = stored("a@example.com", "b@example.com", "c@example.com")
    with CaptureQueriesContext(connection) as queries:
        statuses = services.emails_deliver(delivery_ids=ids)
    assert statuses == dict.fromkeys(ids, Status.SENT)
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert len(set(smtp_server.peers)) == 1  # one connection for all three
    # The claim (which returns the rows claimed), then each recorded as soon as it was sent.
    assert len(queries.captured_queries) == 1 + 3
    rows = EmailDelivery.objects.filter(pk__in=ids)
    assert {(row.status, row.attempts, row.claimed_at) for row in rows} == {(Status.SENT, 1, None)}
    assert all(row.sent_at for row in rows)
    # Sent once: a repeated task finds nothing due.
    assert services.emails_deliver(delivery_ids=ids) == {}
    assert len(smtp_server.messages) == 3


def test_a_refused_recipient_fails_alone(smtp_server):
    smtp_server.refuse["gone@example.com"] = "550 No such user"
    ids = stored("a@example.com", "gone@example.com", "c@example.com")
    statuses = services.emails_deliver(delivery_ids=ids)
    assert statuses == {ids[0]: Status.SENT, ids[1]: Status.FAILED, ids[2]: Status.SENT}
    refused = EmailDelivery.objects.get(pk=ids[1])
    assert "550" in refused.reason
    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.com", "c@example.com"]


def test_an_unreachable_server_leaves_every_email_to_retry(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    ids = stored("a@example.com", "b@example.com")
    assert services.emails_deliver(delivery_ids=ids) == dict.fromkeys(ids, Status.RETRYING)
    rows = EmailDelivery.objects.filter(pk__in=ids)
    assert {(row.status, row.claimed_at) for row in rows} == {(Status.RETRYING, None)}
    assert all(row.next_attempt_at for row in rows)


def test_emails_the_time_limit_leaves_no_room_for_are_handed_back_and_enqueued(
    settings, smtp_server, django_capture_on_commit_callbacks
):
    # Room for one message only: the soft limit less its margin is below one timeout, and the
    # first message is always tried.
    settings.EMAIL_TIMEOUT = 20
    settings.DELIVERY_TASK_SOFT_TIME_LIMIT = 24
    ids = stored("a@example.com", "b@example.com", "c@example.com")
    with mock.patch("deliveries.tasks.send_email_deliveries.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            statuses = services.emails_deliver(delivery_ids=ids)
    assert statuses == {ids[0]: Status.SENT}
    delay.assert_called_once_with(ids[1:])
    rest = EmailDelivery.objects.filter(pk__in=ids[1:])
    # Not tried: due again, with no attempt counted.
    assert {(row.status, row.attempts, row.claimed_at) for row in rest} == {
        (Status.PENDING, 0, None)
    }
    assert [m["To"] for m in smtp_server.messages] == ["a@example.com"]
    assert services.emails_deliver(delivery_ids=ids[1:2]) == {ids[1]: Status.SENT}


def test_a_message_that_cannot_be_made_fails_alone(smtp_server, monkeypatch):
    ids = stored("a@example.com", "b@example.com", "c@example.com")
    build = services._email_message

    def broken_for_b(delivery, connection):
        if delivery.recipient == "b@example.com":
            raise ValueError("Header values may not contain linefeed or carriage return")
        return build(delivery, connection)

    monkeypatch.setattr(services, "_email_message", broken_for_b)
    statuses = services.emails_deliver(delivery_ids=ids)
    assert statuses == {ids[0]: Status.SENT, ids[1]: Status.FAILED, ids[2]: Status.SENT}
    assert "linefeed" in EmailDelivery.objects.get(pk=ids[1]).reason
    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.com", "c@example.com"]


def test_the_soft_time_limit_mid_batch_hands_the_rest_back(
    smtp_server, monkeypatch, django_capture_on_commit_callbacks
):
    from celery.exceptions import SoftTimeLimitExceeded

    ids = stored("a@example.com", "b@example.com", "c@example.com")
    build = services._email_message

    def limit_at_b(delivery, connection):
        if delivery.recipient == "b@example.com":
            raise SoftTimeLimitExceeded()
        return build(delivery, connection)

    monkeypatch.setattr(services, "_email_message", limit_at_b)
    with mock.patch("deliveries.tasks.send_email_deliveries.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            statuses = services.emails_deliver(delivery_ids=ids)
    assert statuses == {ids[0]: Status.SENT, ids[1]: Status.RETRYING}
    delay.assert_called_once_with(ids[2:])
    rest = EmailDelivery.objects.get(pk=ids[2])
    assert (rest.status, rest.attempts, rest.claimed_at) == (Status.PENDING, 0, None)
    assert rest.next_attempt_at is not None  # due now, for the sweep too
