"""Odd input found by fuzzing every page and endpoint: each is a clear 4xx, never a 500."""

from datetime import timedelta

import pytest
from django.utils import timezone

from queues.models import Notification
from routing.models import Rule
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.queues.test_queues import member
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def raw(api, method, url, body: str):
    return getattr(api, method)(url, data=body, content_type="application/json")


@pytest.mark.parametrize("body", ['{"customer": 1e400}', '{"customer": NaN}', "[" * 5000])
def test_json_nothing_can_store_is_a_400(api, customer, body):
    response = raw(api, "post", "/api/v1/tickets/", body)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_a_malformed_id_in_an_action_is_a_404(api):
    assert api.get("/api/v1/tickets/abc/timeline/").status_code == 404
    assert api.post("/api/v1/tickets/²/timeline/", {"body": "x"}).status_code == 404


def test_nul_in_a_rule_definition_is_a_400_at_its_place(admin_api):
    rule = {
        "name": "n",
        "trigger": "ticket.created",
        "conditions": {"all": [{"field": "assignee", "operator": "is", "value": "a\x00"}]},
        "actions": [{"type": "notify_department", "department": "\x00"}],
    }
    response = admin_api.post("/api/v1/rules/", rule, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"conditions.all[0].value", "actions[0].department"}


@pytest.mark.parametrize(
    ("change", "place"),
    [
        ({"name": ["x"]}, "rules[0].name"),
        ({"name": "a\x00b"}, "rules[0].name"),
        ({"trigger": ["x"]}, "rules[0].trigger"),
        ({"description": "a\x00b"}, "rules[0].description"),
    ],
)
def test_an_import_of_odd_types_is_a_400_at_its_place(admin_api, change, place):
    rule = {
        "name": "n",
        "trigger": "ticket.created",
        "conditions": {},
        "actions": [{"type": "notify_department", "department": "engineering"}],
        **change,
    }
    body = {"format": "switchboard.rules", "version": 1, "rules": [rule]}
    response = admin_api.post("/api/v1/rules/import/", body, format="json")
    assert response.status_code == 400
    assert place in response.json()
    assert not Rule.objects.exists()


