"""Routing of ticket events by the starter rules and the engine's guarantees, in process."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from helpdesk.calendar import add_working_days
from queues.models import FollowUpTask, Notification
from routing.models import RoutingRun, RuleMatch
from routing.services import route_event, rule_create
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, InvoiceFactory
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db


def new_ticket(customer, kind="call", subject="A question", description="", **extra):
    return ticket_create(
        customer=customer,
        kind=kind,
        channel="phone",
        subject=subject,
        description=description,
        **extra,
    )


def notified(ticket) -> set[str]:
    return set(
        Notification.objects.filter(ticket=ticket).values_list("department__slug", flat=True)
    )


@pytest.mark.usefixtures("starter_rules")
class TestStarterRules:
    def test_bug_goes_to_engineering_only_for_a_customer_in_good_standing(self, customer):
        ticket = new_ticket(customer, kind="bug")
        dispatch_pending()
        assert notified(ticket) == {"engineering"}

    def test_rfe_goes_to_engineering_and_marketing(self, customer):
        ticket = new_ticket(customer, kind="rfe")
        dispatch_pending()
        assert notified(ticket) == {"engineering", "marketing"}

    def test_plain_call_from_a_customer_in_good_standing_goes_nowhere(self, customer):
        ticket = new_ticket(customer)
        dispatch_pending()
        assert notified(ticket) == set()
        assert RoutingRun.objects.get(event__ticket=ticket).rules_evaluated == 4

    def test_active_service_contract_goes_to_finance(self):
        today = timezone.localdate()
        customer = CustomerFactory(contract_ends_on=today + timedelta(days=1))
        ticket = new_ticket(customer)
        dispatch_pending()
        assert notified(ticket) == {"finance"}

    def test_expired_contract_and_paid_invoices_do_not_go_to_finance(self):
        today = timezone.localdate()
        customer = CustomerFactory(contract_ends_on=today - timedelta(days=1))
        InvoiceFactory(customer=customer, paid_on=today)
        ticket = new_ticket(customer)
        dispatch_pending()
        assert notified(ticket) == set()

    def test_unpaid_invoice_goes_to_finance(self):
        customer = CustomerFactory()
        InvoiceFactory(customer=customer)  # unpaid, not yet due
        ticket = new_ticket(customer, kind="bug")
        dispatch_pending()
        assert notified(ticket) == {"engineering", "finance"}

    def test_pay_for_bug_goes_to_finance(self):
        ticket = new_ticket(CustomerFactory(pay_for_bug=True), kind="bug")
        dispatch_pending()
        assert notified(ticket) == {"engineering", "finance"}

    def test_rma_goes_to_shipping_with_an_rma_number(self, customer):
        ticket = new_ticket(customer, kind="rma", subject="Return scanner")
        dispatch_pending()
        assert notified(ticket) == {"shipping"}
        assert ticket.rma_number == f"RMA-{ticket.pk:06d}"

    @pytest.mark.parametrize(
        "description",
        ["The parcel was DAMAGED", "It never arrived", "Missing parts in the box"],
    )
    def test_delivery_problems_go_to_shipping(self, customer, description):
        ticket = new_ticket(customer, description=description)
        dispatch_pending()
        assert notified(ticket) == {"shipping"}
        assert ticket.rma_number is None

    def test_undamaged_is_not_a_delivery_problem(self, customer):
        ticket = new_ticket(customer, description="The undamaged unit works")
        dispatch_pending()
        assert notified(ticket) == set()

    def test_resolved_bug_creates_a_follow_up_due_in_two_working_days(self, customer, rep):
        ticket = new_ticket(customer, kind="bug")
        ticket_update(
            ticket=ticket,
            actor=rep,
            status=Ticket.Status.RESOLVED,
            root_cause="product_defect",
            resolution="Fixed in 2.4",
        )
        dispatch_pending()
        task = FollowUpTask.objects.get(ticket=ticket)
        assert task.salesperson == customer.salesperson
        assert task.customer == customer
        assert task.status == FollowUpTask.Status.OPEN
        assert task.due_on == add_working_days(timezone.localdate(), 2)

    def test_resolved_call_creates_no_follow_up(self, customer, rep):
        ticket = new_ticket(customer)
        ticket_update(
            ticket=ticket,
            actor=rep,
            status=Ticket.Status.RESOLVED,
            root_cause="product_defect",
            resolution="Fixed in 2.4",
        )
        dispatch_pending()
        assert not FollowUpTask.objects.exists()

    def test_customer_without_salesperson_gets_no_follow_up_and_says_why(self, rep):
        ticket = new_ticket(CustomerFactory(salesperson=None), kind="bug")
        ticket_update(
            ticket=ticket,
            actor=rep,
            status=Ticket.Status.RESOLVED,
            root_cause="product_defect",
            resolution="Fixed in 2.4",
        )
        dispatch_pending()
        assert not FollowUpTask.objects.exists()
        match = RuleMatch.objects.get(rule__name="Salesperson follows up on resolved bugs")
        assert match.actions == [
            {"type": "create_followup", "done": "Skipped: the customer has no salesperson"}
        ]

    def test_rule_match_explains_conditions_and_actions(self):
        customer = CustomerFactory(pay_for_bug=True)
        ticket = new_ticket(customer, kind="bug")
        dispatch_pending()
        match = RuleMatch.objects.get(ticket=ticket, rule__name__startswith="Finance")
        held = {c["field"]: (c["actual"], c["held"]) for c in match.conditions}
        assert held == {
            "customer.has_service_contract": (False, False),
            "customer.has_unpaid_invoices": (False, False),
            "customer.pay_for_bug": (True, True),
        }
        notification = Notification.objects.get(ticket=ticket, department__slug="finance")
        assert match.actions == [
            {
                "type": "notify_department",
                "department": "finance",
                "notification": notification.pk,
                "done": "Notified Finance",
            }
        ]

    def test_routing_decides_on_the_ticket_as_the_event_recorded_it(self, customer, rep):
        ticket = new_ticket(customer, kind="call")
        # Changed before the worker gets to the created event: that event still routes a call.
        ticket_update(ticket=ticket, actor=rep, kind=Ticket.Kind.BUG)
        dispatch_pending()
        assert notified(ticket) == set()


class TestOnce:
    def test_processing_an_event_twice_creates_nothing_new(self, customer, starter_rules):
        ticket = new_ticket(customer, kind="rfe")
        event = TicketEvent.objects.get(ticket=ticket)
        assert route_event(event) is not None
        counts = (Notification.objects.count(), RuleMatch.objects.count())
        assert route_event(event) is None
        assert (Notification.objects.count(), RuleMatch.objects.count()) == counts == (2, 1)

    def test_database_refuses_a_second_notification_for_the_same_event_and_rule(
        self, customer, starter_rules
    ):
        ticket = new_ticket(customer, kind="bug")
        dispatch_pending()
        existing = Notification.objects.get(ticket=ticket)
        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.create(
                event=existing.event,
                rule=existing.rule,
                department=existing.department,
                ticket=ticket,
            )

    def test_database_refuses_a_second_routing_run(self, customer):
        event = TicketEvent.objects.get(ticket=new_ticket(customer))
        RoutingRun.objects.create(event=event)
        with pytest.raises(IntegrityError), transaction.atomic():
            RoutingRun.objects.create(event=event)

    def test_database_refuses_a_second_follow_up_for_the_same_event_and_rule(
        self, customer, salesperson
    ):
        rule_create(
            name="follow up",
            trigger="ticket.created",
            conditions={},
            actions=[{"type": "create_followup", "due_in_working_days": 1}],
        )
        ticket = new_ticket(customer)
        dispatch_pending()
        existing = FollowUpTask.objects.get(ticket=ticket)
        with pytest.raises(IntegrityError), transaction.atomic():
            FollowUpTask.objects.create(
                event=existing.event,
                rule=existing.rule,
                ticket=ticket,
                customer=customer,
                salesperson=salesperson,
                due_on=existing.due_on,
            )

    def test_an_action_failing_half_way_leaves_nothing_behind(self, customer, monkeypatch):
        from routing.engine import actions

        rule_create(
            name="two actions",
            trigger="ticket.created",
            conditions={},
            actions=[
                {"type": "notify_department", "department": "engineering"},
                {"type": "set_priority", "priority": "urgent"},
                {"type": "add_tag", "tag": "boom"},
            ],
        )
        ticket = new_ticket(customer)
        event = TicketEvent.objects.get(ticket=ticket)

        def explode(action, ctx):
            raise RuntimeError("the tag table is on fire")

        spec = actions.ACTIONS["add_tag"]
        monkeypatch.setitem(
            actions.ACTIONS, "add_tag", spec.__class__(spec.label, spec.validate, explode)
        )
        with pytest.raises(RuntimeError):
            route_event(event)
        # The run, the notification and the priority change went with the failed transaction,
        # so the retry routes the event from scratch.
        assert not RoutingRun.objects.exists()
        assert not Notification.objects.exists()
        assert not RuleMatch.objects.exists()
        ticket.refresh_from_db()
        assert ticket.priority == "normal"
        assert TicketEvent.objects.count() == 1

        monkeypatch.setitem(actions.ACTIONS, "add_tag", spec)
        assert route_event(event) is not None
        assert Notification.objects.count() == 1

    def test_dispatching_a_dispatched_event_again_does_nothing(self, customer, starter_rules):
        from tickets.outbox import event_dispatch

        event = TicketEvent.objects.get(ticket=new_ticket(customer, kind="bug"))
        assert event_dispatch(event_id=event.pk) is True
        assert event_dispatch(event_id=event.pk) is False
        assert event_dispatch(event_id=999_999) is False
        assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_routing_the_same_event_at_once_route_it_once(customer, starter_rules):
    if connection.vendor != "postgresql":
        pytest.skip("row locking across connections needs PostgreSQL")
    event = TicketEvent.objects.get(ticket=new_ticket(customer, kind="rfe"))
    barrier = threading.Barrier(2)
    results = []

    def work():
        from django.db import connections

        try:
            barrier.wait()
            results.append(route_event(TicketEvent.objects.get(pk=event.pk)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r is None for r in results) == [False, True]
    assert RoutingRun.objects.count() == 1
    assert Notification.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_events_of_one_ticket_routed_at_once_send_one_throttled_email(customer, rep):
    if connection.vendor != "postgresql":
        pytest.skip("row locking across connections needs PostgreSQL")
    from deliveries.models import EmailDelivery
    from tests.factories import ContactFactory

    rule_create(
        name="tell the contact",
        trigger="ticket.note_added",
        conditions={},
        actions=[{"type": "send_email", "to": "contact", "subject": "News", "body": "See"}],
    )
    contact = ContactFactory(customer=customer, email="ann@customer.example")
    ticket = new_ticket(customer, contact=contact)
    from tickets.services import note_add

    note_add(ticket=ticket, author=rep, body="one")
    note_add(ticket=ticket, author=rep, body="two")
    events = list(TicketEvent.objects.filter(type="ticket.note_added").values_list("pk", flat=True))
    barrier = threading.Barrier(2)

    def work(event_id):
        from django.db import connections

        try:
            barrier.wait()
            route_event(TicketEvent.objects.get(pk=event_id))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(event_id,)) for event_id in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(EmailDelivery.objects.values_list("status", flat=True))
    assert statuses == ["pending", "throttled"]


class TestEngine:
    def test_inactive_rules_and_other_triggers_are_not_evaluated(self, customer):
        base = {
            "conditions": {},
            "actions": [{"type": "notify_department", "department": "marketing"}],
        }
        rule_create(name="off", trigger=TicketEvent.Type.CREATED, is_active=False, **base)
        rule_create(name="notes", trigger=TicketEvent.Type.NOTE_ADDED, **base)
        ticket = new_ticket(customer)
        dispatch_pending()
        assert notified(ticket) == set()
        assert RoutingRun.objects.get().rules_evaluated == 0

    def test_rules_run_in_order_and_stop_processing_stops(self, customer):
        notify = [{"type": "notify_department", "department": "marketing"}]
        rule_create(name="second", order=2, trigger="ticket.created", actions=notify)
        rule_create(
            name="first",
            order=1,
            trigger="ticket.created",
            stop_processing=True,
            actions=[{"type": "notify_department", "department": "finance"}],
        )
        ticket = new_ticket(customer)
        dispatch_pending()
        assert notified(ticket) == {"finance"}
        assert list(RuleMatch.objects.values_list("rule__name", flat=True)) == ["first"]

    def test_set_priority_is_recorded_as_an_event_of_its_own(self, customer):
        rule = rule_create(
            name="urgent bugs",
            trigger="ticket.created",
            conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
            actions=[{"type": "set_priority", "priority": "urgent"}],
        )
        later = rule_create(
            name="later rules see the new priority",
            order=200,
            trigger="ticket.created",
            conditions={"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
            actions=[{"type": "notify_department", "department": "engineering"}],
        )
        ticket = new_ticket(customer, kind="bug")
        dispatch_pending()
        ticket.refresh_from_db()
        assert ticket.priority == Ticket.Priority.URGENT
        created = TicketEvent.objects.get(type="ticket.created")
        updated = TicketEvent.objects.get(type="ticket.updated")
        assert updated.caused_by == created
        assert updated.depth == 1
        assert updated.changes == {"priority": ["normal", "urgent"]}
        assert updated.actor is None
        assert RuleMatch.objects.filter(rule=later, event=created).exists()
        assert RuleMatch.objects.filter(rule=rule).count() == 1
        entry = ticket.timeline.get(kind="field_change")
        assert entry.body == "Set by routing rules “urgent bugs”"

    def test_rules_that_undo_each_other_in_one_run_change_nothing(self, customer):
        for name, when, then in [("up", "high", "urgent"), ("down", "urgent", "high")]:
            rule_create(
                name=name,
                trigger="ticket.updated",
                conditions={"all": [{"field": "priority", "operator": "is", "value": when}]},
                actions=[{"type": "set_priority", "priority": then}],
            )
        ticket = new_ticket(customer)
        ticket_update(ticket=ticket, actor=None, priority=Ticket.Priority.HIGH)
        dispatch_pending()
        assert RuleMatch.objects.count() == 2
        assert TicketEvent.objects.filter(type="ticket.updated").count() == 1
        ticket.refresh_from_db()
        assert ticket.priority == Ticket.Priority.HIGH

    def test_rules_that_feed_each_other_stop_at_the_chain_bound(self, customer, settings):
        settings.ROUTING_MAX_CHAIN_DEPTH = 3
        for name, when, then in [("up", "high", "urgent"), ("down", "urgent", "high")]:
            rule_create(
                name=name,
                trigger="ticket.updated",
                conditions={"all": [{"field": "priority", "operator": "is", "value": when}]},
                actions=[{"type": "set_priority", "priority": then}],
                stop_processing=True,
            )
        ticket = new_ticket(customer)
        ticket_update(ticket=ticket, actor=None, priority=Ticket.Priority.HIGH)
        dispatch_pending()
        depths = list(
            TicketEvent.objects.filter(type="ticket.updated").values_list("depth", flat=True)
        )
        assert depths == [0, 1, 2, 3, 4]
        last = RoutingRun.objects.get(event__depth=4)
        assert last.skipped_reason == "Chain of automatic changes longer than 3"
        assert last.rules_evaluated == 0
