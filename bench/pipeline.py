"""The ticket pipeline end to end, ours against a bare Django + DRF project, in one run.

Starts what it measures: gunicorn (2 sync workers, persistent PostgreSQL connections) serving
Switchboard and serving the bare project of ``bench/baseline/`` (an 11-field model created by a
DRF ``ModelViewSet``, token authentication), Switchboard's Celery worker (the routing worker)
and the bare project's no-op Celery app, both on Redis with 2 processes. Each project gets a
fresh database; Redis db 14 (``BENCH_REDIS_URL``) is flushed before and after. Every process
started is stopped at the end, on failure too. Prints JSON, then one line of ratios.

Rows (ours / baseline):

1. API create of a bug for a customer with unpaid invoices (the starter rules notify
   engineering and finance, each with a member emailed per new item and one on the digest, so
   routing also makes two emails, which the worker then sends to the console backend, or with
   ``--smtp`` over SMTP to a local relay that discards them), routing worker running: tickets/s
   over 4 keep-alive client connections, against bare DRF creates/s. Request p50/p95/p99.
2. The same with the worker stopped (no baseline). These tickets are the backlog of row 3.
3. Routing that backlog: tickets routed/s once the worker starts, from the first to the last
   event marked dispatched (``dispatched_at``, so the worker's start-up is not counted),
   against no-op tasks/s through the bare app's worker, timed the same way from the times the
   task bodies ran.
4. Ticket committed -> its notifications committed, one ticket at a time (no backlog):
   PostgreSQL triggers installed for this phase only ``pg_notify`` on the insert of a ticket
   and of a notification, and notifications reach a listener when their transaction commits,
   so the difference of the two arrival times is commit to commit (resolution well under 1 ms).
   Baseline: no-op ``.delay(sent_at=time.time())`` -> the task body's ``time.time()``.
5. SQL statements and transactions of one API create, in-process through Django's test client
   (whole request, middleware and the kept connection's health check included); baseline: the
   bare project's create, counted the same way. 6. SQL statements and savepoints of routing
   that ticket (the dispatch task body, ``outbox.event_dispatch``). How statements and
   transactions are counted: bench/sqlcount.py.

The code measured is the checkout this file is in; to measure a commit without touching a
working tree, export it (``git archive <commit> | tar -x -C /tmp/at``), copy ``bench/`` in and
run it there with ``BENCH_CODE_VERSION=<commit>``.

    .venv/bin/python bench/pipeline.py            # about 4 minutes
    .venv/bin/python bench/pipeline.py --quick    # smaller sizes, a smoke run
    .venv/bin/python bench/pipeline.py --smtp     # emails over SMTP to a local relay

The relay of ``--smtp`` shares the machine's cores with what is measured, where a deployment's
relay runs elsewhere; on two cores its figures were those of the console backend, within the
spread of runs (docs/operations.md, 2026-12-06).
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from _commit_listener import CommitListener  # noqa: E402
from _harness import (  # noqa: E402
    Processes,
    code_version,
    free_port,
    machine,
    post_load,
    rate,
    smtp_relay,
    spread,
    wait_http,
)
from _setup import _recreate  # noqa: E402

PG = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
OURS_DB, BASE_DB = "switchboard_bench_pipeline", "switchboard_bench_baseline"
BIN = Path(sys.executable).parent
CONNECTIONS = 4
WORKERS = 2

OURS_ENV = {
    # The code measured is the checkout this file is in (an export of a commit, say), not
    # whichever one the virtualenv's editable install points to.
    "PYTHONPATH": str(ROOT),
    "DATABASE_URL": f"{PG}/{OURS_DB}",
    "DATABASE_CONN_MAX_AGE": "600",
    "DJANGO_SECRET_KEY": "bench-only",
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    "LOG_LEVEL": "WARNING",
    # Off: the benchmark is one user sending thousands of requests a minute.
    "API_THROTTLE_USER_RATE": "off",
    "API_THROTTLE_ANON_RATE": "off",
}
BASE_ENV = {
    "BASELINE_DATABASE_URL": f"{PG}/{BASE_DB}",
    "BASELINE_BROKER_URL": REDIS,
    "DJANGO_SETTINGS_MODULE": "baseline.settings",
    "PYTHONPATH": str(BENCH),
}


# --- processes --------------------------------------------------------------------------------


def gunicorn(procs: Processes, name: str, app: str, port: int, env: dict, cwd: Path) -> None:
    argv = [str(BIN / "gunicorn"), app, f"--bind=127.0.0.1:{port}", f"--workers={WORKERS}"]
    procs.start(name, argv, env, cwd)


def email_outcomes() -> dict:
    """How many of the emails routing made ended in each status: all sent, or the run says so."""
    from django.db.models import Count

    from deliveries.models import EmailDelivery

    rows = EmailDelivery.objects.values_list("status").annotate(n=Count("pk")).order_by()
    return dict(rows)


def celery_worker(procs: Processes, name: str, app: str, env: dict, *extra: str) -> None:
    argv = [str(BIN / "celery"), "-A", app, "worker", f"--concurrency={WORKERS}", "-l", "WARNING"]
    procs.start(name, [*argv, *extra], env, ROOT)


# --- figures ----------------------------------------------------------------------------------


def load(port: int, path: str, token: str, body, total: int) -> dict:
    return post_load(port, path, token, body, total, connections=CONNECTIONS)


def bug(customer_id: int):
    def body(index: int) -> dict:
        return {
            "kind": "bug",
            "channel": "api",
            "customer": customer_id,
            "subject": f"Export to CSV crashes ({index})",
            "description": "Since 2.3 the export stops at 1,000 rows.",
            "product": "Reports",
            "priority": "high",
        }

    return body


def entry(index: int) -> dict:
    return {
        "kind": "bug",
        "channel": "api",
        "customer_id": 1,
        "subject": f"Export to CSV crashes ({index})",
        "description": "Since 2.3 the export stops at 1,000 rows.",
        "product": "Reports",
        "priority": "high",
    }


# --- Switchboard, in this process -------------------------------------------------------------


def ours_prepare() -> tuple[str, int]:
    """Fresh database, migrated, starter rules, a customer with an unpaid overdue invoice, a rep
    with an API token, and in engineering and finance a member emailed for each new item and one
    who reads the digest (as tests/routing/test_routing_query_count.py has them)."""
    _recreate(PG, OURS_DB)
    # This process only counts SQL: what it enqueues goes to an in-memory broker nobody reads.
    os.environ.update({**OURS_ENV, "REDIS_URL": "memory://localhost/"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("install_starter_rules", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    from accounts.models import Customer, Department, Invoice, Membership, User
    from accounts.services import api_token_issue

    for slug in ("engineering", "finance"):
        department = Department.objects.get(slug=slug)
        for preference in (Membership.EmailPreference.IMMEDIATE, Membership.EmailPreference.DIGEST):
            member = User.objects.create_user(
                f"{slug}-{preference}", email=f"{slug}-{preference}@example.com", password=None
            )
            Membership.objects.create(
                user=member, department=department, email_preference=preference
            )

    rep = User.objects.create_user("bench-rep", password=None, first_name="Rita")
    sales = User.objects.create_user("bench-sales", password=None)
    customer = Customer.objects.create(name="Acme Ltd", salesperson=sales)
    today = timezone.localdate()
    Invoice.objects.create(
        customer=customer,
        number="INV-1",
        amount=250,
        issued_on=today - timedelta(days=40),
        due_on=today - timedelta(days=10),
    )
    return api_token_issue(user=rep).key, customer.pk


def ours_sql_counts(token: str, customer_id: int) -> dict:
    """Rows 5 and 6: one API create, then the routing of its event, counted in-process."""
    from django.db import connection
    from django.test import Client
    from sqlcount import count_request, count_sql

    from deliveries.models import DeliveryStatus, EmailDelivery
    from queues.models import Notification
    from tickets import outbox
    from tickets.models import TicketEvent

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    body = bug(customer_id)

    def create(index: int) -> int:
        response = client.post("/api/v1/tickets/", body(index), content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    for index in range(3):  # warm up: caches, the compiled rule set
        ticket_id = create(index)
        outbox.event_dispatch(event_id=TicketEvent.objects.get(ticket_id=ticket_id).pk)
    # Their emails were enqueued to the in-memory broker: sent by nobody, marked so here.
    EmailDelivery.objects.update(status=DeliveryStatus.SENT)
    with count_request(connection) as created:
        ticket_id = create(3)
    event_id = TicketEvent.objects.get(ticket_id=ticket_id).pk
    with count_sql(connection) as routed:
        outbox.event_dispatch(event_id=event_id)
    notified = Notification.objects.filter(ticket_id=ticket_id).count()
    assert notified == 2, f"expected engineering and finance notified, got {notified}"
    emails = EmailDelivery.objects.filter(ticket_id=ticket_id).count()
    EmailDelivery.objects.update(status=DeliveryStatus.SENT)
    return {
        "create": created.summary(),
        "routing": {**routed.summary(), "notified": notified, "emails": emails},
    }


def outstanding() -> int:
    """Events not dispatched yet and the emails routing made not sent yet: the worker's queue."""
    from deliveries.models import DeliveryStatus, EmailDelivery
    from tickets.models import TicketEvent

    waiting = [DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING]
    return (
        TicketEvent.objects.filter(dispatched_at__isnull=True).count()
        + EmailDelivery.objects.filter(status__in=waiting).count()
    )


