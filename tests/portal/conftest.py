import base64
import json
import uuid

import altcha
import pytest
from django.conf import settings as django_settings

from portal.challenge import challenge_new
from tests.factories import ContactFactory


@pytest.fixture(autouse=True)
def _portal_setup(settings, tmp_path):
    """Files in a folder of the test's own; the portal's counts in Redis (as in production)
    under a prefix of the test's own, so no test inherits another's; a small proof of work."""
    settings.MEDIA_ROOT = str(tmp_path)
    portal = {**django_settings.CACHES["portal"], "KEY_PREFIX": f"portal-test-{uuid.uuid4().hex}"}
    settings.CACHES = {**django_settings.CACHES, "portal": portal}
    settings.ALTCHA_MAX_NUMBER = 2000


def solve(challenge: dict) -> str:
    """What the page's script posts: the number that solves the challenge, found by search."""
    solution = altcha.solve_challenge(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    )
    payload = {**challenge, "number": solution.number}
    payload.pop("maxnumber")
    return base64.b64encode(json.dumps(payload).encode()).decode()


@pytest.fixture
def proof():
    """A fresh solved proof of work, as the form's widget would post it."""
    return lambda: solve(challenge_new())


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Ada Customer", email="ada@customer.example")


def form_data(proof, **changes) -> dict:
    data = {
        "name": "Ada Customer",
        "email": "ada@customer.example",
        "organisation": "Plain Co",
        "product": "Widget Pro",
        "kind": "bug",
        "subject": "Export fails",
        "description": "The export stops at 42%.",
        "website": "",
        "altcha": proof(),
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}
