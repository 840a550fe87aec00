"""Headers every answer carries: a Content-Security-Policy without inline script, no caching of
what a signed-in user sees, a CSRF cookie scripts cannot read; the API docs behind login."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_pages_carry_a_policy_that_allows_only_the_sites_own_scripts(client, rep):
    client.force_login(rep)
    policy = client.get("/tickets/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


def test_what_a_signed_in_user_sees_is_not_cached(client, rep):
    client.force_login(rep)
    page = client.get("/tickets/")
    assert "private" in page["Cache-Control"]
    assert "no-store" in page["Cache-Control"]
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=rep).key}")
    answer = token_client.get("/api/v1/tickets/")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]


def test_static_files_keep_their_own_caching(client, rep):
    client.force_login(rep)
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_csrf_cookie_is_not_readable_by_scripts(client):
    response = client.get("/login/")
    assert response.cookies["csrftoken"]["httponly"] is True


def test_the_api_schema_and_docs_need_a_login_by_default(client, rep):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/")["Location"].startswith("/login/")
    client.force_login(rep)
    assert client.get("/api/schema/").status_code == 200


# The production settings docs/operations.md documents, as the environment would hold them.
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x" * 60 + "production-like-secret-key-not-used-anywhere",
    "DJANGO_ALLOWED_HOSTS": "support.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://support.example.com",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_SECURE_HSTS_PRELOAD": "1",
}


def test_check_deploy_is_clean_with_the_documented_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="helpdesk.settings", DATABASE_URL="")
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**env, "SQLITE_PATH": ":memory:"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