def wait_routed(procs: Processes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while outstanding():
        procs.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{outstanding()} events or emails still waiting after {timeout} s")
        time.sleep(0.25)


def backlog_rate(after_event_id: int) -> dict:
    from django.db.models import Max

    from queues.models import Notification
    from tickets.models import TicketEvent

    events = TicketEvent.objects.filter(pk__gt=after_event_id)
    times = [at.timestamp() for at in events.values_list("dispatched_at", flat=True)]
    notified = Notification.objects.filter(event_id__gt=after_event_id).count()
    assert notified == 2 * len(times), (notified, len(times))
    return {"tickets": len(times), "per_s": rate(times), "last_event": events.aggregate(Max("pk"))}


def last_event_id() -> int:
    from tickets.models import TicketEvent

    return TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def ours_latency(port: int, token: str, customer_id: int, probes: int) -> dict:
    listener = CommitListener(f"{PG}/{OURS_DB}")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        timings = []
        for index in range(probes):
            conn.request("POST", "/api/v1/tickets/", json.dumps(bug(customer_id)(index)), headers)
            response = conn.getresponse()
            assert response.status == 201, response.read()
            timings.append(listener.latency_ms(json.loads(response.read())["id"]))
            time.sleep(0.05)  # let the worker go idle: no backlog
        conn.close()
    finally:
        listener.close()
    return {"probes": probes, **spread(timings)}


# --- the baseline -----------------------------------------------------------------------------


def base_prepare() -> dict:
    _recreate(PG, BASE_DB)
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(BENCH / "baseline" / "prepare.py")],
        env={**os.environ, **BASE_ENV},
        cwd=BENCH,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"bench/baseline/prepare.py failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def base_noop_rate(procs: Processes, tasks: int) -> dict:
    import redis
    from baseline.tasks import DONE_KEY, noop

    client = redis.Redis.from_url(REDIS)
    for _ in range(tasks):
        noop.delay()
    celery_worker(procs, "baseline-worker", "baseline.tasks", BASE_ENV, "-Q", "bench-noop")
    deadline = time.monotonic() + 120
    while client.llen(DONE_KEY) < tasks:
        procs.check()
        if time.monotonic() > deadline:
            raise RuntimeError("no-op tasks not all run in 120 s")
        time.sleep(0.1)
    times = [float(t) for t in client.lrange(DONE_KEY, 0, -1)]
    return {"tasks": tasks, "per_s": rate(times)}


