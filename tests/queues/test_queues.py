"""Department queues and salesperson follow-ups: the work, the emails, and who may do what."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Department, Membership
from deliveries import services as deliveries
from deliveries.models import EmailDelivery
from queues.followups import followup_record_outcome, followups_remind
from queues.models import FollowUpTask, Notification
from queues.services import (
    notification_acknowledge,
    notification_complete,
    notification_respond,
    notifications_acknowledge,
    queues_escalate,
    queues_send_digests,
)
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, UserFactory
from tickets.models import Ticket, TimelineEntry
from tickets.returns import rma_advance, rma_reachable_steps
from tickets.services import ticket_create, ticket_update

# What follows a badge's number for a screen reader only (base.html).
HIDDEN = '<span class="visually-hidden">'

pytestmark = pytest.mark.django_db


def member(username, slug, *, lead=False, email_preference="immediate"):
    user = UserFactory(username=username)
    Membership.objects.create(
        user=user,
        department=Department.objects.get(slug=slug),
        is_lead=lead,
        email_preference=email_preference,
    )
    return user


@pytest.fixture
def engineer():
    return member("erin", "engineering")


@pytest.fixture
def routed_bug(customer, engineer):
    """A bug routed to engineering by a rule."""
    rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[
            {"type": "notify_department", "department": "engineering", "message": "Look"},
            {"type": "notify_department", "department": "finance"},
        ],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    dispatch_pending()
    return ticket


def item(ticket, slug="engineering"):
    return Notification.objects.get(ticket=ticket, department__slug=slug)


def _alert_again(notification) -> int:
    """The alerts about a new item asked for again, as a retried routing would: how many new
    emails that stored (none, once they are stored)."""
    from deliveries.models import EmailDelivery
    from deliveries.staff_emails import staff_email

    rows = list(EmailDelivery.objects.filter(key__startswith=f"notification:{notification.pk}:"))
    assert rows, "routing stored no alert to ask for again"
    return sum(
        staff_email(key=row.key, recipient=row.recipient, subject=row.subject, body=row.body)
        for row in rows
    )


class TestWorkingAnItem:
    def test_new_item_has_a_response_target_in_working_hours(self, routed_bug):
        engineering = Department.objects.get(slug="engineering")
        notification = item(routed_bug)
        assert notification.due_at is not None
        assert notification.due_at > notification.created_at
        assert engineering.response_target_hours == 8

    def test_acknowledge_makes_it_yours_and_says_so_on_the_ticket(self, routed_bug, engineer):
        notification = notification_acknowledge(notification=item(routed_bug), user=engineer)
        assert notification.status == "acknowledged"
        assert notification.acted_by == engineer
        entry = routed_bug.timeline.get(kind=TimelineEntry.Kind.DEPARTMENT)
        assert entry.author == engineer
        assert entry.changes["queue status"] == ["new", "acknowledged"]
        # Again by the same person: nothing changes. By someone else: refused, saying by whom.
        notification_acknowledge(notification=notification, user=engineer)
        with pytest.raises(ValidationError, match="Already acknowledged by"):
            notification_acknowledge(notification=notification, user=member("eli", "engineering"))

    def test_response_lands_on_the_ticket_and_done_completes(self, routed_bug, engineer):
        notification = notification_respond(
            notification=item(routed_bug), user=engineer, body="Fixed in 2.4.1", done=True
        )
        assert notification.status == "done"
        assert notification.acted_by == engineer
        assert notification.responses == 1
        response = routed_bug.timeline.get(kind=TimelineEntry.Kind.RESPONSE)
        assert (response.body, response.author) == ("Fixed in 2.4.1", engineer)
        assert response.changes["department"] == "engineering"
        with pytest.raises(ValidationError):
            notification_respond(notification=notification, user=engineer, body="  ")

    def test_complete_and_bulk_acknowledge(self, customer, routed_bug, engineer):
        second = ticket_create(customer=customer, kind="bug", channel="web", subject="Another")
        dispatch_pending()
        chosen = Notification.objects.filter(department__slug="engineering")
        assert notifications_acknowledge(notifications=chosen, user=engineer) == 2
        assert notifications_acknowledge(notifications=chosen, user=engineer) == 0
        done = notification_complete(notification=item(second), user=engineer)
        assert done.status == "done"
        assert done.done_at is not None


class TestReturns:
    def test_shipping_takes_a_return_through_its_steps(self, customer):
        shipper = member("sam", "shipping")
        rma = ticket_create(customer=customer, kind="rma", channel="phone", subject="Cracked")
        rma_advance(ticket=rma, status="authorised", actor=shipper)
        with pytest.raises(ValidationError, match="carrier"):
            rma_advance(ticket=rma, status="received", actor=shipper, tracking_number="X")
        for step in ("awaiting_return", "received", "inspected"):
            rma_advance(ticket=rma, status=step, actor=shipper)
        rma_advance(
            ticket=rma,
            status="replacement_shipped",
            actor=shipper,
            carrier="UPS",
            tracking_number="1Z999",
        )
        rma.refresh_from_db()
        assert rma.rma_status == "replacement_shipped"
        steps = list(rma.timeline.filter(kind=TimelineEntry.Kind.RMA).values_list("changes"))
        assert steps[-1][0]["tracking number"] == [None, "UPS 1Z999"]
        with pytest.raises(ValidationError, match="already"):
            rma_advance(ticket=rma, status="replacement_shipped", actor=shipper)
        # Forward only: a replacement shipped is not then refunded, nor the return re-authorised.
        for step in ("refunded", "authorised"):
            with pytest.raises(ValidationError, match="steps go forward"):
                rma_advance(ticket=rma, status=step, actor=shipper)
        bug = ticket_create(customer=customer, kind="bug", channel="web", subject="Bug")
        with pytest.raises(ValidationError, match="Only returns"):
            rma_advance(ticket=bug, status="authorised", actor=shipper)


def send_all() -> list[EmailDelivery]:
    for delivery in EmailDelivery.objects.filter(status="pending"):
        deliveries.email_deliver(delivery_id=delivery.pk)
    return list(EmailDelivery.objects.order_by("id"))


class TestEmails:
    def test_members_are_told_as_they_chose_over_real_smtp(self, customer, smtp_server):
        member("imm", "engineering")
        member("dig", "engineering", email_preference="digest")
        member("off", "engineering", email_preference="none")
        rule_create(
            name="Bugs",
            trigger="ticket.created",
            conditions={},
            actions=[{"type": "notify_department", "department": "engineering"}],
        )
        ticket = ticket_create(
            customer=customer,
            kind="bug",
            channel="web",
            subject="Crash",
            description="Saving an invoice with 40 lines shows a blank page.",
        )
        dispatch_pending()
        send_all()
        [message] = smtp_server.messages
        assert message["To"] == "imm@example.com"
        assert ticket.reference in message["Subject"]
        assert "Saving an invoice with 40 lines shows a blank page." in message.get_payload()
        link = f"/queue-items/{item(ticket).pk}/"
        assert link in message.get_payload()
        # A retried task, or the alert asked for again, sends nothing more.
        assert _alert_again(item(ticket)) == 0
        send_all()
        assert len(smtp_server.messages) == 1

        morning = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
        assert queues_send_digests(now=morning.replace(hour=6)) == 0  # before the digest hour
        assert queues_send_digests(now=morning.replace(hour=9)) == 1
        assert queues_send_digests(now=morning.replace(hour=15)) == 0  # once a day
        send_all()
        digest = smtp_server.messages[-1]
        assert digest["To"] == "dig@example.com"
        assert "1 new item waiting" in digest["Subject"]

    def test_an_item_of_a_resolved_ticket_is_not_escalated(self, routed_bug, rep):
        member("lead", "engineering", lead=True)
        notification = item(routed_bug)
        ticket_update(
            ticket=routed_bug, actor=rep, status="resolved", root_cause="usability", resolution="ok"
        )
        assert queues_escalate(now=notification.due_at + timedelta(minutes=1)) == 0
        notification.refresh_from_db()
        assert notification.escalated_at is None

    def test_a_long_description_is_quoted_up_to_a_limit(self, customer, smtp_server):
        from queues.services import EMAIL_DESCRIPTION_CHARS

        member("imm", "engineering")
        rule_create(
            name="Bugs",
            trigger="ticket.created",
            conditions={},
            actions=[{"type": "notify_department", "department": "engineering"}],
        )
        description = "word " * 900 + "the very end"
        ticket_create(
            customer=customer, kind="bug", channel="web", subject="Long", description=description
        )
        dispatch_pending()
        send_all()
        [message] = smtp_server.messages
        body = message.get_payload(decode=True).decode()
        assert "word word" in body
        assert "the very end" not in body
        quoted = body[body.index("word") : body.index("[...]") + len("[...]")]
        assert len(quoted) <= EMAIL_DESCRIPTION_CHARS

    def test_items_past_target_are_escalated_once_to_the_leads(self, routed_bug, smtp_server):
        member("lead", "engineering", lead=True)
        notification = item(routed_bug)
        assert queues_escalate(now=notification.due_at - timedelta(minutes=1)) == 0
        # Engineering's item and finance's (which has no lead to email, but is marked).
        assert queues_escalate(now=notification.due_at + timedelta(minutes=1)) == 2
        assert queues_escalate(now=notification.due_at + timedelta(hours=5)) == 0
        notification.refresh_from_db()
        assert notification.escalated_at is not None
        send_all()
        escalations = [m for m in smtp_server.messages if m["To"] == "lead@example.com"]
        assert len(escalations) == 1
        assert "Overdue" in escalations[0]["Subject"]
        assert routed_bug.timeline.filter(body__contains="escalated to").count() == 2


def _another_followup(followup: FollowUpTask, event) -> FollowUpTask:
    """A second open follow-up of ``followup``'s ticket and salesperson, made on ``event``."""
    return FollowUpTask.objects.create(
        ticket=followup.ticket,
        customer=followup.customer,
        salesperson=followup.salesperson,
        reason="Another reason",
        due_on=followup.due_on,
        event=event,
    )


