"""The start page: a section for each role the user holds, what needs them now, most urgent
first; every count a link to the list of exactly those items."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department, Membership
from conversations.models import InboundMessage
from deliveries.models import EmailDelivery, Webhook, WebhookDelivery
from queues.followups import followup_record_outcome
from queues.models import FollowUpTask, Notification
from queues.services import notification_acknowledge, notification_complete
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, UserFactory
from tickets.calls import call_add, call_log
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.services import note_add, ticket_create, ticket_update

pytestmark = pytest.mark.django_db

SECTIONS = ("home-routing", "home-queue-", "home-followups", "home-rep", "home-nothing")
COUNT = re.compile(r'<a class="count[^"]*" href="([^"]+)">(\d+)</a>')


def member(username, *slugs, **fields):
    user = UserFactory(username=username, **fields)
    for slug in slugs:
        Membership.objects.create(user=user, department=Department.objects.get(slug=slug))
    return user


def page(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, section_id: str) -> str:
    """The HTML of one section of the start page (sections do not nest)."""
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def section_ids(html: str) -> list[str]:
    """The start page's sections, in the order shown."""
    return re.findall(r'<section class="card home-section[^"]*" id="([^"]+)"', html)


def counts(html: str) -> list[tuple[str, int]]:
    """Each count shown, with where its link goes, in order; ``&amp;`` read as ``&``."""
    return [(href.replace("&amp;", "&"), int(n)) for href, n in COUNT.findall(html)]


def resolve(ticket, rep):
    return ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="usability", resolution="Shown"
    )


# --- the rep ------------------------------------------------------------------------------------


@pytest.fixture
def rep_work(rep, customer):
    """Tickets of every kind of relevance to the rep; ``rep_work[name]`` is each."""
    other = member("ravi", "support")
    now = timezone.now()
    made = {
        "normal": ticket_create(
            customer=customer, kind="bug", channel="phone", subject="Crash", assignee=rep
        ),
        "urgent": ticket_create(
            customer=customer,
            kind="call",
            channel="phone",
            subject="Down",
            assignee=rep,
            priority="urgent",
        ),
        "pending": ticket_create(
            customer=customer,
            kind="rfe",
            channel="email",
            subject="Dark mode",
            assignee=rep,
            priority="low",
        ),
        "resolved": ticket_create(
            customer=customer, kind="call", channel="phone", subject="Done", assignee=rep
        ),
        "ravis": ticket_create(
            customer=customer, kind="call", channel="phone", subject="Theirs", assignee=other
        ),
        "unassigned": ticket_create(customer=customer, kind="call", channel="web", subject="?"),
    }
    ticket_update(ticket=made["pending"], actor=rep, status="pending")
    resolve(made["resolved"], rep)
    # The oldest open one: listed after the urgent one all the same.
    Ticket.objects.filter(pk=made["normal"].pk).update(created_at=now - timedelta(days=3))
    Ticket.objects.filter(pk=made["pending"].pk).update(created_at=now - timedelta(days=5))
    return made


def test_a_rep_sees_their_open_tickets_most_urgent_first(client, rep, rep_work):
    html = page(client, rep)
    rep_section = section(html, "home-rep")
    assert counts(rep_section) == [("/tickets/mine/", 3), ("/tickets/mine/?priority=urgent", 1)]
    listed = re.findall(r'<td><a href="/tickets/(\d+)/">T-\d+</a></td>', rep_section)
    assert [int(pk) for pk in listed] == [
        rep_work["urgent"].pk,  # urgent first
        rep_work["normal"].pk,  # normal
        rep_work["pending"].pk,  # low, though the oldest
    ]
    assert "Theirs" not in rep_section
    assert "Done" not in rep_section
    # A rep is a member of support: its queue is theirs too (empty, so after the urgent ticket),
    # and no other role's section is.
    assert section_ids(html) == ["home-rep", "home-queue-support"]


def test_a_reps_counts_link_to_lists_of_exactly_those_tickets(client, rep, rep_work):
    html = page(client, rep)
    for href, count in counts(section(html, "home-rep")):
        listed = client.get(href).context["page"].object_list
        assert len(listed) == count, href
    mine = client.get("/tickets/mine/").context["page"].object_list
    assert {t.pk for t in mine} == {rep_work[n].pk for n in ("normal", "urgent", "pending")}
    urgent = client.get("/tickets/mine/?priority=urgent").context["page"].object_list
    assert [t.pk for t in urgent] == [rep_work["urgent"].pk]


