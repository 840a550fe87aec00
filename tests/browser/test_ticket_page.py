"""End to end in headless Chromium: the ticket page. A refused form leaves an address that
opens the ticket (reload, history, a copied link); entries committed out of id order still
appear live, in their place; the page fits a phone's width."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.factories import return_ticket
from tickets.models import TimelineEntry
from tickets.returns import rma_advance
from tickets.services import note_add, ticket_create, ticket_update

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# What sticks out of its card on the right (a squeezed select, an unbroken word), if anything.
STICKING_OUT = """() => Array.from(document.querySelectorAll(".card *")).filter((el) => {
    const card = el.closest(".card").getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > card.right + 1 && !el.closest(".table-scroll");
}).map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")).slice(0, 5)"""


@pytest.fixture
def ticket(customer):
    return ticket_create(customer=customer, kind="bug", channel="phone", subject="Export crashes")


def test_a_refused_form_leaves_an_address_that_opens_the_ticket(page, rep, ticket):
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    ticket_url = re.compile(rf"/tickets/{ticket.pk}/$")

    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Choose the root cause")).to_be_visible()
    expect(page.get_by_role("alert").first).to_contain_text(
        f"{ticket.reference}: the ticket was not changed"
    )
    expect(page.get_by_label("Root cause")).to_be_focused()
    # Answered at /edit/, shown at the ticket's own address: a reload opens the page.
    expect(page).to_have_url(ticket_url)
    methods = []
    page.on("request", lambda request: methods.append(request.method))
    page.reload()
    expect(page.get_by_role("heading", name=f"{ticket.reference} Export crashes")).to_be_visible()
    expect(page.get_by_text("Choose the root cause")).to_have_count(0)
    assert methods[0] == "GET", "the reload sent the refused form again"
    screenshot(page, "ticket-page-after-refused-edit")

    page.get_by_label("Ticket reference").fill("T-999999")
    page.get_by_role("button", name="Link").click()
    expect(page.get_by_text("No ticket with this reference.")).to_be_visible()
    expect(page).to_have_url(ticket_url)

    # The addresses forms post to, opened directly (history, a shared link): the ticket page.
    for action in ("edit", "links", "notes", "calls"):
        response = page.goto(f"/tickets/{ticket.pk}/{action}/")
        assert response.ok, f"/{action}/ answered {response.status}"
        expect(page).to_have_url(ticket_url)
        expect(
            page.get_by_role("heading", name=f"{ticket.reference} Export crashes")
        ).to_be_visible()


def test_an_entry_committed_out_of_id_order_still_appears_in_its_place(page, rep, ticket):
    """Two writers at once commit out of id order: the page polls with an overlap, so an entry
    whose id is below the last one shown still arrives, and goes where its id says."""
    for number in range(25):  # more than the poll's overlap of twenty
        note_add(ticket=ticket, author=rep, body=f"Note {number}")
    late = ticket.timeline.order_by("-id")[2]  # among the last twenty
    late_id = late.pk
    late.delete()  # not committed yet when the page loads
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("#timeline li[data-entry]")).to_have_count(25)

    TimelineEntry.objects.create(
        pk=late_id, ticket=ticket, kind=TimelineEntry.Kind.NOTE, author=rep, body="Committed late"
    )
    entry = page.locator(f"#timeline li[data-entry='{late_id}']")
    expect(entry).to_contain_text("Committed late", timeout=5000)
    shown = [int(i) for i in page.eval_on_selector_all(
        "#timeline li[data-entry]", "items => items.map(item => item.dataset.entry)"
    )]  # fmt: skip
    assert shown == sorted(shown)
    assert len(shown) == 26


def test_the_timeline_reads_in_words_and_updates_live(page, rep, customer, starter_rules):
    """Department and follow-up entries arrive while the rep watches, in words."""
    from queues.followups import followup_record_outcome
    from queues.models import FollowUpTask, Notification
    from queues.services import notification_acknowledge, notification_respond
    from tests.conftest import dispatch_pending

    ticket = return_ticket(customer)
    dispatch_pending()
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    timeline = page.locator("#timeline")

    item = Notification.objects.get(ticket=ticket)
    notification_acknowledge(notification=item, user=rep)
    notification_respond(notification=item, user=rep, body="Return label emailed")
    rma_advance(ticket=ticket, status="authorised", actor=rep)
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
    task = FollowUpTask.objects.create(
        ticket=ticket,
        customer=customer,
        salesperson=customer.salesperson,
        due_on=ticket.created_at.date(),
        event=ticket.events.last(),
    )
    followup_record_outcome(task=task, user=customer.salesperson, outcome="satisfied")

    expect(timeline).to_contain_text("Reached and satisfied", timeout=5000)
    for words in (
        "Shipping took it on.",
        "Queue status: New → Acknowledged",
        "Department: Shipping",
        "Return status: Authorised → Awaiting return; Tracking number: UPS 1Z9",
        "Status: New → Resolved; Root cause: — → Shipping damage",
    ):
        expect(timeline).to_contain_text(words)
    for code in ("queue item", "follow-up:", "shipping_damage", "awaiting_return", "— → —"):
        expect(timeline).not_to_contain_text(code)
    expect(timeline.get_by_text("Replaced the unit")).to_have_count(1)
    screenshot(page, "ticket-page-timeline")


