"""A customer's standing as money: Decimals with cents, whatever the database summed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.selectors import customer_standing, standing_from_annotated
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def test_amounts_are_decimals_with_cents():
    today = timezone.localdate()
    customer = CustomerFactory()
    InvoiceFactory(customer=customer, amount="2300", due_on=today - timedelta(days=1))
    InvoiceFactory(customer=customer, amount="150.5", due_on=today + timedelta(days=1))
    standing = customer_standing(customer_id=customer.pk)
    assert (str(standing.overdue_amount), str(standing.unpaid_amount)) == ("2300.00", "2450.50")


@pytest.mark.parametrize(
    ("summed", "amount"), [(2450, "2450.00"), (2450.5, "2450.50"), ("2450.5", "2450.50")]
)
def test_a_sum_that_lost_its_decimal_places_gets_them_back(summed, amount):
    """SQLite sums a DecimalField as an integer or a float: 2450 or 2450.5, not 2450.50."""
    customer = CustomerFactory()
    customer.unpaid_invoice_count, customer.overdue_invoice_count = 2, 1
    customer.unpaid_amount, customer.overdue_amount = summed, 0
    standing = standing_from_annotated(customer, timezone.localdate())
    assert isinstance(standing.unpaid_amount, Decimal)
    assert str(standing.unpaid_amount) == amount
    assert str(standing.overdue_amount) == "0.00"
