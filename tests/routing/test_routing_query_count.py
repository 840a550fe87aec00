"""What routing one event costs the database, so that the count cannot creep back up.

A bug for a customer with unpaid invoices, under the starter rules, notifies engineering and
finance; each has a member who wants an email per new item (and one who reads the digest). The
statements counted are those of the worker's dispatch of that event
(``tickets.outbox.event_dispatch``), outside any test transaction, with the rule set compiled
already, as a worker that has routed before has it.
"""

import uuid

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.models import Department, Membership, User
from deliveries.models import EmailDelivery
from queues.models import FollowUpTask, Notification
from routing.engine.ruleset import load_rule_set
from routing.models import RoutingRun, Rule, RuleMatch, RuleSetRevision
from tests.factories import ContactFactory, CustomerFactory, InvoiceFactory, UserFactory
from tickets import outbox
from tickets.models import TicketEvent, TimelineEntry
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bug_event(starter_rules, salesperson):
    for slug in ("engineering", "finance"):
        department = Department.objects.get(slug=slug)
        Membership.objects.create(user=UserFactory(username=f"{slug}-now"), department=department)
        Membership.objects.create(
            user=UserFactory(username=f"{slug}-digest"),
            department=department,
            email_preference=Membership.EmailPreference.DIGEST,
        )
    customer = CustomerFactory(salesperson=salesperson)
    InvoiceFactory(customer=customer)  # unpaid
    contact = ContactFactory(customer=customer)
    ticket = ticket_create(
        customer=customer, contact=contact, kind="bug", channel="phone", subject="Crash"
    )
    load_rule_set()  # compiled, as in a worker that routed an event before
    return TicketEvent.objects.get(ticket=ticket)


def _dispatch(event_id: int) -> list[str]:
    """The statements the dispatch sent, less BEGIN and COMMIT (PostgreSQL's are logged)."""
    with CaptureQueriesContext(connection) as queries:
        outbox.event_dispatch(event_id=event_id)
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"] not in ("BEGIN", "COMMIT")
    ]


def _savepoints(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "SAVEPOINT" in sql.split('"', 1)[0]]


def test_routing_one_event(bug_event):
    statements = _dispatch(bug_event.pk)

    # What the statements did: nothing less than before.
    assert set(Notification.objects.values_list("department__slug", flat=True)) == {
        "engineering",
        "finance",
    }
    assert set(EmailDelivery.objects.values_list("recipient", flat=True)) == {
        "engineering-now@example.com",
        "finance-now@example.com",
    }
    assert RuleMatch.objects.filter(rule_version__isnull=False).count() == 2
    assert TimelineEntry.objects.filter(kind=TimelineEntry.Kind.ROUTING).count() == 1
    run = RoutingRun.objects.get()
    assert (run.rules_evaluated, run.rules_fired) == (4, 2)
    assert run.facts["customer.has_unpaid_invoices"] is True

    listing = "\n".join(statements)
    assert len(_savepoints(statements)) == 0, listing
    assert len(statements) == 12, listing


def _next_bug(bug_event) -> TicketEvent:
    ticket = ticket_create(
        customer=bug_event.ticket.customer, kind="bug", channel="phone", subject="Again"
    )
    return TicketEvent.objects.get(ticket=ticket)


def test_the_next_event_reads_no_departments(bug_event):
    """Who a department emails is kept between events while the directory stays as it is."""
    _dispatch(bug_event.pk)
    event = _next_bug(bug_event)
    statements = _dispatch(event.pk)
    assert not [sql for sql in statements if '"accounts_department"' in sql], statements
    assert len(statements) == 11, "\n".join(statements)
    assert set(
        EmailDelivery.objects.filter(ticket=event.ticket).values_list("recipient", flat=True)
    ) == {
        "engineering-now@example.com",
        "finance-now@example.com",
    }


def _recipients(event) -> set[str]:
    return set(
        EmailDelivery.objects.filter(ticket=event.ticket).values_list("recipient", flat=True)
    )


def test_a_member_who_asks_for_the_digest_is_not_emailed_from_the_next_event(bug_event):
    _dispatch(bug_event.pk)
    membership = Membership.objects.get(user__username="engineering-now")
    membership.email_preference = Membership.EmailPreference.DIGEST
    membership.save()
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    assert _recipients(event) == {"finance-now@example.com"}


def test_a_new_address_is_seen_by_the_next_event(bug_event):
    _dispatch(bug_event.pk)
    engineer = User.objects.get(username="engineering-now")
    engineer.email = "lea@example.com"
    engineer.save(update_fields=["email"])
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    assert _recipients(event) == {"lea@example.com", "finance-now@example.com"}


def test_a_deactivated_account_is_not_emailed_from_the_next_event(bug_event):
    _dispatch(bug_event.pk)
    finance = User.objects.get(username="finance-now")
    finance.is_active = False
    finance.save(update_fields=["is_active"])
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    assert _recipients(event) == {"engineering-now@example.com"}