def test_only_the_first_ten_tickets_are_listed_and_the_count_says_how_many(client, rep, customer):
    for index in range(12):
        ticket_create(
            customer=customer, kind="call", channel="phone", subject=f"No {index}", assignee=rep
        )
    rep_section = section(page(client, rep), "home-rep")
    assert counts(rep_section)[0] == ("/tickets/mine/", 12)
    assert len(re.findall(r'<td><a href="/tickets/\d+/">', rep_section)) == 10
    assert "The 10 most urgent" in rep_section


def _waiting_mail(status: str, count: int) -> None:
    for index in range(count):
        InboundMessage.objects.create(
            source="pipe",
            dedupe_key=f"id:<{status}{index}@example.com>",
            sha256=f"{index:064d}",
            raw="mail/raw/none.eml",
            size=1,
            status=status,
        )


def test_a_rep_sees_the_mail_waiting_for_a_rep_linked_to_exactly_it(client, rep):
    """A new customer's first email waits in triage until a rep says who wrote it: the rep's
    section says so, and each count opens the Mail page's tab that lists those messages."""
    _waiting_mail("triage", 2)
    _waiting_mail("quarantined", 1)
    html = page(client, rep)
    rep_section = section(html, "home-rep")
    mail = [(href, n) for href, n in counts(rep_section) if href.startswith("/mail/")]
    assert mail == [("/mail/?view=triage", 2), ("/mail/?view=quarantined", 1)]
    assert "2 messages from unknown senders" in re.sub(r"<[^>]+>", "", rep_section)
    for href, count in mail:
        assert len(client.get(href).context["page"].object_list) == count, href


def test_a_rep_is_told_nothing_of_mail_when_none_waits(client, rep):
    _waiting_mail("ticket", 1)
    assert 'id="home-rep-mail"' not in section(page(client, rep), "home-rep")


@time_machine.travel(datetime(2026, 3, 10, 3, 0, tzinfo=UTC), tick=False)
def test_todays_calls_are_the_reps_own_of_the_companys_day(client, settings, rep, customer):
    # 03:00 UTC is 23:00 on the 9th in New York: the company's day began 27 hours ago in UTC.
    settings.TIME_ZONE = "America/New_York"
    colleague = member("ravi", "support")
    started = timezone.now() - timedelta(minutes=4, seconds=5)
    logged = call_log(
        rep=rep, customer=customer, kind="call", subject="Password reset", started_at=started
    )
    again = call_add(
        ticket=logged, rep=rep, body="Called back", started_at=timezone.now() - timedelta(hours=1)
    )
    morning = call_add(ticket=logged, rep=rep, body="Early call", started_at=started)
    night_before = call_add(ticket=logged, rep=rep, body="Late call", started_at=started)
    call_add(ticket=logged, rep=colleague, body="Not mine", started_at=started)
    note_add(ticket=logged, author=rep, body="A note, not a call")
    # 01:00 in New York on the 9th (today there, yesterday in UTC); 23:30 on the 8th.
    TimelineEntry.objects.filter(pk=morning.pk).update(
        created_at=datetime(2026, 3, 9, 5, 0, tzinfo=UTC)
    )
    TimelineEntry.objects.filter(pk=night_before.pk).update(
        created_at=datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
    )

    rep_section = section(page(client, rep), "home-rep")
    assert "3 calls logged today" in rep_section
    entries = [int(pk) for pk in re.findall(r'/tickets/\d+/#entry-(\d+)"', rep_section)]
    first = logged.timeline.get(kind="created")
    assert entries == [again.pk, first.pk, morning.pk]  # newest first
    # The length of each call is shown as what it was, no total, no comparison.
    assert "call 4m 05s" in rep_section
    assert "call 1h 00m" in rep_section


# --- department members ---------------------------------------------------------------------------


@pytest.fixture
def engineer():
    return member("erin", "engineering")


