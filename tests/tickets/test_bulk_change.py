"""The ticket list's bulk action: one change on many tickets, each recorded and routed as if
changed alone, a confirmation of what changed, and refusals with their reasons."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import UserFactory
from tickets.bulk import BULK_MAX_TICKETS, tickets_bulk_update
from tickets.limits import TAGS_MAX_PER_TICKET
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(customer):
    return [
        ticket_create(customer=customer, kind="bug", channel="phone", subject=f"Problem {n}")
        for n in range(3)
    ]


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_one_change_on_many_tickets_each_recorded_and_routed(made, rep):
    erin = UserFactory(username="erin")
    result = tickets_bulk_update(
        ticket_ids=[t.pk for t in made], actor=rep, changes={"assignee": erin, "priority": "high"}
    )
    assert [t.pk for t in result.changed] == [t.pk for t in made]
    for ticket in made:
        ticket.refresh_from_db()
        assert (ticket.assignee, ticket.priority) == (erin, "high")
        assert TimelineEntry.objects.filter(ticket=ticket, kind="field_change").exists()
        assert TicketEvent.objects.filter(ticket=ticket, type="ticket.updated").exists()
    again = tickets_bulk_update(
        ticket_ids=[made[0].pk], actor=rep, changes={"priority": "high"}, add_tag=" Billing "
    )
    assert again.changed == [made[0]]  # the tag was new
    assert list(made[0].tags.values_list("name", flat=True)) == ["billing"]
    same = tickets_bulk_update(ticket_ids=[made[0].pk], actor=rep, changes={"priority": "high"})
    assert same.unchanged == [made[0]]
    assert same.changed == []


def test_a_ticket_the_change_cannot_apply_to_is_refused_with_the_reason(made, rep):
    full = [f"t{n}" for n in range(TAGS_MAX_PER_TICKET)]
    ticket_update(ticket=made[1], actor=rep, tags=full)
    result = tickets_bulk_update(
        ticket_ids=[t.pk for t in made], actor=rep, changes={}, add_tag="billing"
    )
    assert [t.pk for t in result.changed] == [made[0].pk, made[2].pk]
    limit = TAGS_MAX_PER_TICKET
    assert [(t.pk, reason) for t, reason in result.refused] == [
        (made[1].pk, f"At most {limit} tags on a ticket (this has {limit + 1}).")
    ]
    assert sorted(made[1].tags.values_list("name", flat=True)) == sorted(full)
    with pytest.raises(ValidationError, match="not a valid tag"):
        tickets_bulk_update(ticket_ids=[made[0].pk], actor=rep, changes={}, add_tag="x y")
    with pytest.raises(ValidationError, match=f"{BULK_MAX_TICKETS} tickets at most"):
        tickets_bulk_update(ticket_ids=list(range(BULK_MAX_TICKETS + 1)), actor=rep, changes={})


def test_the_list_changes_the_ticked_tickets_and_says_what_changed(client, rep, made):
    client.force_login(rep)
    response = client.post(
        "/tickets/bulk/",
        {"tickets": [made[0].pk, made[2].pk], "priority": "urgent", "back": "kind=bug"},
        follow=True,
    )
    assert response.redirect_chain == [("/tickets/?kind=bug", 302)]
    assert _messages(response) == [
        f"Changed 2 tickets (priority Urgent): {made[0].reference}, {made[2].reference}."
    ]
    assert list(Ticket.objects.order_by("pk").values_list("priority", flat=True)) == [
        "urgent",
        "normal",
        "urgent",
    ]
    # Reopening a resolved ticket and opening a new one in one go: both fine.
    ticket_update(
        ticket=made[1], actor=rep, status="resolved", root_cause="other", resolution="done"
    )
    response = client.post(
        "/tickets/bulk/", {"tickets": [made[1].pk, made[2].pk], "status": "open"}, follow=True
    )
    assert _messages(response)[0].startswith("Changed 2 tickets (status Open)")
    response = client.post(
        "/tickets/bulk/", {"tickets": [made[2].pk], "status": "open"}, follow=True
    )
    assert _messages(response) == [f"Already so, left as they were: {made[2].reference}."]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"priority": "high"}, "Tick the tickets to change first."),
        ({"tickets": ["1"]}, "Choose what to change"),
        ({"tickets": ["x"], "priority": "high"}, "Those are not tickets of the list."),
        ({"tickets": ["1"], "status": "resolved"}, "Select a valid choice"),
        ({"tickets": ["1"], "priority": "soon"}, "Select a valid choice"),
        ({"tickets": ["1"], "assignee": "999999"}, "Select a valid choice"),
        ({"tickets": ["1"], "tag": "two words"}, "is not a valid tag"),
    ],
)
def test_refused_input_is_a_400_with_the_reason_and_nothing_changes(
    client, rep, made, data, reason
):
    client.force_login(rep)
    data = {**data}
    if data.get("tickets") == ["1"]:
        data["tickets"] = [str(made[0].pk)]
    response = client.post("/tickets/bulk/", data)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not Ticket.objects.exclude(priority="normal").exists()
    assert not Ticket.objects.exclude(status="new").exists()


def test_a_change_made_from_another_list_goes_back_to_that_list(client, rep, made):
    client.force_login(rep)
    response = client.post(
        "/tickets/bulk/",
        {"tickets": [made[0].pk], "priority": "high", "view": "unassigned", "back": "kind=bug"},
    )
    assert response["Location"] == "/tickets/unassigned/?kind=bug"
    refused = client.post("/tickets/bulk/", {"priority": "high", "view": "mine"})
    assert refused.status_code == 400
    assert refused.context["title"] == "My open tickets"
    assert client.post(
        "/tickets/bulk/", {"tickets": [made[0].pk], "priority": "low", "view": "evil"}
    )["Location"].startswith("/tickets/?")