class TestFollowUps:
    def test_satisfied(self, followup, salesperson):
        task = followup_record_outcome(task=followup, user=salesperson, outcome="satisfied")
        assert (task.status, task.outcome) == ("done", "satisfied")
        entry = task.ticket.timeline.get(kind=TimelineEntry.Kind.FOLLOWUP)
        assert "Reached and satisfied" in entry.body
        with pytest.raises(ValidationError, match="already closed"):
            followup_record_outcome(task=task, user=salesperson, outcome="satisfied")

    def test_not_satisfied_reopens_the_ticket_with_the_reason(self, followup, salesperson):
        with pytest.raises(ValidationError):
            followup_record_outcome(task=followup, user=salesperson, outcome="not_satisfied")
        task = followup_record_outcome(
            task=followup, user=salesperson, outcome="not_satisfied", notes="Still crashes"
        )
        ticket = Ticket.objects.get(pk=task.ticket_id)
        assert ticket.status == "open"
        assert task.reopened_ticket == ticket
        assert ticket.timeline.filter(body__contains="Still crashes").count() == 2

    def test_not_satisfied_can_open_a_linked_ticket(self, followup, salesperson):
        task = followup_record_outcome(
            task=followup,
            user=salesperson,
            outcome="not_satisfied",
            notes="Wants a refund",
            not_satisfied_action="new_ticket",
        )
        opened = task.reopened_ticket
        assert opened != task.ticket
        assert opened.description == "Wants a refund"
        assert list(opened.related.all()) == [task.ticket]
        assert Ticket.objects.get(pk=task.ticket_id).status == "resolved"

    def test_reopening_the_ticket_cancels_the_follow_up_and_the_next_resolution_asks_again(
        self, followup, rep
    ):
        ticket = Ticket.objects.get(pk=followup.ticket_id)
        ticket = ticket_update(ticket=ticket, actor=rep, status="open", reason="It crashes again")
        dispatch_pending()
        followup.refresh_from_db()
        assert followup.status == FollowUpTask.Status.CANCELLED
        assert "reopened" in followup.outcome_notes
        cancelled = ticket.timeline.filter(kind=TimelineEntry.Kind.FOLLOWUP)
        assert [entry.body for entry in cancelled] == [
            f"Follow-up for {followup.salesperson} cancelled: the ticket was reopened. A rule "
            "that follows up resolutions asks again at the next one."
        ]
        assert followup.completed_at is not None  # listed under Recently closed
        ticket_update(
            ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="x"
        )
        dispatch_pending()
        statuses = FollowUpTask.objects.filter(ticket=ticket).values_list("status", flat=True)
        assert sorted(statuses) == ["cancelled", "open"]

    def test_closing_a_resolved_ticket_keeps_its_follow_up(self, followup, rep):
        """Closed is done too: the resolution stands, and so does the follow-up."""
        ticket_update(ticket=Ticket.objects.get(pk=followup.ticket_id), actor=rep, status="closed")
        dispatch_pending()
        followup.refresh_from_db()
        assert followup.status == FollowUpTask.Status.OPEN

    def test_a_reopening_delivered_twice_cancels_once(self, followup, rep):
        from queues.followups import followups_on_event
        from tickets.models import TicketEvent

        ticket = Ticket.objects.get(pk=followup.ticket_id)
        ticket_update(ticket=ticket, actor=rep, status="open", reason="Again")
        dispatch_pending()
        reopened = TicketEvent.objects.get(
            ticket=ticket,
            type=TicketEvent.Type.STATUS_CHANGED,
            changes__status=["resolved", "open"],
        )
        followups_on_event(reopened)  # a second delivery
        assert ticket.timeline.filter(kind=TimelineEntry.Kind.FOLLOWUP).count() == 1

    def test_a_follow_up_for_another_reason_stays_when_the_ticket_reopens(self, followup, rep):
        """One made from an unhappy survey answer, say, is not about the resolution undone."""
        from tickets.models import TicketEvent

        ticket = Ticket.objects.get(pk=followup.ticket_id)
        other = _another_followup(
            followup, TicketEvent.objects.create(ticket=ticket, type="survey.answered")
        )
        ticket_update(ticket=ticket, actor=rep, status="open", reason="Again")
        dispatch_pending()
        other.refresh_from_db()
        followup.refresh_from_db()
        assert (followup.status, other.status) == ("cancelled", "open")

    def test_a_follow_up_of_another_status_change_stays_when_the_ticket_reopens(
        self, followup, rep
    ):
        """Made when the ticket went pending, say: not about a resolution."""
        from tickets.models import TicketEvent

        ticket = Ticket.objects.get(pk=followup.ticket_id)
        pending = TicketEvent.objects.create(
            ticket=ticket, type="ticket.status_changed", snapshot={"status": "pending"}
        )
        other = _another_followup(followup, pending)
        TicketEvent.objects.filter(pk=pending.pk).update(dispatched_at=timezone.now())
        ticket_update(ticket=ticket, actor=rep, status="open", reason="Again")
        dispatch_pending()
        other.refresh_from_db()
        followup.refresh_from_db()
        assert (followup.status, other.status) == ("cancelled", "open")

    def test_a_follow_up_done_stays_done_when_it_reopens_the_ticket(self, followup, salesperson):
        """The salesperson's 'not satisfied' reopens the ticket: that follow-up stays done, and
        another one still open for the same resolution is cancelled, once."""
        other = _another_followup(followup, followup.event)
        task = followup_record_outcome(
            task=followup, user=salesperson, outcome="not_satisfied", notes="Still crashes"
        )
        dispatch_pending()
        task.refresh_from_db()
        other.refresh_from_db()
        assert (task.status, task.outcome) == ("done", "not_satisfied")
        assert other.status == "cancelled"
        lines = task.ticket.timeline.filter(
            kind=TimelineEntry.Kind.FOLLOWUP, body__contains="cancelled"
        )
        assert lines.count() == 1

    def test_a_resolution_routed_after_its_reopening_makes_no_follow_up(self, customer, rep):
        """Resolved and reopened before routing caught up (a backlog, a retry): the follow-up
        the resolution's rule would make is not made, rather than left open on a reopened
        ticket that its reopening could no longer cancel."""
        from routing.models import RuleMatch

        rule_create(
            name="Follow up resolved bugs",
            trigger="ticket.status_changed",
            conditions={
                "all": [{"field": "status", "operator": "changed_to", "value": "resolved"}]
            },
            actions=[{"type": "create_followup", "due_in_working_days": 2, "reason": "Check"}],
        )
        ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
        ticket = ticket_update(
            ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="x"
        )
        ticket_update(ticket=ticket, actor=rep, status="open", reason="Not fixed after all")
        dispatch_pending()  # the resolution is routed now, after its reopening was written
        assert not FollowUpTask.objects.filter(ticket=ticket, status="open").exists()
        match = RuleMatch.objects.get(ticket=ticket, rule__name="Follow up resolved bugs")
        assert match.actions[0]["done"].startswith("Skipped: the ticket's status changed again")

    def test_no_answer_reschedules(self, followup, salesperson):
        tomorrow_or_later = timezone.localdate() + timedelta(days=3)
        task = followup_record_outcome(
            task=followup, user=salesperson, outcome="no_answer", reschedule_on=tomorrow_or_later
        )
        assert (task.status, task.attempts, task.due_on) == ("open", 1, tomorrow_or_later)
        with pytest.raises(ValidationError):
            followup_record_outcome(
                task=task, user=salesperson, outcome="no_answer", reschedule_on=date(2000, 1, 1)
            )

    def test_upsell_with_a_value(self, followup, salesperson):
        task = followup_record_outcome(
            task=followup,
            user=salesperson,
            outcome="upsell",
            notes="Wants 20 more seats",
            upsell_value=Decimal("12000.00"),
        )
        assert (task.outcome, task.upsell_value) == ("upsell", Decimal("12000.00"))
        assert "Estimated value: 12000.00" in task.ticket.timeline.last().body

    def test_overdue_follow_ups_remind_once_a_day(self, followup, smtp_server, settings):
        settings.QUEUE_DIGEST_HOUR = 8
        FollowUpTask.objects.update(due_on=timezone.localdate() - timedelta(days=1))
        day = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
        assert followups_remind(now=day.replace(hour=7)) == 0
        assert followups_remind(now=day.replace(hour=9)) == 1
        assert followups_remind(now=day.replace(hour=10)) == 0
        send_all()
        [reminder] = smtp_server.messages
        assert reminder["To"] == followup.salesperson.email
        assert reminder["Subject"] == "1 overdue follow-up"


