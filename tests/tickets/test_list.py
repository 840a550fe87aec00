"""Finding tickets: filters, full-text search, the rep's views, sorting and query counts."""

import pytest
from django.db import connection

from tests.factories import CustomerFactory, UserFactory
from tickets.models import Ticket
from tickets.selectors import tickets_search
from tickets.services import note_add, ticket_create, ticket_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, rep):
    client.force_login(rep)
    return client


def new(customer, subject, **extra):
    fields = {"kind": "call", "channel": "phone", "subject": subject} | extra
    return ticket_create(customer=customer, **fields)


def listed(browser, url="/tickets/", **params):
    response = browser.get(url, params)
    assert response.status_code == 200
    return [ticket.pk for ticket in response.context["page"]]


def test_search_finds_words_from_subject_description_and_notes(browser, customer, rep):
    crash = new(customer, "Export crashes", description="The CSV export stops at row 1000")
    printer = new(customer, "Printer jams")
    note_add(ticket=printer, author=rep, body="Customer mentions a paper tray misalignment")
    new(customer, "Unrelated question")
    assert listed(browser, q="csv") == [crash.pk]
    assert listed(browser, q="misalignment") == [printer.pk]
    assert listed(browser, q=printer.reference) == [printer.pk]
    if connection.vendor == "postgresql":
        # Stemmed: "crashing" finds "crashes"; websearch syntax excludes with a minus.
        assert listed(browser, q="crashing") == [crash.pk]
        assert listed(browser, q="export -printer") == [crash.pk]


def test_search_uses_the_full_text_index_on_postgresql(customer):
    if connection.vendor != "postgresql":
        pytest.skip("the index exists on PostgreSQL only")
    new(customer, "Export crashes")
    with connection.cursor() as cursor:
        # A handful of rows would be scanned; forbid that to see that the index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = tickets_search(Ticket.objects.all(), "export").explain()
    assert "ticket_search_vector_idx" in plan


def test_filters_are_in_the_url(browser, customer, rep):
    other_customer = CustomerFactory(name="Birch Ltd")
    bug = new(customer, "A", kind="bug", product="Reports")
    rma = new(other_customer, "B", kind="rma", channel="web")
    fixed = new(customer, "C", kind="bug")
    ticket_update(
        ticket=fixed, actor=rep, status="resolved", root_cause="documentation", resolution="ok"
    )
    assert set(listed(browser, kind="bug")) == {bug.pk, fixed.pk}
    assert listed(browser, customer_name="birch") == [rma.pk]
    assert listed(browser, channel="web") == [rma.pk]
    assert listed(browser, product="report") == [bug.pk]
    assert listed(browser, root_cause="documentation") == [fixed.pk]
    assert listed(browser, status="resolved") == [fixed.pk]
    assert set(listed(browser, created_from=str(bug.created_at.date()))) == {
        bug.pk,
        rma.pk,
        fixed.pk,
    }
    assert listed(browser, created_to="2000-01-01") == []


def test_bad_filter_values_are_explained_not_a_500(browser):
    response = browser.get("/tickets/", {"created_from": "yesterday", "kind": "spaceship"})
    assert response.status_code == 200
    assert b"Enter a valid date." in response.content


def test_my_open_tickets_and_new_unassigned(browser, customer, rep):
    mine = new(customer, "Mine", assignee=rep)
    mine_done = new(customer, "Mine, done", assignee=rep)
    ticket_update(
        ticket=mine_done, actor=rep, status="closed", root_cause="other", resolution="n/a"
    )
    theirs = new(customer, "Theirs", assignee=UserFactory())
    unassigned = new(customer, "Nobody's")
    assert listed(browser, "/tickets/mine/") == [mine.pk]
    assert listed(browser, "/tickets/unassigned/") == [unassigned.pk]
    assert theirs.pk in listed(browser)


def test_sorting_and_pages(browser, customer):
    low = new(customer, "Low", priority="low")
    urgent = new(customer, "Urgent", priority="urgent")
    normal = new(customer, "Normal")
    assert listed(browser, sort="priority") == [urgent.pk, normal.pk, low.pk]
    assert listed(browser, sort="oldest") == [low.pk, urgent.pk, normal.pk]
    assert listed(browser) == [normal.pk, urgent.pk, low.pk]
    for index in range(50):
        new(customer, f"Filler {index}")
    response = browser.get("/tickets/", {"kind": "call", "page": 2})
    assert response.context["page"].number == 2
    assert 'href="?kind=call&amp;page=1"' in response.content.decode()


