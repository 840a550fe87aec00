"""A refused form on the ticket page says at the top what was not done, in its own words."""

import pytest

from tickets.services import ticket_create


@pytest.fixture
def ticket(customer):
    return ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "data", "said"),
    [
        ("notes", {"body": ""}, "the note was not added"),
        ("calls", {"duration_minutes": "-3"}, "the call was not logged"),
        ("links", {"related": "not a ticket"}, "the link was not added"),
        ("edit", {"status": "resolved"}, "the ticket was not changed"),
    ],
)
def test_each_refused_form_says_what_was_not_done(client, rep, ticket, path, data, said):
    client.force_login(rep)
    response = client.post(f"/tickets/{ticket.pk}/{path}/", data)
    assert response.status_code == 400
    assert f"{ticket.reference}: {said}: see what the form marks." in response.content.decode()
