"""The rep's workspace pages: log a call, work a ticket, find tickets."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Contact, Department
from queues.followups import followup_record_outcome
from queues.models import FollowUpTask, Notification
from queues.services import notification_acknowledge, notification_respond
from tests.conftest import dispatch_pending
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InvoiceFactory,
    UserFactory,
    return_ticket,
)
from tickets.messages import message_entry_record
from tickets.models import Ticket, TimelineEntry
from tickets.returns import rma_advance
from tickets.services import note_add, ticket_create, ticket_link, ticket_update, timeline_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, rep):
    client.force_login(rep)
    return client


def call_data(customer, **extra):
    return {
        "customer": customer.pk,
        "customer_query": customer.name,
        "contact": "",
        "kind": "bug",
        "subject": "Export crashes",
        "description": "The CSV export stops at row 1000.",
        "priority": "normal",
        "started_at": (timezone.now() - timedelta(seconds=95)).isoformat(),
        **extra,
    }


class TestLogACall:
    def test_form_has_real_labels_and_starts_the_timer(self, browser):
        from html.parser import HTMLParser

        class Labels(HTMLParser):
            def __init__(self):
                super().__init__()
                self.labels, self.ids, self.legends, self._open = {}, set(), [], None

            def handle_starttag(self, tag, attrs):
                attrs = dict(attrs)
                if "id" in attrs:
                    self.ids.add(attrs["id"])
                if tag in ("label", "legend"):
                    self._open = (tag, attrs.get("for"), [])

            def handle_data(self, data):
                if self._open:
                    self._open[2].append(data)

            def handle_endtag(self, tag):
                if self._open and tag == self._open[0]:
                    text = " ".join("".join(self._open[2]).split())
                    if tag == "label":
                        self.labels[text] = self._open[1]
                    else:
                        self.legends.append(text)
                    self._open = None

        response = browser.get("/tickets/new/")
        assert response.status_code == 200
        page = Labels()
        page.feed(response.content.decode())
        for name in ("Customer", "Contact", "Subject", "Description", "Priority", "Product"):
            assert page.labels.get(name) in page.ids, f"<label> {name!r} names no field"
        # The kinds are a group of radio buttons, each labelled, under the legend "Kind".
        assert any(legend.startswith("Kind") for legend in page.legends)
        assert page.labels.get("Bug report b") in page.ids
        assert 'name="started_at"' in response.content.decode()

    def test_saving_logs_the_call_with_its_duration_and_routes_it(
        self, browser, rep, customer, starter_rules
    ):
        response = browser.post("/tickets/new/", call_data(customer))
        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/tickets/{ticket.pk}/"
        assert ticket.channel == "phone"
        assert ticket.created_by == rep
        assert ticket.first_response_at is not None
        entry = ticket.timeline.get(kind=TimelineEntry.Kind.CREATED)
        assert 95 <= entry.call_duration_seconds < 120
        dispatch_pending()
        assert Notification.objects.get(ticket=ticket).department.slug == "engineering"
        page = browser.get(response["Location"]).content.decode()
        assert "Logged T-" in page
        assert "call 1m 3" in page
        assert "Notified Engineering" in page  # routing's entry on the timeline

    def test_errors_keep_what_was_typed(self, browser, customer):
        data = call_data(customer, subject="", description="Long story <b>typed</b> carefully")
        response = browser.post("/tickets/new/", data)
        assert response.status_code == 400
        html = response.content.decode()
        assert "This field is required." in html
        assert "Long story &lt;b&gt;typed&lt;/b&gt; carefully" in html
        assert f'value="{customer.pk}"' in html
        assert data["started_at"] in html  # the call timer goes on from where it was
        assert not Ticket.objects.exists()

    def test_rma_needs_its_details_and_shows_its_number(self, browser, customer):
        response = browser.post("/tickets/new/", call_data(customer, kind="rma"))
        assert response.status_code == 400
        assert response.content.decode().count("Needed for a return.") == 3
        data = call_data(
            customer,
            kind="rma",
            rma_serial_number="SN-77",
            rma_order_number="SO-1234",
            rma_reason="Arrived cracked",
        )
        response = browser.post("/tickets/new/", data, follow=True)
        ticket = Ticket.objects.get()
        assert ticket.rma_number
        assert f"RMA number: {ticket.rma_number}" in response.content.decode()
        assert ticket.rma_serial_number == "SN-77"

    def test_new_contact_inline_and_resolved_during_the_call(self, browser, customer):
        data = call_data(
            customer,
            kind="call",
            contact="new",
            new_contact_name="Ann Example",
            new_contact_email="ann@example.com",
            resolved_during_call="on",
        )
        response = browser.post("/tickets/new/", data)
        assert response.status_code == 400  # resolved needs a root cause and a summary
        assert not Contact.objects.exists()
        data |= {"root_cause": "customer_training", "resolution": "Showed the export menu"}
        response = browser.post("/tickets/new/", data)
        assert response.status_code == 302
        ticket = Ticket.objects.get()
        assert ticket.contact.name == "Ann Example"
        assert ticket.contact.customer == customer
        assert ticket.status == "resolved"
        assert ticket.root_cause == "customer_training"

    def test_a_contact_of_another_customer_is_refused(self, browser, customer):
        stranger = ContactFactory(customer=CustomerFactory())
        response = browser.post("/tickets/new/", call_data(customer, contact=str(stranger.pk)))
        assert response.status_code == 400
        assert "Choose one of this customer" in response.content.decode()

    def test_linking_to_an_earlier_report_of_the_same_problem(self, browser, customer):
        first = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
        response = browser.post("/tickets/new/", call_data(customer, related=[first.pk]))
        assert response.status_code == 302
        ticket = Ticket.objects.exclude(pk=first.pk).get()
        assert list(ticket.related.all()) == [first]
        assert list(first.related.all()) == [ticket]


class TestLookups:
    def test_customer_found_by_name_contact_email_phone_and_reference(self, browser):
        acme = CustomerFactory(name="Acme Tools")
        ContactFactory(
            customer=acme, name="Wile Coyote", email="wile@acme.test", phone="+1 (555) 010-2030"
        )
        ticket = ticket_create(customer=acme, kind="call", channel="phone", subject="Rockets")

        def found(q):
            body = browser.get("/customers/lookup/", {"q": q}).json()
            return [(r["name"], r["via"]) for r in body["results"]]

        # The customer by its name, then its contact whose email matched too.
        assert found("acme") == [
            ("Acme Tools", ""),
            ("Acme Tools", "Wile Coyote · wile@acme.test · +1 (555) 010-2030"),
        ]
        assert found("coyote") == [
            ("Acme Tools", "Wile Coyote · wile@acme.test · +1 (555) 010-2030")
        ]
        assert found("wile@acme")[0][0] == "Acme Tools"
        assert found("5550102030")[0][0] == "Acme Tools"
        assert found(ticket.reference) == [("Acme Tools", f"{ticket.reference}: Rockets")]
        assert found("a") == []

    def test_standing_panel_shows_what_the_rep_must_know(self, browser, salesperson):
        today = timezone.localdate()
        customer = CustomerFactory(
            name="Cobalt <Labs>",
            salesperson=salesperson,
            contract_ends_on=today + timedelta(days=10),
            pay_for_bug=True,
        )
        InvoiceFactory(customer=customer, amount="2300.00", due_on=today - timedelta(days=3))
        InvoiceFactory(customer=customer, amount="150.00", due_on=today + timedelta(days=9))
        open_ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="Slow")
        html = browser.get(f"/customers/{customer.pk}/standing/?linkable=1").content.decode()
        assert "Cobalt &lt;Labs&gt;" in html
        assert "Service contract ends soon" in html
        # One sentence, amounts with their currency and cents (SQLite sums lose the cents).
        assert "1 overdue invoice:</strong> USD 2,300.00 overdue of USD 2,450.00 unpaid" in html
        assert "Pay-for-bug agreement" in html
        assert salesperson.username in html or salesperson.get_full_name() in html
        assert f'name="related" value="{open_ticket.pk}"' in html


class TestWorkingATicket:
    @pytest.fixture
    def ticket(self, customer):
        return ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")

    def test_page_shows_the_whole_timeline(
        self, browser, rep, salesperson, customer, starter_rules
    ):
        """Each kind of entry, written by the code that writes it in real life (routing's
        queues and follow-ups included), reads as a person would say it: labels, not codes;
        department names, not slugs; no internal ids; nothing said twice."""
        ticket = return_ticket(customer)
        dispatch_pending()  # routing: shipping is notified (a routing entry)
        note_add(ticket=ticket, author=rep, body="Asked for photos")
        note_add(ticket=ticket, author=rep, body="Called back", call_duration_seconds=754)
        engineering = Department.objects.get(slug="engineering")
        ticket_update(ticket=ticket, actor=rep, priority="high", department=engineering)
        item = Notification.objects.get(ticket=ticket)
        notification_acknowledge(notification=item, user=rep)
        notification_respond(notification=item, user=rep, body="Return label emailed")
        rma_advance(
            ticket=ticket, status="awaiting_return", actor=rep, carrier="UPS", tracking_number="1Z9"
        )
        ticket_update(
            ticket=ticket,
            actor=rep,
            status="resolved",
            root_cause="shipping_damage",
            resolution="Replaced the unit",
        )
        other = ticket_create(customer=customer, kind="bug", channel="web", subject="Dented")
        ticket_link(ticket=ticket, other=other, actor=rep)
        task = FollowUpTask.objects.create(
            ticket=ticket,
            customer=customer,
            salesperson=salesperson,
            due_on=timezone.localdate(),
            event=ticket.events.last(),
        )
        followup_record_outcome(task=task, user=salesperson, outcome="satisfied")
        message_entry_record(
            ticket=ticket, direction="in", body="Is it shipped?", channel="email", sender="contact"
        )
        # As surveys.services records an answer (the survey itself is that app's).
        timeline_record(
            ticket=ticket,
            kind=TimelineEntry.Kind.SURVEY,
            body="Ada answered 3/10 (Detractor (0-6)).\nThe part came late",
            changes={"survey": 1, "score": 3},
        )
        kinds = set(ticket.timeline.values_list("kind", flat=True))
        assert kinds == set(TimelineEntry.Kind.values), "every kind of entry is tried here"

        html = browser.get(f"/tickets/{ticket.pk}/").content.decode()
        timeline = html[html.index('id="timeline"') : html.index("</ol>")]
        assert "Internal note" in timeline
        assert "call 12m 34s" in timeline
        assert "Message from the customer" in timeline
        assert "Is it shipped?" in timeline
        assert "Satisfaction survey" in timeline
        assert "The part came late" in timeline
        lines = [" ".join(line.split()) for line in re.findall(
            r'<p class="changes">(.*?)</p>', timeline, re.S
        )]  # fmt: skip
        text = " | ".join(re.sub(r"<[^>]+>", "", line) for line in lines)
        for readable in (
            "Priority: Normal → High",
            "Department: — → Engineering",
            "Queue status: New → Acknowledged",
            "Department: Shipping",  # on the response, whose body does not name it
            "Return status: — → Awaiting return",
            "Tracking number: UPS 1Z9",
            "Status: New → Resolved",
            "Root cause: — → Shipping damage",
            f"Linked to: {other.reference}",
        ):
            assert readable in text, f"{readable!r} not in {text!r}"
        for code in ("shipping_damage", "awaiting_return", "engineering", "shipping;",
                     "queue item", "follow-up", "— → —", "satisfied", "Outcome"):  # fmt: skip
            assert code not in text
        # Said once each: the resolution in the body, the follow-up's outcome by its label.
        assert timeline.count("Replaced the unit") == 1
        assert timeline.count("Reached and satisfied") == 1
        assert "Shipping took it on." in timeline

    def test_resolving_asks_for_root_cause_and_summary(self, browser, ticket):
        data = {
            "status": "resolved",
            "priority": "normal",
            "kind": "bug",
            "version": ticket.version,
        }
        response = browser.post(f"/tickets/{ticket.pk}/edit/", data)
        assert response.status_code == 400
        assert "Choose the root cause" in response.content.decode()
        data |= {"root_cause": "product_defect", "resolution": "Fixed in 2.4.1"}
        response = browser.post(f"/tickets/{ticket.pk}/edit/", data)
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert ticket.status == "resolved"
        assert ticket.root_cause == "product_defect"

    def test_second_of_two_concurrent_edits_is_refused(self, browser, rep, ticket):
        other = UserFactory(username="other-rep")
        read_version = ticket.version
        ticket_update(ticket=ticket, actor=other, priority="urgent", expected_version=read_version)
        data = {"status": "open", "priority": "low", "kind": "bug", "version": read_version}
        response = browser.post(f"/tickets/{ticket.pk}/edit/", data)
        assert response.status_code == 409
        html = response.content.decode()
        assert f"was changed by {other.get_full_name() or other.username}" in html
        ticket.refresh_from_db()
        assert ticket.priority == "urgent"
        assert ticket.status == "new"

    def test_notes_calls_and_links(self, browser, ticket, customer):
        browser.post(f"/tickets/{ticket.pk}/notes/", {"body": "Public answer", "is_public": "on"})
        started = (timezone.now() - timedelta(seconds=30)).isoformat()
        browser.post(f"/tickets/{ticket.pk}/calls/", {"body": "Rang back", "started_at": started})
        other = ticket_create(customer=customer, kind="bug", channel="web", subject="Crash too")
        browser.post(f"/tickets/{ticket.pk}/links/", {"reference": other.reference})
        kinds = list(ticket.timeline.values_list("kind", "is_internal"))
        assert ("note", False) in kinds
        call = ticket.timeline.get(kind="call")
        assert 30 <= call.call_duration_seconds < 60
        assert list(ticket.related.all()) == [other]
        response = browser.post(f"/tickets/{ticket.pk}/links/", {"reference": "T-999999"})
        assert response.status_code == 400

    @pytest.mark.parametrize("action", ["edit", "notes", "calls", "links"])
    def test_the_address_a_form_posts_to_opens_the_ticket(self, browser, ticket, action):
        """A refused form is answered at this address; reloading it or opening it from the
        history must show the ticket, not a 405."""
        response = browser.get(f"/tickets/{ticket.pk}/{action}/")
        assert response.status_code == 302
        assert response["Location"] == f"/tickets/{ticket.pk}/"
        assert browser.head(f"/tickets/{ticket.pk}/{action}/").status_code == 302
        assert browser.put(f"/tickets/{ticket.pk}/{action}/").status_code == 405
        assert browser.get(f"/tickets/999999/{action}/", follow=True).status_code == 404

    def test_a_return_shows_its_number_step_carrier_and_tracking(self, browser, rep, customer):
        ticket = return_ticket(customer)
        html = browser.get(f"/tickets/{ticket.pk}/").content.decode()
        assert f"<strong>{ticket.rma_number}</strong>" in html
        assert "Not yet authorised by shipping" in html
        rma_advance(ticket=ticket, status="authorised", actor=rep)
        rma_advance(
            ticket=ticket,
            status="awaiting_return",
            actor=rep,
            carrier="Royal Mail",
            tracking_number="RM123GB",
        )
        rma_advance(ticket=ticket, status="received", actor=rep)  # a step without a parcel
        html = browser.get(f"/tickets/{ticket.pk}/").content.decode()
        assert '<dd class="rma-status">Received</dd>' in html
        assert '<dd class="rma-tracking">Royal Mail RM123GB</dd>' in html

    def test_timeline_since_returns_only_new_entries(self, browser, rep, ticket):
        last = ticket.timeline.last()
        note_add(ticket=ticket, author=rep, body="Fresh news")
        html = browser.get(f"/tickets/{ticket.pk}/timeline/?after={last.pk}").content.decode()
        assert "Fresh news" in html
        assert html.count("data-entry=") == 1

    def test_customer_text_is_escaped(self, browser, customer):
        evil = ticket_create(
            customer=customer,
            kind="call",
            channel="web",
            subject="<script>alert(1)</script>",
            description="<img src=x onerror=alert(2)>",
        )
        html = browser.get(f"/tickets/{evil.pk}/").content.decode()
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("started_at", ["", "yesterday", "2026-13-45T99:00"])
def test_a_garbled_call_timer_never_stops_a_call_being_saved(browser, customer, started_at):
    response = browser.post("/tickets/new/", call_data(customer, started_at=started_at))
    assert response.status_code == 302
    entry = Ticket.objects.get().timeline.get(kind=TimelineEntry.Kind.CREATED)
    assert entry.call_duration_seconds is not None
    assert entry.call_duration_seconds < 5


class TestEditingAlongsideOthers:
    @pytest.fixture
    def ticket(self, customer):
        return ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")

    def edit(self, browser, ticket, seen, **changes):
        """Post the edit form as the page would: what the rep saw (hidden) and what they chose."""
        data = {"version": seen.version}
        for name in ("status", "priority", "kind", "product", "root_cause", "resolution",
                     "rma_serial_number", "rma_order_number", "rma_reason"):  # fmt: skip
            value = getattr(seen, name)
            data[name] = changes.get(name, value)
            data[f"initial-{name}"] = value
        data["assignee"] = changes.get("assignee", seen.assignee_id or "")
        data["initial-assignee"] = seen.assignee_id or ""
        return browser.post(f"/tickets/{ticket.pk}/edit/", data)

    def test_a_change_to_another_field_is_merged_not_refused(self, browser, ticket):
        seen = Ticket.objects.get(pk=ticket.pk)
        # A routing rule (or a colleague) raises the priority meanwhile.
        ticket_update(ticket=ticket, actor=None, priority="urgent")
        response = self.edit(browser, ticket, seen, status="open")
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert (ticket.status, ticket.priority) == ("open", "urgent")

    def test_a_clash_is_refused_then_saving_again_applies_it_knowingly(self, browser, ticket):
        seen = Ticket.objects.get(pk=ticket.pk)
        colleague = UserFactory(first_name="Cole", last_name="League")
        ticket_update(ticket=ticket, actor=colleague, priority="urgent")
        response = self.edit(browser, ticket, seen, priority="low")
        assert response.status_code == 409
        html = response.content.decode()
        assert "Both of you changed: Priority." in html
        form = response.context["edit_form"]
        ticket.refresh_from_db()
        assert ticket.priority == "urgent"
        # The page now holds the current version; the rep's choice stands when saved again.
        again = browser.post(f"/tickets/{ticket.pk}/edit/", form.data)
        assert again.status_code == 302
        ticket.refresh_from_db()
        assert ticket.priority == "low"

    def test_resolution_of_a_resolved_ticket_cannot_be_erased(self, browser, ticket, rep):
        ticket_update(
            ticket=ticket, actor=rep, status="resolved", root_cause="usability", resolution="ok"
        )
        seen = Ticket.objects.get(pk=ticket.pk)
        response = self.edit(browser, ticket, seen, root_cause="", resolution="")
        assert response.status_code == 400
        ticket.refresh_from_db()
        assert (ticket.root_cause, ticket.resolution) == ("usability", "ok")

    def test_making_it_a_return_asks_for_the_return_details(self, browser, ticket):
        seen = Ticket.objects.get(pk=ticket.pk)
        response = self.edit(browser, ticket, seen, kind="rma")
        assert response.status_code == 400
        assert response.content.decode().count("Needed for a return.") == 3
        response = self.edit(
            browser,
            ticket,
            seen,
            kind="rma",
            rma_serial_number="SN1",
            rma_order_number="SO1",
            rma_reason="Broken",
        )
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert ticket.rma_number
