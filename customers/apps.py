from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """The customer's page for staff: one place for a customer's standing, contacts, tickets,
    follow-ups, up-sells, survey answers and the people who deal with them.

    It only brings together what the apps below it know; nothing imports it.
    """

    name = "customers"
    verbose_name = "Customer pages"