def base_latency(probes: int) -> dict:
    import redis
    from baseline.tasks import DELAY_KEY, noop

    client = redis.Redis.from_url(REDIS)
    noop.delay(sent_at=time.time())  # the worker is up
    client.blpop(DELAY_KEY, timeout=60)
    timings = []
    for _ in range(probes):
        noop.delay(sent_at=time.time())
        popped = client.blpop(DELAY_KEY, timeout=10)
        if popped is None:
            raise RuntimeError("no-op task not run in 10 s")
        timings.append(float(popped[1]) * 1000)
        time.sleep(0.05)
    return {"probes": probes, **spread(timings)}


# --- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace, procs: Processes) -> dict:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    base = base_prepare()
    token, customer_id = ours_prepare()
    sql = ours_sql_counts(token, customer_id)

    ours_port, base_port = free_port(), free_port()
    gunicorn(
        procs,
        "switchboard-web",
        "helpdesk.wsgi:application",
        ours_port,
        {**OURS_ENV, "REDIS_URL": REDIS},
        ROOT,
    )
    gunicorn(procs, "baseline-web", "baseline.wsgi:application", base_port, BASE_ENV, BENCH)
    wait_http(procs, ours_port, "/healthz", token)
    wait_http(procs, base_port, "/entries/?limit=1", base["token"])

    # Row 1, baseline: bare DRF creates, after a warm-up of both gunicorn workers.
    load(base_port, "/entries/", base["token"], entry, 50)
    base_create = load(base_port, "/entries/", base["token"], entry, args.base_creates)

    # Row 1, ours, routing worker running; then row 4 while it runs with nothing queued.
    relay = smtp_relay(procs, ROOT) if args.smtp else {}
    worker_env = {**OURS_ENV, "REDIS_URL": REDIS, **relay}
    celery_worker(procs, "switchboard-worker", "helpdesk", worker_env)
    load(ours_port, "/api/v1/tickets/", token, bug(customer_id), 20)
    wait_routed(procs, 60)
    with_worker = load(ours_port, "/api/v1/tickets/", token, bug(customer_id), args.creates)
    wait_routed(procs, 600)
    latency = ours_latency(ours_port, token, customer_id, args.probes)
    wait_routed(procs, 60)
    procs.stop("switchboard-worker")

    # Row 2, worker stopped: its tickets are row 3's backlog.
    before_backlog = last_event_id()
    without_worker = load(ours_port, "/api/v1/tickets/", token, bug(customer_id), args.backlog)
    celery_worker(procs, "switchboard-worker", "helpdesk", worker_env)
    wait_routed(procs, 600)
    procs.stop("switchboard-worker")
    backlog = backlog_rate(before_backlog)
    backlog.pop("last_event")

    # Rows 3 and 4, baseline.
    noop = base_noop_rate(procs, args.backlog)
    noop_latency = base_latency(args.probes)
    procs.stop_all()

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "code": code_version(ROOT),
        "code_root": str(Path(sys.modules["tickets"].__file__).parent.parent),
        "setup": f"gunicorn {WORKERS} sync workers each, {CONNECTIONS} client connections, "
        f"Celery workers --concurrency={WORKERS} on {REDIS}, PostgreSQL, CONN_MAX_AGE=600, "
        + ("emails over SMTP to a local relay" if args.smtp else "emails to the console backend"),
        "emails_by_status": email_outcomes(),
        "api_create": {
            "ours_worker_running": with_worker,
            "baseline_drf_create": base_create,
            "ratio": round(with_worker["per_s"] / base_create["per_s"], 3),
            "target_ratio_at_least": 0.5,
        },
        "api_create_worker_stopped": without_worker,
        "routing_backlog": {
            "ours_tickets_routed": backlog,
            "baseline_noop_tasks": noop,
            "ratio": round(backlog["per_s"] / noop["per_s"], 3),
            "target_ratio_at_least": 0.3,
        },
        "commit_to_notifications": {
            "ours": latency,
            "baseline_delay_to_task_body": noop_latency,
            "ratio_p50": round(latency["p50_ms"] / noop_latency["p50_ms"], 2),
            "ratio_p99": round(latency["p99_ms"] / noop_latency["p99_ms"], 2),
            "target_ratio_at_most": 4,
            "target_p99_ms_at_most": 50,
        },
        "sql_per_api_create": {
            "ours": sql["create"],
            "baseline_drf_create": base["sql_per_create"],
            "target": "at most 4 statements, one transaction",
        },
        "sql_per_routing": {
            "ours": sql["routing"],
            "target": "at most 12 statements, no savepoints",
        },
    }