def test_the_ticket_page_fits_a_phone(page, rep, customer):
    """At 390 px nothing sticks out sideways: long words, references and tracking numbers wrap."""
    ticket = ticket_create(
        customer=customer,
        kind="rma",
        channel="phone",
        subject="Unit arrived cracked after shipping across the country",
        description="Serial SN-000000000000000000000077 https://example.com/a/very/long/link/x",
        rma_serial_number="SN-000000000000000000000077",
        rma_order_number="SO-1234",
        rma_reason="Arrived cracked",
    )
    rma_advance(ticket=ticket, status="authorised", actor=rep)
    rma_advance(
        ticket=ticket,
        status="awaiting_return",
        actor=rep,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
    )
    note_add(ticket=ticket, author=rep, body="Asked for photos of the box")
    ticket_update(ticket=ticket, actor=rep, priority="high")
    log_in(page, "rep", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator(".rma-tracking")).to_have_text("UPS 1Z999AA10123456784")
    screenshot(page, "ticket-page-return")
    page.set_viewport_size({"width": 390, "height": 800})
    overflow = page.evaluate(SIDEWAYS)
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    assert page.evaluate(STICKING_OUT) == []


def test_the_ticket_list_says_why_it_lists_nothing(page, rep, ticket):
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    page.get_by_text("Filter", exact=True).click()  # the filters are behind it
    page.get_by_label("Created from").fill("2026-03-10")
    page.get_by_label("Created to").fill("2026-03-01")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Created to: This is before “Created from”, so nothing could match."
    )
    expect(page.get_by_text("No tickets match.")).to_be_visible()
    screenshot(page, "ticket-list-refused-period")
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate(SIDEWAYS) <= 0, "the list scrolls sideways at 390px"
    assert page.evaluate(STICKING_OUT) == []