# --- the pages and the API at work (who may do what: tests/routing/test_permissions.py) -------


@pytest.fixture
def people(db):
    return {
        "engineer": member("erin", "engineering"),
        "accountant": member("fiona", "finance"),
        "rep": member("rita", "support"),
        "seller": member("sally", "sales"),
        "other_seller": member("steve", "sales"),
        "sales_lead": member("sid", "sales", lead=True),
        "admin": UserFactory(username="ada", is_superuser=True, is_staff=True),
    }


@pytest.fixture
def work(people):
    customer = CustomerFactory(salesperson=people["seller"])
    rule_create(
        name="Everything to engineering and finance",
        trigger="ticket.created",
        conditions={},
        actions=[
            {"type": "notify_department", "department": "engineering"},
            {"type": "notify_department", "department": "finance"},
            {"type": "create_followup", "due_in_working_days": 1},
        ],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    dispatch_pending()
    return ticket


def test_api_actions_and_errors(people, work):
    api = APIClient()
    api.force_authenticate(people["engineer"])
    notification = item(work)
    body = api.post(
        f"/api/v1/notifications/{notification.pk}/respond/", {"body": "On it", "done": True}
    ).json()
    assert (body["status"], body["responses"]) == ("done", 1)
    assert api.post(f"/api/v1/notifications/{notification.pk}/respond/", {}).status_code == 400
    other = APIClient()
    other.force_authenticate(people["admin"])
    finance = item(work, "finance")
    answer = other.post("/api/v1/notifications/acknowledge/", {"ids": [finance.pk]}, format="json")
    assert answer.json() == {"acknowledged": 1}
    seller = APIClient()
    seller.force_authenticate(people["seller"])
    task = FollowUpTask.objects.get()
    response = seller.post(
        f"/api/v1/followups/{task.pk}/outcome/", {"outcome": "upsell", "upsell_value": "-5"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"upsell_value"}
    response = seller.post(
        f"/api/v1/followups/{task.pk}/outcome/",
        {"outcome": "upsell", "notes": "More seats", "upsell_value": "900"},
    )
    assert response.json()["upsell_value"] == "900.00"


def test_queue_page_tabs_filters_and_constant_queries(
    people, work, client, customer, django_assert_max_num_queries
):
    client.force_login(people["engineer"])
    page = client.get("/queues/engineering/")
    assert f'aria-label="Take on {work.reference}">Take on</button>' in page.content.decode()
    assert [(v, c) for v, _, c in page.context["tabs"]] == [
        ("new", 1),
        ("acknowledged", 0),
        ("done", 0),
    ]
    with django_assert_max_num_queries(30) as few:
        client.get("/queues/engineering/")
    for index in range(20):
        ticket_create(customer=customer, kind="rma", channel="web", subject=f"Return {index}")
    dispatch_pending()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/queues/engineering/", {"kind": "rma", "sort": "priority"})
    assert len(response.context["page"].object_list) == 20
    response = client.get("/queues/engineering/", {"older_than_hours": "x"})
    assert response.status_code == 200


def test_nav_shows_new_items_and_overdue_follow_ups(people, work, client):
    client.force_login(people["engineer"])
    html = client.get("/").content.decode()
    assert f'id="nav-new-items">1{HIDDEN} new item</span>' in html
    assert 'id="menu-alert">' in html  # the Menu button's dot, for a phone
    client.force_login(people["seller"])
    html = client.get("/").content.decode()
    assert 'id="menu-alert" hidden>' in html  # an open follow-up, not overdue: nothing waits
    FollowUpTask.objects.update(due_on=timezone.localdate() - timedelta(days=2))
    html = client.get("/").content.decode()
    assert f">1{HIDDEN} overdue</span>" in html
    assert 'id="menu-alert">' in html


def test_timeline_fragment_costs_no_navigation_query(
    people, work, client, django_assert_max_num_queries
):
    client.force_login(people["rep"])
    last = work.timeline.last()
    with django_assert_max_num_queries(4):  # session, user, ticket, entries
        client.get(f"/tickets/{work.pk}/timeline/?after={last.pk}")


def test_the_queue_sweep_task_escalates_digests_and_reminds(routed_bug, followup, settings):
    from queues.tasks import sweep_queues

    settings.QUEUE_DIGEST_HOUR = 0
    member("dig", "engineering", email_preference="digest")
    Notification.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    FollowUpTask.objects.update(due_on=timezone.localdate() - timedelta(days=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        # Both bugs are in engineering's and finance's queues, four items past target; the
        # follow-up's bug is resolved, so only the open one's two are escalated.
        assert sweep_queues.apply().get() == {"escalated": 2, "digests": 1, "reminders": 1}
        assert sweep_queues.apply().get() == {"escalated": 0, "digests": 0, "reminders": 0}


def test_working_hours_target_uses_the_calendar(settings, customer, engineer):
    settings.TIME_ZONE = "UTC"
    Department.objects.filter(slug="engineering").update(response_target_hours=4)
    rule_create(
        name="r",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    ticket_create(customer=customer, kind="bug", channel="web", subject="Friday afternoon")
    from tickets.models import TicketEvent

    TicketEvent.objects.update(created_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # Friday
    dispatch_pending()
    assert Notification.objects.get().due_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_members_choose_how_they_hear_and_shipping_records_return_steps(client, customer):
    shipper = member("sam", "shipping")
    rule_create(
        name="Returns to shipping",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "rma"}]},
        actions=[{"type": "notify_department", "department": "shipping"}],
    )
    rma = ticket_create(customer=customer, kind="rma", channel="web", subject="Cracked")
    dispatch_pending()
    client.force_login(shipper)
    page = client.get("/queues/shipping/", {"item": item(rma, "shipping").pk}).content.decode()
    assert "Return step" in page
    response = client.post("/queues/shipping/email/", {"email_preference": "digest"})
    assert response.status_code == 302
    assert Membership.objects.get(user=shipper).email_preference == "digest"
    assert client.post("/queues/shipping/email/", {"email_preference": "x"}).status_code == 302
    assert Membership.objects.get(user=shipper).email_preference == "digest"
    notification = item(rma, "shipping")
    client.post(
        f"/queue-items/{notification.pk}/return-step/",
        {"status": "awaiting_return", "carrier": "DHL", "tracking_number": "JD0146"},
    )
    rma.refresh_from_db()
    assert rma.rma_status == "awaiting_return"
    assert rma.timeline.filter(
        kind="rma", changes__contains={"tracking number": [None, "DHL JD0146"]}
    ).exists()
    other = member("eve", "engineering")
    client.force_login(other)
    assert client.post("/queues/shipping/email/", {"email_preference": "none"}).status_code == 403


def test_an_email_link_shows_the_item_where_it_is_now(client, routed_bug, engineer):
    notification = notification_acknowledge(notification=item(routed_bug), user=engineer)
    client.force_login(engineer)
    response = client.get(f"/queue-items/{notification.pk}/")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert [i.pk for i in page.context["page"]] == [notification.pk]
    assert page.context["tab"] == "acknowledged"


def test_escalation_without_leads_goes_to_the_admins(routed_bug, smtp_server):
    UserFactory(username="root", is_superuser=True)
    notification = item(routed_bug)
    queues_escalate(now=notification.due_at + timedelta(minutes=1))
    send_all()
    escalations = [m for m in smtp_server.messages if "Overdue" in m["Subject"]]
    assert {m["To"] for m in escalations} == {"root@example.com"}
    assert routed_bug.timeline.filter(body__contains="escalated to").exists()


def test_the_digest_lists_the_oldest_items_and_counts_them_all(
    customer, smtp_server, settings, monkeypatch
):
    from queues import services as queues

    monkeypatch.setattr(queues, "DIGEST_ITEMS", 2)
    member("dig", "engineering", email_preference="digest")
    rule_create(
        name="Bugs",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    for index in range(3):
        ticket_create(customer=customer, kind="bug", channel="web", subject=f"Bug {index}")
    dispatch_pending()
    Notification.objects.filter(ticket__subject="Bug 0").update(
        created_at=timezone.now() - timedelta(days=30)
    )
    settings.QUEUE_DIGEST_HOUR = 0
    assert queues_send_digests() == 1
    send_all()
    [digest] = smtp_server.messages
    assert "3 new items" in digest["Subject"]
    body = digest.get_payload()
    assert "Bug 0" in body  # a month old, still waiting: listed first, not dropped
    assert "and 1 more" in body


def test_one_reminder_a_day_per_salesperson(followup, smtp_server, settings, customer, rep):
    settings.QUEUE_DIGEST_HOUR = 0
    second = ticket_create(customer=customer, kind="bug", channel="web", subject="Second")
    ticket_update(ticket=second, actor=rep, status="resolved", root_cause="other", resolution="ok")
    dispatch_pending()
    FollowUpTask.objects.update(due_on=timezone.localdate() - timedelta(days=1))
    assert followups_remind() == 1
    assert followups_remind() == 0
    send_all()
    [reminder] = smtp_server.messages
    assert reminder["Subject"] == "2 overdue follow-ups"


def test_only_the_owner_or_a_lead_finishes_a_taken_item(routed_bug, engineer):
    notification = notification_acknowledge(notification=item(routed_bug), user=engineer)
    colleague = member("eli", "engineering")
    # A colleague may add what they know, but not close someone else's item.
    notification_respond(notification=notification, user=colleague, body="Seen it before")
    with pytest.raises(ValidationError, match="took this on"):
        notification_complete(notification=notification, user=colleague)
    with pytest.raises(ValidationError, match="took this on"):
        notification_respond(notification=notification, user=colleague, body="x", done=True)
    lead = member("lea", "engineering", lead=True)
    assert notification_complete(notification=notification, user=lead).status == "done"


def test_not_satisfied_from_the_page_reopens_by_default(client, followup, salesperson):
    client.force_login(salesperson)
    client.post(
        "/followups/", {"task": followup.pk, "outcome": "not_satisfied", "notes": "Still broken"}
    )
    followup.refresh_from_db()
    assert followup.reopened_ticket_id == followup.ticket_id
    assert Ticket.objects.get(pk=followup.ticket_id).status == "open"


def test_follow_ups_page_queries_do_not_grow_with_tasks(
    client, salesperson, customer, rep, django_assert_max_num_queries
):
    rule_create(
        name="Follow up",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "create_followup", "due_in_working_days": 1}],
    )
    ticket_create(customer=customer, kind="bug", channel="web", subject="One")
    dispatch_pending()
    client.force_login(salesperson)
    with django_assert_max_num_queries(30) as few:
        client.get("/followups/")
    for index in range(15):
        other = CustomerFactory(salesperson=salesperson)
        ticket = ticket_create(customer=other, kind="bug", channel="web", subject=f"T{index}")
        from tickets.services import note_add

        note_add(ticket=ticket, author=rep, body="note")
    dispatch_pending()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/followups/")
    assert sum(len(tasks) for _, tasks in response.context["groups"]) == 16


def test_return_steps_only_from_shippings_queue(people, work, client):
    rma = ticket_create(customer=work.customer, kind="rma", channel="web", subject="Return it")
    dispatch_pending()
    client.force_login(people["engineer"])
    response = client.post(f"/queue-items/{item(rma).pk}/return-step/", {"status": "refunded"})
    assert response.status_code == 403
    rma.refresh_from_db()
    assert rma.rma_status == ""


def test_queue_filters_refuse_absurd_ages(people, work, client):
    client.force_login(people["engineer"])
    response = client.get("/queues/engineering/", {"older_than_hours": "100000000"})
    assert response.status_code == 200
    api = APIClient()
    api.force_authenticate(people["engineer"])
    assert api.get("/api/v1/notifications/", {"older_than_hours": "1e20"}).status_code == 400


def test_the_queue_sweep_is_on_beats_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["queue-sweep"]
    assert entry["task"] == "routing.tasks.sweep_queues"
    assert entry["schedule"] == float(settings.QUEUE_SWEEP_INTERVAL_SECONDS)


def test_nav_shows_items_past_their_target(people, work, client):
    Notification.objects.update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(people["engineer"])
    html = client.get("/").content.decode()
    assert f">1{HIDDEN} past their response target</span>" in html


def test_the_live_counts_answer_the_navigations_totals(people, work, client, customer):
    """The page and its refresh show the same numbers, added up once, on the server."""
    ticket_create(customer=customer, kind="bug", channel="web", subject="Second")
    dispatch_pending()
    Notification.objects.filter(ticket=work).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(people["admin"])
    counts = client.get("/nav/counts/").json()["queues"]
    assert (counts["new_items"], counts["past_target"], counts["escalated"]) == (4, 2, 0)
    assert {q["slug"]: q["new_count"] for q in counts["queues"]}["finance"] == 2
    html = client.get("/").content.decode()
    assert f'id="nav-new-items">4{HIDDEN} new items</span>' in html
    assert f">2{HIDDEN} past their response target</span>" in html


def test_a_return_is_offered_only_the_steps_ahead_of_it():
    assert rma_reachable_steps("") == list(Ticket.RmaStatus.values)
    assert rma_reachable_steps("inspected") == ["replacement_shipped", "refunded"]
    assert rma_reachable_steps("refunded") == []


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_queue_actions_never_redirect_off_site(people, work, client, next_url):
    client.force_login(people["engineer"])
    response = client.post(f"/queue-items/{item(work).pk}/acknowledge/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/queues/engineering/"


# --- what the pages say: levels, labels, where an item went -----------------------------------


def said(response) -> list[tuple[str, str]]:
    """The messages a response left for the next page, as (level, text); they are then shown,
    so the next call sees only the next response's."""
    from django.contrib.messages import get_messages

    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    response.client.get(response["Location"])
    return messages


def test_every_queue_action_says_what_it_did_and_refusals_are_errors(people, work, client):
    client.force_login(people["engineer"])
    notification = item(work)
    ref = work.reference
    response = client.post(f"/queue-items/{notification.pk}/respond/", {"body": "  "})
    assert said(response) == [("error", f"{ref}: write the response before sending it.")]
    response = client.post("/queues/engineering/acknowledge/", {})
    assert said(response) == [("error", "Tick the items to take on first: none was selected.")]
    response = client.post(f"/queue-items/{notification.pk}/acknowledge/")
    assert said(response) == [("success", f"{ref} taken on: it is now under Acknowledged.")]
    response = client.post(f"/queue-items/{notification.pk}/respond/", {"body": "Looking"})
    assert said(response) == [
        ("success", f"Response recorded on {ref}: it is now under Acknowledged.")
    ]
    response = client.post(f"/queue-items/{notification.pk}/complete/")
    assert said(response) == [("success", f"{ref} marked done: it is now under Done.")]
    # Someone else's item: the refusal is an error, and it names the ticket.
    finance = item(work, "finance")
    notification_acknowledge(notification=finance, user=people["accountant"])
    client.force_login(people["admin"])
    response = client.post("/queues/finance/acknowledge/", {"items": [finance.pk]})
    page = client.get(response["Location"]).content.decode()
    assert (
        '<p class="message message-error" role="alert"><span class="message-level">Error:</span> '
        "None of the selected items was still new: nothing taken on.</p>"
    ) in page


def test_bulk_take_on_says_how_many_and_where_they_went(people, work, client, customer):
    ticket_create(customer=customer, kind="bug", channel="web", subject="Second")
    dispatch_pending()
    client.force_login(people["engineer"])
    ids = list(
        Notification.objects.filter(department__slug="engineering").values_list("pk", flat=True)
    )
    notification_acknowledge(notification=Notification.objects.get(pk=ids[0]), user=people["admin"])
    response = client.post("/queues/engineering/acknowledge/", {"items": ids})
    assert said(response) == [
        (
            "warning",
            "Took on 1 item of the 2 selected: they are now under Acknowledged. "
            "The others were not new in this queue.",
        )
    ]


def test_bulk_take_on_counts_each_item_once(people, work, client, customer):
    """An item ticked twice (two tabs' forms, a double submit) is one item, not a missing one."""
    client.force_login(people["engineer"])
    mine = item(work).pk
    response = client.post("/queues/engineering/acknowledge/", {"items": [mine, mine, mine]})
    assert said(response) == [("success", "Took on 1 item: they are now under Acknowledged.")]


def test_queue_filter_errors_name_fields_by_their_labels(people, work, client):
    client.force_login(people["engineer"])
    html = client.get("/queues/engineering/", {"older_than_hours": "x"}).content.decode()
    assert "Older than (hours): Enter a number." in html
    assert "older_than_hours:" not in html


def test_a_refused_queue_filter_lists_nothing_as_the_ticket_list_does(people, work, client):
    client.force_login(people["engineer"])
    assert len(client.get("/queues/engineering/").context["page"].object_list) == 1
    response = client.get("/queues/engineering/", {"older_than_hours": "-1"})
    assert response.context["page"].object_list == []
    html = response.content.decode()
    assert "Older than (hours): Ensure this value is greater than or equal to 0." in html
    assert work.reference not in html
    tickets = client.get("/tickets/", {"created_from": "soon"}).content.decode()
    assert '<div class="errors" role="alert"><p>Created from: Enter a valid date.</p></div>' in (
        tickets
    )


def test_shipping_return_steps_default_forward_and_say_what_is_wrong(client, customer):
    shipper = member("sam", "shipping")
    rule_create(
        name="Returns to shipping",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "rma"}]},
        actions=[{"type": "notify_department", "department": "shipping"}],
    )
    rma = ticket_create(customer=customer, kind="rma", channel="web", subject="Cracked")
    dispatch_pending()
    notification = item(rma, "shipping")
    client.force_login(shipper)
    for step in ("authorised", "awaiting_return", "received"):
        rma_advance(ticket=rma, status=step, actor=shipper)
    html = client.get("/queues/shipping/", {"item": notification.pk}).content.decode()
    # After "Received" the picker offers the next step, and the steps behind are not choosable.
    assert '<option value="inspected" selected>Inspected</option>' in html
    assert '<option value="authorised" disabled>Authorised</option>' in html
    assert 'name="carrier" maxlength="40"' in html
    url = f"/queue-items/{notification.pk}/return-step/"
    response = client.post(url, {"status": "authorised"})
    assert said(response) == [
        ("error", f"{rma.reference}: The return is already Received: steps go forward.")
    ]
    response = client.post(url, {"status": "inspected", "carrier": "X" * 41})
    assert said(response) == [
        ("error", f"{rma.reference}: Carrier: at most 40 characters (this has 41).")
    ]
    response = client.post(url, {"status": "inspected", "carrier": "DHL"})
    assert said(response) == [
        ("success", f"{rma.reference}: return step recorded, the return is now Inspected.")
    ]