def test_list_queries_do_not_grow_with_rows(browser, customer, rep, django_assert_max_num_queries):
    new(customer, "One", tags=["vip"], assignee=rep)
    # The session and the user, the count and the page of tickets with their tags, the staff
    # for the pickers, the saved views, the chosen columns, the navigation's queue and
    # follow-up counts and its count of mail waiting for a rep.
    with django_assert_max_num_queries(11) as few:
        browser.get("/tickets/")
    for index in range(40):
        new(CustomerFactory(), f"Ticket {index}", tags=[f"t{index}"], assignee=UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        browser.get("/tickets/")


def test_search_without_postgresql_needs_every_word(customer, rep, monkeypatch):
    """The embedded SQLite default has no full-text search: each word must appear."""
    from types import SimpleNamespace

    from tickets import selectors

    monkeypatch.setattr(selectors, "connection", SimpleNamespace(vendor="sqlite"))
    crash = new(customer, "Export crashes", description="CSV stops at row 1000")
    other = new(customer, "Export works")
    note_add(ticket=other, author=rep, body="Customer happy with CSV")
    found = selectors.tickets_search(Ticket.objects.all(), "csv EXPORT")
    assert set(found) == {crash, other}
    assert list(selectors.tickets_search(Ticket.objects.all(), "export row")) == [crash]


def test_ticket_page_queries_do_not_grow_with_its_timeline(
    browser, customer, rep, django_assert_max_num_queries
):
    ticket = new(customer, "Busy")
    with django_assert_max_num_queries(20) as few:
        browser.get(f"/tickets/{ticket.pk}/")
    for index in range(30):
        note_add(ticket=ticket, author=UserFactory(), body=f"Note {index}")
        ticket_update(ticket=ticket, actor=UserFactory(), priority=["high", "low"][index % 2])
        other = new(customer, f"Related {index}")
        from tickets.services import ticket_link

        ticket_link(ticket=ticket, other=other, actor=rep)
    with django_assert_max_num_queries(len(few.captured_queries)):
        browser.get(f"/tickets/{ticket.pk}/")


def test_odd_search_input_is_answered_not_an_error(browser, customer):
    the = new(customer, "Where is the manual")
    assert the.pk in listed(browser, q="the")  # only a stop word: each word must appear
    response = browser.get("/tickets/", {"q": "ab\x00cd"})
    assert b"Null characters are not allowed." in response.content
    assert listed(browser, q='"unbalanced -(') == []


def test_odd_numbers_in_requests_are_answered_not_an_error(browser, customer):
    ticket = new(customer, "Odd")
    assert browser.get(f"/tickets/{ticket.pk}/timeline/", {"after": "²"}).status_code == 200
    assert browser.get("/customers/lookup/", {"q": "ab\x00cd"}).status_code == 200
    data = {"customer": "²", "contact": "²", "kind": "call", "subject": "s", "priority": "normal"}
    assert browser.post("/tickets/new/", data).status_code == 400


def test_search_on_the_embedded_sqlite_default(tmp_path):
    """The README's first command runs on SQLite: log a call there and find it by a word."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from accounts.models import Customer\n"
        "from tickets.models import Ticket\n"
        "from tickets.selectors import tickets_search\n"
        "from tickets.services import ticket_create, note_add\n"
        "c = Customer.objects.create(name='Acme')\n"
        "t = ticket_create(customer=c, kind='bug', channel='phone', subject='Export',"
        " description='The quarterly ZEBRAFISH report fails')\n"
        "note_add(ticket=t, author=None, body='Customer sent a screenshot')\n"
        "found = lambda q: list(tickets_search(Ticket.objects.all(), q))\n"
        "assert found('zebrafish') == [t], found('zebrafish')\n"
        "assert found('screenshot export') == [t]\n"
        "assert found('the') == [t]\n"
        "assert found('walrus') == []\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        DJANGO_DEBUG="1",
        SQLITE_PATH=str(tmp_path / "embedded.sqlite3"),
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_filter_errors_name_the_fields_by_their_labels(browser):
    params = {"created_from": "yesterday", "kind": "spaceship", "assignee": "nobody"}
    html = browser.get("/tickets/", params).content.decode()
    assert "Created from: Enter a valid date." in html
    assert "Kind: Select a valid choice." in html
    assert "Assignee: Select a valid choice." in html
    assert "created_from:" not in html
    assert "kind:" not in html


def test_a_period_ending_before_it_starts_says_so(browser, api, customer):
    new(customer, "Listed")
    period = {"created_from": "2026-03-10", "created_to": "2026-03-01"}
    response = browser.get("/tickets/", period)
    assert "Created to: This is before “Created from”, so nothing could match." in (
        response.content.decode()
    )
    assert list(response.context["page"]) == []  # not the tickets from 10 March on
    response = api.get("/api/v1/tickets/", period)
    assert response.status_code == 400
    assert response.json() == {
        "created_to": ["This is before “Created from”, so nothing could match."]
    }
    times = {"created_after": "2026-03-10T00:00:00Z", "created_before": "2026-03-01T00:00:00Z"}
    assert list(api.get("/api/v1/tickets/", times).json()) == ["created_before"]
    # The same day at both ends is a day, not an error.
    same_day = {"created_from": "2026-03-10", "created_to": "2026-03-10"}
    assert api.get("/api/v1/tickets/", same_day).status_code == 200


@pytest.fixture
def returned_unit(customer, rep, starter_rules):
    """An RMA ticket with what a person reads on it: numbers, shipping's answer, a tracking
    number, a follow-up's notes, all written by the code that writes them in real life."""
    from queues.followups import followup_record_outcome
    from queues.models import FollowUpTask, Notification
    from queues.services import notification_respond
    from tests.conftest import dispatch_pending
    from tickets.returns import rma_advance

    ticket = new(
        customer,
        "Cracked case",
        kind="rma",
        rma_serial_number="SN-4411",
        rma_order_number="SO-98765",
        rma_reason="Arrived cracked",
        product="Heliograph",
    )
    dispatch_pending()  # routing: shipping is notified
    item = Notification.objects.get(ticket=ticket)
    notification_respond(notification=item, user=rep, body="Replacement leaves from Leeds")
    rma_advance(ticket=ticket, status="authorised", actor=rep, note="Label emailed")
    rma_advance(
        ticket=ticket,
        status="awaiting_return",
        actor=rep,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
    )
    task = FollowUpTask.objects.create(
        ticket=ticket,
        customer=customer,
        salesperson=customer.salesperson,
        due_on=ticket.created_at.date(),
        event=ticket.events.last(),
    )
    followup_record_outcome(
        task=task, user=customer.salesperson, outcome="upsell", notes="Wants a spare bezel"
    )
    new(customer, "Unrelated question")
    ticket.refresh_from_db()
    return ticket


SAID_ON_A_RETURN = [
    "SN-4411",
    "SO-98765",
    "Heliograph",
    "Leeds",  # shipping's answer, through routing's queue
    "1Z999AA10123456784",  # the tracking number
    "emailed",  # shipping's note on a return step
    "bezel",  # the follow-up's notes
]


@pytest.mark.parametrize("words", SAID_ON_A_RETURN)
def test_search_finds_what_a_person_reads_on_a_ticket(browser, returned_unit, words):
    assert listed(browser, q=words) == [returned_unit.pk]
    assert listed(browser, q=returned_unit.rma_number) == [returned_unit.pk]


@pytest.mark.parametrize("words", SAID_ON_A_RETURN)
def test_search_without_postgresql_finds_what_a_person_reads(returned_unit, monkeypatch, words):
    from types import SimpleNamespace

    from tickets import selectors

    monkeypatch.setattr(selectors, "connection", SimpleNamespace(vendor="sqlite"))
    everything = Ticket.objects.all()
    assert list(selectors.tickets_search(everything, words.lower())) == [returned_unit]
    assert list(selectors.tickets_search(everything, returned_unit.rma_number)) == [returned_unit]


def test_changing_return_details_keeps_search_in_step(browser, rep, returned_unit):
    ticket_update(ticket=returned_unit, actor=rep, rma_serial_number="SN-5522")
    assert listed(browser, q="SN-5522") == [returned_unit.pk]
    assert listed(browser, q="SN-4411") == []
    assert listed(browser, q="Leeds") == [returned_unit.pk]  # the answers stay findable


def test_migration_refreshes_search_text_of_existing_tickets(returned_unit):
    """Tickets written before 0011 are found by their numbers and answers after it, and
    migrating back restores the old text."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tickets.migrations.0011_search_text_numbers_and_answers")
    Ticket.objects.filter(pk=returned_unit.pk).update(search_text="Cracked case")
    refill = migration.Migration.operations[0]
    forward, backward = refill.code, refill.reverse_code
    forward(apps, None)
    returned_unit.refresh_from_db()
    text = returned_unit.search_text
    for words in (*SAID_ON_A_RETURN, returned_unit.rma_number):
        assert words in text
    backward(apps, None)
    returned_unit.refresh_from_db()
    assert returned_unit.search_text == "Cracked case"  # subject, description, notes, calls
