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
   routing also makes two emails, which the worker then sends to the console backend), routing
   worker running: tickets/s over 4 keep-alive client connections, against bare DRF
   creates/s. Request p50/p95/p99.
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
"""

import argparse
import http.client
import itertools
import json
import os
import platform
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from _setup import _recreate, percentile  # noqa: E402

PG = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
OURS_DB, BASE_DB = "switchboard_bench_pipeline", "switchboard_bench_baseline"
BIN = Path(sys.executable).parent
CONNECTIONS = 4
WORKERS = 2
CHANNEL = "bench_pipeline"

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


class Processes:
    """The processes this run started, each in a session of its own (so its children, gunicorn's
    and Celery's workers, can be stopped with it), logged to one file each."""

    def __init__(self) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict, cwd: Path) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(  # noqa: S603 - our own servers on loopback
            argv,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        proc = self.running.pop(name)
        proc.terminate()  # the master or main process shuts its children down
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever of its session is left
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def check(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.logs}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn(procs: Processes, name: str, app: str, port: int, env: dict, cwd: Path) -> None:
    argv = [str(BIN / "gunicorn"), app, f"--bind=127.0.0.1:{port}", f"--workers={WORKERS}"]
    procs.start(name, argv, env, cwd)


def celery_worker(procs: Processes, name: str, app: str, env: dict, *extra: str) -> None:
    argv = [str(BIN / "celery"), "-A", app, "worker", f"--concurrency={WORKERS}", "-l", "WARNING"]
    procs.start(name, [*argv, *extra], env, ROOT)


def wait_http(procs: Processes, port: int, path: str, token: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        procs.check()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Authorization": f"Token {token}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers 200 on :{port}{path}; see {procs.logs}")
        time.sleep(0.2)


# --- figures ----------------------------------------------------------------------------------


def spread(values: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
    }


def post_load(port: int, path: str, token: str, body, total: int) -> dict:
    """``total`` POSTs over ``CONNECTIONS`` client connections kept open (reopened when the
    server closes one: gunicorn's sync workers answer ``Connection: close``)."""
    counter = itertools.count()
    timings: list[float] = []
    failures: list[str] = []
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while (index := next(counter)) < total:
            payload = json.dumps(body(index))
            started = time.perf_counter()
            conn.request("POST", path, payload, headers)
            response = conn.getresponse()
            content = response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                failures.append(f"{response.status} {content[:200]!r}")
        conn.close()
        timings.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} creates failed, first: {failures[0]}")
    return {"requests": total, "per_s": round(total / elapsed, 1), **spread(timings)}


def rate(times: list[float]) -> float:
    """Completions per second between the first and the last completion."""
    return round((len(times) - 1) / (max(times) - min(times)), 1)


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


class CommitListener:
    """Triggers that ``pg_notify`` a ticket's and its notifications' inserts, and a listener
    that notes when each notification arrives, that is when its transaction committed."""

    def __init__(self) -> None:
        import psycopg2

        from queues.models import Notification
        from tickets.models import Ticket

        self.conn = psycopg2.connect(f"{PG}/{OURS_DB}")
        self.conn.autocommit = True
        tables = {
            "ticket": (Ticket._meta.db_table, "id"),
            "notif": (Notification._meta.db_table, "ticket_id"),
        }
        with self.conn.cursor() as cursor:
            for kind, (table, column) in tables.items():
                cursor.execute(
                    f"CREATE FUNCTION bench_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608
                    f"BEGIN PERFORM pg_notify('{CHANNEL}', '{kind}:' || NEW.{column}); "
                    "RETURN NULL; END $$"
                )
                cursor.execute(
                    f"CREATE TRIGGER bench_{kind} AFTER INSERT ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION bench_{kind}()"
                )
            cursor.execute(f"LISTEN {CHANNEL}")
        self.tables = tables
        self.seen: dict[str, float] = {}
        self.arrived = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.stopping:
            if select.select([self.conn], [], [], 0.2)[0]:
                self.conn.poll()
                now = time.perf_counter()
                with self.arrived:
                    while self.conn.notifies:
                        self.seen.setdefault(self.conn.notifies.pop(0).payload, now)
                    self.arrived.notify_all()

    def latency_ms(self, ticket_id: int, timeout: float = 10) -> float:
        keys = (f"ticket:{ticket_id}", f"notif:{ticket_id}")
        with self.arrived:
            if not self.arrived.wait_for(lambda: all(k in self.seen for k in keys), timeout):
                raise RuntimeError(
                    f"ticket {ticket_id}: notifications not committed in {timeout} s"
                )
            return (self.seen[keys[1]] - self.seen[keys[0]]) * 1000

    def close(self) -> None:
        self.stopping = True
        self.thread.join()
        with self.conn.cursor() as cursor:
            for kind, (table, _) in self.tables.items():
                cursor.execute(f"DROP TRIGGER bench_{kind} ON {table}")
                cursor.execute(f"DROP FUNCTION bench_{kind}()")
        self.conn.close()


def ours_latency(port: int, token: str, customer_id: int, probes: int) -> dict:
    listener = CommitListener()
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


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def code_version() -> str:
    """The commit measured: ``git describe`` of the checkout, or BENCH_CODE_VERSION (an export
    of a commit has no .git)."""
    if version := os.environ.get("BENCH_CODE_VERSION"):
        return version
    done = subprocess.run(  # noqa: S603
        ["git", "describe", "--always", "--dirty"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


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
    post_load(base_port, "/entries/", base["token"], entry, 50)
    base_create = post_load(base_port, "/entries/", base["token"], entry, args.base_creates)

    # Row 1, ours, routing worker running; then row 4 while it runs with nothing queued.
    worker_env = {**OURS_ENV, "REDIS_URL": REDIS}
    celery_worker(procs, "switchboard-worker", "helpdesk", worker_env)
    post_load(ours_port, "/api/v1/tickets/", token, bug(customer_id), 20)
    wait_routed(procs, 60)
    with_worker = post_load(ours_port, "/api/v1/tickets/", token, bug(customer_id), args.creates)
    wait_routed(procs, 600)
    latency = ours_latency(ours_port, token, customer_id, args.probes)
    wait_routed(procs, 60)
    procs.stop("switchboard-worker")

    # Row 2, worker stopped: its tickets are row 3's backlog.
    before_backlog = last_event_id()
    without_worker = post_load(ours_port, "/api/v1/tickets/", token, bug(customer_id), args.backlog)
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
        "code": code_version(),
        "code_root": str(Path(sys.modules["tickets"].__file__).parent.parent),
        "setup": f"gunicorn {WORKERS} sync workers each, {CONNECTIONS} client connections, "
        f"Celery workers --concurrency={WORKERS} on {REDIS}, PostgreSQL, CONN_MAX_AGE=600",
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
