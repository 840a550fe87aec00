"""API rate limits: a burst over the rate is answered 429 with Retry-After, per user and per
client address, with the counts in the configured cache (Redis when REDIS_URL is set)."""

import uuid

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from helpdesk.throttles import UserRateThrottle
from tests.test_settings import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    settings.API_THROTTLE_RATES = {"user": "5/minute", "anon": "3/minute"}


def _fresh_address() -> str:
    """An address no earlier run has counted (Redis keeps counts between runs)."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _forget(*users):
    """Counts of these users left by an earlier run (ids repeat when the database is rebuilt)."""
    for user in users:
        key = UserRateThrottle.cache_format % {"scope": "user", "ident": user.pk}
        caches["api-throttle"].delete(key)


def test_a_user_over_the_rate_gets_429(low_rates, api, rep):
    _forget(rep)
    answers = [api.get("/api/v1/departments/").status_code for _ in range(7)]
    assert answers == [200] * 5 + [429] * 2
    refused = api.get("/api/v1/tickets/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"].lower()


def test_each_user_has_a_count_of_their_own(low_rates, api, rep, salesperson):
    _forget(rep, salesperson)
    other = APIClient()
    other.force_authenticate(salesperson)
    answers = [api.get("/api/v1/departments/").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    assert other.get("/api/v1/departments/").status_code == 200


def test_anonymous_token_requests_are_limited_per_address(low_rates, rep):
    client = APIClient()
    address = _fresh_address()
    answers = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "rep", "password": "pw-for-tests-only"},
            REMOTE_ADDR=address,
        ).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    elsewhere = client.post(
        "/api/v1/auth/token/",
        {"username": "rep", "password": "pw-for-tests-only"},
        REMOTE_ADDR=_fresh_address(),
    )
    assert elsewhere.status_code == 200


def test_the_shipped_rates_are_generous_and_on():
    """The suite turns the limits off (tests/conftest.py); the module keeps what ships."""
    import helpdesk.settings

    assert helpdesk.settings.API_THROTTLE_RATES == {"user": "3600/hour", "anon": "100/hour"}


@pytest.mark.parametrize("rate", ["lots", "0/hour", "10/fortnight"])
def test_a_rate_that_is_not_one_stops_the_process(rate):
    result = load(DJANGO_SECRET_KEY="s", API_THROTTLE_USER_RATE=rate)
    assert result.returncode != 0
    assert f"API_THROTTLE_USER_RATE={rate!r} must look like 3600/hour" in result.stderr


def test_a_limit_can_be_turned_off():
    assert load(DJANGO_SECRET_KEY="s", API_THROTTLE_ANON_RATE="off").returncode == 0


def test_the_api_answers_while_the_rate_limits_cache_is_unreachable(low_rates, api, settings):
    settings.CACHES = {
        **settings.CACHES,
        "api-throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 9: the connection is refused at once.
            "LOCATION": "redis://127.0.0.1:9/0",
        },
    }
    assert [api.get("/api/v1/departments/").status_code for _ in range(7)] == [200] * 7
