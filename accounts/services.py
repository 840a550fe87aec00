"""Writes on customers, contacts, invoices and API tokens. Each validates the whole row before
saving it."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Contact, Customer, Invoice, Membership, User
from accounts.roles import customer_fields_closed_to
from accounts.selectors import api_token_has_expired

CUSTOMER_FIELDS = frozenset(
    {
        "name",
        "salesperson",
        "contract_starts_on",
        "contract_ends_on",
        "pay_for_bug",
        "colleagues_see_tickets",
        "is_internal",
    }
)
CONTACT_FIELDS = frozenset({"name", "email", "phone", "title"})
INVOICE_FIELDS = frozenset({"number", "amount", "issued_on", "due_on", "paid_on"})


def _set_fields(instance, fields: dict, allowed: frozenset, fixed: tuple[str, ...] = ()) -> None:
    for name in fixed:
        if name in fields and fields[name] != getattr(instance, name):
            # Moving a contact or invoice to another organisation would silently rewrite the
            # history of both; create a new one instead.
            raise ValidationError({name: "This cannot be changed once created."})
    unknown = set(fields) - allowed - set(fixed)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(instance, name, value)


def _check_contract(customer: Customer) -> None:
    starts, ends = customer.contract_starts_on, customer.contract_ends_on
    if starts and ends and ends < starts:
        raise ValidationError({"contract_ends_on": "The contract cannot end before it starts."})


def _check_invoice(invoice: Invoice) -> None:
    if invoice.issued_on and invoice.due_on and invoice.due_on < invoice.issued_on:
        raise ValidationError({"due_on": "An invoice cannot fall due before it is issued."})


def _save(instance, fields: dict, allowed: frozenset, *, fixed=(), check=None):
    _set_fields(instance, fields, allowed, fixed)
    if check is not None:
        check(instance)
    instance.full_clean()
    instance.save()
    return instance


def _check_may_change(actor: User, customer: Customer, fields: dict) -> None:
    """Refuses, naming each field, a change ``actor`` may not make (``accounts.roles``).

    A value sent back unchanged (a client sending the whole customer) is no change; on a new
    customer the model's default (no contract, no salesperson) is none either.
    """
    refused = {}
    for name, reason in customer_fields_closed_to(actor).items():
        if name not in fields:
            continue
        value = fields[name]
        value = value.pk if isinstance(value, models.Model) else value
        field = Customer._meta.get_field(name)
        current = field.value_from_object(customer) if isinstance(field, models.Field) else None
        if value != current:
            refused[name] = [reason]
    if refused:
        # The API answers 403 with this body: what every refusal says under "detail", and
        # each field's reason as a 400 would give it.
        raise PermissionDenied({"detail": f"You may not change {', '.join(refused)}.", **refused})


@transaction.atomic
def customer_create(*, actor: User, **fields) -> Customer:
    """A new customer; the terms and salesperson only if ``actor`` may set them."""
    customer = Customer()
    _check_may_change(actor, customer, fields)
    return _save(customer, fields, CUSTOMER_FIELDS, check=_check_contract)


@transaction.atomic
def customer_update(*, customer: Customer, actor: User, **fields) -> Customer:
    """Changes the customer; the terms and salesperson only if ``actor`` may change them."""
    _check_may_change(actor, customer, fields)
    return _save(customer, fields, CUSTOMER_FIELDS, check=_check_contract)


@transaction.atomic
def contact_create(*, customer: Customer, **fields) -> Contact:
    return _save(Contact(customer=customer), fields, CONTACT_FIELDS)


@transaction.atomic
def contact_update(*, contact: Contact, **fields) -> Contact:
    """Changes the contact; a new email address is no longer known to bounce, and the portal
    links sent to the old one stop working (whoever reads that mailbox now is not the contact)."""
    if "email" in fields and fields["email"].lower() != contact.email.lower():
        contact.email_bouncing_since, contact.email_bounce_reason = None, ""
        contact.portal_token_version += 1
    return _save(contact, fields, CONTACT_FIELDS, fixed=("customer",))


def contacts_mark_bouncing(*, email: str, reason: str) -> int:
    """Mark every contact with this address as bouncing (mail to it failed for good), so that
    reps see it and nothing more is sent there; how many were marked."""
    return Contact.objects.filter(email__iexact=email, email_bouncing_since__isnull=True).update(
        email_bouncing_since=timezone.now(), email_bounce_reason=reason[:300]
    )


@transaction.atomic
def invoice_create(*, customer: Customer, **fields) -> Invoice:
    return _save(Invoice(customer=customer), fields, INVOICE_FIELDS, check=_check_invoice)


@transaction.atomic
def invoice_update(*, invoice: Invoice, **fields) -> Invoice:
    return _save(invoice, fields, INVOICE_FIELDS, fixed=("customer",), check=_check_invoice)


@transaction.atomic
def membership_set_email_preference(*, membership: Membership, preference: str) -> Membership:
    """How the member hears of new items in the department's queue."""
    if preference not in Membership.EmailPreference.values:
        raise ValidationError({"email_preference": "Choose immediate, digest or none."})
    membership.email_preference = preference
    membership.save(update_fields=["email_preference"])
    return membership


@transaction.atomic
def api_token_issue(*, user) -> Token:
    """The user's API token: the current one, or a new one if it has expired or never existed."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and not api_token_has_expired(token=token):
        return token
    if token is not None:
        token.delete()
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user) -> bool:
    """Deletes the user's API token, so requests with it are refused; False if there was none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
