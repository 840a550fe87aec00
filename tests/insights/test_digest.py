"""The monthly root-cause digest against figures worked out by hand on a small fixed data set
over seven months (company time zone Europe/Berlin): who hears of what, the counts, shares,
changes and trends, when it is due, that each department hears once a month however often the
sweep runs, and the task through a real worker and SMTP server.

The data set, resolved tickets by root cause and month (March 2026 is the digest's month):

    cause (owner)                 Sep  Oct  Nov  Dec  Jan  Feb  Mar  Apr
    product defect (engineering)    1    2    1    0    3    1    6    1
    usability (engineering)         .    .    .    .    .    2    0    .
    documentation (marketing)       .    .    .    .    .    .    1    .
    installation (support)          .    .    .    .    .    .    1    .
    shipping damage (shipping)      .    .    .    .    .    1    0    .

March has 8 resolved tickets: product defects are 6 of them (75.0%), 5 more than February's 1.
"""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import Department, Membership
from deliveries import services as deliveries
from deliveries import staff_emails
from deliveries.models import EmailDelivery
from helpdesk.celery import app as celery_app
from insights import digest
from insights.filters import period_for
from insights.models import RootCauseOwner
from insights.tasks import send_root_cause_digests
from tests.conftest import wait_for
from tests.factories import CustomerFactory, UserFactory
from tests.test_settings import load
from tickets.models import Ticket
from tickets.services import ticket_create

BERLIN = ZoneInfo("Europe/Berlin")
SITE = "https://help.example.com"
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"
DUE = datetime(2026, 4, 1, 7, 0, tzinfo=BERLIN)  # the default day and hour


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def resolved(customer, cause, when, *, subject="", product="Reports", status="resolved"):
    ticket = ticket_create(
        customer=customer, kind="bug", channel="phone", subject=subject or f"{cause} {when:%x}"
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status, root_cause=cause, resolution="Fixed", resolved_at=when, product=product
    )
    return ticket


def member(username, slug, *, email_preference="immediate", is_active=True):
    user = UserFactory(username=username, is_active=is_active)
    Membership.objects.create(
        user=user, department=Department.objects.get(slug=slug), email_preference=email_preference
    )
    return user


