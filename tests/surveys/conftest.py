import pytest

from tests.factories import ContactFactory


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Ada Customer", email="ada@customer.example")