def test_an_item_shows_its_tickets_status_and_marks_it_resolved(
    people, work, client, rep, django_assert_max_num_queries
):
    client.force_login(people["engineer"])
    html = client.get("/queues/engineering/").content.decode()
    assert '<span class="ticket-status">New</span>' in html
    assert "ticket-done" not in html
    with django_assert_max_num_queries(30) as before:
        client.get("/queues/engineering/")
    ticket_update(ticket=work, actor=rep, status="resolved", root_cause="other", resolution="ok")
    with django_assert_max_num_queries(len(before.captured_queries)):
        html = client.get("/queues/engineering/").content.decode()
    assert '<span class="badge ticket-done ticket-status">Resolved</span>' in html
    # The open item says so in words too.
    html = client.get("/queues/engineering/", {"item": item(work).pk}).content.decode()
    assert "The rep has resolved this ticket" in html


def test_an_unknown_queue_is_a_404_page_and_anothers_a_403_page(people, work, client):
    client.force_login(people["engineer"])
    missing = client.get("/queues/nope/")
    assert missing.status_code == 404
    assert "Page not found" in missing.content.decode()
    theirs = client.get("/queues/finance/")
    assert theirs.status_code == 403
    assert "<h1>Not allowed</h1>" in theirs.content.decode()
    for url in ("/queues/nope/acknowledge/", "/queues/nope/email/"):
        assert client.post(url, {}).status_code == 404
    refused = client.post("/queues/finance/acknowledge/", {"items": [item(work, "finance").pk]})
    assert refused.status_code == 403
    assert "<h1>Not allowed</h1>" in refused.content.decode()
    refused = client.post(f"/queue-items/{item(work, 'finance').pk}/complete/")
    assert refused.status_code == 403
    assert "<h1>Not allowed</h1>" in refused.content.decode()