def test_a_member_removed_is_not_emailed_from_the_next_event(bug_event):
    _dispatch(bug_event.pk)
    Membership.objects.get(user__username="engineering-now").delete()
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    assert _recipients(event) == {"finance-now@example.com"}


def test_a_member_added_through_the_department_is_emailed_from_the_next_event(bug_event):
    """``members.add()`` writes the membership without a save of its own."""
    _dispatch(bug_event.pk)
    Department.objects.get(slug="finance").members.add(UserFactory(username="finance-new"))
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    assert _recipients(event) == {
        "engineering-now@example.com",
        "finance-now@example.com",
        "finance-new@example.com",
    }


def test_a_department_deleted_is_skipped_from_the_next_event(bug_event):
    _dispatch(bug_event.pk)
    Department.objects.get(slug="finance").delete()
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    match = RuleMatch.objects.get(event=event, rule__name__startswith="Finance")
    assert match.actions[0]["done"] == "Skipped: department 'finance' no longer exists"
    assert _recipients(event) == {"engineering-now@example.com"}


def test_what_was_kept_is_read_again_after_a_while_whatever_the_revisions(bug_event, monkeypatch):
    """A change that told nobody (a bulk update) is seen once LASTING_SECONDS have passed."""
    from routing.engine import actions

    _dispatch(bug_event.pk)
    Membership.objects.filter(user__username="engineering-now").update(
        email_preference=Membership.EmailPreference.DIGEST
    )
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    assert "engineering-now@example.com" in _recipients(event)  # kept, as the docs say
    later = actions.time.monotonic() + actions.LASTING_SECONDS
    monkeypatch.setattr(actions.time, "monotonic", lambda: later)
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    assert _recipients(event) == {"finance-now@example.com"}


def test_a_login_keeps_what_is_kept(bug_event):
    """A login saves the account's last_login only: nothing routing keeps changes."""
    from django.contrib.auth.models import update_last_login

    _dispatch(bug_event.pk)
    update_last_login(None, User.objects.get(username="engineering-now"))
    statements = _dispatch(_next_bug(bug_event).pk)
    assert not [sql for sql in statements if '"accounts_department"' in sql], statements


def test_a_department_renamed_is_named_so_from_the_next_event(bug_event):
    _dispatch(bug_event.pk)
    department = Department.objects.get(slug="engineering")
    department.name = "Product engineering"
    department.save()
    event = _next_bug(bug_event)
    _dispatch(event.pk)
    match = RuleMatch.objects.get(event=event, rule__name__startswith="Bugs go")
    assert match.actions[0]["done"] == "Notified Product engineering"


def test_a_second_delivery_costs_one_statement(bug_event):
    _dispatch(bug_event.pk)
    assert len(_dispatch(bug_event.pk)) == 1  # the event, already dispatched


def test_a_rule_changed_by_another_process_is_seen_by_the_next_event(bug_event):
    """The revision comes back with the run's claim: a change committed by any process (here
    written behind the services' back, as another process's would be unseen by this one's
    cache) is routed by from the next event on, with no delay."""
    _dispatch(bug_event.pk)
    Rule.objects.filter(name__startswith="Bugs go").update(
        actions=[{"type": "notify_department", "department": "support"}]
    )
    RuleSetRevision.objects.filter(pk=1).update(number=F("number") + 1, token=uuid.uuid4())
    ticket = ticket_create(
        customer=bug_event.ticket.customer, kind="bug", channel="phone", subject="Again"
    )
    _dispatch(TicketEvent.objects.get(ticket=ticket).pk)
    assert set(
        Notification.objects.filter(ticket=ticket).values_list("department__slug", flat=True)
    ) == {"support", "finance"}


def test_a_lost_run_record_creates_nothing_twice(bug_event):
    """Routing again after the run's record was lost finds the queue items and their emails
    and keeps them: nothing is notified or emailed twice, and the outcome says so."""
    _dispatch(bug_event.pk)
    RuleMatch.objects.all().delete()
    RoutingRun.objects.all().delete()
    TicketEvent.objects.filter(pk=bug_event.pk).update(dispatched_at=None)
    _dispatch(bug_event.pk)
    assert Notification.objects.count() == 2
    assert EmailDelivery.objects.count() == 2
    outcomes = [match.actions[0] for match in RuleMatch.objects.order_by("rule__order")]
    assert [outcome["done"] for outcome in outcomes] == ["Already notified"] * 2
    assert {outcome["notification"] for outcome in outcomes} == set(
        Notification.objects.values_list("pk", flat=True)
    )


def test_a_follow_up_takes_no_savepoint(bug_event, rep):
    _dispatch(bug_event.pk)
    ticket = ticket_update(
        ticket=bug_event.ticket,
        actor=rep,
        status="resolved",
        root_cause="product_defect",
        resolution="Patched",
    )
    event = TicketEvent.objects.get(ticket=ticket, type=TicketEvent.Type.STATUS_CHANGED)
    statements = _dispatch(event.pk)
    assert FollowUpTask.objects.filter(ticket=ticket, event=event).exists()
    assert _savepoints(statements) == []
