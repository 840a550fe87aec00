from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Contact, Customer, Department, Invoice, Membership, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-only")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    department = factory.LazyFunction(lambda: Department.objects.get(slug="support"))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    salesperson = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An unpaid invoice due in 30 days unless told otherwise."""

    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    amount = Decimal("100.00")
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    issued_on = factory.LazyAttribute(lambda i: i.due_on - timedelta(days=30))
    paid_on = None


def return_ticket(customer, **fields):
    """A return (RMA ticket) with the details the rep's forms ask for, made by the service."""
    from tickets.services import ticket_create

    details = {
        "kind": "rma",
        "channel": "phone",
        "subject": "Cracked case",
        "rma_serial_number": "SN-77",
        "rma_order_number": "SO-1234",
        "rma_reason": "Arrived cracked",
    }
    return ticket_create(customer=customer, **(details | fields))