@pytest.mark.parametrize("next_url", ["foo", "home", "queue", "²", ""])
def test_a_next_that_is_not_a_path_goes_back_to_the_queue(client, customer, next_url):
    engineer = member("erin", "engineering")
    rule_create(
        name="r",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    dispatch_pending()
    client.force_login(engineer)
    item = Notification.objects.get()
    response = client.post(f"/queue-items/{item.pk}/respond/", {"body": "Hi", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/queues/engineering/"


# Limits at the edge (docs/api.md, "Limits"): input a help desk has no use for is a clear 400,
# never a 500 from deep inside the database or the interpreter.


def distinct_words(count: int, *, start: int = 0) -> str:
    """``count`` different letters-only words: the worst case for a full-text index."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = []
    for number in range(start, start + count):
        word = ""
        for _ in range(5):
            number, digit = divmod(number, 26)
            word += letters[digit]
        words.append("q" + word)
    return " ".join(words)


def test_a_note_or_description_over_the_limit_is_a_400(api, customer):
    from tickets.limits import TEXT_MAX_LENGTH

    too_long = "x" * (TEXT_MAX_LENGTH + 1)
    body = {"kind": "bug", "subject": "s", "customer": customer.pk, "description": too_long}
    response = api.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 400
    assert "description" in response.json()
    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"description": too_long}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"description"}
    response = api.patch(f"/api/v1/tickets/{ticket.pk}/", {"resolution": too_long}, format="json")
    assert set(response.json()) == {"resolution"}
    response = api.post(f"/api/v1/tickets/{ticket.pk}/timeline/", {"body": too_long})
    assert response.status_code == 400
    assert set(response.json()) == {"body"}
    assert not ticket.timeline.filter(kind="note").exists()


def test_a_note_over_the_limit_on_the_page_is_refused_with_its_message(client, rep, customer):
    from tickets.limits import TEXT_MAX_LENGTH

    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    client.force_login(rep)
    response = client.post(
        f"/tickets/{ticket.pk}/notes/", {"body": "x" * (TEXT_MAX_LENGTH + 1)}, follow=True
    )
    assert response.status_code == 400
    assert (
        f"Keep it to at most {TEXT_MAX_LENGTH:,} characters (this has {TEXT_MAX_LENGTH + 1:,})"
        in response.content.decode()
    )
    assert not ticket.timeline.filter(kind="note").exists()


def test_notes_whose_words_overflow_the_search_index_are_stored_and_found(api, customer):
    """Each note is within the limit, yet together their distinct words pass PostgreSQL's
    1 MB tsvector limit: every note is still stored, and the first words are still found."""
    from tickets.limits import TEXT_MAX_LENGTH

    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    per_note = TEXT_MAX_LENGTH // 7
    for index in range(10):
        note = distinct_words(per_note, start=index * per_note)[:TEXT_MAX_LENGTH]
        response = api.post(f"/api/v1/tickets/{ticket.pk}/timeline/", {"body": note})
        assert response.status_code == 201, index
    assert ticket.timeline.filter(kind="note").count() == 10
    found = api.get("/api/v1/tickets/", {"q": distinct_words(1, start=3)}).json()["results"]
    assert [row["id"] for row in found] == [ticket.pk]
    response = api.post(f"/api/v1/tickets/{ticket.pk}/timeline/", {"body": "one more"})
    assert response.status_code == 201


@pytest.mark.parametrize("moment", ["2026-01-01T00:00:00+16:00", "2026-01-01T00:00:00-23:59"])
def test_a_time_zone_offset_no_place_uses_is_a_400(api, client, rep, customer, moment):
    ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    response = api.get("/api/v1/tickets/", {"created_after": moment})
    assert response.status_code == 400
    assert set(response.json()) == {"created_after"}
    client.force_login(rep)
    response = client.get("/tickets/", {"created_before": moment})
    assert response.status_code == 200  # the list page, with the filter's error and no rows
    assert "Created before: No place uses this time-zone offset" in response.content.decode()


def test_a_real_time_zone_offset_filters(api, customer):
    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    moment = "2026-01-01T00:00:00+14:00"
    after = api.get("/api/v1/tickets/", {"created_after": moment})
    assert [row["id"] for row in after.json()["results"]] == [ticket.pk]
    before = api.get("/api/v1/tickets/", {"created_before": moment})
    assert before.json()["results"] == []


def nested(depth: int) -> str:
    """A JSON value ``depth`` objects deep, written by hand: json.dumps itself stops short."""
    return '{"a": ' * depth + '"x"' + "}" * depth


@pytest.mark.parametrize("depth", [400, 850])
def test_rule_conditions_nested_deep_are_a_400(admin_api, depth):
    condition = f'{{"field": "subject", "operator": "contains", "value": {nested(depth)}}}'
    conditions = f'{{"all": [{condition}]}}'
    actions = '[{"type": "notify_department", "department": "engineering"}]'
    rule = f'{{"name": "n", "trigger": "ticket.created", "conditions": {conditions}, '
    rule += f'"actions": {actions}}}'
    response = raw(admin_api, "post", "/api/v1/rules/", rule)
    assert response.status_code == 400
    assert list(response.json()) == ["conditions.all[0].value"]
    preview = f'{{"trigger": "ticket.created", "conditions": {conditions}, "actions": {actions}}}'
    response = raw(admin_api, "post", "/api/v1/rules/preview/", preview)
    assert response.status_code == 400
    assert list(response.json()) == ["conditions.all[0].value"]
    body = f'{{"format": "switchboard.rules", "version": 1, "rules": [{rule}]}}'
    response = raw(admin_api, "post", "/api/v1/rules/import/", body)
    assert response.status_code == 400
    assert list(response.json()) == ["rules[0].conditions.all[0].value"]
    assert not Rule.objects.exists()


def test_a_customer_id_that_is_not_whole_is_a_400(api, customer):
    body = {"kind": "bug", "subject": "s", "customer": customer.pk + 0.5}
    response = api.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"customer"}
    body["customer"] = float(customer.pk)
    assert api.post("/api/v1/tickets/", body, format="json").status_code == 400
    assert not Ticket.objects.exists()


def test_too_many_or_too_long_tags_are_a_400(api, customer):
    from tickets.limits import TAG_MAX_LENGTH, TAGS_MAX_PER_TICKET

    base = {"kind": "bug", "subject": "s", "customer": customer.pk}
    many = [f"t{i}" for i in range(TAGS_MAX_PER_TICKET + 1)]
    response = api.post("/api/v1/tickets/", {**base, "tags": many}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"tags"}
    long_tag = "t" * (TAG_MAX_LENGTH + 1)
    response = api.post("/api/v1/tickets/", {**base, "tags": [long_tag]}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"tags"}
    ok = [f"t{i}" for i in range(TAGS_MAX_PER_TICKET)]
    assert api.post("/api/v1/tickets/", {**base, "tags": ok}, format="json").status_code == 201


@pytest.fixture
def sales_api(salesperson):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(salesperson)
    return client


@pytest.mark.parametrize("day", ["9999-12-31", "2099-01-01"])
def test_a_follow_up_rescheduled_years_away_is_a_400(sales_api, client, followup, salesperson, day):
    api = sales_api
    due = followup.due_on
    body = {"outcome": "no_answer", "reschedule_on": day}
    response = api.post(f"/api/v1/followups/{followup.pk}/outcome/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"reschedule_on"}
    client.force_login(salesperson)
    response = client.post("/followups/", {"task": followup.pk, **body})
    assert response.status_code == 400
    assert "Reschedule within a year" in response.content.decode()
    followup.refresh_from_db()
    assert (followup.due_on, followup.attempts) == (due, 0)


def test_a_follow_up_rescheduled_within_a_year_is_taken(sales_api, followup):
    api = sales_api
    from queues.followups import RESCHEDULE_MAX_DAYS

    day = timezone.localdate() + timedelta(days=RESCHEDULE_MAX_DAYS)
    body = {"outcome": "no_answer", "reschedule_on": day.isoformat()}
    response = api.post(f"/api/v1/followups/{followup.pk}/outcome/", body, format="json")
    assert response.status_code == 200
    followup.refresh_from_db()
    assert followup.due_on == day


def test_an_answer_or_follow_up_notes_over_the_limit_are_a_400(sales_api, followup):
    from tickets.limits import TEXT_MAX_LENGTH

    too_long = "x" * (TEXT_MAX_LENGTH + 1)
    body = {"outcome": "upsell", "notes": too_long}
    response = sales_api.post(f"/api/v1/followups/{followup.pk}/outcome/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"notes"}
    followup.refresh_from_db()
    assert followup.status == "open"


def test_an_answer_over_the_limit_is_refused_by_the_service_too(customer):
    from django.core.exceptions import ValidationError

    from tickets.limits import TEXT_MAX_LENGTH
    from tickets.services import timeline_record

    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    with pytest.raises(ValidationError) as refused:
        timeline_record(ticket=ticket, kind="response", body="x" * (TEXT_MAX_LENGTH + 1))
    assert set(refused.value.message_dict) == {"body"}


def test_the_timeline_api_is_paginated(api, customer):
    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    url = f"/api/v1/tickets/{ticket.pk}/timeline/"
    for number in range(5):
        assert api.post(url, {"body": f"note {number}"}).status_code == 201
    first = api.get(url, {"page_size": 4}).json()
    assert first["count"] == 6
    assert [entry["kind"] for entry in first["results"]] == ["created", "note", "note", "note"]
    second = api.get(first["next"]).json()
    assert [entry["body"] for entry in second["results"]] == ["note 3", "note 4"]
    assert api.get(url, {"page_size": 1000}).json()["count"] == 6  # capped, not refused


def test_the_timeline_api_caps_the_page_size(api, customer, monkeypatch):
    from helpdesk.pagination import PageNumberPagination

    monkeypatch.setattr(PageNumberPagination, "max_page_size", 2)
    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    url = f"/api/v1/tickets/{ticket.pk}/timeline/"
    for number in range(3):
        api.post(url, {"body": f"note {number}"})
    assert len(api.get(url, {"page_size": 1000}).json()["results"]) == 2


def test_a_departments_answer_over_the_limit_is_refused_on_the_page_and_the_api(client, customer):
    from rest_framework.test import APIClient

    from tickets.limits import TEXT_MAX_LENGTH

    engineer = member("erin", "engineering")
    rule_create(
        name="r",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash")
    dispatch_pending()
    item = Notification.objects.get()
    too_long = "x" * (TEXT_MAX_LENGTH + 1)
    client.force_login(engineer)
    response = client.post(f"/queue-items/{item.pk}/respond/", {"body": too_long}, follow=True)
    assert response.status_code == 200
    assert f"At most {TEXT_MAX_LENGTH:,} characters" in response.content.decode()
    api = APIClient()
    api.force_authenticate(engineer)
    response = api.post(f"/api/v1/notifications/{item.pk}/respond/", {"body": too_long})
    assert response.status_code == 400
    assert set(response.json()) == {"body"}
    assert not ticket.timeline.filter(kind="response").exists()


def test_a_form_body_past_djangos_field_limit_is_a_json_400(api, customer, settings):
    fields = "&".join(f"tags={n}" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = api.post(
        "/api/v1/tickets/", fields, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body has too many fields or is too large."}
    assert not Ticket.objects.exists()
