"""Customers, contacts and invoices saved in the Django admin go through accounts' services:
what they refuse is an error on the form, and nothing is stored."""

from datetime import date

import pytest

from accounts.models import Contact, Customer, Invoice
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _customer_form(**fields) -> dict:
    return {
        "name": "Acme",
        "salesperson": "",
        "contract_starts_on": "",
        "contract_ends_on": "",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "invoices-TOTAL_FORMS": "0",
        "invoices-INITIAL_FORMS": "0",
    } | fields


def _errors(response) -> dict:
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


@pytest.fixture
def boss(client, admin_user):
    client.force_login(admin_user)
    return admin_user


def test_adding_a_customer_whose_contract_ends_before_it_starts_is_a_form_error(client, boss):
    form = _customer_form(contract_starts_on="2026-06-01", contract_ends_on="2026-05-31")
    response = client.post("/admin/accounts/customer/add/", form)
    assert response.status_code == 200
    assert _errors(response) == {"contract_ends_on": ["The contract cannot end before it starts."]}
    assert not Customer.objects.exists()


def test_changing_a_contract_to_end_before_it_starts_is_a_form_error(client, boss):
    customer = CustomerFactory(name="Acme", contract_starts_on=date(2026, 6, 1))
    form = _customer_form(
        name="Acme Ltd", contract_starts_on="2026-06-01", contract_ends_on="2026-05-31"
    )
    response = client.post(f"/admin/accounts/customer/{customer.pk}/change/", form)
    assert response.status_code == 200
    assert _errors(response) == {"contract_ends_on": ["The contract cannot end before it starts."]}
    customer.refresh_from_db()
    assert (customer.name, customer.contract_ends_on) == ("Acme", None)


def test_adding_a_customer_with_its_contact_and_invoice(client, boss):
    form = _customer_form(
        contract_starts_on="2026-01-01",
        contract_ends_on="2026-12-31",
        pay_for_bug="on",
        **{
            "contacts-TOTAL_FORMS": "1",
            "contacts-0-name": "Ann",
            "contacts-0-email": "ann@acme.example",
            "invoices-TOTAL_FORMS": "1",
            "invoices-0-number": "INV-1",
            "invoices-0-amount": "100.00",
            "invoices-0-issued_on": "2026-01-05",
            "invoices-0-due_on": "2026-02-05",
        },
    )
    response = client.post("/admin/accounts/customer/add/", form)
    assert response.status_code == 302, response.content[:3000]
    customer = Customer.objects.get()
    assert (customer.name, customer.contract_ends_on, customer.pay_for_bug) == (
        "Acme",
        date(2026, 12, 31),
        True,
    )
    assert list(customer.contacts.values_list("name", "email")) == [("Ann", "ann@acme.example")]
    assert list(customer.invoices.values_list("number", flat=True)) == ["INV-1"]


def test_an_inline_invoice_due_before_it_is_issued_is_a_form_error(client, boss):
    customer = CustomerFactory(name="Acme")
    form = _customer_form(
        **{
            "invoices-TOTAL_FORMS": "1",
            "invoices-0-customer": customer.pk,
            "invoices-0-number": "INV-1",
            "invoices-0-amount": "100.00",
            "invoices-0-issued_on": "2026-02-05",
            "invoices-0-due_on": "2026-01-05",
        },
    )
    response = client.post(f"/admin/accounts/customer/{customer.pk}/change/", form)
    assert response.status_code == 200
    invoices = response.context["inline_admin_formsets"][1].formset
    assert [form.errors for form in invoices] == [
        {"__all__": ["Constraint “invoice_due_after_issue” is violated."]}
    ]
    assert not Invoice.objects.exists()


def test_moving_a_contact_to_another_customer_is_a_form_error(client, boss):
    contact = ContactFactory(name="Ann")
    other = CustomerFactory(name="Other")
    form = {"customer": other.pk, "name": "Ann", "email": "", "phone": "", "title": ""}
    response = client.post(f"/admin/accounts/contact/{contact.pk}/change/", form)
    assert response.status_code == 200
    assert _errors(response) == {"customer": ["This cannot be changed once created."]}
    assert Contact.objects.get().customer_id == contact.customer_id


def test_adding_an_invoice_due_before_it_is_issued_is_a_form_error(client, boss):
    customer = CustomerFactory(name="Acme")
    form = {
        "customer": customer.pk,
        "number": "INV-1",
        "amount": "100.00",
        "issued_on": "2026-02-05",
        "due_on": "2026-01-05",
    }
    response = client.post("/admin/accounts/invoice/add/", form)
    assert response.status_code == 200
    assert not Invoice.objects.exists()
