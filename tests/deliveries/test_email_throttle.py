"""The per-recipient email throttle counts rules' emails only, not staff alerts."""

import pytest

from accounts.models import Department, Membership
from deliveries.models import EmailDelivery
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.factories import UserFactory
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db

DEPARTMENT_EMAIL = {
    "type": "send_email",
    "to": "department",
    "department": "finance",
    "subject": "About {{ ticket.reference }}",
    "body": "Please look.",
}


@pytest.fixture
def fay():
    # Fay is finance's only member, and wants an email for each new item in its queue.
    finance = Department.objects.get(slug="finance")
    user = UserFactory(username="fay", email="fay@example.com")
    Membership.objects.create(
        user=user, department=finance, email_preference=Membership.EmailPreference.IMMEDIATE
    )
    return user


def rule_statuses() -> list[str]:
    rows = EmailDelivery.objects.filter(key__isnull=True, recipient="fay@example.com")
    return list(rows.order_by("id").values_list("status", flat=True))


def test_a_queue_alert_does_not_throttle_the_rules_email_that_follows(customer, fay):
    rule_create(
        name="Finance hears of new tickets",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "finance"}],
    )
    rule_create(
        name="Finance hears of changes",
        trigger="ticket.updated",
        conditions={},
        actions=[DEPARTMENT_EMAIL],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="email", subject="Invoice")
    dispatch_pending()
    alert = EmailDelivery.objects.get(key__isnull=False)
    assert (alert.recipient, alert.status) == ("fay@example.com", "pending")

    ticket_update(ticket=ticket, actor=None, priority="high")
    dispatch_pending()
    assert rule_statuses() == ["pending"]


def test_two_rule_emails_within_the_window_still_throttle(customer, fay):
    rule_create(
        name="Finance hears of changes",
        trigger="ticket.updated",
        conditions={},
        actions=[DEPARTMENT_EMAIL],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="email", subject="Invoice")
    ticket_update(ticket=ticket, actor=None, priority="high")
    ticket_update(ticket=ticket, actor=None, priority="low")
    dispatch_pending()
    assert rule_statuses() == ["pending", "throttled"]
