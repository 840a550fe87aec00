"""`manage.py install_starter_rules` and `manage.py seed_demo`: what the README says of them."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Customer, Membership
from accounts.selectors import contract_state, customer_standing
from demo.data import DEMO_PASSWORD, STAFF
from queues.models import FollowUpTask, Notification
from routing.models import RoutingRun, Rule
from routing.services import rule_update
from routing.starter_rules import STARTER_RULES
from tests.conftest import dispatch_pending
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


class TestInstallStarterRules:
    def test_creates_each_starter_rule_once(self):
        output = run("install_starter_rules")
        names = [spec["name"] for spec in STARTER_RULES]
        assert sorted(Rule.objects.values_list("name", flat=True)) == sorted(names)
        assert f"{len(names)} starter rules created." in output
        assert all(f"Created rule: {name}" in output for name in names)
        assert "0 starter rules created." in run("install_starter_rules")
        assert Rule.objects.count() == len(names)

    def test_a_rule_edited_by_an_admin_is_left_as_edited_and_a_deleted_one_comes_back(self):
        run("install_starter_rules")
        edited, removed = Rule.objects.order_by("id")[:2]
        rule_update(rule=edited, description="Ours now")
        removed_name = removed.name
        removed.delete()
        output = run("install_starter_rules")
        assert output.strip().splitlines() == [
            f"Created rule: {removed_name}",
            "1 starter rules created.",
        ]
        edited.refresh_from_db()
        assert edited.description == "Ours now"


class TestSeedDemo:
    def test_every_login_of_the_readme_works_with_the_printed_token(self):
        output = run("seed_demo")
        for username in ["admin"] + [row[0] for row in STAFF]:
            user = authenticate(username=username, password=DEMO_PASSWORD)
            assert user is not None, username
            assert f"API token {Token.objects.get(user=user).key}" in output
        assert authenticate(username="admin", password=DEMO_PASSWORD).is_superuser
        for username, _first, _last, slug, is_lead in STAFF:
            membership = Membership.objects.get(user__username=username)
            assert (membership.department.slug, membership.is_lead) == (slug, is_lead)

    def test_the_email_channel_has_a_ticket_and_a_sender_waiting_for_a_rep(self):
        from conversations.models import InboundMessage, Mailbox, ReplyTemplate

        run("seed_demo")
        run("seed_demo")  # nothing twice
        assert Mailbox.objects.count() == 1
        assert ReplyTemplate.objects.count() == 2
        statuses = sorted(InboundMessage.objects.values_list("status", flat=True))
        assert statuses == ["ticket", "triage"]
        emailed = Ticket.objects.filter(messages__isnull=False).distinct().get()
        assert emailed.channel == "email"
        assert emailed.subject == "Export to PDF cuts the last page"

    def test_customers_cover_every_financial_situation(self):
        run("seed_demo")
        today = timezone.localdate()
        by_name = {c.name.split()[0]: c for c in Customer.objects.all()}
        standing = {name: customer_standing(customer_id=c.pk) for name, c in by_name.items()}
        state = {name: contract_state(c, today=today) for name, c in by_name.items()}
        assert state["Acme"] == "active"
        assert (
            standing["Birch"].unpaid_invoice_count,
            standing["Birch"].overdue_invoice_count,
        ) == (
            1,
            0,
        )
        assert standing["Cobalt"].overdue_invoice_count == 1
        assert by_name["Delta"].pay_for_bug
        assert state["Evergreen"] == "expired"
        assert standing["Evergreen"].unpaid_invoice_count == 0
        assert state["Fjord"] == "ending_soon"
        assert standing["Fjord"].overdue_invoice_count == 1

    def test_the_six_tickets_are_routed_as_the_readme_says(self):
        run("seed_demo")
        dispatch_pending()
        assert Ticket.objects.filter(messages__isnull=True).count() == 6
        assert RoutingRun.objects.count() == TicketEvent.objects.count()
        cobalt_bug = Ticket.objects.get(customer__name__startswith="Cobalt", kind="bug")
        assert set(
            Notification.objects.filter(ticket=cobalt_bug).values_list(
                "department__slug", flat=True
            )
        ) == {"engineering", "finance"}
        fixed = Ticket.objects.get(status="resolved")
        assert FollowUpTask.objects.get(ticket=fixed).salesperson.username == "sally"

    def test_running_it_again_adds_nothing(self):
        run("seed_demo")
        counts = (Customer.objects.count(), Rule.objects.count(), Ticket.objects.count())
        output = run("seed_demo")
        assert "0 new rules, 0 new tickets" in output
        assert (Customer.objects.count(), Rule.objects.count(), Ticket.objects.count()) == counts

    def test_it_prints_where_the_application_is(self, settings):
        settings.SITE_URL = "http://127.0.0.1:8110"
        assert "Switchboard: http://127.0.0.1:8110/" in run("seed_demo")
