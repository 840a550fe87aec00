"""``update_returning``: one UPDATE that gives back the rows it changed, as a SELECT would."""

from datetime import timedelta

import pytest
from django.db import NotSupportedError, connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliveries.models import EmailDelivery
from helpdesk.updates import update_returning

pytestmark = pytest.mark.django_db

Status = EmailDelivery.Status


@pytest.fixture
def deliveries():
    return EmailDelivery.objects.bulk_create(
        EmailDelivery(
            key=f"test:{n}",
            recipient=f"r{n}@example.com",
            subject=f"Subject {n}",
            headers={"X-N": str(n)},
            attempts=n,
        )
        for n in range(4)
    )


def test_the_rows_changed_come_back_as_they_are_now_from_one_statement(deliveries):
    now = timezone.now()
    wanted = [deliveries[3].pk, deliveries[1].pk]
    with CaptureQueriesContext(connection) as queries:
        rows = update_returning(
            EmailDelivery.objects.filter(pk__in=wanted),
            status=Status.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    assert len(queries.captured_queries) == 1
    assert [row.pk for row in rows] == sorted(wanted)
    assert [(row.status, row.claimed_at, row.attempts) for row in rows] == [
        (Status.SENDING, now, 2),
        (Status.SENDING, now, 4),
    ]
    # Every field, converted as a SELECT converts it (JSON decoded), and the instance saved.
    assert rows[0].headers == {"X-N": "1"}
    assert rows[0].recipient == "r1@example.com"
    assert not rows[0]._state.adding
    for row in rows:
        reread = EmailDelivery.objects.get(pk=row.pk)
        assert (reread.status, reread.claimed_at, reread.attempts) == (
            row.status,
            row.claimed_at,
            row.attempts,
        )
    untouched = EmailDelivery.objects.get(pk=deliveries[0].pk)
    assert (untouched.status, untouched.attempts) == (Status.PENDING, 0)


def test_a_condition_no_row_meets_changes_nothing_and_returns_nothing(deliveries):
    later = timezone.now() + timedelta(hours=1)
    rows = update_returning(
        EmailDelivery.objects.filter(created_at__gt=later), status=Status.SENDING
    )
    assert rows == []
    assert not EmailDelivery.objects.filter(status=Status.SENDING).exists()
    assert update_returning(EmailDelivery.objects.all()) == []  # nothing to set
    nothing = (EmailDelivery.objects.filter(pk__in=[]), EmailDelivery.objects.none())
    assert [update_returning(qs, status=Status.SENDING) for qs in nothing] == [[], []]


def test_a_slice_or_a_union_is_refused_as_update_refuses_it(deliveries):
    with pytest.raises(TypeError):
        update_returning(EmailDelivery.objects.order_by("pk")[:1], status=Status.SENDING)
    union = EmailDelivery.objects.filter(attempts=0).union(EmailDelivery.objects.filter(attempts=1))
    with pytest.raises(NotSupportedError):
        update_returning(union, status=Status.SENDING)
    assert not EmailDelivery.objects.filter(status=Status.SENDING).exists()


def test_of_two_claims_of_the_same_rows_only_the_first_gets_them(deliveries):
    def claim():
        return update_returning(
            EmailDelivery.objects.filter(status=Status.PENDING, attempts__lt=2),
            status=Status.SENDING,
        )

    assert [row.pk for row in claim()] == [deliveries[0].pk, deliveries[1].pk]
    assert claim() == []


def test_a_database_that_cannot_return_updated_rows_is_refused(deliveries, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "mysql")
    with pytest.raises(NotSupportedError):
        update_returning(EmailDelivery.objects.all(), status=Status.SENDING)
    monkeypatch.undo()
    assert not EmailDelivery.objects.filter(status=Status.SENDING).exists()


class _ProxiedDelivery(EmailDelivery):
    """A proxy: the same one table, so one UPDATE covers it."""

    class Meta:
        proxy = True
        app_label = "deliveries"
        verbose_name_plural = "proxied email deliveries"


def test_a_proxy_model_is_updated_and_a_child_of_a_concrete_model_refused(deliveries, monkeypatch):
    [row] = update_returning(_ProxiedDelivery.objects.filter(pk=deliveries[0].pk), attempts=9)
    assert (type(row), row.attempts) == (_ProxiedDelivery, 9)
    # Multi-table inheritance: the parent's columns are in another table, out of one UPDATE's
    # reach. (No model here has a concrete parent; its _meta says so for the test.)
    monkeypatch.setattr(EmailDelivery._meta, "parents", {EmailDelivery: None})
    with pytest.raises(NotSupportedError):
        update_returning(EmailDelivery.objects.all(), status=Status.SENDING)
    monkeypatch.undo()
    assert not EmailDelivery.objects.filter(status=Status.SENDING).exists()
