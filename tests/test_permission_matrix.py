"""Who may do what: every role of ``accounts.roles`` (and what the admin site can grant besides)
against every page, endpoint and admin form that asks one of its capabilities.

Each subject's row lists what it may do; everything else must be refused. A role added to
``Role`` without a user here and a row of expectations fails ``test_every_role_is_covered``.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from accounts.models import Department, Membership
from accounts.roles import Role, roles_of
from queues.models import FollowUpTask, Notification
from queues.services import notification_acknowledge
from routing.selectors import rules_list
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, InvoiceFactory, UserFactory
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def _member(username, slug, *, lead=False, **user_fields):
    user = UserFactory(username=username, **user_fields)
    Membership.objects.create(user=user, department=Department.objects.get(slug=slug), is_lead=lead)
    return user


def _granted(user, *codenames):
    """``user`` in a group holding the model permissions, as an admin grants them."""
    group = Group.objects.create(name=f"{user.username}'s group")
    group.permissions.set(Permission.objects.filter(codename__in=codenames))
    user.groups.add(group)
    return user


ROLE_USERS = {
    Role.ADMIN: lambda: UserFactory(username="ada", is_superuser=True, is_staff=True),
    Role.FINANCE: lambda: _member("fiona", "finance"),
    Role.SALES_LEAD: lambda: _member("lena", "sales", lead=True),
    Role.DEPARTMENT_LEAD: lambda: _member("erin", "engineering", lead=True),
    Role.DEPARTMENT_MEMBER: lambda: _member("eli", "engineering"),
    Role.REP: lambda: _member("rita", "support"),
}
# Not roles: what the admin site grants. Staff status alone grants nothing; a model permission
# given through a group grants its capability everywhere, and the admin still applies the roles.
GRANT_USERS = {
    "staff, no permissions": lambda: UserFactory(username="stan", is_staff=True),
    "staff granted rules": lambda: _granted(
        UserFactory(username="greta", is_staff=True), "change_rule"
    ),
    "staff granted customers": lambda: _granted(
        UserFactory(username="carl", is_staff=True), "view_customer", "change_customer"
    ),
    "finance staff granted customers": lambda: _granted(
        _member("frank", "finance", is_staff=True), "view_customer", "change_customer"
    ),
}
SUBJECTS = {**ROLE_USERS, **GRANT_USERS}

A_RULE = {
    "name": "Tag bugs",
    "trigger": "ticket.created",
    "conditions": {"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
    "actions": [{"type": "add_tag", "tag": "bug"}],
}


@pytest.fixture
def world():
    """A customer of Sally's (a salesperson, not a lead) with an invoice, and a ticket routed
    to engineering (taken on by Ed), shipping and marketing, with a follow-up for Sally."""
    sally = _member("sally", "sales")
    customer = CustomerFactory(name="Matrix Co", salesperson=sally)
    invoice = InvoiceFactory(customer=customer)
    rule = rule_create(
        name="Everywhere",
        trigger="ticket.created",
        conditions={},
        actions=[
            *({"type": "notify_department", "department": slug} for slug in DEPARTMENTS_TOLD),
            {"type": "create_followup", "due_in_working_days": 1},
        ],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    dispatch_pending()
    taken = Notification.objects.get(ticket=ticket, department__slug="engineering")
    notification_acknowledge(notification=taken, user=_member("ed", "engineering"))
    return {
        "customer": customer,
        "invoice": invoice,
        "rule": rule,
        "taken": taken,
        "steve": _member("steve", "sales"),
        "followup": FollowUpTask.objects.get(ticket=ticket),
    }


DEPARTMENTS_TOLD = ["engineering", "shipping", "marketing"]


def _status(response, allowed: int, refused: tuple = (403,)) -> bool:
    assert response.status_code in (allowed, *refused), response.status_code
    return response.status_code == allowed


def _admin_field(page, url, field) -> bool:
    """Whether the admin's form at ``url`` lets the user edit ``field`` (not merely show it)."""
    response = page.get(url)
    # Not staff: sent to the admin's login; staff without the permission: 403.
    if response.status_code in (302, 403):
        return False
    assert response.status_code == 200
    return f'name="{field}"' in response.content.decode()


def _customer_patch(api, world, **fields) -> bool:
    return _status(
        api.patch(f"/api/v1/customers/{world['customer'].pk}/", fields, format="json"), 200
    )


def _reorder(api) -> bool:
    ids = list(reversed(rules_list().values_list("pk", flat=True)))
    return _status(api.post("/api/v1/rules/reorder/", {"rules": ids}, format="json"), 200)


