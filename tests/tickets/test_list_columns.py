"""The ticket list's columns: the default, each user's own choice, refused names, and the
Updated header that sorts."""

import re

import pytest

from tests.factories import ContactFactory, UserFactory
from tickets.list_columns import DEFAULT_COLUMNS, list_columns_for
from tickets.models import ListColumns
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db


def headers(html: str) -> list[str]:
    """The list's column headers as read, after the tick-all box's."""
    head = html[html.index("<thead>") : html.index("</thead>")]
    return re.findall(r'<th scope="col"[^>]*>(?:<a [^>]*>)?([^<]+)', head)


def test_the_default_columns_then_each_users_own(client, rep, customer):
    contact = ContactFactory(customer=customer, name="Carla Stone")
    ticket_create(
        customer=customer,
        contact=contact,
        kind="bug",
        channel="web",
        subject="Crash",
        product="Reports",
    )
    client.force_login(rep)
    html = client.get("/tickets/").content.decode()
    assert headers(html) == [
        "Ticket", "Kind", "Customer", "Subject", "Priority", "Status", "Assignee", "Tags", "Created"
    ]  # fmt: skip
    assert "Carla Stone" not in html

    response = client.post(
        "/tickets/columns/",
        {"columns": ["contact", "product", "updated", "status"], "back": "kind=bug", "view": "all"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/tickets/?kind=bug"
    html = client.get(response["Location"]).content.decode()
    # In the list's order whatever the order ticked; the reference and subject always.
    assert headers(html) == ["Ticket", "Subject", "Contact", "Product", "Status", "Updated"]
    assert '<td data-label="Contact">Carla Stone</td>' in html
    assert '<td data-label="Product">Reports</td>' in html
    # Another rep's list is theirs.
    other = UserFactory(username="lea")
    assert list_columns_for(user=other) == list(DEFAULT_COLUMNS)
    # None ticked: the reference and the subject alone.
    client.post("/tickets/columns/", {"back": "", "view": "mine"})
    assert ListColumns.objects.get(user=rep).columns == []
    assert headers(client.get("/tickets/mine/").content.decode()) == ["Ticket", "Subject"]


def test_an_unknown_column_is_refused_and_nothing_changes(client, rep, customer):
    client.force_login(rep)
    response = client.post("/tickets/columns/", {"columns": ["status", "salary"], "back": ""})
    assert response.status_code == 400
    assert "No such column: salary." in response.content.decode()
    assert not ListColumns.objects.filter(user=rep).exists()


def test_the_updated_header_sorts_the_latest_changed_first(client, rep, customer):
    first = ticket_create(customer=customer, kind="call", channel="phone", subject="First")
    second = ticket_create(customer=customer, kind="call", channel="phone", subject="Second")
    ticket_update(ticket=first, actor=rep, priority="high")  # changed last
    client.force_login(rep)
    client.post("/tickets/columns/", {"columns": ["updated"], "back": ""})
    page = client.get("/tickets/")
    assert (
        'aria-sort="none"><a href="?sort=updated" class="sort">Updated</a>' in page.content.decode()
    )
    page = client.get("/tickets/", {"sort": "updated"})
    assert [ticket.pk for ticket in page.context["page"]] == [first.pk, second.pk]
    assert 'aria-sort="descending"><a href="?sort=newest"' in page.content.decode()