def ratios_line(r: dict) -> str:
    create, routing = r["sql_per_api_create"]["ours"], r["sql_per_routing"]["ours"]
    latency = r["commit_to_notifications"]
    return (
        f"ratios: create {r['api_create']['ratio']} (>= 0.5) | "
        f"backlog {r['routing_backlog']['ratio']} (>= 0.3) | "
        f"latency p50 {latency['ratio_p50']}x p99 {latency['ratio_p99']}x (<= 4x), "
        f"p99 {latency['ours']['p99_ms']} ms (<= 50) | "
        f"create SQL {create['statements']} statements, {create['transactions']} transactions "
        f"(<= 4, 1) | routing SQL {routing['statements']} statements, "
        f"{routing['savepoint_statements']} of them savepoints (<= 12, 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--creates", type=int, default=800, help="row 1 requests")
    parser.add_argument("--base-creates", type=int, default=2000, help="row 1 baseline requests")
    parser.add_argument("--backlog", type=int, default=1500, help="rows 2 and 3 tickets and tasks")
    parser.add_argument("--probes", type=int, default=200, help="row 4 probes, each side")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--smtp", action="store_true", help="send the emails to a local SMTP relay, not the console"
    )
    args = parser.parse_args()
    if args.quick:
        args.creates, args.base_creates, args.backlog, args.probes = 100, 300, 150, 30
    procs = Processes()
    # A TERM (a CI timeout, say) unwinds like Ctrl-C, so the finally below stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        result = run(args, procs)
    except BaseException:
        print(f"failed; logs of the processes started are in {procs.logs}", file=sys.stderr)
        raise
    finally:
        procs.stop_all()
        import redis

        redis.Redis.from_url(REDIS).flushdb()
    print(json.dumps(result, indent=2))
    print(ratios_line(result))


if __name__ == "__main__":
    main()