# In the order they run: the rule is archived last, once every other check has seen it.
CHECKS = {
    "rules: read": lambda api, page, w: _status(api.get("/api/v1/rules/"), 200),
    "rule pages": lambda api, page, w: (
        _status(page.get("/rules/"), 200) and _status(page.get(f"/rules/{w['rule'].pk}/"), 200)
    ),
    "rules: create": lambda api, page, w: _status(
        api.post("/api/v1/rules/", A_RULE, format="json"), 201
    ),
    "rules: reorder": lambda api, page, w: _reorder(api),
    "admin: add a rule": lambda api, page, w: _admin_field(
        page, "/admin/routing/rule/add/", "name"
    ),
    "invoices: read": lambda api, page, w: _status(api.get("/api/v1/invoices/"), 200),
    "invoices: create": lambda api, page, w: _status(
        api.post(
            "/api/v1/invoices/",
            {
                "customer": w["customer"].pk,
                "number": "INV-M1",
                "amount": "10.00",
                "issued_on": "2026-01-01",
                "due_on": "2026-02-01",
            },
            format="json",
        ),
        201,
    ),
    "invoices: mark paid": lambda api, page, w: _status(
        api.patch(
            f"/api/v1/invoices/{w['invoice'].pk}/",
            {"paid_on": str(w["invoice"].issued_on)},
            format="json",
        ),
        200,
    ),
    "admin: add an invoice": lambda api, page, w: _admin_field(
        page, "/admin/accounts/invoice/add/", "number"
    ),
    "customer: name": lambda api, page, w: _customer_patch(api, w, name="Matrix Ltd"),
    "customer: contract": lambda api, page, w: _customer_patch(
        api, w, contract_starts_on="2026-01-01", contract_ends_on="2027-01-01"
    ),
    "customer: pay-for-bug": lambda api, page, w: _customer_patch(api, w, pay_for_bug=True),
    "customer: salesperson": lambda api, page, w: _customer_patch(
        api, w, salesperson=w["steve"].pk
    ),
    "admin: customer's name": lambda api, page, w: _admin_field(
        page, f"/admin/accounts/customer/{w['customer'].pk}/change/", "name"
    ),
    "admin: customer's contract": lambda api, page, w: _admin_field(
        page, f"/admin/accounts/customer/{w['customer'].pk}/change/", "contract_ends_on"
    ),
    "admin: customer's pay-for-bug": lambda api, page, w: _admin_field(
        page, f"/admin/accounts/customer/{w['customer'].pk}/change/", "pay_for_bug"
    ),
    "admin: customer's salesperson": lambda api, page, w: _admin_field(
        page, f"/admin/accounts/customer/{w['customer'].pk}/change/", "salesperson"
    ),
    "queues: engineering's": lambda api, page, w: _status(page.get("/queues/engineering/"), 200),
    "queues: every department's": lambda api, page, w: (
        _status(page.get("/queues/marketing/"), 200)
        and {n["department"] for n in api.get("/api/v1/notifications/").json()["results"]}
        >= set(DEPARTMENTS_TOLD)
    ),
    "queue items: finish one a colleague took on": lambda api, page, w: _status(
        # A colleague who works the queue is told why (400); anyone else is refused (403).
        api.post(f"/api/v1/notifications/{w['taken'].pk}/complete/"),
        200,
        refused=(400, 403),
    ),
    "follow-ups: the sales team's": lambda api, page, w: (
        w["followup"].pk in {t["id"] for t in api.get("/api/v1/followups/").json()["results"]}
    ),
    "follow-ups: read any ticket's": lambda api, page, w: _status(
        api.get(f"/api/v1/followups/{w['followup'].pk}/"), 200
    ),
    "rules: archive": lambda api, page, w: _status(
        api.delete(f"/api/v1/rules/{w['rule'].pk}/"), 204
    ),
}

EVERYONE = {"rules: read", "invoices: read", "customer: name", "follow-ups: read any ticket's"}
RULES = {"rules: create", "rules: reorder", "rules: archive", "rule pages"}
INVOICES = {"invoices: create", "invoices: mark paid"}
TERMS = {"customer: contract", "customer: pay-for-bug"}
ENGINEERING = {"queues: engineering's"}

# What each may do; everything not listed is refused.
ALLOWED = {
    Role.ADMIN: set(CHECKS),
    Role.FINANCE: EVERYONE | INVOICES | TERMS,
    Role.SALES_LEAD: EVERYONE | {"customer: salesperson", "follow-ups: the sales team's"},
    Role.DEPARTMENT_LEAD: EVERYONE | ENGINEERING | {"queue items: finish one a colleague took on"},
    Role.DEPARTMENT_MEMBER: EVERYONE | ENGINEERING,
    Role.REP: EVERYONE,
    "staff, no permissions": EVERYONE,
    "staff granted rules": EVERYONE | RULES | {"admin: add a rule"},
    "staff granted customers": EVERYONE | {"admin: customer's name"},
    "finance staff granted customers": EVERYONE
    | INVOICES
    | TERMS
    | {
        "admin: add an invoice",
        "admin: customer's name",
        "admin: customer's contract",
        "admin: customer's pay-for-bug",
    },
}


def test_every_role_is_covered():
    assert set(ROLE_USERS) == set(Role), "every role needs a user here"
    assert set(ALLOWED) == set(SUBJECTS), "every subject needs a row of expectations"
    for subject, allowed in ALLOWED.items():
        assert allowed <= set(CHECKS), (subject, allowed - set(CHECKS))


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_role_user_holds_its_role(role):
    assert role in roles_of(ROLE_USERS[role]())


@pytest.mark.parametrize("subject", list(SUBJECTS))
def test_who_may_do_what(subject, world, client):
    user = SUBJECTS[subject]()
    api = APIClient()
    api.force_authenticate(user)
    client.force_login(user)
    done = {name: bool(check(api, client, world)) for name, check in CHECKS.items()}
    expected = {name: name in ALLOWED[subject] for name in CHECKS}
    assert done == expected
