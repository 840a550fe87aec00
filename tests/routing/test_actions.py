"""Each action performed through routing, with real SMTP and HTTP peers for deliveries."""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Department, Membership
from deliveries import services as deliveries
from deliveries.actions import is_automatic_address
from deliveries.models import EmailDelivery, Webhook, WebhookDelivery
from queues.models import FollowUpTask, Notification
from routing.models import RoutingRun, RuleMatch
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.factories import ContactFactory, CustomerFactory, InvoiceFactory, UserFactory
from tickets.models import TicketEvent
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db


def rule(actions, *, name="r", trigger="ticket.created", conditions=None, **extra):
    return rule_create(
        name=name, trigger=trigger, conditions=conditions or {}, actions=actions, **extra
    )


def new_ticket(customer, **extra):
    fields = {"kind": "bug", "channel": "email", "subject": "Printer on fire"} | extra
    return ticket_create(customer=customer, **fields)


class TestTicketActions:
    def test_assign_to_user_and_department(self, customer, rep):
        rule([{"type": "assign", "user": "rep"}, {"type": "assign", "department": "finance"}])
        ticket = new_ticket(customer)
        dispatch_pending()
        ticket.refresh_from_db()
        assert ticket.assignee == rep
        assert ticket.department.slug == "finance"
        event = TicketEvent.objects.get(type="ticket.updated")
        assert event.changes == {"assignee": [None, "rep"], "department": [None, "finance"]}
        assert event.caused_by.type == "ticket.created"

    def test_assign_to_a_user_who_left_is_skipped(self, customer, rep):
        rule([{"type": "assign", "user": "rep"}])
        rep.is_active = False
        rep.save()
        new_ticket(customer)
        dispatch_pending()
        assert not TicketEvent.objects.filter(type="ticket.updated").exists()

    def test_follow_up_due_date_counts_from_the_event_day_in_the_company_time_zone(
        self, settings, customer
    ):
        settings.TIME_ZONE = "Europe/Berlin"
        rule([{"type": "create_followup", "due_in_working_days": 1}])
        new_ticket(customer)
        # Sunday 23:30 UTC is already Monday 00:30 in Berlin; routed days later all the same.
        sunday_night = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
        TicketEvent.objects.update(created_at=sunday_night)
        dispatch_pending()
        assert FollowUpTask.objects.get().due_on == date(2026, 11, 24)

    def test_a_later_human_change_wins_over_the_rule(self, customer, rep):
        rule(
            [
                {"type": "set_priority", "priority": "urgent"},
                {"type": "assign", "department": "finance"},
                {"type": "add_tag", "tag": "vip"},
            ]
        )
        ticket = new_ticket(customer, tags=["old"])
        # A rep edits the ticket before its creation event is routed.
        ticket_update(ticket=ticket, actor=rep, priority="high", tags=["old", "callback"])
        dispatch_pending()
        ticket.refresh_from_db()
        assert ticket.priority == "high"
        assert ticket.department.slug == "finance"
        assert sorted(ticket.tags.values_list("name", flat=True)) == ["callback", "old", "vip"]
        outcomes = [a["done"] for a in RuleMatch.objects.get(event__type="ticket.created").actions]
        assert outcomes == [
            "Skipped: priority was changed to 'high' after this event",
            "Assigned to finance",
            "Tagged vip",
        ]

    def test_a_tag_removed_by_a_person_is_not_added_back(self, customer, rep):
        rule(
            [{"type": "add_tag", "tag": "vip"}],
            trigger="ticket.updated",
            conditions={"all": [{"field": "subject", "operator": "changed"}]},
        )
        ticket = new_ticket(customer, tags=["vip"])
        ticket_update(ticket=ticket, actor=rep, subject="Printer still on fire")
        ticket_update(ticket=ticket, actor=rep, tags=[])
        dispatch_pending()
        assert not ticket.tags.exists()

    def test_a_deleted_department_is_skipped_not_an_error(self, customer):
        rule(
            [
                {"type": "notify_department", "department": "marketing"},
                {"type": "assign", "department": "marketing"},
                {"type": "notify_department", "department": "engineering"},
            ]
        )
        Department.objects.filter(slug="marketing").delete()
        new_ticket(customer)
        dispatch_pending()
        outcomes = [a["done"] for a in RuleMatch.objects.get().actions]
        assert outcomes == [
            "Skipped: department 'marketing' no longer exists",
            "Skipped: department 'marketing' no longer exists",
            "Notified Engineering",
        ]
        assert list(Notification.objects.values_list("department__slug", flat=True)) == [
            "engineering"
        ]

    def test_add_tag_is_seen_by_later_rules(self, customer):
        rule([{"type": "add_tag", "tag": "VIP"}], name="tag", order=1)
        rule(
            [{"type": "notify_department", "department": "sales"}],
            name="vip to sales",
            order=2,
            conditions={"all": [{"field": "tags", "operator": "contains", "value": "vip"}]},
        )
        ticket = new_ticket(customer, tags=["billing"])
        dispatch_pending()
        assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
        assert Notification.objects.get().department.slug == "sales"

    def test_templates_render_messages_and_reasons(self, customer, rep):
        rule(
            [
                {
                    "type": "notify_department",
                    "department": "engineering",
                    "message": "{{ ticket.reference }} from {{ customer.name }}: "
                    "{{ ticket.subject }} ({{ rule.name }})",
                },
                {"type": "create_followup", "due_in_working_days": 1,
                 "reason": "Call {{ contact.name|default:'the customer' }}"},
            ]
        )  # fmt: skip
        ticket = new_ticket(customer)
        dispatch_pending()
        assert Notification.objects.get().message == (
            f"{ticket.reference} from Plain Co: Printer on fire (r)"
        )
        assert FollowUpTask.objects.get().reason == "Call the customer"