def test_the_ticket_list_filters_behind_a_button_as_chips_saved_views_and_header_sorting(
    page, rep, customer
):
    urgent = ticket_create(
        customer=customer, kind="bug", channel="phone", subject="Down", priority="urgent"
    )
    call = ticket_create(customer=customer, kind="call", channel="phone", subject="How to")
    later = ticket_create(customer=customer, kind="bug", channel="email", subject="Slow")
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    rows = page.locator("table.tickets tbody tr")
    expect(page.locator("#f-kind")).to_be_hidden()
    page.get_by_text("Filter", exact=True).click()
    page.locator("#f-kind").select_option("bug")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(2)
    chip = page.get_by_role("link", name="Remove the filter Kind: Bug report")
    expect(chip).to_be_visible()
    expect(page.locator("#f-kind")).to_be_hidden()  # the panel closed again; the chip says it
    # The button says how many filters apply, in words for a screen reader.
    expect(page.locator(".filter-panel > summary")).to_have_text("Filter 1 active")
    # Saved under a name, the view is one click away from then on.
    page.get_by_text("Save this view").click()
    page.get_by_label("Name").fill("Bugs")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved the view “Bugs”.")
    views = page.get_by_role("navigation", name="Saved views")
    expect(views.get_by_role("link", name="Bugs")).to_have_attribute("aria-current", "page")
    screenshot(page, "ticket-list-filtered")
    views.get_by_role("link", name="All tickets").click()
    expect(rows).to_have_count(3)
    views.get_by_role("link", name="Bugs").click()
    expect(rows).to_have_count(2)
    chip = page.get_by_role("link", name="Remove the filter Kind: Bug report")
    chip.click()
    expect(rows).to_have_count(3)
    expect(page.get_by_role("list", name="Active filters")).to_have_count(0)

    expect(rows.first).to_contain_text(later.subject)  # newest first
    created = page.get_by_role("columnheader", name="Created")
    expect(created).to_have_attribute("aria-sort", "descending")
    created.get_by_role("link").click()
    expect(rows.first).to_contain_text(urgent.subject)
    expect(page.get_by_role("columnheader", name="Created")).to_have_attribute(
        "aria-sort", "ascending"
    )
    page.get_by_role("columnheader", name="Priority").get_by_role("link").click()
    expect(rows.first).to_contain_text(urgent.subject)
    expect(page.get_by_role("columnheader", name="Priority")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(rows.nth(1)).not_to_contain_text(urgent.subject)
    page.get_by_role("button", name="Delete the view Bugs").click()
    expect(page.locator(".messages")).to_contain_text("Deleted the view “Bugs”.")
    expect(views.get_by_role("link", name="Bugs")).to_have_count(0)
    assert call.subject in page.locator("table.tickets").inner_text()


def test_the_ticket_list_changes_the_ticked_tickets_and_says_what_changed(page, rep, customer):
    made = [
        ticket_create(customer=customer, kind="bug", channel="phone", subject=f"Problem {n}")
        for n in range(3)
    ]
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    # A click beside a box, in its cell, neither opens the ticket nor loses what is ticked.
    page.locator("td.pick").first.click(position={"x": 29, "y": 4})
    expect(page).to_have_url(re.compile(r"/tickets/$"))
    page.get_by_label("Tick every ticket on this page").check()
    page.get_by_label(f"Tick {made[1].reference}").uncheck()
    apply = page.get_by_role("button", name="Apply to the ticked")
    expect(apply).to_have_text("Apply to the ticked (2)")
    page.get_by_label("Set priority").select_option("urgent")
    page.get_by_label("Add tag").fill("billing")
    screenshot(page, "ticket-list-bulk")
    apply.click()
    changed = f"{made[0].reference}, {made[2].reference}"
    expect(page.locator(".messages")).to_contain_text(
        f"Changed 2 tickets (priority Urgent, tag billing): {changed}."
    )
    urgent = page.locator("table.tickets tbody tr", has_text="Urgent")
    expect(urgent).to_have_count(2)
    # Nothing ticked: the list again, saying what to do.
    page.get_by_label("Set priority").select_option("low")
    page.get_by_role("button", name="Apply to the ticked").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the tickets to change first.")


def test_the_ticket_list_shows_the_columns_chosen(page, rep, customer):
    ticket_create(
        customer=customer, kind="bug", channel="web", subject="Export crashes", product="Reports"
    )
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/?kind=bug")
    header = page.locator("table.tickets thead")
    expect(header).to_contain_text("Assignee")
    expect(header).not_to_contain_text("Product")
    page.get_by_text("Columns", exact=True).click()
    chooser = page.get_by_role("group", name="Shown beside the reference and the subject")
    chooser.get_by_label("Assignee").uncheck()
    chooser.get_by_label("Product").check()
    chooser.get_by_label("Updated").check()
    page.get_by_role("button", name="Show these columns").click()
    expect(page.locator(".message-success")).to_have_text("Done: Saved your columns.")
    expect(page).to_have_url(re.compile(r"/tickets/\?kind=bug$"))  # the list as it was
    expect(header).not_to_contain_text("Assignee")
    expect(page.locator("table.tickets tbody")).to_contain_text("Reports")
    header.get_by_role("link", name="Updated").click()
    expect(header.locator('th[aria-sort="descending"]')).to_have_text("Updated")
    screenshot(page, "ticket-list-columns")
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate(SIDEWAYS) <= 0


def test_a_form_posted_twice_in_a_moment_is_posted_once(page, rep, ticket):
    """A double click, or Ctrl+Enter pressed twice, on a slow line: the second post would add
    the note again (and email a note for the customer twice)."""
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    page.get_by_label("Note", exact=True).fill("Called back, no answer.")
    # A listener after the page's own: it sees whether the post would go, then holds it, so
    # that both posts are made on the same page as on a line slow to answer.
    went = page.evaluate(
        """() => {
            const went = [];
            window.addEventListener("submit", (event) => {
                went.push(!event.defaultPrevented);
                event.preventDefault();
            });
            const form = document.querySelector("textarea[name=body]").form;
            form.requestSubmit();
            form.requestSubmit();
            return went;
        }"""
    )
    assert went == [True, False]
    # For real, once: the note is added, and the page that comes back posts again.
    page.reload()
    page.get_by_label("Note", exact=True).fill("Called back, no answer.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("Called back, no answer.")
    page.get_by_label("Note", exact=True).fill("Called back again.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("Called back again.")
    assert TimelineEntry.objects.filter(ticket=ticket, kind="note").count() == 2
