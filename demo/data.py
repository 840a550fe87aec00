"""Demo data: staff in every role, customers in every financial situation, rules and tickets.

It lives in an app of its own, at the top of the graph, because it spans all the others and
nothing may depend on it. Everything is created through the same services the application
uses, so the demo tickets are routed exactly as real ones are.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Contact, Customer, Department, Invoice, Membership, User
from routing.starter_rules import starter_rules_install
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_update

DEMO_PASSWORD = "switchboard"  # noqa: S105 - printed for the demo, never for production

# username, first name, last name, department slug, is lead
STAFF = [
    ("rita", "Rita", "Reyes", "support", True),
    ("ravi", "Ravi", "Rao", "support", False),
    ("erin", "Erin", "Engel", "engineering", True),
    ("eli", "Eli", "Evans", "engineering", False),
    ("mara", "Mara", "Moss", "marketing", True),
    ("fiona", "Fiona", "Fisher", "finance", True),
    ("sam", "Sam", "Shaw", "shipping", True),
    ("sally", "Sally", "Stone", "sales", True),
    ("steve", "Steve", "Park", "sales", False),
]


# Some members chose a daily digest, or no email, over an email per new queue item.
EMAIL_CHOICES = {"eli": "digest", "steve": "none"}


@dataclass
class DemoResult:
    users: list[tuple[str, str, str]]  # username, role, API token
    customers: int
    rules: int
    tickets: int
    # What the customer's side shows: (what, address).
    portal: list[tuple[str, str]]


def _user(username, first, last, *, is_superuser=False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@switchboard.example",
            "is_staff": is_superuser,
            "is_superuser": is_superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _customers(today, sally: User, steve: User) -> list[Customer]:
    specs = [
        # name, salesperson, contract end (days from today), pay-for-bug, invoices
        # (amount, due in days, paid), contact name, email
        ("Acme Manufacturing", sally, 200, False, [(1200, -40, True)], "Alice Archer"),
        ("Birch Logistics", sally, None, False, [(640, 20, False)], "Ben Birch"),
        ("Cobalt Labs", steve, None, False, [(2300, -15, False), (150, 10, False)], "Cara Cole"),
        ("Delta Retail", steve, None, True, [], "Dan Drake"),
        ("Evergreen Foods", sally, -30, False, [(80, -60, True)], "Eva Green"),
        ("Fjord Systems", steve, 20, False, [(990, -5, False)], "Finn Fjord"),
    ]
    customers = []
    for name, salesperson, contract_days, pay_for_bug, invoices, contact in specs:
        customer, created = Customer.objects.get_or_create(
            name=name,
            defaults={
                "salesperson": salesperson,
                "contract_starts_on": today - timedelta(days=300) if contract_days else None,
                "contract_ends_on": today + timedelta(days=contract_days)
                if contract_days
                else None,
                "pay_for_bug": pay_for_bug,
            },
        )
        if created:
            slug = name.split()[0].lower()
            Contact.objects.create(
                customer=customer,
                name=contact,
                email=f"{contact.split()[0].lower()}@{slug}.example",
                phone="+1 555 0100",
            )
            for index, (amount, due_in, paid) in enumerate(invoices, start=1):
                due_on = today + timedelta(days=due_in)
                Invoice.objects.create(
                    customer=customer,
                    number=f"INV-{slug.upper()}-{index:03d}",
                    amount=Decimal(amount),
                    issued_on=due_on - timedelta(days=30),
                    due_on=due_on,
                    paid_on=due_on if paid else None,
                )
        customers.append(customer)
    return customers


def _tickets(customers: list[Customer], rep: User) -> int:
    if Ticket.objects.exists():
        return 0
    acme, birch, cobalt, delta, evergreen, fjord = customers
    specs = [
        (acme, "bug", "phone", "Export to CSV stops at 1,000 rows", "Reports"),
        (birch, "rma", "email", "Scanner arrived damaged", "Handheld scanner"),
        (cobalt, "bug", "phone", "Login fails after password reset", "Portal"),
        (delta, "rfe", "web", "Please add dark mode to the dashboard", "Dashboard"),
        (evergreen, "call", "phone", "How do I add a second warehouse?", "Inventory"),
        (fjord, "call", "chat", "Delivery never arrived for order 5521", "Handheld scanner"),
    ]
    created = []
    for customer, kind, channel, subject, product in specs:
        created.append(
            ticket_create(
                customer=customer,
                contact=customer.contacts.first(),
                kind=kind,
                channel=channel,
                subject=subject,
                description=f"{subject}. Reported by {customer.name}.",
                product=product,
                created_by=rep,
            )
        )
    # One bug already fixed, so its salesperson has a follow-up waiting.
    ticket_update(
        ticket=created[0],
        actor=rep,
        status=Ticket.Status.RESOLVED,
        root_cause="product_defect",
        resolution="Fixed in 2.4",
    )
    return len(created)


REPLY_TEMPLATES = [
    (
        "Ask for the version",
        "Hello {{ contact.name }},\n\nthank you for writing. Which version of "
        "the product do you run? You find it under Help > About.\n\n{{ rep.name }}",
    ),
    (
        "Solved, anything else?",
        "Hello {{ contact.name }},\n\nwe believe {{ ticket.reference }} "
        "is solved. If anything is left, just reply to this email.\n\n{{ rep.name }}",
    ),
]


def _mail(customers: list[Customer]) -> None:
    """The email channel: a support mailbox, reply templates, and two emails received, one from
    a contact (a ticket) and one from a stranger (waiting at /mail/ for a rep to say who)."""
    from conversations.intake import inbound_store
    from conversations.models import Mailbox, ReplyTemplate
    from conversations.processing import inbound_process

    mailbox, _ = Mailbox.objects.get_or_create(
        name="support", defaults={"address": "support@switchboard.example"}
    )
    for name, body in REPLY_TEMPLATES:
        ReplyTemplate.objects.get_or_create(name=name, defaults={"body": body})
    contact = customers[0].contacts.exclude(email="").first()
    emails = [
        ("Pat Prospect", "pat@newcomer.example", "Do you ship to Norway?", "We'd order 40 units."),
    ]
    if contact is not None:
        emails.insert(
            0,
            (
                contact.name,
                contact.email,
                "Export to PDF cuts the last page",
                "When I export the monthly report to PDF, the last page is missing.",
            ),
        )
    for number, (name, address, subject, text) in enumerate(emails):
        raw = (
            f"From: {name} <{address}>\r\nTo: {mailbox.address}\r\nSubject: {subject}\r\n"
            f"Message-ID: <demo-{number}@switchboard.example>\r\n\r\n"
            f"Hello,\n\n{text}\n\nThanks,\n{name}\n"
        ).encode()
        inbound, created = inbound_store(raw=raw, source="pipe", mailbox=mailbox)
        if created:
            inbound_process(inbound_id=inbound.pk)


def _survey(ticket: Ticket | None) -> None:
    """The fixed bug's satisfaction survey, due at once rather than in 24 working hours, so the
    demo can answer it (``demo_surveys_send`` sends it once this transaction has committed)."""
    from surveys.models import Survey
    from surveys.services import survey_schedule
    from tickets.models import TicketEvent

    if ticket is None:
        return
    resolved = ticket.events.filter(type=TicketEvent.Type.STATUS_CHANGED).order_by("-id").first()
    survey = survey_schedule(event=resolved) if resolved else None
    if survey is not None and survey.status == Survey.Status.SCHEDULED:
        Survey.objects.filter(pk=survey.pk).update(send_after=timezone.now())


def demo_surveys_send() -> list[tuple[str, str]]:
    """Send the demo's survey; the customer's side to try: (what, address)."""
    from accounts.portal_links import portal_url
    from surveys.links import survey_url
    from surveys.models import Survey
    from surveys.services import surveys_send_due

    surveys_send_due()
    shown = [("Request form", f"{settings.SITE_URL}/support/")]
    survey = (
        Survey.objects.filter(status__in=[Survey.Status.SENT, Survey.Status.ANSWERED])
        .select_related("contact", "ticket")
        .order_by("id")
        .first()
    )
    if survey is not None and survey.contact is not None:
        name = survey.contact.name
        shown.append((f"{name}'s requests", portal_url(survey.contact)))
        shown.append((f"{name}'s survey on {survey.ticket.reference}", survey_url(survey)))
    return shown


@transaction.atomic
def demo_seed() -> DemoResult:
    """Create the demo data that is missing; safe to run more than once."""
    today = timezone.localdate()
    admin = _user("admin", "Ada", "Admin", is_superuser=True)
    users = [(admin, "admin")]
    by_name = {}
    for username, first, last, slug, is_lead in STAFF:
        user = _user(username, first, last)
        Membership.objects.get_or_create(
            user=user,
            department=Department.objects.get(slug=slug),
            defaults={
                "is_lead": is_lead,
                "email_preference": EMAIL_CHOICES.get(username, "immediate"),
            },
        )
        users.append((user, slug + (" lead" if is_lead else "")))
        by_name[username] = user
    customers = _customers(today, by_name["sally"], by_name["steve"])
    rules = starter_rules_install()
    tickets = _tickets(customers, by_name["rita"])
    _survey(Ticket.objects.filter(status=Ticket.Status.RESOLVED, contact__isnull=False).first())
    _mail(customers)
    logins = [(u.username, role, Token.objects.get_or_create(user=u)[0].key) for u, role in users]
    return DemoResult(
        users=logins, customers=len(customers), rules=len(rules), tickets=tickets, portal=[]
    )
