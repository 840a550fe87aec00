"""The tickets API: creation, validation errors, updates and the timeline."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ContactFactory, CustomerFactory
from tickets.models import Ticket, TicketEvent, TimelineEntry

pytestmark = pytest.mark.django_db

RESOLVE = {
    "status": "resolved",
    "root_cause": "documentation",
    "resolution": "Sent the manual page",
}


def create(api, **data):
    return api.post("/api/v1/tickets/", data, format="json")


class TestCreate:
    def test_creates_ticket_timeline_and_event_together(self, api, rep, customer):
        contact = ContactFactory(customer=customer)
        response = create(
            api,
            kind="bug",
            channel="phone",
            customer=customer.pk,
            contact=contact.pk,
            subject="Crash on save",
            description="Every time.",
            product="Editor",
            priority="high",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        ticket = Ticket.objects.get(pk=body["id"])
        assert body["reference"] == f"T-{ticket.pk}"
        assert body["kind"] == "bug"
        assert body["status"] == "new"
        assert body["created_by"] == rep.pk
        assert body["rma_number"] is None
        assert ticket.contact == contact
        event = TicketEvent.objects.get(ticket=ticket)
        assert event.type == "ticket.created"
        assert event.snapshot["kind"] == "bug"
        assert event.snapshot["priority"] == "high"
        assert event.actor == rep
        assert list(ticket.timeline.values_list("kind", flat=True)) == ["created"]

    def test_channel_defaults_to_api_and_rma_gets_a_number(self, api, customer):
        response = create(api, kind="rma", customer=customer.pk, subject="Return it")
        assert response.status_code == 201
        body = response.json()
        assert body["channel"] == "api"
        assert body["rma_number"] == f"RMA-{body['id']:06d}"

    def test_missing_fields_are_field_errors(self, api):
        response = create(api)
        assert response.status_code == 400
        assert set(response.json()) == {"kind", "customer", "subject"}
        assert not Ticket.objects.exists()

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("kind", "complaint", '"complaint" is not a valid choice.'),
            ("channel", "fax", '"fax" is not a valid choice.'),
            ("priority", "asap", '"asap" is not a valid choice.'),
            ("customer", 999999, 'Invalid pk "999999" - object does not exist.'),
            ("customer", "abc", "Incorrect type. Expected pk value, received str."),
            ("subject", "x" * 201, "Ensure this field has no more than 200 characters."),
            ("subject", "", "This field may not be blank."),
        ],
    )
    def test_bad_values_are_field_errors(self, api, customer, field, value, message):
        data = {"kind": "call", "customer": customer.pk, "subject": "Hello", field: value}
        response = create(api, **data)
        assert response.status_code == 400
        assert response.json() == {field: [message]}

    def test_contact_of_another_customer_is_refused(self, api, customer):
        stranger = ContactFactory(customer=CustomerFactory())
        response = create(
            api, kind="call", customer=customer.pk, contact=stranger.pk, subject="Hello"
        )
        assert response.status_code == 400
        assert response.json() == {
            "contact": ["This contact does not belong to the ticket's customer."]
        }

    def test_malformed_json_is_a_400(self, api):
        response = api.post("/api/v1/tickets/", "{not json", content_type="application/json")
        assert response.status_code == 400
        assert "detail" in response.json()


class TestUpdate:
    @pytest.fixture
    def ticket(self, api, customer):
        return Ticket.objects.get(
            pk=create(api, kind="bug", customer=customer.pk, subject="S").json()["id"]
        )

    def test_resolving_records_status_change_and_event(self, api, rep, ticket):
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"status": "resolved"})
        assert response.status_code == 400
        assert set(response.json()) == {"root_cause", "resolution"}
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", RESOLVE)
        assert response.status_code == 200
        assert response.json()["status"] == "resolved"
        assert response.json()["resolved_at"] is not None
        assert response.json()["root_cause"] == "documentation"
        change = {
            "status": ["new", "resolved"],
            "root_cause": ["", "documentation"],
            "resolution": ["", "Sent the manual page"],
        }
        event = TicketEvent.objects.get(ticket=ticket, type="ticket.status_changed")
        assert event.changes == change
        entry = ticket.timeline.get(kind=TimelineEntry.Kind.STATUS_CHANGE)
        assert entry.author == rep
        assert entry.changes == change
        assert entry.body == "Sent the manual page"

    def test_reopening_clears_resolved_at_and_the_resolution(self, api, ticket):
        api.patch(f"/api/v1/tickets/{ticket.pk}/", RESOLVE)
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"status": "open"})
        assert response.json()["resolved_at"] is None
        assert response.json()["root_cause"] == ""
        assert response.json()["resolution"] == ""

    def test_a_stale_version_is_refused_and_nothing_is_lost(self, api, ticket):
        version = ticket.version
        first = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "high", "version": version})
        assert first.status_code == 200
        assert first.json()["version"] == version + 1
        second = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "low", "version": version})
        assert second.status_code == 409
        assert "was changed by" in second.json()["version"][0]
        assert second.json()["current"]["priority"] == "high"
        ticket.refresh_from_db()
        assert ticket.priority == "high"

    def test_link_related_tickets(self, api, ticket, customer):
        other = create(api, kind="bug", customer=customer.pk, subject="Same crash").json()
        response = api.post(f"/api/v1/tickets/{ticket.pk}/related/", {"ticket": other["id"]})
        assert response.status_code == 200
        assert response.json()["related"] == [other["id"]]
        assert api.get(f"/api/v1/tickets/{other['id']}/").json()["related"] == [ticket.pk]
        response = api.post(f"/api/v1/tickets/{ticket.pk}/related/", {"ticket": ticket.pk})
        assert response.status_code == 400

    def test_status_and_other_fields_make_two_events(self, api, ticket, rep):
        response = api.patch(
            f"/api/v1/tickets/{ticket.pk}/",
            {"status": "open", "priority": "urgent", "assignee": rep.pk},
        )
        assert response.status_code == 200
        events = dict(TicketEvent.objects.filter(ticket=ticket).values_list("type", "changes"))
        assert events["ticket.status_changed"] == {"status": ["new", "open"]}
        assert events["ticket.updated"] == {
            "priority": ["normal", "urgent"],
            "assignee": [None, "rep"],
        }

    def test_no_change_records_nothing(self, api, ticket):
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "normal"})
        assert response.status_code == 200
        assert TicketEvent.objects.filter(ticket=ticket).count() == 1

    def test_changing_kind_to_rma_issues_an_rma_number(self, api, ticket):
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"kind": "rma"})
        assert response.json()["rma_number"] == f"RMA-{ticket.pk:06d}"

    def test_bad_update_is_a_field_error(self, api, ticket):
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"status": "done"})
        assert response.status_code == 400
        assert response.json() == {"status": ['"done" is not a valid choice.']}
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {})
        assert response.status_code == 400
        assert response.json() == {"detail": ["Send at least one field to change."]}

    def test_contact_of_another_customer_is_refused(self, api, ticket):
        stranger = ContactFactory(customer=CustomerFactory())
        response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"contact": stranger.pk})
        assert response.status_code == 400
        assert response.json() == {
            "contact": ["This contact does not belong to the ticket's customer."]
        }
        ticket.refresh_from_db()
        assert ticket.contact is None

    def test_tickets_cannot_be_deleted(self, api, ticket):
        assert api.delete(f"/api/v1/tickets/{ticket.pk}/").status_code == 405


class TestTimeline:
    def test_notes_and_calls_are_recorded_in_order(self, api, rep, customer):
        ticket_id = create(api, kind="call", customer=customer.pk, subject="Q").json()["id"]
        url = f"/api/v1/tickets/{ticket_id}/timeline/"
        response = api.post(url, {"body": "Called back", "call_duration_seconds": 95})
        assert response.status_code == 201
        assert response.json()["kind"] == "call"
        response = api.post(url, {"body": "Sent docs link", "is_internal": False})
        assert response.json()["kind"] == "note"
        entries = api.get(url).json()["results"]
        assert [e["kind"] for e in entries] == ["created", "call", "note"]
        assert entries[1]["call_duration_seconds"] == 95
        assert entries[2]["is_internal"] is False
        assert entries[1]["author"] == str(rep)
        assert (
            TicketEvent.objects.filter(ticket_id=ticket_id, type="ticket.note_added").count() == 2
        )

    def test_empty_note_and_negative_duration_are_refused(self, api, customer):
        ticket_id = create(api, kind="call", customer=customer.pk, subject="Q").json()["id"]
        url = f"/api/v1/tickets/{ticket_id}/timeline/"
        assert api.post(url, {"body": ""}).json() == {"body": ["This field may not be blank."]}
        response = api.post(url, {"body": "x", "call_duration_seconds": -1})
        assert response.json() == {
            "call_duration_seconds": ["Ensure this value is greater than or equal to 0."]
        }

    def test_unknown_ticket_is_404(self, api):
        assert api.get("/api/v1/tickets/424242/timeline/").status_code == 404


class TestList:
    def test_filters(self, api, customer):
        create(api, kind="bug", customer=customer.pk, subject="A", product="Editor")
        create(api, kind="rfe", customer=customer.pk, subject="B", channel="email")
        other = CustomerFactory()
        create(api, kind="bug", customer=other.pk, subject="C")

        def subjects(**params):
            results = api.get("/api/v1/tickets/", params).json()["results"]
            return sorted(t["subject"] for t in results)

        assert subjects(kind="bug") == ["A", "C"]
        assert subjects(customer=customer.pk) == ["A", "B"]
        assert subjects(channel="email") == ["B"]
        assert subjects(product="editor") == ["A"]
        assert subjects(kind="bug", customer=other.pk) == ["C"]
        assert api.get("/api/v1/tickets/", {"kind": "nope"}).status_code == 400

    def test_query_count_does_not_grow_with_rows(self, api, customer, django_assert_num_queries):
        # A COUNT for the page, a SELECT with the customer, contact and people joined in, one
        # for the tags and one for the linked tickets of the whole page.
        create(api, kind="call", customer=customer.pk, subject="T", tags=["vip"])
        with django_assert_num_queries(4):
            api.get("/api/v1/tickets/")
        for index in range(30):
            contact = ContactFactory(customer=customer)
            create(
                api,
                kind="call",
                customer=customer.pk,
                contact=contact.pk,
                subject=f"U{index}",
                tags=[f"t{index}", "vip"],
            )
        with django_assert_num_queries(4):
            response = api.get("/api/v1/tickets/")
        assert response.json()["count"] == 31

    def test_pagination(self, api, customer):
        for index in range(3):
            create(api, kind="call", customer=customer.pk, subject=f"T{index}")
        body = api.get("/api/v1/tickets/", {"page_size": 2}).json()
        assert body["count"] == 3
        assert len(body["results"]) == 2
        assert body["next"] is not None


def test_everything_requires_authentication(customer):
    client = APIClient()
    for url in [
        "/api/v1/tickets/",
        "/api/v1/customers/",
        "/api/v1/contacts/",
        "/api/v1/invoices/",
        "/api/v1/notifications/",
        "/api/v1/followups/",
        "/api/v1/rules/",
        "/api/v1/departments/",
    ]:
        assert client.get(url).status_code == 401, url
    response = client.post(
        "/api/v1/tickets/", {"kind": "bug", "customer": customer.pk, "subject": "x"}
    )
    assert response.status_code == 401
    assert not Ticket.objects.exists()


class TestTagsTeamsAndResponse:
    def test_tags_and_department_on_create_and_update(self, api, customer):
        response = create(
            api,
            kind="bug",
            customer=customer.pk,
            subject="S",
            tags=["VIP", "vip", "billing"],
            department="engineering",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["tags"] == ["billing", "vip"]
        assert body["department"] == "engineering"
        ticket_id = body["id"]
        response = api.patch(
            f"/api/v1/tickets/{ticket_id}/",
            {"tags": ["vip", "escalated"], "department": "finance"},
            format="json",
        )
        assert response.json()["tags"] == ["escalated", "vip"]
        event = TicketEvent.objects.get(ticket_id=ticket_id, type="ticket.updated")
        assert event.changes == {
            "tags": [["billing", "vip"], ["escalated", "vip"]],
            "department": ["engineering", "finance"],
        }
        assert event.snapshot["tags"] == ["escalated", "vip"]
        assert event.snapshot["department"] == "finance"

    def test_bad_tag_and_unknown_department_are_field_errors(self, api, customer):
        response = create(api, kind="bug", customer=customer.pk, subject="S", tags=["a b"])
        assert response.status_code == 400
        assert response.json() == {
            "tags": ["'a b' is not a valid tag: use letters, numbers, - and _."]
        }
        response = create(api, kind="bug", customer=customer.pk, subject="S", department="x")
        assert response.json() == {"department": ["Object with slug=x does not exist."]}

    def test_first_response_is_the_first_call_or_public_note(self, api, customer):
        ticket_id = create(api, kind="call", customer=customer.pk, subject="Q").json()["id"]
        url = f"/api/v1/tickets/{ticket_id}/timeline/"
        api.post(url, {"body": "internal only"})
        assert api.get(f"/api/v1/tickets/{ticket_id}/").json()["first_response_at"] is None
        api.post(url, {"body": "Hello", "is_internal": False})
        first = api.get(f"/api/v1/tickets/{ticket_id}/").json()["first_response_at"]
        assert first is not None
        api.post(url, {"body": "Called", "call_duration_seconds": 30})
        assert api.get(f"/api/v1/tickets/{ticket_id}/").json()["first_response_at"] == first
