"""The settings module, loaded in a fresh interpreter with a controlled environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'conn_max_age': db['CONN_MAX_AGE'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'debug': settings.DEBUG, 'site_url': settings.SITE_URL, "
    "'fallbacks': settings.SECRET_KEY_FALLBACKS, "
    "'options': {a: d.get('OPTIONS', {}) for a, d in settings.DATABASES.items()}}))"
)


def load(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "BIND", "SITE_URL"):
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="helpdesk.settings")
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_embedded_default_is_sqlite_with_in_process_tasks():
    result = load(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["eager"] is True
    assert loaded["debug"] is True


def test_debug_is_off_by_default_and_then_a_secret_key_is_required():
    result = load()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    result = load(DJANGO_SECRET_KEY="s3cret")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    assert load(DJANGO_SECRET_KEY_FILE=str(secret)).returncode == 0


def test_retired_secret_keys_come_from_the_environment():
    result = load(DJANGO_SECRET_KEY="new", DJANGO_SECRET_KEY_FALLBACKS="older, oldest")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fallbacks"] == ["older", "oldest"]


def test_postgres_and_redis_from_the_environment_keep_connections():
    result = load(
        DJANGO_SECRET_KEY="s",
        DATABASE_URL="postgres://u@127.0.0.1:5432/db",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "helpdesk.postgresql"
    assert loaded["conn_max_age"] == 600
    assert loaded["eager"] is False
    assert loaded["broker"] == "redis://127.0.0.1:6379/3"
    assert loaded["options"]["default"]["options"] == "-c jit=off"
    # Kept connections dropped silently are noticed (helpdesk/postgresql's health check).
    assert loaded["options"]["default"]["keepalives_idle"] == 30


def test_the_jit_can_be_turned_back_on_and_the_replica_has_it_off_too():
    both = {
        "DJANGO_SECRET_KEY": "s",
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
        "DATABASE_REPLICA_URL": "postgres://u@replica.example:5432/db",
    }
    loaded = json.loads(load(**both).stdout)
    assert loaded["options"]["replica"]["options"] == "-c jit=off"
    loaded = json.loads(load(**both, DATABASE_JIT="1").stdout)
    assert "options" not in loaded["options"]["default"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"DATABASE_CONN_MAX_AGE": "ten"}, "DATABASE_CONN_MAX_AGE='ten' is not an integer"),
        ({"HOLIDAYS": "2026-13-01"}, "HOLIDAYS must be ISO dates"),
        ({"WORKING_WEEKDAYS": "0,1"}, "WORKING_WEEKDAYS must list ISO weekday numbers"),
    ],
)
def test_bad_values_fail_loudly(env, message):
    result = load(DJANGO_SECRET_KEY="s", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_links_in_emails_follow_the_address_the_server_binds():
    # scripts/run serves on BIND; a link to another port would open nothing.
    assert json.loads(load(DJANGO_DEBUG="1").stdout)["site_url"] == "http://127.0.0.1:8000"
    bound = load(DJANGO_DEBUG="1", BIND="127.0.0.1:8110")
    assert json.loads(bound.stdout)["site_url"] == "http://127.0.0.1:8110"
    public = load(DJANGO_DEBUG="1", BIND="0.0.0.0:8000", SITE_URL="https://help.example.com/")
    assert json.loads(public.stdout)["site_url"] == "https://help.example.com"


def test_behind_pgbouncer_no_server_side_cursors_and_no_startup_options():
    probe = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({a: [d.get('DISABLE_SERVER_SIDE_CURSORS', False), d.get('OPTIONS', {})]"
        " for a, d in settings.DATABASES.items()}))"
    )
    env = {
        "DJANGO_SECRET_KEY": "s3cret",
        "DATABASE_URL": "postgres://app@pgbouncer:6432/switchboard",
        "DATABASE_REPLICA_URL": "postgres://app@pgbouncer-replica:6432/switchboard",
    }
    pooled = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**_clean_env(), **env, "DATABASE_PGBOUNCER": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert pooled.returncode == 0, pooled.stderr
    # TCP keepalives are the client's own (libpq), not startup options: PgBouncer takes them.
    keepalives = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10}
    keepalives["keepalives_count"] = 3
    assert json.loads(pooled.stdout) == {
        "default": [True, keepalives],
        "replica": [True, keepalives],
    }
    direct = subprocess.run(  # noqa: S603 - as above
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**_clean_env(), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(direct.stdout)["default"] == [
        False,
        {"options": "-c jit=off", **keepalives},
    ]


def _clean_env() -> dict:
    drop = ("DJANGO_", "DATABASE_", "REDIS_URL", "CELERY_BROKER_URL")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**clean, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
