"""Who may do what: the one definition of the roles, and the capabilities each grants.

Pages, the API (``accounts.api.permissions``), the Django admin and the selectors that decide
who sees which queue all ask the ``can_*`` functions below; nothing else looks at
``is_superuser``, ``is_staff`` or memberships to decide a permission.

``is_staff`` is not a role. It is Django's "may log into the admin site", and what someone may
do there is governed by Django's model permissions. An admin is an active superuser, the user
Django itself treats as holding every permission, so "admin" means the same in the pages, the
API and the admin site. Where a capability is a model permission an admin can grant through a
group in the Django admin (``routing.change_rule``, ``accounts.change_invoice``), a member of
staff holding it has the capability everywhere, not only in the admin site; without it, being
staff grants nothing.
"""

from enum import StrEnum

from django.db.models import Q, QuerySet

from accounts.models import Department, Membership, User

FINANCE = "finance"
SALES = "sales"


class Role(StrEnum):
    """The roles, most powerful first. A user may hold several (a finance lead is FINANCE,
    DEPARTMENT_LEAD, DEPARTMENT_MEMBER and REP); ``roles_of`` says which."""

    ADMIN = "admin"
    """An active superuser: everything below, every queue and follow-up, the rules."""
    FINANCE = "finance"
    """A member of the finance department: invoices, and a customer's contract dates and
    pay-for-bug agreement."""
    SALES_LEAD = "sales_lead"
    """A lead of the sales department: who a customer's salesperson is, and the whole sales
    team's follow-ups."""
    DEPARTMENT_LEAD = "department_lead"
    """A lead of a department: finishes items colleagues took on in its queue and hears of
    its escalations."""
    DEPARTMENT_MEMBER = "department_member"
    """A member of a department: sees and works its queue."""
    REP = "rep"
    """Every active member of staff: logs calls, works tickets, edits customers' names and
    contacts, reads every ticket, queue item and follow-up, works their own follow-ups."""


# --- who someone is -----------------------------------------------------------------------------


def _department_filter(department: Department | str | int) -> Q:
    if isinstance(department, Department):
        return Q(department=department)
    if isinstance(department, str):
        return Q(department__slug=department)
    return Q(department_id=department)


def _memberships(user) -> QuerySet[Membership]:
    if not (user and user.is_authenticated and user.is_active):
        return Membership.objects.none()
    return Membership.objects.filter(user=user)


def is_admin(user) -> bool:
    """An active superuser: Django's "has every permission", so the admin site agrees."""
    return bool(user and user.is_active and user.is_superuser)


def member_of(user, department: Department | str | int) -> bool:
    """Whether ``user`` belongs to ``department`` (the model, its slug or its id)."""
    return _memberships(user).filter(_department_filter(department)).exists()


def leads_department(user, department: Department | str | int) -> bool:
    """Whether ``user`` is a lead (``Membership.is_lead``) of ``department``."""
    return _memberships(user).filter(_department_filter(department), is_lead=True).exists()


def is_finance(user) -> bool:
    return member_of(user, FINANCE)


def is_sales_lead(user) -> bool:
    return leads_department(user, SALES)


def roles_of(user) -> set[Role]:
    """Every role ``user`` holds, in one query."""
    if not (user and user.is_authenticated and user.is_active):
        return set()
    roles = {Role.REP}
    if is_admin(user):
        roles.add(Role.ADMIN)
    for slug, lead in _memberships(user).values_list("department__slug", "is_lead"):
        roles.add(Role.DEPARTMENT_MEMBER)
        if lead:
            roles.add(Role.DEPARTMENT_LEAD)
        if slug == FINANCE:
            roles.add(Role.FINANCE)
        if slug == SALES and lead:
            roles.add(Role.SALES_LEAD)
    return roles


def admin_users() -> QuerySet[User]:
    """The admins, for whom a department without a lead escalates (the query ``is_admin``
    answers for one user)."""
    return User.objects.filter(is_superuser=True, is_active=True)


# --- what they may do ---------------------------------------------------------------------------


def _granted(user, permission: str) -> bool:
    """A Django model permission held by a member of staff (``is_staff``: who works in the
    admin site, where it is granted), so being granted it there means the same everywhere."""
    return bool(user and user.is_active and user.is_staff and user.has_perm(permission))


def can_edit_rules(user) -> bool:
    """Create, edit, reorder, switch, restore, import, dry-run and archive routing rules, on
    the rule pages, in the API and in the admin: admins, and staff granted
    ``routing.change_rule`` (through a group in the Django admin). Everyone reads them."""
    return is_admin(user) or _granted(user, "routing.change_rule")


def can_edit_invoices(user) -> bool:
    """Add and change invoices: finance, admins, and staff granted ``accounts.change_invoice``.
    Everyone reads them."""
    return is_admin(user) or is_finance(user) or _granted(user, "accounts.change_invoice")


def can_edit_customer_terms(user) -> bool:
    """Set a customer's contract dates and pay-for-bug agreement, which rules route on (to
    finance, for one): finance and admins."""
    return is_admin(user) or is_finance(user)


def can_assign_salesperson(user) -> bool:
    """Choose a customer's salesperson, who then gets its follow-ups: sales leads and admins."""
    return is_admin(user) or is_sales_lead(user)


def can_see_all_queues(user) -> bool:
    """See and work every department's queue (others: their departments'); finish any item and
    hear the escalations of departments without a lead: admins."""
    return is_admin(user)


def can_see_all_followups(user) -> bool:
    """See and work every follow-up (others: their own): admins."""
    return is_admin(user)


def can_see_team_followups(user) -> bool:
    """See and work the follow-ups of the whole sales team: sales leads (and admins, who see
    all)."""
    return is_admin(user) or is_sales_lead(user)


# A customer's fields that not everyone may change, each with who may and how they are told.
CUSTOMER_FIELD_RULES = {
    "contract_starts_on": (can_edit_customer_terms, "Only finance and admins change contracts."),
    "contract_ends_on": (can_edit_customer_terms, "Only finance and admins change contracts."),
    "pay_for_bug": (can_edit_customer_terms, "Only finance and admins change pay-for-bug terms."),
    "salesperson": (can_assign_salesperson, "Only sales leads and admins choose salespeople."),
}


def customer_fields_closed_to(user) -> dict[str, str]:
    """The customer fields ``user`` may not change, each with the reason to give. Everyone
    edits the rest (the name; contacts are rows of their own)."""
    allowed: dict = {}
    closed = {}
    for name, (capability, reason) in CUSTOMER_FIELD_RULES.items():
        if capability not in allowed:
            allowed[capability] = capability(user)
        if not allowed[capability]:
            closed[name] = reason
    return closed
