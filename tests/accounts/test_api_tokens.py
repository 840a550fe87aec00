"""API tokens expire API_TOKEN_DAYS after they were issued, and can be revoked by their owner
(DELETE /api/v1/auth/token/) and by admins (in the admin)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CREDENTIALS = {"username": "rep", "password": "pw-for-tests-only"}


def _obtain() -> dict:
    response = APIClient().post("/api/v1/auth/token/", CREDENTIALS)
    assert response.status_code == 200
    return response.json()


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_expires_and_a_new_one_is_then_issued(rep):
    issued = _obtain()
    expires = parse_datetime(issued["expires"])
    assert abs(expires - (timezone.now() + timedelta(days=settings.API_TOKEN_DAYS))) < timedelta(
        minutes=1
    )
    assert _client(issued["token"]).get("/api/v1/tickets/").status_code == 200
    # Asked again before it expires: the same token.
    assert _obtain()["token"] == issued["token"]

    Token.objects.filter(key=issued["token"]).update(
        created=timezone.now() - timedelta(days=settings.API_TOKEN_DAYS, seconds=1)
    )
    refused = _client(issued["token"]).get("/api/v1/tickets/")
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]

    renewed = _obtain()
    assert renewed["token"] != issued["token"]
    assert _client(renewed["token"]).get("/api/v1/tickets/").status_code == 200


def test_the_owner_revokes_their_token(rep):
    key = _obtain()["token"]
    client = _client(key)
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/tickets/").status_code == 401
    assert _obtain()["token"] != key


def test_revoking_needs_to_be_logged_in():
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401


def test_revoking_only_touches_ones_own_token(rep, salesperson):
    mine = Token.objects.create(user=rep)
    theirs = Token.objects.create(user=salesperson)
    assert _client(mine.key).delete("/api/v1/auth/token/").status_code == 204
    assert _client(mine.key).get("/api/v1/tickets/").status_code == 401
    assert _client(theirs.key).get("/api/v1/tickets/").status_code == 200


def test_an_admin_revokes_someones_token_in_the_admin(client, rep, admin_user):
    key = _obtain()["token"]
    client.force_login(admin_user)
    listing = client.get("/admin/authtoken/tokenproxy/")
    assert listing.status_code == 200
    assert f"/admin/authtoken/tokenproxy/{rep.pk}/change/".encode() in listing.content
    response = client.post(f"/admin/authtoken/tokenproxy/{rep.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _client(key).get("/api/v1/tickets/").status_code == 401