@pytest.fixture
def queue_work(customer, engineer, rep):
    """Engineering's queue: three new items (one past its target), one taken on, one done today
    and one done yesterday; and one item in finance's queue."""
    rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    rule_create(
        name="Returns to finance",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "rma"}]},
        actions=[{"type": "notify_department", "department": "finance"}],
    )
    for index in range(6):
        ticket_create(customer=customer, kind="bug", channel="phone", subject=f"Bug {index}")
    ticket_create(
        customer=customer,
        kind="rma",
        channel="phone",
        subject="Return",
        rma_serial_number="S",
        rma_order_number="O",
        rma_reason="Broken",
    )
    dispatch_pending()
    now = timezone.now()
    items = list(Notification.objects.filter(department__slug="engineering").order_by("id"))
    late, oldest, fresh, taken, done, done_before = items
    Notification.objects.filter(department__slug="engineering").update(
        due_at=now + timedelta(hours=4)
    )
    Notification.objects.filter(pk=late.pk).update(
        due_at=now - timedelta(minutes=5), created_at=now - timedelta(hours=2)
    )
    Notification.objects.filter(pk=oldest.pk).update(created_at=now - timedelta(hours=3))
    notification_acknowledge(notification=taken, user=engineer)
    notification_complete(notification=done, user=engineer)
    notification_complete(notification=done_before, user=engineer)
    yesterday = timezone.localtime(now).replace(hour=0, minute=0) - timedelta(minutes=1)
    Notification.objects.filter(pk=done_before.pk).update(done_at=yesterday)
    return {"new": {late.pk, oldest.pk, fresh.pk}, "late": late, "taken": taken}


def test_a_department_member_sees_their_queues_health(client, engineer, queue_work):
    html = page(client, engineer)
    assert section_ids(html) == ["home-queue-engineering"]
    queue = section(html, "home-queue-engineering")
    assert counts(queue) == [
        ("/queues/engineering/", 3),
        ("/queues/engineering/?overdue=true", 1),
        ("/queues/engineering/?status=acknowledged&taken=mine", 1),
    ]
    assert "the oldest has waited" in queue
    assert re.search(r">3\xa0hours</time>", queue)  # the longest-waiting new item, in hours
    assert "1 done today" in queue
    assert "Finance" not in html  # not their department's queue


def test_queue_counts_link_to_lists_of_exactly_those_items(client, engineer, queue_work):
    html = page(client, engineer)
    listed = {}
    for href, count in counts(section(html, "home-queue-engineering")):
        items = client.get(href).context["page"].object_list
        assert len(items) == count, href
        listed[href] = {item.pk for item in items}
    assert listed["/queues/engineering/"] == queue_work["new"]
    assert listed["/queues/engineering/?overdue=true"] == {queue_work["late"].pk}
    assert listed["/queues/engineering/?status=acknowledged&taken=mine"] == {queue_work["taken"].pk}


def test_a_member_of_several_departments_sees_each_queue_the_late_one_first(
    client, customer, queue_work
):
    both = member("eve", "finance", "engineering")
    html = page(client, both)
    # Engineering has an item past its target; finance's only item is merely new.
    assert section_ids(html) == ["home-queue-engineering", "home-queue-finance"]
    assert counts(section(html, "home-queue-finance")) == [
        ("/queues/finance/", 1),
        ("/queues/finance/?overdue=true", 0),
        ("/queues/finance/?status=acknowledged&taken=mine", 0),
    ]
    Notification.objects.filter(department__slug="finance").update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    Notification.objects.filter(department__slug="engineering").update(
        due_at=timezone.now() + timedelta(hours=1)
    )
    assert section_ids(page(client, both)) == ["home-queue-finance", "home-queue-engineering"]


# --- salespeople --------------------------------------------------------------------------------


