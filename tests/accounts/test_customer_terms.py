"""A customer's terms (contract, pay-for-bug) are finance's and admins', its salesperson sales
leads' and admins'; everyone edits its name. A refused change is a 403 naming each field, and
a value sent back unchanged is no change."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.models import Customer, Department, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _member(username, slug, *, lead=False):
    user = UserFactory(username=username)
    Membership.objects.create(user=user, department=Department.objects.get(slug=slug), is_lead=lead)
    return user


def _url(customer):
    return f"/api/v1/customers/{customer.pk}/"


def test_a_rep_is_told_which_fields_are_not_theirs_and_nothing_changes(api, customer):
    other = _member("steve", "sales")
    response = api.patch(
        _url(customer),
        {"name": "Renamed", "contract_ends_on": "2027-01-01", "salesperson": other.pk},
        format="json",
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You may not change contract_ends_on, salesperson.",
        "contract_ends_on": ["Only finance and admins change contracts."],
        "salesperson": ["Only sales leads and admins choose salespeople."],
    }
    customer.refresh_from_db()
    assert (customer.name, customer.contract_ends_on) == ("Plain Co", None)
    assert customer.salesperson.username == "seller"


def test_the_whole_customer_sent_back_unchanged_is_accepted(api, customer):
    body = api.get(_url(customer)).json()
    body["name"] = "Plain Company"
    response = api.patch(_url(customer), body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Plain Company"


def test_finance_sets_the_contract_and_pay_for_bug_but_not_the_salesperson(customer):
    finance = _client(_member("fiona", "finance"))
    terms = {"contract_starts_on": "2026-01-01", "contract_ends_on": "2027-01-01"}
    assert finance.patch(_url(customer), terms, format="json").status_code == 200
    assert finance.patch(_url(customer), {"pay_for_bug": True}, format="json").status_code == 200
    response = finance.patch(_url(customer), {"salesperson": None}, format="json")
    assert response.status_code == 403
    assert list(response.json()) == ["detail", "salesperson"]
    customer.refresh_from_db()
    assert (str(customer.contract_ends_on), customer.pay_for_bug) == ("2027-01-01", True)
    assert customer.salesperson is not None


def test_a_sales_lead_chooses_the_salesperson_but_not_the_terms(customer):
    lead = _client(_member("lena", "sales", lead=True))
    other = _member("steve", "sales")
    response = lead.patch(_url(customer), {"salesperson": other.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["salesperson"] == other.pk
    response = lead.patch(_url(customer), {"pay_for_bug": True}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You may not change pay_for_bug.",
        "pay_for_bug": ["Only finance and admins change pay-for-bug terms."],
    }


def test_a_new_customer_from_a_rep_has_no_terms_or_salesperson(api, salesperson):
    response = api.post(
        "/api/v1/customers/", {"name": "New Co", "pay_for_bug": False, "salesperson": None}
    )
    assert response.status_code == 201, response.json()
    response = api.post("/api/v1/customers/", {"name": "Other Co", "salesperson": salesperson.pk})
    assert response.status_code == 403
    assert list(response.json()) == ["detail", "salesperson"]
    assert not Customer.objects.filter(name="Other Co").exists()


def test_the_customer_admin_shows_the_closed_fields_read_only(client, customer):
    staff = UserFactory(username="carl", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="change_customer"))
    client.force_login(staff)
    url = f"/admin/accounts/customer/{customer.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="name"' in page
    for field in ("contract_starts_on", "contract_ends_on", "pay_for_bug", "salesperson"):
        assert f'name="{field}"' not in page, field
    # A forged post of a closed field is ignored: the admin saves only the fields it shows.
    response = client.post(
        url,
        {
            "name": "Plain Ltd",
            "pay_for_bug": "on",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.name, customer.pay_for_bug) == ("Plain Ltd", False)
