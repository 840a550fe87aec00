"""Customers, contacts and invoices: standing derived from invoices, and who may write what."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Department, Membership
from accounts.selectors import customer_standing
from tests.factories import CustomerFactory, InvoiceFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def days(n):
    return TODAY() + timedelta(days=n)


class TestStanding:
    def test_unpaid_and_overdue_come_from_invoices(self):
        customer = CustomerFactory()
        InvoiceFactory(customer=customer, amount=Decimal("100.00"), due_on=days(10))
        InvoiceFactory(customer=customer, amount=Decimal("40.50"), due_on=days(-1))
        InvoiceFactory(
            customer=customer, amount=Decimal("999.00"), due_on=days(-9), paid_on=days(-2)
        )
        standing = customer_standing(customer_id=customer.pk)
        assert standing.has_unpaid_invoices is True
        assert standing.unpaid_invoice_count == 2
        assert standing.unpaid_amount == Decimal("140.50")
        assert standing.has_overdue_invoices is True
        assert standing.overdue_invoice_count == 1
        assert standing.overdue_amount == Decimal("40.50")

    def test_invoice_due_today_is_not_yet_overdue(self):
        customer = CustomerFactory()
        InvoiceFactory(customer=customer, due_on=TODAY())
        standing = customer_standing(customer_id=customer.pk)
        assert standing.has_unpaid_invoices is True
        assert standing.has_overdue_invoices is False

    def test_no_invoices_means_good_standing(self):
        standing = customer_standing(customer_id=CustomerFactory().pk)
        assert standing.unpaid_amount == Decimal("0")
        assert standing.has_unpaid_invoices is False

    @pytest.mark.parametrize(
        ("starts", "ends", "active"),
        [
            (None, None, False),
            (None, 0, True),  # the last day still counts
            (None, -1, False),
            (-10, 10, True),
            (1, 10, False),  # not started yet
        ],
    )
    def test_service_contract(self, starts, ends, active):
        customer = CustomerFactory(
            contract_starts_on=None if starts is None else days(starts),
            contract_ends_on=None if ends is None else days(ends),
        )
        assert customer_standing(customer_id=customer.pk).has_service_contract is active


class TestCustomersApi:
    def test_list_shows_standing_in_constant_queries(self, api, django_assert_num_queries):
        for index in range(5):
            customer = CustomerFactory(name=f"Firm {index}", contract_ends_on=days(5))
            InvoiceFactory(customer=customer, amount=Decimal(index), due_on=days(-1))
        with django_assert_num_queries(2):
            response = api.get("/api/v1/customers/", {"ordering": "name"})
        row = response.json()["results"][3]
        assert row["has_service_contract"] is True
        assert row["unpaid_invoice_count"] == 1
        assert row["overdue_amount"] == "3.00"

    def test_create_answers_with_standing(self, admin_api, salesperson):
        # The contract and salesperson are finance's and sales leads' (test_customer_terms.py).
        response = admin_api.post(
            "/api/v1/customers/",
            {"name": "New Co", "salesperson": salesperson.pk, "contract_ends_on": str(days(3))},
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["has_service_contract"] is True
        assert body["unpaid_amount"] == "0.00"

    def test_validation(self, api, admin_api, customer):
        response = api.post("/api/v1/customers/", {"name": customer.name})
        assert response.status_code == 400
        assert response.json() == {"name": ["customer with this name already exists."]}
        response = admin_api.post(
            "/api/v1/customers/",
            {"name": "X", "contract_starts_on": str(days(5)), "contract_ends_on": str(days(1))},
        )
        assert response.json() == {
            "contract_ends_on": ["The contract cannot end before it starts."]
        }

    def test_unpaid_amount_cannot_be_written(self, api, customer):
        response = api.patch(f"/api/v1/customers/{customer.pk}/", {"unpaid_amount": "5"})
        assert response.status_code == 200
        assert response.json()["unpaid_amount"] == "0.00"


class TestInvoicesApi:
    def invoice_data(self, customer, **extra):
        return {
            "customer": customer.pk,
            "number": "INV-1",
            "amount": "10.00",
            "issued_on": str(days(-30)),
            "due_on": str(days(-1)),
            **extra,
        }

    def test_support_can_read_but_not_write(self, api, customer):
        InvoiceFactory(customer=customer, due_on=days(-1))
        body = api.get("/api/v1/invoices/", {"overdue": "true"}).json()
        assert body["count"] == 1
        assert body["results"][0]["is_overdue"] is True
        assert api.post("/api/v1/invoices/", self.invoice_data(customer)).status_code == 403

    def test_finance_can_write(self, customer):
        accountant = UserFactory()
        Membership.objects.create(
            user=accountant, department=Department.objects.get(slug="finance")
        )
        client = APIClient()
        client.force_authenticate(accountant)
        response = client.post("/api/v1/invoices/", self.invoice_data(customer))
        assert response.status_code == 201, response.json()
        invoice_id = response.json()["id"]
        response = client.patch(f"/api/v1/invoices/{invoice_id}/", {"paid_on": str(TODAY())})
        assert response.json()["is_paid"] is True
        assert customer_standing(customer_id=customer.pk).has_unpaid_invoices is False

    def test_invoice_validation(self, admin_api, customer):
        response = admin_api.post(
            "/api/v1/invoices/", self.invoice_data(customer, amount="-1", due_on=str(days(-40)))
        )
        assert response.status_code == 400
        assert response.json() == {
            "amount": ["Ensure this value is greater than or equal to 0."],
        }
        response = admin_api.post(
            "/api/v1/invoices/", self.invoice_data(customer, due_on=str(days(-40)))
        )
        assert response.json() == {"due_on": ["An invoice cannot fall due before it is issued."]}

    def test_filters(self, api, customer):
        InvoiceFactory(customer=customer, paid_on=TODAY())
        InvoiceFactory(customer=customer)
        assert api.get("/api/v1/invoices/", {"paid": "true"}).json()["count"] == 1
        assert api.get("/api/v1/invoices/", {"paid": "false"}).json()["count"] == 1
        assert api.get("/api/v1/invoices/", {"overdue": "false"}).json()["count"] == 2


def test_contacts_api(api, customer):
    response = api.post(
        "/api/v1/contacts/", {"customer": customer.pk, "name": "Ann", "email": "not-an-email"}
    )
    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    response = api.post(
        "/api/v1/contacts/", {"customer": customer.pk, "name": "Ann", "email": "ann@x.example"}
    )
    assert response.status_code == 201
    assert api.get("/api/v1/contacts/", {"email": "ANN@x.example"}).json()["count"] == 1
    contact_id = response.json()["id"]
    other = CustomerFactory()
    response = api.patch(f"/api/v1/contacts/{contact_id}/", {"customer": other.pk})
    assert response.status_code == 400
    assert response.json() == {"customer": ["This cannot be changed once created."]}
    response = api.patch(f"/api/v1/contacts/{contact_id}/", {"customer": customer.pk, "phone": "1"})
    assert response.status_code == 200
    assert response.json()["phone"] == "1"


def test_an_invoice_stays_with_its_customer(admin_api, customer):
    invoice = InvoiceFactory(customer=customer)
    response = admin_api.patch(
        f"/api/v1/invoices/{invoice.pk}/", {"customer": CustomerFactory().pk}
    )
    assert response.status_code == 400
    assert response.json() == {"customer": ["This cannot be changed once created."]}
    invoice.refresh_from_db()
    assert invoice.customer == customer