def test_escalations_reach_the_lead_in_the_application(people, work, client):
    lead = member("lea", "engineering", lead=True)
    notification = item(work)
    queues_escalate(now=notification.due_at + timedelta(minutes=1))
    client.force_login(lead)
    page = client.get("/queues/engineering/")
    assert ("escalated", "Escalated", 1) in page.context["tabs"]
    page = client.get("/queues/engineering/", {"status": "escalated"})
    assert [i.pk for i in page.context["page"]] == [notification.pk]
    assert "Escalated to you" in page.content.decode()
    assert f'id="nav-escalated">1{HIDDEN} escalated to you</span>' in page.content.decode()
    assert client.get("/nav/counts/").json()["queues"]["escalated"] == 1
    # A member sees no such tab nor count; the admins get finance's, which has no lead.
    client.force_login(people["engineer"])
    page = client.get("/queues/engineering/", {"status": "escalated"})
    assert page.context["tab"] == "new"
    assert "escalated" not in [tab for tab, _, _ in page.context["tabs"]]
    assert client.get("/nav/counts/").json()["queues"]["escalated"] == 0
    client.force_login(people["admin"])
    assert client.get("/nav/counts/").json()["queues"]["escalated"] == 1
    # Taken on, it is no longer waiting: off the tab and the count.
    notification_acknowledge(notification=notification, user=people["engineer"])
    client.force_login(lead)
    assert client.get("/nav/counts/").json()["queues"]["escalated"] == 0
    assert 'id="nav-escalated"' not in client.get("/queues/engineering/").content.decode()