@pytest.fixture
def finance_team():
    finance = Department.objects.get(slug="finance")
    for username in ["fay", "fred"]:
        Membership.objects.create(user=UserFactory(username=username), department=finance)
    return finance


def email_rule(to="contact", **extra):
    return rule(
        [
            {
                "type": "send_email",
                "to": to,
                "subject": "About {{ ticket.reference }}",
                "body": "Dear {{ contact.name }},\nwe are on it.",
                **extra,
            }
        ]
    )


class TestEmail:
    def test_email_to_the_contact_is_sent_over_smtp(self, customer, smtp_server):
        email_rule()
        contact = ContactFactory(customer=customer, name="Ann", email="ann@plain.example")
        ticket = new_ticket(customer, contact=contact)
        dispatch_pending()
        delivery = EmailDelivery.objects.get()
        assert delivery.status == "pending"
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "sent"
        [message] = smtp_server.messages
        assert message["To"] == "ann@plain.example"
        assert message["Subject"] == f"About {ticket.reference}"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"] == delivery.message_id
        lines = message.get_payload().splitlines()
        assert lines[:2] == ["Dear Ann,", "we are on it."]
        # Every email to a contact carries their way to the request on the web.
        assert lines[-2] == "--"
        assert lines[-1].startswith("Your request and its whole conversation: http")
        assert lines[-1].endswith(f"/{ticket.pk}/")
        # A repeated task does not send twice.
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "not due"
        assert len(smtp_server.messages) == 1

    def test_department_email_goes_to_each_member(self, customer, finance_team, smtp_server):
        email_rule(to="department", department="finance")
        new_ticket(customer)
        dispatch_pending()
        recipients = sorted(EmailDelivery.objects.values_list("recipient", flat=True))
        assert recipients == ["fay@example.com", "fred@example.com"]
        finance_team.email = "finance@corp.example"
        finance_team.save()
        new_ticket(customer)
        dispatch_pending()
        assert EmailDelivery.objects.filter(recipient="finance@corp.example").count() == 1

    def test_a_subject_made_of_a_multiline_placeholder_is_sent_on_one_line(
        self, customer, smtp_server
    ):
        email_rule(subject="New: {{ ticket.description }}")
        contact = ContactFactory(customer=customer, email="ann@plain.example")
        new_ticket(customer, contact=contact, description="Printer on fire.\r\nSmoke too.")
        dispatch_pending()
        delivery = EmailDelivery.objects.get()
        assert delivery.subject == "New: Printer on fire. Smoke too."
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "sent"

    def test_second_email_to_the_same_recipient_about_a_ticket_is_throttled(self, customer):
        rule(
            [{"type": "send_email", "to": "contact", "subject": "s", "body": "b"}],
            trigger="ticket.updated",
        )
        contact = ContactFactory(customer=customer, email="ann@plain.example")
        ticket = new_ticket(customer, contact=contact)
        ticket_update(ticket=ticket, actor=None, priority="high")
        ticket_update(ticket=ticket, actor=None, priority="low")
        dispatch_pending()
        statuses = list(EmailDelivery.objects.order_by("id").values_list("status", "reason"))
        assert statuses == [
            ("pending", ""),
            ("throttled", "Already emailed about this ticket in the last 60 minutes"),
        ]

    def test_throttle_window_passes(self, customer, settings):
        settings.ROUTING_EMAIL_THROTTLE_MINUTES = 0
        rule(
            [{"type": "send_email", "to": "contact", "subject": "s", "body": "b"}],
            trigger="ticket.updated",
        )
        ticket = new_ticket(customer, contact=ContactFactory(customer=customer))
        ticket_update(ticket=ticket, actor=None, priority="high")
        ticket_update(ticket=ticket, actor=None, priority="low")
        dispatch_pending()
        assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"pending"}

    @pytest.mark.parametrize(
        ("address", "automatic"),
        [
            ("noreply@shop.example", True),
            ("no-reply@shop.example", True),
            ("do-not-reply+x@shop.example", True),
            ("MAILER-DAEMON@shop.example", True),
            ("auto-reply@shop.example", True),
            ("notifications@github.example", True),
            ("ann@shop.example", False),
            ("reply-norah@shop.example", False),
        ],
    )
    def test_automatic_addresses(self, address, automatic):
        assert is_automatic_address(address) is automatic

    def test_no_reply_contact_is_suppressed(self, customer):
        email_rule()
        new_ticket(customer, contact=ContactFactory(customer=customer, email="noreply@x.example"))
        dispatch_pending()
        delivery = EmailDelivery.objects.get()
        assert delivery.status == "suppressed"
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "not due"

    def test_contact_without_email_is_skipped_and_said(self, customer):
        email_rule()
        new_ticket(customer, contact=ContactFactory(customer=customer, email=""))
        dispatch_pending()
        assert not EmailDelivery.objects.exists()
        match = customer.tickets.get().rule_matches.get()
        assert match.actions[0]["done"] == "Skipped: no email address"

    def test_refused_recipient_fails_for_good(self, customer, smtp_server):
        email_rule()
        smtp_server.refuse["gone@plain.example"] = "550 No such user"
        new_ticket(customer, contact=ContactFactory(customer=customer, email="gone@plain.example"))
        dispatch_pending()
        delivery = EmailDelivery.objects.get()
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "failed"
        delivery.refresh_from_db()
        assert delivery.reason == "Recipient refused: 550 b'No such user'"
        assert delivery.attempts == 1

    def test_server_down_is_retried_with_backoff_then_sent(self, customer, settings):
        email_rule()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
        new_ticket(customer, contact=ContactFactory(customer=customer))
        dispatch_pending()
        delivery = EmailDelivery.objects.get()
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "retrying"
        delivery.refresh_from_db()
        assert delivery.reason.startswith("ConnectionRefusedError")
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 10 < wait < 50  # 30 s ± 50 %
        # Not due yet: a redelivered task does nothing.
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "not due"

    def test_attempts_are_bounded(self, customer, settings):
        email_rule()
        settings.DELIVERY_MAX_ATTEMPTS = 2
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
        new_ticket(customer, contact=ContactFactory(customer=customer))
        dispatch_pending()
        delivery = EmailDelivery.objects.get()
        deliveries.email_deliver(delivery_id=delivery.pk)
        EmailDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert deliveries.email_deliver(delivery_id=delivery.pk) == "failed"

    def test_backoff_grows_and_is_capped(self):
        for attempt, (low, high) in {1: (15, 45), 3: (60, 180), 20: (1800, 5400)}.items():
            assert low <= deliveries.backoff_seconds(attempt) <= high