@pytest.fixture
def sales_work(customer, salesperson, rep):
    """The seller's follow-ups: two overdue, one due today, one upcoming, an up-sell this month
    and one last month, one satisfied; and a colleague's overdue one."""
    rule_create(
        name="Follow up resolved tickets",
        trigger="ticket.status_changed",
        conditions={"all": [{"field": "status", "operator": "changed_to", "value": "resolved"}]},
        actions=[{"type": "create_followup", "due_in_working_days": 2, "reason": "Check"}],
    )
    colleague = member("steve", "sales")
    theirs = CustomerFactory(name="Steve's Co", salesperson=colleague)
    for index in range(7):
        resolve(
            ticket_create(customer=customer, kind="call", channel="phone", subject=f"Q{index}"), rep
        )
    resolve(ticket_create(customer=theirs, kind="call", channel="phone", subject="Theirs"), rep)
    dispatch_pending()
    today = timezone.localdate()
    tasks = list(FollowUpTask.objects.filter(salesperson=salesperson).order_by("id"))
    overdue, older, due_today, upcoming, upsell, last_month, satisfied = tasks
    days = {overdue: -1, older: -3, due_today: 0, upcoming: 5}
    for task, offset in days.items():
        FollowUpTask.objects.filter(pk=task.pk).update(due_on=today + timedelta(days=offset))
    FollowUpTask.objects.filter(salesperson=colleague).update(due_on=today - timedelta(days=2))
    followup_record_outcome(
        task=upsell,
        user=salesperson,
        outcome="upsell",
        notes="Wants ten more seats",
        upsell_value=Decimal("1500.00"),
    )
    followup_record_outcome(
        task=last_month, user=salesperson, outcome="upsell", notes="A second site"
    )
    first_of_month = timezone.localtime().replace(day=1, hour=0, minute=0, second=0)
    FollowUpTask.objects.filter(pk=last_month.pk).update(
        completed_at=first_of_month - timedelta(seconds=1)
    )
    followup_record_outcome(task=satisfied, user=salesperson, outcome="satisfied")
    return {"overdue": {overdue.pk, older.pk}, "due_today": {due_today.pk}, "upsell": upsell}


def test_a_salesperson_sees_follow_ups_and_this_months_up_sells(client, salesperson, sales_work):
    html = page(client, salesperson)
    # A member of sales has sales' queue (empty here) as well.
    assert section_ids(html) == ["home-followups", "home-queue-sales"]
    followups = section(html, "home-followups")
    assert counts(followups) == [
        ("/followups/#group-1", 2),
        ("/followups/#group-2", 1),
        ("/followups/", 4),
    ]
    assert "1 up-sell recorded since the first of the month, USD 1,500.00 estimated" in followups
    assert "Wants ten more seats" in followups
    assert "A second site" not in followups  # last month's
    assert "sales team" not in followups  # their own only


def test_follow_up_counts_link_to_the_boards_groups_of_exactly_those(
    client, salesperson, sales_work
):
    html = page(client, salesperson)
    board = client.get("/followups/")
    groups = dict(board.context["groups"])
    assert [label for label, _ in board.context["groups"]] == ["Overdue", "Due today", "Upcoming"]
    by_anchor = {"#group-1": groups["Overdue"], "#group-2": groups["Due today"]}
    for href, count in counts(section(html, "home-followups")):
        anchor = href.removeprefix("/followups/")
        listed = by_anchor[anchor] if anchor else [t for tasks in groups.values() for t in tasks]
        assert len(listed) == count, href
    assert {t.pk for t in groups["Overdue"]} == sales_work["overdue"]
    assert {t.pk for t in groups["Due today"]} == sales_work["due_today"]
    assert 'id="group-1">Overdue' in board.content.decode()


def test_the_owner_of_a_customer_is_a_salesperson_without_being_in_sales(client, db):
    owner = UserFactory(username="owner")
    assert "home-followups" not in page(client, owner)
    CustomerFactory(name="Owned", salesperson=owner)
    followups = section(page(client, owner), "home-followups")
    assert "No follow-up calls are open" in followups
    assert "No up-sells recorded this month yet" in followups


# --- admins ---------------------------------------------------------------------------------------


@pytest.fixture
def routing_work(customer):
    """Two events stuck for five minutes (one given up on), one just made, one dispatched; two
    failed emails, one failed webhook call; two unknown senders and one quarantined message."""
    dispatched = ticket_create(customer=customer, kind="call", channel="web", subject="Routed")
    dispatch_pending()
    stuck = ticket_create(customer=customer, kind="call", channel="web", subject="Stuck")
    poisoned = ticket_create(customer=customer, kind="call", channel="web", subject="Poison")
    ticket_create(customer=customer, kind="call", channel="web", subject="Just now")
    five_minutes_ago = timezone.now() - timedelta(minutes=5)
    TicketEvent.objects.filter(ticket__in=[stuck, poisoned, dispatched]).update(
        created_at=five_minutes_ago
    )
    TicketEvent.objects.filter(ticket=poisoned).update(dispatch_failures=10)
    for status in ("failed", "failed", "sent", "retrying"):
        EmailDelivery.objects.create(
            recipient="x@example.com", subject="S", body="B", status=status
        )
    rule = rule_create(
        name="Tell the CRM",
        trigger="ticket.created",
        is_active=False,  # made the calls below, then switched off
        actions=[{"type": "notify_department", "department": "shipping"}],
    )
    for index, status in enumerate(("failed", "sent", "sent", "retrying")):
        WebhookDelivery.objects.create(
            event=stuck.events.get(),
            rule=rule,
            webhook=Webhook.objects.create(name=f"crm-{index}", url="https://crm.example/"),
            ticket=stuck,
            payload={},
            status=status,
        )
    for index, status in enumerate(("triage", "triage", "quarantined", "ticket", "pending")):
        InboundMessage.objects.create(
            source="pipe",
            dedupe_key=f"<m{index}@example.com>",
            sha256="0" * 64,
            raw="mail/raw/none.eml",
            size=1,
            status=status,
        )
    return {"stuck": {stuck.pk, poisoned.pk}, "poisoned": poisoned}


