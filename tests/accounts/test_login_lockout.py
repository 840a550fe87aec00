"""Brute force: repeated wrong passwords lock the account and the address out, on every login path.

Each test runs a real guessing loop through the test client and the API with the shipped limits
(LOGIN_FAILURE_LIMIT wrong passwords), then shows the right password refused until the cool-off
has passed, while other people keep logging in.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import F
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


def _log_in(client, path, username, password, address):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def _pass_cooloff():
    """As if LOGIN_COOLOFF_MINUTES had gone by since the last attempt."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES + 1)
    )


def _guess(client, path, username, address, times):
    return [_log_in(client, path, username, f"guess-{n}", address) for n in range(times)]


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_pages_lock_an_account_after_repeated_wrong_passwords(client, admin_user, path):
    limit = settings.LOGIN_FAILURE_LIMIT
    answers = _guess(client, path, "boss", ATTACKER, limit + 5)

    # Answered normally (the form again, with its error) until the limit is reached.
    assert [a.status_code for a in answers[: limit - 1]] == [200] * (limit - 1)
    assert {a.status_code for a in answers[limit - 1 :]} == {429}
    assert b"Too many failed logins" in answers[-1].content
    assert answers[-1]["Retry-After"] == str(settings.LOGIN_COOLOFF_MINUTES * 60)

    # The right password is refused too, and from another address: the account is locked.
    for address in (ATTACKER, ELSEWHERE):
        refused = _log_in(client, path, "boss", PASSWORD, address)
        assert refused.status_code == 429
        assert "_auth_user_id" not in client.session

    # Someone else, from elsewhere, logs in meanwhile.
    UserFactory(username="other", is_staff=True)
    assert _log_in(client, path, "other", PASSWORD, ELSEWHERE).status_code == 302
    client.logout()

    _pass_cooloff()
    assert _log_in(client, path, "boss", PASSWORD, ELSEWHERE).status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_an_address_guessing_at_many_accounts_is_locked_out(client, db):
    """Spreading the guesses over accounts does not get round the limit per address."""
    limit = settings.LOGIN_FAILURE_LIMIT
    usernames = [UserFactory(username=f"staff{n}").username for n in range(limit)]
    answers = [_log_in(client, "/login/", name, "guess", ATTACKER) for name in usernames]
    assert answers[-1].status_code == 429

    UserFactory(username="victim")
    assert _log_in(client, "/login/", "victim", PASSWORD, ATTACKER).status_code == 429
    assert _log_in(client, "/login/", "victim", PASSWORD, ELSEWHERE).status_code == 302


def test_api_token_locks_out_with_a_json_429(rep, salesperson):
    client = APIClient()
    limit = settings.LOGIN_FAILURE_LIMIT
    answers = _guess(client, "/api/v1/auth/token/", "rep", ATTACKER, limit + 3)

    assert [a.status_code for a in answers[: limit - 1]] == [400] * (limit - 1)
    assert {a.status_code for a in answers[limit - 1 :]} == {429}
    assert "Too many failed logins" in answers[-1].json()["detail"]

    refused = _log_in(client, "/api/v1/auth/token/", "rep", PASSWORD, ELSEWHERE)
    assert refused.status_code == 429
    assert "token" not in refused.json()

    other = _log_in(client, "/api/v1/auth/token/", "seller", PASSWORD, ELSEWHERE)
    assert other.status_code == 200
    assert other.json()["token"]

    _pass_cooloff()
    assert _log_in(client, "/api/v1/auth/token/", "rep", PASSWORD, ATTACKER).status_code == 200


def test_failures_on_one_path_count_on_the_others(client, rep):
    """Guessing on the page and then the API is one count, not one per path."""
    limit = settings.LOGIN_FAILURE_LIMIT
    _guess(client, "/login/", "rep", ATTACKER, limit // 2)
    _guess(APIClient(), "/api/v1/auth/token/", "rep", ATTACKER, limit - limit // 2)
    assert _log_in(client, "/admin/login/", "rep", PASSWORD, ELSEWHERE).status_code == 429


def test_behind_a_proxy_the_forwarded_client_is_counted(client, rep, settings):
    """With TRUSTED_PROXY_COUNT set, clients behind the proxy are not all one address."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(
            "/login/",
            {"username": f"nobody{n}", "password": "guess"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}",
        )
    # The attacker is locked out; another client through the same proxy is not.
    locked = client.post(
        "/login/",
        {"username": "rep", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=ATTACKER,
    )
    assert locked.status_code == 429
    allowed = client.post(
        "/login/",
        {"username": "rep", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=ELSEWHERE,
    )
    assert allowed.status_code == 302


def test_logins_without_a_request_are_not_counted(rep):
    """Management commands and the shell authenticate without a request; nothing to lock out."""
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        assert authenticate(username="rep", password="wrong") is None
    assert authenticate(username="rep", password=PASSWORD) == rep
    assert not AccessAttempt.objects.exists()