class TestWebhook:
    @pytest.fixture
    def hook(self, http_receiver):
        webhook = Webhook.objects.create(name="crm", url=http_receiver.url)
        rule([{"type": "call_webhook", "webhook": "crm"}])
        return webhook

    def test_signed_json_post(self, customer, hook, http_receiver):
        ticket = new_ticket(customer)
        dispatch_pending()
        delivery = WebhookDelivery.objects.get()
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "sent"
        [request] = http_receiver.requests
        payload = json.loads(request["body"])
        assert payload["ticket"]["reference"] == ticket.reference
        assert payload["event"]["type"] == "ticket.created"
        assert payload["rule"]["name"] == "r"
        headers = request["headers"]
        assert headers["Content-Type"] == "application/json"
        expected = hmac.new(
            hook.secret.encode(),
            headers["X-Switchboard-Timestamp"].encode() + b"." + request["body"],
            hashlib.sha256,
        ).hexdigest()
        assert headers["X-Switchboard-Signature"] == f"sha256={expected}"
        attempt = delivery.tries.get()
        assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")

    def test_server_error_is_retried_and_every_attempt_recorded(
        self, customer, hook, http_receiver
    ):
        http_receiver.statuses = [500, 503]
        new_ticket(customer)
        dispatch_pending()
        delivery = WebhookDelivery.objects.get()
        for expected in ["retrying", "retrying", "sent"]:
            WebhookDelivery.objects.update(next_attempt_at=timezone.now())
            assert deliveries.webhook_deliver(delivery_id=delivery.pk) == expected
        codes = list(delivery.tries.values_list("number", "status_code"))
        assert codes == [(1, 500), (2, 503), (3, 200)]

    def test_client_error_fails_at_once(self, customer, hook, http_receiver):
        http_receiver.statuses = [410]
        new_ticket(customer)
        dispatch_pending()
        delivery = WebhookDelivery.objects.get()
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "failed"
        delivery.refresh_from_db()
        assert delivery.reason == "HTTP 410"

    def test_a_redirect_is_not_followed_and_fails(self, customer, hook, http_receiver):
        http_receiver.statuses = [302]
        new_ticket(customer)
        dispatch_pending()
        delivery = WebhookDelivery.objects.get()
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "failed"
        assert [r["method"] for r in http_receiver.requests] == ["POST"]
        delivery.refresh_from_db()
        assert delivery.reason == "HTTP 302"

    def test_a_peer_that_does_not_speak_http_is_retried_and_recorded(
        self, customer, hook, http_receiver
    ):
        http_receiver.statuses = ["garbage"]
        new_ticket(customer)
        dispatch_pending()
        delivery = WebhookDelivery.objects.get()
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "retrying"
        attempt = delivery.tries.get()
        assert attempt.status_code is None
        assert attempt.error.startswith("RemoteProtocolError")

    def test_too_many_requests_is_retried(self, customer, hook, http_receiver):
        http_receiver.statuses = [429]
        new_ticket(customer)
        dispatch_pending()
        delivery = WebhookDelivery.objects.get()
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "retrying"

    def test_unreachable_endpoint_is_retried(self, settings, customer):
        settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1"]
        Webhook.objects.create(name="down", url="http://127.0.0.1:1/hook")
        rule([{"type": "call_webhook", "webhook": "down"}])
        new_ticket(customer)
        dispatch_pending()
        delivery = WebhookDelivery.objects.get()
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "retrying"
        attempt = delivery.tries.get()
        assert attempt.status_code is None
        assert "Connection refused" in attempt.error

    def test_sweep_enqueues_only_due_deliveries(self, customer, hook):
        new_ticket(customer)
        new_ticket(customer)
        dispatch_pending()
        first, second = WebhookDelivery.objects.order_by("id")
        WebhookDelivery.objects.filter(pk=first.pk).update(
            status="retrying", next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        WebhookDelivery.objects.filter(pk=second.pk).update(
            status="retrying", next_attempt_at=timezone.now() + timedelta(hours=1)
        )
        assert deliveries.deliveries_sweep() == 1

    def test_inactive_webhook_is_skipped(self, customer, hook):
        hook.is_active = False
        hook.save()
        new_ticket(customer)
        dispatch_pending()
        assert not WebhookDelivery.objects.exists()


def test_processing_twice_creates_no_second_delivery(customer):
    from routing.services import route_event

    email_rule()
    ticket = new_ticket(customer, contact=ContactFactory(customer=customer))
    event = TicketEvent.objects.get(ticket=ticket)
    assert route_event(event) is not None
    assert route_event(event) is None  # the run's unique row stops a second routing
    # Even if the run's record were lost, the delivery's own uniqueness (event, rule, recipient)
    # keeps the customer from a second email.
    RuleMatch.objects.all().delete()
    RoutingRun.objects.all().delete()
    assert route_event(event) is not None
    assert EmailDelivery.objects.count() == 1


def test_dates_in_facts_are_those_of_the_event_day(settings):
    from routing.engine.facts import facts_for_event

    settings.TIME_ZONE = "Europe/Berlin"
    customer = CustomerFactory(contract_ends_on=date(2025, 3, 10))
    InvoiceFactory(
        customer=customer, amount="50.00", issued_on=date(2025, 2, 1), due_on=date(2025, 3, 3)
    )
    ticket = new_ticket(customer)
    event = TicketEvent.objects.get(ticket=ticket)
    # Sunday 1 March 2025, 23:30 UTC, is Monday 2 March in Berlin: long before today.
    event.created_at = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    facts = facts_for_event(event)
    assert facts["customer.contract_ends_in_days"] == 8
    assert facts["customer.has_service_contract"] is True
    assert facts["customer.has_unpaid_invoices"] is True
    assert facts["customer.has_overdue_invoices"] is False  # due the next day

    event.created_at = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
    facts = facts_for_event(event)
    assert facts["customer.has_overdue_invoices"] is True
    # Ended ten days before: unset, so "ends within 30 days" does not match an ended contract.
    assert facts["customer.contract_ends_in_days"] is None
    assert facts["customer.has_service_contract"] is False


def test_explanation_shows_the_values_each_rule_saw(customer, api):
    rule(
        [{"type": "set_priority", "priority": "high"}],
        name="down",
        order=1,
        conditions={"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
    )
    rule(
        [{"type": "add_tag", "tag": "seen"}],
        name="after",
        order=2,
        conditions={"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
    )
    ticket = new_ticket(customer, priority="urgent")
    dispatch_pending()
    created = api.get(f"/api/v1/tickets/{ticket.pk}/routing/").json()[0]
    down, after = created["rules"]
    assert down["matched"] is True
    assert down["conditions"][0]["actual_text"] == "Urgent"
    assert after["matched"] is False  # by then the first rule had lowered the priority
    assert after["conditions"][0]["actual_text"] == "High"
    match = RuleMatch.objects.get(rule__name="down")
    assert match.conditions[0]["actual_text"] == "Urgent"
