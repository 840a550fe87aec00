"""The queue page: its compact list, the item open in the side panel, the parts the page
fetches to open items and refresh itself, and the "taken on by" filter (page and API)."""

import pytest
from rest_framework.test import APIClient

from queues.models import Notification
from queues.services import notification_acknowledge
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.queues.test_queues import item, member
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed(customer):
    """Three bugs routed to engineering and finance, and two engineers."""
    rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[
            {"type": "notify_department", "department": "engineering", "message": "Look"},
            {"type": "notify_department", "department": "finance"},
        ],
    )
    tickets = [
        ticket_create(
            customer=customer,
            kind="bug",
            channel="phone",
            subject=f"Crash {n}",
            description=f"It crashes on save, case {n}.",
        )
        for n in range(3)
    ]
    dispatch_pending()
    return {
        "tickets": tickets,
        "erin": member("erin", "engineering"),
        "ed": member("ed", "engineering"),
    }


def test_an_item_opens_in_the_panel_with_its_ticket_and_forms(routed, client):
    first = item(routed["tickets"][0])
    client.force_login(routed["erin"])
    html = client.get("/queues/engineering/").content.decode()
    assert "No item open" in html
    assert "It crashes on save" not in html  # the list is compact: descriptions are in the panel
    html = client.get("/queues/engineering/", {"status": "new", "item": first.pk}).content.decode()
    assert "It crashes on save, case 0." in html
    assert f"<title>{first.ticket.reference} · Engineering queue · Switchboard</title>" in html
    # The panel's forms come back to the same list with the item still open; the row is marked.
    assert f'name="next" value="/queues/engineering/?status=new&amp;item={first.pk}"' in html
    assert 'class=" open-row" aria-current="true"' in html
    assert f'<a href="?status=new#item-{first.pk}" data-close-panel>' in html


def test_the_panel_keeps_an_item_taken_on_open_in_any_tab(routed, client):
    first = item(routed["tickets"][0])
    client.force_login(routed["erin"])
    response = client.post(
        f"/queue-items/{first.pk}/acknowledge/",
        {"next": f"/queues/engineering/?status=new&item={first.pk}"},
    )
    assert response["Location"] == f"/queues/engineering/?status=new&item={first.pk}"
    html = client.get(response["Location"]).content.decode()
    # Listed under Acknowledged now, yet open here to be answered at once.
    assert f'id="item-{first.pk}"' not in html
    assert f'id="response-{first.pk}"' in html
    assert "Take it on</button>" not in html
    assert "Mark done</button>" in html


def test_another_queues_item_does_not_open_here(routed, client):
    finance_item = item(routed["tickets"][0], "finance")
    client.force_login(routed["erin"])
    html = client.get("/queues/engineering/", {"item": finance_item.pk}).content.decode()
    assert "No item open" in html
    assert f'id="response-{finance_item.pk}"' not in html
    response = client.get("/queues/engineering/", {"item": finance_item.pk, "fragment": "panel"})
    assert response.status_code == 404
    assert client.get("/queues/engineering/", {"item": "x"}).status_code == 200


def test_the_fragments_are_the_panel_alone_and_the_list_with_its_tabs(routed, client):
    first = item(routed["tickets"][0])
    client.force_login(routed["erin"])
    panel = client.get("/queues/engineering/", {"item": first.pk, "fragment": "panel"})
    html = panel.content.decode()
    assert "<html" not in html
    assert f'data-panel-item="{first.pk}"' in html
    assert "It crashes on save, case 0." in html
    listed = client.get("/queues/engineering/", {"status": "new", "fragment": "list"})
    html = listed.content.decode()
    assert "<html" not in html
    assert html.count('<tr data-row data-href="?status=new&amp;item=') == 3
    assert (
        'id="tab-new" aria-current="page" class="current">New <span class="badge">3</span>' in html
    )
    # The list's filters apply to its refresh as to the page.
    listed = client.get("/queues/engineering/", {"customer_name": "nobody", "fragment": "list"})
    assert "<tr data-row" not in listed.content.decode()


def test_taken_on_by_me_anyone_or_no_one(routed, client):
    erin, ed = routed["erin"], routed["ed"]
    mine, theirs, untaken = (item(ticket) for ticket in routed["tickets"])
    notification_acknowledge(notification=mine, user=erin)
    notification_acknowledge(notification=theirs, user=ed)
    client.force_login(erin)

    def listed(**query) -> set[int]:
        page = client.get("/queues/engineering/", query).context["page"]
        return {row.pk for row in page.object_list}

    assert listed(status="acknowledged") == {mine.pk, theirs.pk}
    assert listed(status="acknowledged", taken="mine") == {mine.pk}
    assert listed(status="acknowledged", taken="anyone") == {mine.pk, theirs.pk}
    assert listed(status="new", taken="nobody") == {untaken.pk}
    assert listed(status="new", taken="mine") == set()
    html = client.get("/queues/engineering/", {"status": "acknowledged", "taken": "mine"})
    assert 'href="?status=acknowledged&amp;taken=mine" aria-current="true">Mine</a>' in (
        html.content.decode()
    )
    assert 'href="?status=acknowledged&amp;taken=anyone">Taken by anyone</a>' in (
        html.content.decode()
    )
    assert "taken by you" in html.content.decode()
    refused = client.get("/queues/engineering/", {"taken": "everyone"})
    assert refused.status_code == 200
    assert "Taken on by: Select a valid choice." in refused.content.decode()
    assert refused.context["page"].object_list == []

    api = APIClient()
    api.force_authenticate(ed)
    answer = api.get("/api/v1/notifications/", {"department": "engineering", "taken": "mine"})
    assert [row["id"] for row in answer.json()["results"]] == [theirs.pk]
    answer = api.get("/api/v1/notifications/", {"taken": "everyone"})
    assert answer.status_code == 400
    assert "taken" in answer.json()


def test_an_emails_link_opens_the_item_in_its_tab(routed, client):
    first = item(routed["tickets"][0])
    client.force_login(routed["erin"])
    response = client.get(f"/queue-items/{first.pk}/")
    assert response["Location"] == f"/queues/engineering/?status=new&item={first.pk}"
    Notification.objects.filter(pk=first.pk).update(status="done")
    response = client.get(f"/queue-items/{first.pk}/")
    assert response["Location"] == f"/queues/engineering/?status=done&item={first.pk}"


def test_the_list_pages_keep_the_tab_and_filters(routed, client):
    client.force_login(routed["erin"])
    html = client.get("/queues/engineering/", {"status": "new", "page_size": 2}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?status=new&amp;page_size=2&amp;page=2" rel="next">Next</a>' in html
    html = client.get("/queues/engineering/", {"status": "new", "page_size": 2, "page": 2})
    assert 'rel="prev">Previous</a>' in html.content.decode()
    assert len(html.context["page"].object_list) == 1
