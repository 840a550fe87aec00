"""Every API operation, called with generated input as a rep and as an admin: no answer is a
5xx, and every answer is one the OpenAPI schema documents (its status code, content type and
body). A client generated from the schema must be able to read whatever the API says.

The examples are few and derandomized (the same cases on every run), so this stays a fast
regression test rather than a fuzzing campaign.
"""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_issue
from helpdesk.wsgi import application
from queues.models import Notification
from routing.services import rule_archive, rule_create, rule_update
from tests.conftest import dispatch_pending
from tests.factories import ContactFactory, InvoiceFactory
from tickets.services import note_add, ticket_create, ticket_update

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Cases per operation, user and kind (valid input, invalid input): ~600 requests in all.
EXAMPLES = 3


@pytest.fixture
def known_objects(rep, admin_user, customer, salesperson, followup):
    """One of everything, so a detail route has something to find; among them the values the
    schema once got wrong: no department, no root cause or outcome yet, entries and rule
    versions without an author."""
    contact = ContactFactory(customer=customer)
    invoice = InvoiceFactory(customer=customer)
    rule = rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[{"type": "notify_department", "department": "support"}],
    )
    rule_update(rule=rule, author=admin_user, summary="Renamed", name="Bugs to support")
    old = rule_create(name="Old", trigger="ticket.created", actions=rule.actions)
    rule_archive(rule=old)
    doomed = rule_create(name="To archive", trigger="ticket.created", actions=rule.actions)
    ticket = ticket_create(customer=customer, contact=contact, kind="bug", channel="phone",
                           subject="Export crashes", created_by=rep)  # fmt: skip
    note_add(ticket=ticket, author=rep, body="Called back")
    ticket_update(ticket=ticket, actor=None, priority="high")  # an entry with no author
    dispatch_pending()
    return {
        "contacts": contact.pk,
        "customers": customer.pk,
        "departments": "support",
        "followups": followup.pk,
        "invoices": invoice.pk,
        "notifications": Notification.objects.filter(ticket=ticket).first().pk,
        "rules": rule.pk,
        "rules DELETE": doomed.pk,  # archived by the first valid DELETE; the others keep theirs
        "tickets": ticket.pk,
    }


@pytest.fixture
def wsgi_app():
    """The real WSGI application, inside the test's transaction: Django closes a connection
    at each request's start and end that is not in autocommit (Django's test client
    suspends this the same way), which here would throw the test's data away."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_schema(wsgi_app, user):
    """The schema as the app serves it at /api/schema/ (which needs a login)."""
    token = api_token_issue(user=user)
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {token.key}"}
    )


def call_each(strategy, user, examples: int = EXAMPLES):
    @settings(
        max_examples=examples,
        derandomize=True,  # the same cases on every run
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is shown as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case):
        # A fresh token each time: DELETE /auth/token/ revokes the one it was called with.
        token = api_token_issue(user=user)
        case.call_and_validate(headers={"Authorization": f"Token {token.key}"}, checks=CHECKS)

    call()


# pytest's own subtests (pytest 9); schemathesis' pytest plugin reads node internals that
# pytest 9.2 no longer has, so the operations are driven here through its public API.
@pytest.mark.django_db
@pytest.mark.parametrize("role", ["rep", "admin_user"])
def test_every_operation_answers_as_documented(request, role, wsgi_app, known_objects, settings,
                                               subtests):  # fmt: skip
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis' WSGI host
    user = request.getfixturevalue(role)
    schema = load_schema(wsgi_app, user)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        resource = operation.path.removeprefix("/api/v1/").split("/")[0]
        pk = known_objects.get(
            f"{resource} {operation.method.upper()}", known_objects.get(resource)
        )
        # A random id finds nothing: valid input names a real object, invalid input the 404.
        known = {name: pk for name in re.findall(r"{(\w+)}", operation.path)}
        with subtests.test(msg=f"{operation.label} as {role}"):
            for example in schema.get_strategies_from_examples(operation):
                call_each(example, user, examples=1)
            call_each(operation.as_strategy(path_parameters=known), user)
            try:
                call_each(operation.as_strategy(GenerationMode.NEGATIVE), user)
            except Unsatisfiable:
                pass  # nothing to get wrong: no parameters, or only free text
