"""The alerts of a routed event reach the members through a real worker and SMTP server.

Routing publishes the alert emails of one event together after commit; this is the path a
member's email per new item takes, from the ticket to their inbox.
"""

import pytest

from accounts.models import Department, Membership
from deliveries.models import EmailDelivery
from tests.conftest import wait_for
from tests.factories import CustomerFactory, InvoiceFactory, UserFactory
from tickets.services import ticket_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_each_member_asking_for_it_is_emailed_once(starter_rules, smtp_server, live_worker):
    for slug in ("engineering", "finance"):
        Membership.objects.create(
            user=UserFactory(username=f"{slug}-now"), department=Department.objects.get(slug=slug)
        )
    customer = CustomerFactory()
    InvoiceFactory(customer=customer)  # unpaid: finance hears of it too
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash on save")

    wait_for(lambda: len(smtp_server.messages) >= 2)
    assert sorted(message["To"] for message in smtp_server.messages) == [
        "engineering-now@example.com",
        "finance-now@example.com",
    ]
    wait_for(lambda: not EmailDelivery.objects.exclude(status="sent").exists())
