"""API tokens are cached (accounts.token_cache) so that a request with one sends no SQL to be
authenticated, and still every refusal takes effect on the very next request: a revoked token,
a deactivated or demoted user, an expired token. Without its cache, the database answers."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import token_cache

pytestmark = pytest.mark.django_db

URL = "/api/v1/departments/"


@pytest.fixture(autouse=True)
def _cache_reachable(monkeypatch):
    # A test that finds the cache unreachable leaves the process backing off from it.
    monkeypatch.setattr(token_cache, "_skip_until", 0.0)


@pytest.fixture
def token(rep) -> Token:
    return Token.objects.create(user=rep)


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _get(client: APIClient, url: str = URL) -> tuple[int, list[str]]:
    """The answer's status, and the statements that read the token or a user to answer it."""
    with CaptureQueriesContext(connection) as queries:
        status = client.get(url).status_code
    return status, [
        q["sql"] for q in queries if "authtoken_token" in q["sql"] or "accounts_user" in q["sql"]
    ]


@pytest.fixture
def cached(token) -> APIClient:
    """A client whose token the cache holds: its second request reads no token or user."""
    client = _client(token.key)
    status, reads = _get(client)
    assert (status, len(reads)) == (200, 1)  # read once, and remembered
    assert _get(client) == (200, [])
    return client


def test_a_cached_token_sends_no_sql_to_authenticate(cached, token, rep):
    assert token_cache.token_cached(token.key).user == rep
    with CaptureQueriesContext(connection) as queries:
        assert cached.get(URL).status_code == 200
    # What is left is the listing itself.
    assert all("accounts_department" in q["sql"] for q in queries), [q["sql"] for q in queries]


def test_the_cached_user_is_the_user(cached, token, rep):
    user = token_cache.token_cached(token.key).user
    for field in rep._meta.concrete_fields:
        if field.attname != "password":
            assert getattr(user, field.attname) == getattr(rep, field.attname), field.name
    # Not kept in the cache; read from the database if anything asks.
    assert user.password == rep.password


def test_a_token_revoked_by_its_owner_is_refused_next(cached):
    assert cached.delete("/api/v1/auth/token/").status_code == 204
    assert _get(cached)[0] == 401


def test_a_token_revoked_in_the_admin_is_refused_next(cached, client, rep, admin_user):
    client.force_login(admin_user)
    response = client.post(f"/admin/authtoken/tokenproxy/{rep.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _get(cached)[0] == 401


def test_a_deleted_user_is_refused_next(cached, rep):
    rep.delete()
    assert _get(cached)[0] == 401


def test_a_deactivated_user_is_refused_next(cached, rep):
    rep.is_active = False
    rep.save()
    refused = cached.get(URL)
    assert refused.status_code == 401
    assert "inactive" in refused.json()["detail"]


def test_a_demoted_admin_is_refused_admin_work_next(admin_user):
    client = _client(Token.objects.create(user=admin_user).key)
    # Allowed past the permission check (and refused by validation, which needs no rule).
    assert client.post("/api/v1/rules/", {}, format="json").status_code == 400
    assert _get(client) == (200, [])  # cached as an admin
    admin_user.is_superuser = False
    admin_user.save()
    assert client.post("/api/v1/rules/", {}, format="json").status_code == 403


def test_an_expired_token_is_refused_next(cached, token, monkeypatch):
    expiry = token.created + timedelta(days=settings.API_TOKEN_DAYS)
    monkeypatch.setattr(timezone, "now", lambda: expiry + timedelta(seconds=1))
    refused = cached.get(URL)
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_a_read_made_before_a_revocation_is_not_cached_after_it(token, rep):
    key = token.key
    read_before = Token.objects.select_related("user").get(pk=key)
    token.delete()
    token_cache.token_remember(read_before)  # the slow request caches what it read
    assert token_cache.token_cached(key) is None
    assert _get(_client(key))[0] == 401


def test_the_entry_is_refused_again_once_the_revocation_commits(
    cached, token, django_capture_on_commit_callbacks
):
    key, read_before = token.key, Token.objects.select_related("user").get(pk=token.pk)
    with django_capture_on_commit_callbacks(execute=True):
        token.delete()
        # Put back meanwhile by a request slower than the tombstone's life.
        caches["api-token"].delete(token_cache._cache_key(key))
        token_cache.token_remember(read_before)
        assert token_cache.token_cached(key) is not None
    assert token_cache.token_cached(key) is None


def test_without_its_cache_a_token_is_read_each_time(token, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    client = _client(token.key)
    assert [len(_get(client)[1]) for _ in range(3)] == [1, 1, 1]


def test_an_unreachable_cache_falls_back_to_the_database(token, settings, monkeypatch, caplog):
    monkeypatch.setattr(token_cache, "_skip_until", 0.0)
    settings.CACHES = {
        **settings.CACHES,
        # Nothing listens there: refused at once.
        "api-token": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        },
    }
    client = _client(token.key)
    with caplog.at_level(logging.WARNING, logger="accounts.token_cache"):
        assert [_get(client)[0], len(_get(client)[1])] == [200, 1]
    assert "unreachable" in caplog.text
    # Once failed, the process leaves the cache alone for a while instead of waiting on it.
    assert token_cache._skip_until > 0
    assert len([r for r in caplog.records if r.name == "accounts.token_cache"]) == 1