def test_an_admin_sees_the_escalations_that_reach_them_on_the_tab_and_in_the_nav(
    people, work, client
):
    """Engineering has a lead, finance none: the admin hears of finance's escalation only, and
    the queue pages' Escalated tab says the same as the navigation's count."""
    member("lea", "engineering", lead=True)
    for notification in Notification.objects.all():
        queues_escalate(now=notification.due_at + timedelta(minutes=1))
    assert Notification.objects.filter(escalated_at__isnull=False).count() == 2
    client.force_login(people["admin"])
    assert client.get("/nav/counts/").json()["queues"]["escalated"] == 1
    engineering = client.get("/queues/engineering/", {"status": "escalated"})
    assert "escalated" not in [tab for tab, _, _ in engineering.context["tabs"]]
    assert engineering.context["tab"] == "new"
    finance = client.get("/queues/finance/")
    assert ("escalated", "Escalated", 1) in finance.context["tabs"]
    assert f'id="nav-escalated">1{HIDDEN} escalated to you</span>' in finance.content.decode()


# --- the follow-up board: errors keep what was typed --------------------------------------------


def test_a_refused_outcome_keeps_the_input_and_shows_the_error_by_its_field(
    client, followup, salesperson
):
    client.force_login(salesperson)
    ref = followup.ticket.reference
    response = client.post(
        "/followups/",
        {"task": followup.pk, "outcome": "upsell", "notes": "Wants seats", "upsell_value": "-5"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        f"{ref}: not recorded. Estimated value: Ensure this value is greater than or equal to 0."
    ) in html
    assert 'class="message message-error" role="alert"' in html
    assert 'value="upsell" required checked' in html
    assert ">Wants seats</textarea>" in html
    assert 'name="upsell_value" value="-5" aria-invalid="true"' in html
    assert f'<ul class="errorlist" id="value-errors-{followup.pk}">' in html
    # What the service refuses lands by its field too.
    response = client.post(
        "/followups/", {"task": followup.pk, "outcome": "not_satisfied", "notes": " "}
    )
    html = response.content.decode()
    assert f"{ref}: not recorded. Notes: Say why the customer is not satisfied." in html
    assert f'<ul class="errorlist" id="notes-errors-{followup.pk}">' in html
    assert 'value="not_satisfied" required checked' in html
    followup.refresh_from_db()
    assert followup.status == "open"


def test_the_outcome_address_answers_a_get_with_the_board(client, followup, salesperson):
    client.force_login(salesperson)
    response = client.get(f"/followups/{followup.pk}/outcome/")
    assert response.status_code == 302
    assert response["Location"] == f"/followups/#followup-{followup.pk}"
    # Outcomes have one address on the pages, the board's: this one records nothing.
    response = client.post(f"/followups/{followup.pk}/outcome/", {"outcome": "satisfied"})
    assert response.status_code == 405
    followup.refresh_from_db()
    assert followup.status == "open"


def test_an_unanswered_call_says_when_it_is_due_again_from_the_services_answer(
    client, followup, salesperson
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(salesperson)
    again = timezone.localdate() + timedelta(days=3)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/followups/",
            {"task": followup.pk, "outcome": "no_answer", "reschedule_on": again.isoformat()},
        )
    reread = 'SELECT "routing_followuptask"."id", "routing_followuptask"."due_on" FROM'
    assert not [q for q in queries.captured_queries if q["sql"].startswith(reread)]
    assert said(response) == [
        (
            "success",
            f"Outcome recorded on {followup.ticket.reference} (No answer): it stays open, "
            f"due again {again:%Y-%m-%d}.",
        )
    ]


def test_a_services_refusal_lands_by_the_forms_own_field():
    """The follow-up board and Log a call show a service's errors the same way."""
    from queues.forms import OutcomeForm
    from tickets.forms import CallLogForm

    form = OutcomeForm({"outcome": "upsell"})
    assert form.is_valid()
    form.add_service_errors(ValidationError({"notes": "Say what.", "ticket": "Closed."}))
    assert form.errors == {"notes": ["Say what."], "__all__": ["Closed."]}
    form = CallLogForm({})
    form.is_valid()
    form.add_service_errors(ValidationError({"email": "Taken."}))
    assert form.errors["new_contact_email"] == ["Taken."]


def test_a_recorded_outcome_says_where_the_task_went(client, followup, salesperson):
    client.force_login(salesperson)
    response = client.post("/followups/", {"task": followup.pk, "outcome": "satisfied"})
    assert response.status_code == 302
    assert said(response) == [
        (
            "success",
            f"Outcome recorded on {followup.ticket.reference} (Reached and satisfied): "
            "it is now under Recently closed.",
        )
    ]


def test_the_board_shows_a_contract_not_started(client, followup, salesperson):
    customer = followup.customer
    customer.contract_starts_on = timezone.localdate() + timedelta(days=10)
    customer.contract_ends_on = timezone.localdate() + timedelta(days=375)
    customer.save()
    client.force_login(salesperson)
    html = client.get("/followups/").content.decode()
    starts = customer.contract_starts_on.isoformat()
    assert f"<strong>Contract not started:</strong> starts {starts}" in html


def test_who_was_told_costs_the_same_however_many_were_told(
    people, work, client, rep, django_assert_max_num_queries
):
    client.force_login(rep)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/tickets/{work.pk}/queues/")
    for slug in ("marketing", "shipping", "sales"):
        rule_create(
            name=f"Updates to {slug}",
            trigger="ticket.updated",
            conditions={},
            actions=[{"type": "notify_department", "department": slug}],
        )
    ticket_update(ticket=work, actor=rep, priority="high")
    dispatch_pending()
    for notification in Notification.objects.filter(ticket=work):
        notification_acknowledge(notification=notification, user=people["admin"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(f"/tickets/{work.pk}/queues/").content.decode()
    assert html.count('<tr id="told-') == 6  # five departments and the follow-up


def test_who_was_told_links_each_ticket_a_follow_up_opened_by_its_reference(
    people, work, client, rep, django_assert_max_num_queries
):
    def not_satisfied(task):
        followup_record_outcome(
            task=task,
            user=people["seller"],
            outcome="not_satisfied",
            notes="Still broken",
            not_satisfied_action="new_ticket",
        )

    not_satisfied(FollowUpTask.objects.get(ticket=work))
    client.force_login(rep)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/tickets/{work.pk}/queues/")
    rule_create(
        name="Call back after each change",
        trigger="ticket.updated",
        conditions={},
        actions=[{"type": "create_followup", "due_in_working_days": 1}],
    )
    for priority in ("high", "low"):
        ticket_update(ticket=work, actor=rep, priority=priority)
        dispatch_pending()
    for task in FollowUpTask.objects.filter(ticket=work, status="open"):
        not_satisfied(task)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(f"/tickets/{work.pk}/queues/").content.decode()
    opened = FollowUpTask.objects.filter(ticket=work).values_list("reopened_ticket", flat=True)
    assert len(set(opened)) == 3
    for ticket in Ticket.objects.filter(pk__in=opened):
        assert f'<a href="/tickets/{ticket.pk}/">{ticket.reference}</a>' in html


def test_the_board_says_amounts_with_their_currency_in_one_sentence(client, followup, salesperson):
    from tests.factories import InvoiceFactory

    today = timezone.localdate()
    InvoiceFactory(customer=followup.customer, amount="2300", due_on=today - timedelta(days=5))
    InvoiceFactory(customer=followup.customer, amount="150.5", due_on=today + timedelta(days=5))
    client.force_login(salesperson)
    html = client.get("/followups/").content.decode()
    assert "<strong>Overdue:</strong> USD 2,300.00 overdue of USD 2,450.50 unpaid" in html


def test_staff_emails_are_plain_text_written_as_typed(customer, engineer, smtp_server):
    rule_create(
        name="Bugs",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    ticket = ticket_create(
        customer=customer, kind="bug", channel="web", subject="Crash <on> save & exit"
    )
    dispatch_pending()  # routing stores the alert to erin, who asked for one per new item
    assert _alert_again(item(ticket)) == 0  # stored once only
    send_all()
    [message] = smtp_server.messages
    assert message["Subject"] == f"[Engineering] {ticket.reference} Crash <on> save & exit"
    assert "&amp;" not in message.get_payload()