def test_an_admin_sees_routing_health(client, admin_user, routing_work):
    html = page(client, admin_user)
    assert section_ids(html) == ["home-routing"]
    routing = section(html, "home-routing")
    shown = counts(routing)
    assert [n for _, n in shown] == [2, 1, 2, 1, 2, 1]
    hrefs = [href for href, _ in shown]
    assert hrefs[0].startswith("/admin/tickets/ticketevent/?dispatched_at__isnull=True")
    assert "dispatch_failures__gte=10" in hrefs[1]
    assert hrefs[2:] == [
        "/admin/deliveries/emaildelivery/?status__exact=failed",
        "/admin/deliveries/webhookdelivery/?status__exact=failed",
        "/mail/?view=triage",
        "/mail/?view=quarantined",
    ]
    assert "no longer retried after 10 failures" in routing


def test_routing_counts_link_to_lists_of_exactly_those_rows(client, admin_user, routing_work):
    html = page(client, admin_user)
    shown = counts(section(html, "home-routing"))
    for href, count in shown:
        response = client.get(href)
        assert response.status_code == 200, href
        if href.startswith("/admin/"):
            rows = list(response.context["cl"].result_list)
        else:
            rows = list(response.context["page"].object_list)
        assert len(rows) == count, href
        if "ticketevent" in href and "dispatch_failures" not in href:
            assert {event.ticket_id for event in rows} == routing_work["stuck"]
        if "dispatch_failures" in href:
            assert [event.ticket_id for event in rows] == [routing_work["poisoned"].pk]
        if "delivery" in href:
            assert {row.status for row in rows} == {"failed"}


def test_staff_without_the_view_permissions_do_not_see_routing_health(client, db):
    staff = UserFactory(username="clerk", is_staff=True)
    assert "home-routing" not in page(client, staff)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_ticketevent", "view_emaildelivery", "view_webhookdelivery"]
        )
    )
    staff = type(staff).objects.get(pk=staff.pk)  # permissions are cached on the instance
    assert "home-routing" in page(client, staff)


def test_routing_health_when_all_is_well_says_so(client, admin_user):
    routing = section(page(client, admin_user), "home-routing")
    assert [n for _, n in counts(routing)] == [0, 0, 0, 0, 0]
    assert "Routing is keeping up" in routing


# --- several roles, none -------------------------------------------------------------------------


def test_a_rep_who_is_an_admin_sees_both_the_late_section_first(client, customer, routing_work):
    boss = member("ada", "support", is_staff=True, is_superuser=True)
    ticket_create(customer=customer, kind="call", channel="phone", subject="Mine", assignee=boss)
    html = page(client, boss)
    # Routing has failures (late); the rep has an open ticket and the queue nothing (waiting).
    assert section_ids(html) == ["home-routing", "home-rep", "home-queue-support"]
    assert counts(section(html, "home-rep"))[0] == ("/tickets/mine/", 1)


def test_an_urgent_ticket_puts_the_reps_section_before_a_quiet_routing(client, customer):
    boss = member("ada", "support", is_staff=True, is_superuser=True)
    html = page(client, boss)
    assert section_ids(html) == ["home-routing", "home-queue-support", "home-rep"]
    ticket_create(
        customer=customer,
        kind="call",
        channel="phone",
        subject="Down",
        assignee=boss,
        priority="urgent",
    )
    dispatch_pending()
    assert section_ids(page(client, boss))[0] == "home-rep"


