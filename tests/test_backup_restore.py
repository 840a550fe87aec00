"""Backup and restore as docs/operations.md tells it: pg_dump of a working database, restored
into an empty one, is a working Switchboard: every migration applied, the rules and tickets
there, and a new ticket routed with ids that do not collide with the restored ones."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from queues.models import Notification
from routing.services import rule_create
from tests.conftest import database_url, dispatch_pending
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {
    name: shutil.which(name) or name for name in ("pg_dump", "pg_restore", "createdb", "dropdb")
}
# Run against the restored database: a new bug, routed in-process (no broker), and what came of it.
PROBE = """
import json, django
django.setup()
from django.core.management import call_command
from accounts.models import Customer
from queues.models import Notification
from tickets.models import Ticket
from tickets.services import ticket_create
call_command("migrate", check=True, verbosity=0)
before = Ticket.objects.count()
customer = Customer.objects.get(name="Restored Co")
ticket = ticket_create(customer=customer, kind="bug", channel="web", subject="After restore")
print(json.dumps({
    "tickets_before": before,
    "new_id": ticket.pk,
    "notified": sorted(Notification.objects.filter(ticket=ticket).values_list(
        "department__slug", flat=True)),
}))
"""


def _client_env() -> dict[str, str]:
    """PostgreSQL's tools reach the test database's server as Django does."""
    settings = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": settings["HOST"] or "127.0.0.1",
        "PGPORT": str(settings["PORT"] or 5432),
        "PGUSER": settings["USER"] or "postgres",
    }
    if settings["PASSWORD"]:
        env["PGPASSWORD"] = settings["PASSWORD"]
    return env


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs PostgreSQL's client tools")
def test_a_restored_dump_keeps_routing(tmp_path, customer):
    if connection.vendor != "postgresql":
        pytest.skip("the backup steps are PostgreSQL's")
    customer.name = "Restored Co"
    customer.save()
    rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "bug"}]},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    old = ticket_create(customer=customer, kind="bug", channel="phone", subject="Before backup")
    dispatch_pending()
    assert Notification.objects.filter(ticket=old).exists()

    source = connection.settings_dict["NAME"]
    restored = f"{source}_restored"
    dump = tmp_path / "switchboard.dump"
    env = _client_env()
    subprocess.run(  # noqa: S603 - PostgreSQL's tools, fixed arguments
        [TOOLS["pg_dump"], "--format=custom", f"--file={dump}", source], check=True, env=env
    )
    subprocess.run([TOOLS["dropdb"], "--if-exists", restored], check=True, env=env)  # noqa: S603
    subprocess.run([TOOLS["createdb"], restored], check=True, env=env)  # noqa: S603
    try:
        subprocess.run(  # noqa: S603 - as above
            [TOOLS["pg_restore"], "--no-owner", f"--dbname={restored}", str(dump)],
            check=True,
            env=env,
        )
        clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
        probe = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env={
                **clean,
                "DATABASE_URL": database_url(restored),
                "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            },
            capture_output=True,
            text=True,
            check=False,
        )
        assert probe.returncode == 0, probe.stderr
        result = json.loads(probe.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run([TOOLS["dropdb"], "--if-exists", restored], check=True, env=env)  # noqa: S603
    assert result["tickets_before"] == 1
    assert result["new_id"] > old.pk  # the sequences came back too
    assert result["notified"] == ["engineering"]
