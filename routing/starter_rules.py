"""The starter rule set, taken from how a company's departments depend on support.

Every bug goes to engineering; RFEs to engineering and marketing; finance hears of customers
with a service contract, unpaid invoices or a pay-for-bug agreement; shipping gets RMAs and
damaged or missing deliveries; the owning salesperson follows up two working days after a bug is
resolved; a detractor's survey answer becomes the salesperson's follow-up within two working
days and is shown to the support leads, and a promoter with no open problem is worth asking for a
reference.
"""

from django.db import transaction

from routing.models import Rule
from routing.services import rule_create
from tickets.models import SurveyCategory, Ticket, TicketEvent

CREATED = TicketEvent.Type.CREATED

DELIVERY_PROBLEM_PHRASES = [
    "damaged",
    "arrived broken",
    "broken in transit",
    "missing delivery",
    "missing parts",
    "missing items",
    "never arrived",
    "not delivered",
    "wrong item",
]

STARTER_RULES = [
    {
        "name": "Bugs go to engineering",
        "order": 10,
        "trigger": CREATED,
        "conditions": {"all": [{"field": "kind", "operator": "is", "value": Ticket.Kind.BUG}]},
        "actions": [
            {
                "type": "notify_department",
                "department": "engineering",
                "message": "New bug report: reproduce, classify and fix.",
            }
        ],
    },
    {
        "name": "RFEs go to engineering and marketing",
        "order": 20,
        "trigger": CREATED,
        "conditions": {"all": [{"field": "kind", "operator": "is", "value": Ticket.Kind.RFE}]},
        "actions": [
            {"type": "notify_department", "department": "engineering"},
            {"type": "notify_department", "department": "marketing"},
        ],
    },
    {
        "name": "Finance hears about customers with contracts, open invoices or pay-for-bug",
        "order": 30,
        "trigger": CREATED,
        "conditions": {
            "any": [
                {"field": "customer.has_service_contract", "operator": "is", "value": True},
                {"field": "customer.has_unpaid_invoices", "operator": "is", "value": True},
                {"field": "customer.pay_for_bug", "operator": "is", "value": True},
            ]
        },
        "actions": [{"type": "notify_department", "department": "finance"}],
    },
    {
        "name": "RMAs and delivery problems go to shipping",
        "order": 40,
        "trigger": CREATED,
        "conditions": {
            "any": [
                {"field": "kind", "operator": "is", "value": Ticket.Kind.RMA},
                {"field": "text", "operator": "contains_any", "value": DELIVERY_PROBLEM_PHRASES},
            ]
        },
        "actions": [{"type": "notify_department", "department": "shipping"}],
    },
    {
        "name": "Salesperson follows up on resolved bugs",
        "order": 50,
        "trigger": TicketEvent.Type.STATUS_CHANGED,
        "conditions": {
            "all": [
                {"field": "kind", "operator": "is", "value": Ticket.Kind.BUG},
                {"field": "status", "operator": "is", "value": Ticket.Status.RESOLVED},
            ]
        },
        "actions": [
            {
                "type": "create_followup",
                "due_in_working_days": 2,
                "reason": "Confirm the customer is satisfied with the fix.",
            }
        ],
    },
    {
        # The closed loop: the customer's own words reach the people who can act, quickly.
        "name": "Detractors: the salesperson calls within two working days",
        "order": 60,
        "trigger": TicketEvent.Type.SURVEY_ANSWERED,
        "conditions": {
            "all": [
                {"field": "survey.category", "operator": "is", "value": SurveyCategory.DETRACTOR}
            ]
        },
        "actions": [
            {
                "type": "create_followup",
                "due_in_working_days": 2,
                "reason": 'Detractor, {{ survey.score }}/10: {{ survey.reason|default:"no reason '
                'given"|truncatechars:150 }}',
            },
            {
                "type": "notify_department",
                "department": "support",
                "message": '{{ contact.name|default:"The customer" }} scored us '
                "{{ survey.score }}/10 on {{ ticket.reference }}: "
                '{{ survey.reason|default:"no reason given" }}',
            },
        ],
    },
    {
        "name": "Promoters with no open problem: ask for a reference",
        "order": 70,
        "trigger": TicketEvent.Type.SURVEY_ANSWERED,
        "conditions": {
            "all": [
                {"field": "survey.category", "operator": "is", "value": SurveyCategory.PROMOTER},
                {"field": "survey.customer_open_problems", "operator": "is", "value": 0},
            ]
        },
        "actions": [
            {
                "type": "create_followup",
                "due_in_working_days": 5,
                "reason": "Optional: a promoter ({{ survey.score }}/10), worth asking for a "
                "reference.",
            }
        ],
    },
]


@transaction.atomic
def starter_rules_install() -> list[Rule]:
    """Create the starter rules that do not exist yet (by name); never overwrite an edit."""
    existing = set(Rule.objects.values_list("name", flat=True))
    return [
        rule_create(**definition)
        for definition in STARTER_RULES
        if definition["name"] not in existing
    ]