def test_someone_with_no_role_is_told_what_to_do_next(client, db):
    html = page(client, UserFactory(username="newcomer"))
    assert section_ids(html) == ["home-nothing"]
    assert "ask an admin to add you" in html


def test_an_empty_reps_section_says_what_to_do_next(client, rep):
    rep_section = section(page(client, rep), "home-rep")
    assert counts(rep_section) == []
    assert 'href="/tickets/unassigned/">New and unassigned</a>' in rep_section
    assert "No calls logged today yet" in rep_section
    queue = section(page(client, rep), "home-queue-support")
    assert "Nothing new is waiting in the Support queue" in queue
    assert 'href="/queues/support/?status=acknowledged&amp;taken=mine">0</a>' in queue


# --- cost ---------------------------------------------------------------------------------------


def _queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured.captured_queries)


def _more_of_everything(user, customer, salesperson, rep, index):
    """One more of each thing the start page counts or lists, for ``user``."""
    ticket = ticket_create(
        customer=customer, kind="bug", channel="phone", subject=f"More {index}", assignee=user
    )
    call_add(ticket=ticket, rep=user, body="Called", started_at=timezone.now())
    resolve(ticket_create(customer=customer, kind="call", channel="phone", subject="F"), rep)
    dispatch_pending()
    task = FollowUpTask.objects.filter(status="open").order_by("-id").first()
    followup_record_outcome(task=task, user=salesperson, outcome="upsell", notes="More seats")
    ticket_create(customer=customer, kind="call", channel="web", subject="Stuck")
    TicketEvent.objects.filter(dispatched_at__isnull=True).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    EmailDelivery.objects.create(recipient="x@example.com", subject="S", body="B", status="failed")
    InboundMessage.objects.create(
        source="pipe",
        dedupe_key=f"<more{index}@example.com>",
        sha256="0" * 64,
        raw="mail/raw/none.eml",
        size=1,
        status="triage",
    )


def test_the_page_costs_the_same_queries_however_much_there_is(client, customer, salesperson, rep):
    rule_create(
        name="Everything",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[
            {"type": "notify_department", "department": "engineering"},
            {"type": "notify_department", "department": "support"},
        ],
    )
    rule_create(
        name="Follow up",
        trigger="ticket.status_changed",
        conditions={"all": [{"field": "status", "operator": "changed_to", "value": "resolved"}]},
        actions=[{"type": "create_followup", "due_in_working_days": 0, "reason": "Check"}],
    )
    # Every role at once: a rep and admin, in two departments and in sales.
    everyone = member("ada", "support", "engineering", "sales", is_staff=True, is_superuser=True)
    _more_of_everything(everyone, customer, salesperson, rep, 0)
    few = _queries(client, everyone)
    for index in range(1, 6):
        _more_of_everything(everyone, customer, salesperson, rep, index)
    html = page(client, everyone)
    assert set(section_ids(html)) == {
        "home-routing",
        "home-queue-engineering",
        "home-queue-sales",
        "home-queue-support",
        "home-followups",
        "home-rep",
    }
    assert counts(section(html, "home-rep"))[0] == ("/tickets/mine/", 6)
    assert _queries(client, everyone) == few


def test_the_navigations_counts_are_one_answer_for_signed_in_users(client):
    """What the badges' refresh reads every interval on every open page: one request, a fixed
    handful of queries, for the queues and the mail alike; nobody signed in learns nothing."""
    response = client.get("/nav/counts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    engineer = member("erin", "engineering")
    rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    ticket_create(customer=CustomerFactory(), kind="bug", channel="phone", subject="Crash")
    dispatch_pending()
    InboundMessage.objects.create(dedupe_key="id:x", sha256="0" * 64, raw="x", size=1,
                                  status=InboundMessage.Status.TRIAGE)  # fmt: skip
    client.force_login(engineer)
    with CaptureQueriesContext(connection) as queries:
        counts = client.get("/nav/counts/").json()
    # The session, the user, the queues' counts and the mail's.
    assert len(queries.captured_queries) == 4
    assert counts["queues"]["new_items"] == 1
    assert [q["slug"] for q in counts["queues"]["queues"]] == ["engineering"]
    assert counts["mail"] == {"waiting": 1}
    assert client.post("/nav/counts/").status_code == 405
