"""``manage.py ingest_email`` as a mail server runs it: a separate process, the message on
stdin, the answer in the exit status (0 stored, 75 try again later)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from conversations.models import InboundMessage

ROOT = Path(__file__).resolve().parents[2]
MAIL = (
    b"From: ada@customer.example\r\nTo: support@example.com\r\nSubject: Piped\r\n"
    b"Message-ID: <piped@customer.example>\r\n\r\nHello through the pipe.\r\n"
)


def _run(stdin: bytes, *, database_url: str, media: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media),
        "DJANGO_SECRET_KEY": "test-only-secret-key",
        # The task is enqueued on commit; with no broker it is simply not sent (the sweep
        # would send it), which is all the pipe needs.
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "manage.py", "ingest_email", "--mailbox", "support"],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def _database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_piped_message_is_stored_and_exits_0(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the subprocess reaches the test database over PostgreSQL")
    done = _run(MAIL, database_url=_database_url(), media=tmp_path)
    assert done.returncode == 0, done.stderr
    inbound = InboundMessage.objects.get()
    assert inbound.source == "pipe"
    assert inbound.status == "pending"  # processed by the worker, once it hears of it
    assert (tmp_path / inbound.raw.name).read_bytes() == MAIL
    again = _run(MAIL, database_url=_database_url(), media=tmp_path)
    assert again.returncode == 0
    assert b"already stored" in again.stdout
    assert InboundMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_junk_is_stored_not_bounced(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the subprocess reaches the test database over PostgreSQL")
    done = _run(b"\x00\xff not an email at all \xfe", database_url=_database_url(), media=tmp_path)
    assert done.returncode == 0, done.stderr
    assert InboundMessage.objects.get().dedupe_key.startswith("sha256:")


def test_empty_input_exits_0(tmp_path):
    done = _run(b"", database_url="postgres://nobody@127.0.0.1:1/none", media=tmp_path)
    assert done.returncode == 0, done.stderr


def test_an_unreachable_database_exits_75_so_the_mail_server_retries(tmp_path):
    done = _run(MAIL, database_url="postgres://nobody@127.0.0.1:1/none", media=tmp_path)
    assert done.returncode == 75, done.stderr
    assert b"retry" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_the_readmes_pipe_command_stores_the_message(tmp_path):
    """The README's own command line, run by a shell as written."""
    if connection.vendor != "postgresql":
        pytest.skip("the subprocess reaches the test database over PostgreSQL")
    from conversations.models import Mailbox

    Mailbox.objects.create(name="support", address="support@switchboard.example")
    readme = (ROOT / "README.md").read_text()
    start = readme.index("    printf 'From: pat@newcomer.example")
    command = readme[start : readme.index("\n\n", start)].replace("\\\n", "").strip()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(tmp_path),
        "DJANGO_SECRET_KEY": "test-only-secret-key",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "LOG_LEVEL": "ERROR",
    }
    bash = shutil.which("bash") or "/bin/bash"
    done = subprocess.run(  # noqa: S603 - the README's command, by the shell a reader uses
        [bash, "-c", command], cwd=ROOT, env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    inbound = InboundMessage.objects.get()
    assert inbound.mailbox.name == "support"
    assert b"And to Sweden?" in (tmp_path / inbound.raw.name).read_bytes()


def _wrapper(stdin: bytes, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(ROOT / "scripts" / "ingest-email"), "--mailbox", "support"],
        input=stdin,
        capture_output=True,
        cwd="/",
        env={"PATH": os.environ.get("PATH", ""), "SWITCHBOARD_PYTHON": sys.executable, **env},
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_pipe_script_reads_its_settings_file_and_stores_the_message(tmp_path):
    from conversations.models import Mailbox

    Mailbox.objects.create(name="support", address="support@example.com")
    settings_file = tmp_path / "env"
    settings_file.write_text(
        f"DATABASE_URL={_database_url()}\nMEDIA_ROOT={tmp_path}\n"
        "DJANGO_SECRET_KEY=test-only-secret-key\nREDIS_URL=redis://127.0.0.1:1/0\n"
        "LOG_LEVEL=ERROR\n"
    )
    done = _wrapper(MAIL, {"SWITCHBOARD_ENV": str(settings_file)})
    assert done.returncode == 0, done.stderr
    assert InboundMessage.objects.get().mailbox.name == "support"


def test_a_deployment_that_cannot_start_asks_the_mail_server_to_retry(tmp_path):
    """Not 1 (Django refusing to start without its secret key) nor 2 (sh unable to read the
    settings file): both would bounce the customer's mail."""
    without_secret = _wrapper(MAIL, {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
    assert without_secret.returncode == 75, without_secret.stderr
    assert b"retry" in without_secret.stderr
    unreadable = _wrapper(MAIL, {"SWITCHBOARD_ENV": str(tmp_path / "missing")})
    assert unreadable.returncode == 75
    assert b"cannot read" in unreadable.stderr
    broken = tmp_path / "env"
    broken.write_text("DATABASE_URL=postgres://app:ab'cd@db/switchboard\n")  # a quote, unquoted
    not_sh = _wrapper(MAIL, {"SWITCHBOARD_ENV": str(broken)})
    assert not_sh.returncode == 75
    assert b"not valid sh" in not_sh.stderr