@pytest.fixture
def company(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.SITE_URL = SITE
    settings.INSIGHTS_DIGEST_DAY, settings.INSIGHTS_DIGEST_HOUR = 1, 7


@pytest.fixture
def people(company):
    Department.objects.filter(slug="marketing").update(email="marketing@example.com")
    return {
        "erin": member("erin", "engineering"),
        "dana": member("dana", "engineering", email_preference="digest"),
        "olaf": member("olaf", "engineering", email_preference="none"),  # asked for no email
        "ivan": member("ivan", "engineering", is_active=False),  # left the company
        "mia": member("mia", "marketing"),  # the shared mailbox hears instead
        "sue": member("sue", "support"),
        "sam": member("sam", "shipping"),
    }


@pytest.fixture
def tickets(company):
    acme = CustomerFactory(name="Acme")
    defect = "product_defect"
    # September, the month before the trend's six: 23:30 on its last day is still September.
    resolved(acme, defect, at(2025, 9, 30, 23, 30))
    # 00:30 on October 1st is September 30th in UTC, and October here.
    resolved(acme, defect, at(2025, 10, 1, 0, 30))
    resolved(acme, defect, at(2025, 10, 20, 12))
    resolved(acme, defect, at(2025, 11, 10, 12))
    for day in (5, 12, 19):
        resolved(acme, defect, at(2026, 1, day, 12))
    resolved(acme, defect, at(2026, 2, 10, 12))
    resolved(acme, "usability", at(2026, 2, 11, 12))
    resolved(acme, "usability", at(2026, 2, 12, 12))
    resolved(acme, "shipping_damage", at(2026, 2, 13, 12))
    march = [
        # 00:15 on March 1st is still February in UTC: March's, and the oldest of them.
        resolved(acme, defect, at(2026, 3, 1, 0, 15), subject="Oldest crash", product=""),
        resolved(acme, defect, at(2026, 3, 3, 12), subject="Crash 2", product="Billing"),
        resolved(acme, defect, at(2026, 3, 9, 12), subject="Crash 3", product="Billing"),
        resolved(acme, defect, at(2026, 3, 16, 12), subject="Crash 4"),
        resolved(acme, defect, at(2026, 3, 23, 12), subject="Crash 5", status="closed"),
        # 23:30 on the last day, 21:30 UTC: March.
        resolved(acme, defect, at(2026, 3, 31, 23, 30), subject="Crash 6 & <freeze>"),
    ]
    docs = resolved(acme, "documentation", at(2026, 3, 20, 12), subject="Manual page 4 wrong")
    install = resolved(acme, "installation", at(2026, 3, 21, 12), status="closed")
    # Reopened, not resolved again: it does not count, whatever it was resolved with.
    resolved(acme, defect, at(2026, 3, 25, 12), status="open")
    # 00:30 on April 1st is March 31st in UTC, and April here.
    april = resolved(acme, defect, at(2026, 4, 1, 0, 30), subject="April crash")
    return {"march": march, "docs": docs, "install": install, "april": april}


def run(time_machine, when: datetime) -> int:
    time_machine.move_to(when, tick=False)
    return send_root_cause_digests.apply().get()


def emails(**filters) -> dict[str, EmailDelivery]:
    return {email.recipient: email for email in EmailDelivery.objects.filter(**filters)}


@pytest.mark.django_db
class TestTheDigest:
    def test_each_department_with_problems_hears_and_no_one_else(
        self, people, tickets, time_machine
    ):
        assert run(time_machine, DUE) == 4
        sent = emails()
        # Engineering's members but the one who asked for no email and the one who left;
        # marketing's shared mailbox instead of its members; shipping had none in March.
        assert set(sent) == {
            "erin@example.com",
            "dana@example.com",
            "marketing@example.com",
            "sue@example.com",
        }
        engineering = Department.objects.get(slug="engineering")
        marketing = Department.objects.get(slug="marketing")
        assert sent["erin@example.com"].key == (
            f"root-causes:2026-03:department:{engineering.pk}:user:{people['erin'].pk}"
        )
        assert sent["marketing@example.com"].key == (
            f"root-causes:2026-03:department:{marketing.pk}:shared"
        )
        assert sent["erin@example.com"].body == sent["dana@example.com"].body
        assert [sent[to].subject for to in sorted(sent)] == [
            "Switchboard: 6 tickets from Engineering's root causes in March 2026",
            "Switchboard: 6 tickets from Engineering's root causes in March 2026",
            "Switchboard: 1 ticket from Marketing's root causes in March 2026",
            "Switchboard: 1 ticket from Support's root causes in March 2026",
        ]

    def test_the_figures_trend_products_examples_and_links(self, people, tickets, time_machine):
        run(time_machine, DUE)
        body = emails()["erin@example.com"].body
        march = tickets["march"]
        report = f"{SITE}/insights/root-causes/"
        assert body.startswith(
            "Of the 8 tickets resolved in March 2026, 6 had a root cause that Engineering owns.\n"
            "\n"
            "Product defect: 6 tickets, 75.0% of all resolved\n"
            "  Against February: +5 (from 1)\n"
            "  Oct 2025 to Mar 2026: 2 → 1 → 0 → 3 → 1 → 6\n"
            "  Top products: Reports (3), Billing (2), no product named (1)\n"
            f"  T-{march[5].pk} Crash 6 & <freeze>\n"
            f"  {SITE}/tickets/{march[5].pk}/\n"
            f"  T-{march[4].pk} Crash 5\n"
        )
        # Five examples, the latest first: the oldest of the six is left out.
        for ticket in march[1:]:
            assert f"{SITE}/tickets/{ticket.pk}/" in body
        assert "Oldest crash" not in body
        assert f"T-{tickets['april'].pk}" not in body
        assert f"  Their list, with resolutions: {report}product_defect/?{MARCH}\n" in body
        # None in March but two in February: said, with the drop.
        assert (
            "Usability: 0 tickets, 0.0% of all resolved\n"
            "  Against February: -2 (from 2)\n"
            "  Oct 2025 to Mar 2026: 0 → 0 → 0 → 0 → 2 → 0\n"
            "\n"
        ) in body
        assert "Manufacturing" not in body  # none in either month
        assert "Documentation" not in body  # marketing's
        assert f"The whole report for March 2026: {report}?{MARCH}\n" in body

    def test_other_departments_see_their_own_causes(self, people, tickets, time_machine):
        run(time_machine, DUE)
        marketing = emails()["marketing@example.com"].body
        assert (
            "Documentation: 1 ticket, 12.5% of all resolved\n"
            "  Against February: +1 (from 0)\n"
            "  Oct 2025 to Mar 2026: 0 → 0 → 0 → 0 → 0 → 1\n"
            "  Top products: Reports (1)\n"
            f"  T-{tickets['docs'].pk} Manual page 4 wrong\n"
        ) in marketing
        assert "Product defect" not in marketing
        support = emails()["sue@example.com"].body
        assert "Installation: 1 ticket, 12.5% of all resolved" in support  # closed counts too

    def test_the_html_alternative_escapes_what_people_typed(
        self, people, tickets, time_machine, smtp_server
    ):
        run(time_machine, DUE)
        delivery = emails()["erin@example.com"]
        html = delivery.html_body
        assert "Crash 6 &amp; &lt;freeze&gt;" in html
        assert f'<a href="{SITE}/tickets/{tickets["march"][5].pk}/">' in html
        assert "2 → 1 → 0 → 3 → 1 → 6" in html
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "sent"
        [message] = smtp_server.messages
        assert message["To"] == "erin@example.com"
        assert [part.get_content_type() for part in message.walk()][1:] == [
            "text/plain",
            "text/html",
        ]

    def test_a_remapped_cause_is_heard_of_by_its_new_owner(self, people, tickets, time_machine):
        support = Department.objects.get(slug="support")
        RootCauseOwner.objects.filter(root_cause="documentation").update(department=support)
        # Nobody owns product defects any more: engineering's only other cause, usability,
        # had none in March, so engineering gets no digest at all.
        RootCauseOwner.objects.filter(root_cause="product_defect").update(department=None)
        assert run(time_machine, DUE) == 1
        [(recipient, email)] = emails().items()
        assert recipient == "sue@example.com"
        assert email.subject == "Switchboard: 2 tickets from Support's root causes in March 2026"
        assert "Documentation: 1 ticket" in email.body
        assert "Installation: 1 ticket" in email.body
        assert "Product defect" not in email.body

    def test_not_before_the_day_and_hour(self, settings, people, tickets, time_machine):
        assert run(time_machine, DUE - timedelta(minutes=1)) == 0
        settings.INSIGHTS_DIGEST_DAY, settings.INSIGHTS_DIGEST_HOUR = 3, 9
        assert run(time_machine, at(2026, 4, 1, 12)) == 0
        assert run(time_machine, at(2026, 4, 3, 8, 59)) == 0
        assert not EmailDelivery.objects.exists()
        assert run(time_machine, at(2026, 4, 3, 9, 0)) == 4

    def test_once_per_department_and_month_however_often_it_runs(
        self, people, tickets, time_machine
    ):
        assert run(time_machine, DUE) == 4
        assert run(time_machine, DUE) == 0
        assert run(time_machine, DUE + timedelta(hours=1)) == 0
        # Someone who joins in April does not get March's digest late: engineering has had it.
        member("nina", "engineering")
        assert run(time_machine, at(2026, 4, 20, 12)) == 0
        assert EmailDelivery.objects.count() == 4
        # May 1st: April's digest, of the one April defect, to engineering's three.
        assert run(time_machine, at(2026, 5, 1, 7)) == 3
        april = emails(key__startswith="root-causes:2026-04:")
        assert set(april) == {"erin@example.com", "dana@example.com", "nina@example.com"}
        assert f"T-{tickets['april'].pk} April crash" in april["nina@example.com"].body

    def test_a_day_missed_is_made_up_later_in_the_month(self, people, tickets, time_machine):
        assert run(time_machine, at(2026, 4, 9, 15)) == 4
        assert EmailDelivery.objects.filter(key__startswith="root-causes:2026-03:").count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_store_and_send_each_email_once(monkeypatch, people, tickets):
    both_looked = threading.Barrier(2, timeout=20)
    looked = digest.keys_stored

    def look_then_wait(prefix):
        # Both runs find nothing stored before either stores anything: the race beat and a
        # manual run (or two beats by mistake) can have.
        found = looked(prefix)
        both_looked.wait()
        return found

    monkeypatch.setattr(digest, "keys_stored", look_then_wait)
    enqueued: list[int] = []
    monkeypatch.setattr(staff_emails, "_send_all", enqueued.extend)  # the broker, stood in for
    stored: list[int] = []
    failures: list[BaseException] = []

    def one_run():
        try:
            stored.append(digest.root_cause_digests_send(now=DUE))
        except BaseException as exc:  # reported below, from the test's own thread
            failures.append(exc)
        finally:
            connections.close_all()

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=60)
    assert not failures
    assert sum(stored) == 4
    assert EmailDelivery.objects.count() == 4
    assert sorted(enqueued) == sorted(EmailDelivery.objects.values_list("pk", flat=True))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_sends_the_task_hourly_and_the_worker_emails_the_digest_once(
    settings, live_worker, smtp_server
):
    # The real clock: the digest is due from the first hour of the first day, so whatever the
    # date, last month's is due now.
    settings.TIME_ZONE = "Europe/Berlin"
    settings.SITE_URL = SITE
    settings.INSIGHTS_DIGEST_DAY, settings.INSIGHTS_DIGEST_HOUR = 1, 0
    member("erin", "engineering")
    last_month = period_for("month", today=timezone.localdate(), first=None, last=None)
    when = timezone.make_aware(datetime.combine(last_month.first, datetime.min.time()))
    ticket = resolved(
        CustomerFactory(), "product_defect", when + timedelta(hours=12), subject="Crash on save"
    )

    # As beat sends it, from its schedule, every hour: twice here, before the worker has run
    # either.
    [entry] = [
        entry
        for entry in celery_app.conf.beat_schedule.values()
        if entry["task"] == "insights.tasks.send_root_cause_digests"
    ]
    assert entry["schedule"] == 3600.0
    for _ in range(2):
        celery_app.send_task(entry["task"])
    # The worker takes its queue in order, one at a time: once this email is sent, both runs
    # are over.
    marker = EmailDelivery.objects.create(recipient="marker@example.com", subject="M", body="M")
    celery_app.send_task("routing.tasks.send_email_delivery", args=[marker.pk])

    wait_for(lambda: EmailDelivery.objects.filter(status="sent").count() == 2)
    [message] = [m for m in smtp_server.messages if m["To"] == "erin@example.com"]
    assert message["Subject"] == (
        f"Switchboard: 1 ticket from Engineering's root causes in {last_month.first:%B %Y}"
    )
    [text, html] = [part for part in message.walk() if not part.is_multipart()]
    assert f"T-{ticket.pk} Crash on save" in text.get_payload(decode=True).decode()
    assert f'<a href="{SITE}/tickets/{ticket.pk}/">' in html.get_payload(decode=True).decode()
    assert EmailDelivery.objects.filter(key__startswith="root-causes:").count() == 1


def test_the_day_and_hour_are_read_from_the_environment_and_checked():
    assert load(DJANGO_SECRET_KEY="s", INSIGHTS_DIGEST_DAY="28").returncode == 0
    for env, message in [
        ({"INSIGHTS_DIGEST_DAY": "29"}, "INSIGHTS_DIGEST_DAY must be a day from 1 to 28"),
        ({"INSIGHTS_DIGEST_HOUR": "24"}, "INSIGHTS_DIGEST_HOUR must be an hour from 0 to 23"),
        ({"INSIGHTS_DIGEST_DAY": "first"}, "INSIGHTS_DIGEST_DAY='first' is not an integer"),
    ]:
        result = load(DJANGO_SECRET_KEY="s", **env)
        assert result.returncode != 0
        assert message in result.stderr
