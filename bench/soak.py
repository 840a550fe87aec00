"""Soak: the whole stack at a steady mixed load for ten minutes, as docs/operations.md runs it.

Starts what it measures on a fresh database and Redis db 13 (``BENCH_SOAK_REDIS_URL``,
flushed before and after): gunicorn (``helpdesk/gunicorn_conf.py``, 2 processes, metrics in
multiprocess mode), a Celery worker per queue (routing 2, deliveries 2, inbound 1, reports 1)
and beat. Then, for ``--seconds`` (600), at fixed rates and all at once:

- a rep logs calls through the API (a call, a bug or a request for enhancement, for one of 50
  customers), 4 a second;
- customers' emails arrive by the mail pipe (``manage.py ingest_email``, one process each, as a
  mail server runs it), one every 5 seconds;
- an engineer works the engineering queue through the API: the oldest new item taken on and
  answered as done, one a second;
- an admin opens a report page (root causes, then time to fix), one every 5 seconds.

Every 10 seconds it reads /metrics (outbox lag and backlog, Celery queue depths) and each
process's resident memory (``/proc``, the process and its children). At the end it waits for
routing to catch up and prints JSON: per kind of work the count, the rate, latency percentiles
and errors; the outbox lag (median and worst sample) and the time to drain; each process's
memory after the first minute (a fifth of a shorter run) and at the end, with the growth; and
``errors`` in all (a load thread's exception counts as one), which must be 0, and
``memory_growth_ok`` (no process grew by more than MEMORY_BOUND).

    .venv/bin/python bench/soak.py               # ten minutes and a few for setup
    .venv/bin/python bench/soak.py --seconds 90  # a smoke run
"""

import argparse
import http.client
import http.cookiejar
import itertools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from _harness import Processes, code_version, free_port, machine, spread, wait_http  # noqa: E402
from _setup import _recreate  # noqa: E402

PG = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_SOAK_REDIS_URL", "redis://127.0.0.1:6379/13")
DB = "switchboard_bench_soak"
BIN = Path(sys.executable).parent
METRICS_TOKEN = "soak-metrics"  # noqa: S105 - a throwaway stack on loopback
PASSWORD = "soak-password"  # noqa: S105 - as above
# A process whose memory grows by more than this between the first minute and the end leaks.
MEMORY_BOUND = 0.25
WORKERS = {"routing": 2, "deliveries": 2, "inbound": 1, "reports": 1}

ENV = {
    "PYTHONPATH": str(ROOT),
    "DATABASE_URL": f"{PG}/{DB}",
    "DATABASE_CONN_MAX_AGE": "600",
    "REDIS_URL": REDIS,
    "DJANGO_SECRET_KEY": "bench-only",
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "METRICS_TOKEN": METRICS_TOKEN,
    "API_THROTTLE_USER_RATE": "off",
    "API_THROTTLE_ANON_RATE": "off",
    "GUNICORN_WORKERS": "2",
    # Plain HTTP on loopback: cookies marked Secure would not come back.
    "DJANGO_SECURE_COOKIES": "false",
}


def prepare() -> dict:
    """Fresh database, migrated, with the starter rules, 50 customers with a contact each, a rep
    and an engineer with API tokens, members emailed in each routed department, an admin with
    a password, and the support mailbox."""
    _recreate(PG, DB)
    os.environ.update({**ENV, "REDIS_URL": "memory://localhost/"})  # setup routes nothing
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("install_starter_rules", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    from accounts.models import Contact, Customer, Department, Membership, User
    from accounts.services import api_token_issue
    from conversations.models import Mailbox

    for department in Department.objects.all():
        member = User.objects.create_user(f"member-{department.slug}", password=None)
        Membership.objects.create(user=member, department=department)
    engineer = User.objects.get(username="member-engineering")
    rep = User.objects.create_user("soak-rep", password=None)
    User.objects.create_superuser("soak-admin", "admin@example.com", PASSWORD)
    customers = []
    for index in range(50):
        customer = Customer.objects.create(name=f"Customer {index:02d}")
        Contact.objects.create(
            customer=customer, name=f"Contact {index}", email=f"contact{index}@example.com"
        )
        customers.append(customer.pk)
    Mailbox.objects.create(name="support", address="support@example.com")
    return {
        "rep_token": api_token_issue(user=rep).key,
        "engineer_token": api_token_issue(user=engineer).key,
        "customers": customers,
    }


def start(procs: Processes, port: int, metrics_dir: str) -> None:
    env = {**ENV, "GUNICORN_BIND": f"127.0.0.1:{port}", "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    procs.start(
        "web",
        [str(BIN / "gunicorn"), "-c", "python:helpdesk.gunicorn_conf", "helpdesk.wsgi:application"],
        env,
        ROOT,
    )
    for queue, concurrency in WORKERS.items():
        argv = [str(BIN / "celery"), "-A", "helpdesk", "worker", "-Q", queue, "-n", f"{queue}@%h"]
        argv += [f"--concurrency={concurrency}", "-l", "WARNING"]
        procs.start(f"worker-{queue}", argv, ENV, ROOT)
    schedule = Path(metrics_dir).parent / "celerybeat-schedule"
    beat = [
        str(BIN / "celery"),
        "-A",
        "helpdesk",
        "beat",
        "-l",
        "WARNING",
        f"--schedule={schedule}",
    ]
    procs.start("beat", beat, ENV, ROOT)


# --- the load ---------------------------------------------------------------------------------


class Kind:
    """One kind of work: its timings and errors, from every thread doing it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.timings: list[float] = []
        self.errors: list[str] = []
        self.acted = 0  # of the queue rounds, those that found an item to work
        self.lock = threading.Lock()

    def record(self, started: float, error: str | None = None) -> None:
        with self.lock:
            self.timings.append((time.perf_counter() - started) * 1000)
            if error:
                self.errors.append(error)

    def summary(self, seconds: float) -> dict:
        figures = spread(self.timings) if self.timings else {}
        return {
            "count": len(self.timings),
            "per_s": round(len(self.timings) / seconds, 2),
            **figures,
            "errors": len(self.errors),
            "first_error": self.errors[0] if self.errors else None,
        }


def api(port: int, token: str, method: str, path: str, body=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return response.status, content


def every(seconds: float, until: float, work, kind: Kind) -> None:
    """Run ``work`` every ``seconds`` until ``until`` (a steady rate, not as fast as it goes).
    An exception out of ``work`` (a refused connection, a page that is not JSON) is one of
    ``kind``'s errors, and the load goes on."""
    due = time.monotonic()
    while due < until:
        started = time.perf_counter()
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the load
            kind.record(started, f"{type(exc).__name__}: {exc}")
        due += seconds
        time.sleep(max(0.0, due - time.monotonic()))


def log_calls(port: int, setup: dict, kind: Kind):
    counter = itertools.count()

    def work() -> None:
        index = next(counter)
        started = time.perf_counter()
        status, content = api(
            port,
            setup["rep_token"],
            "POST",
            "/api/v1/tickets/",
            {
                "kind": random.choice(["call", "bug", "rfe"]),  # noqa: S311 - a load, not secrets
                "channel": "phone",
                "customer": random.choice(setup["customers"]),  # noqa: S311
                "subject": f"Soak call {index}",
                "description": "The export stops at row 1,000 since the upgrade.",
            },
        )
        kind.record(started, None if status == 201 else f"{status} {content[:120]!r}")

    return work


def emails_in(kind: Kind):
    counter = itertools.count()

    def work() -> None:
        index = next(counter)
        message = (
            f"From: Contact {index % 50} <contact{index % 50}@example.com>\r\n"
            "To: support@example.com\r\n"
            f"Subject: Question {index} about invoices\r\n"
            f"Message-ID: <soak-{index}-{time.time_ns()}@example.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Where do I find last month's invoice?\r\n"
        ).encode()
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own command, as a mail server runs it
            [sys.executable, "manage.py", "ingest_email", "--mailbox", "support"],
            input=message,
            cwd=ROOT,
            env={**os.environ, **ENV},
            capture_output=True,
            check=False,
        )
        error = None if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-200:]!r}"
        kind.record(started, error)

    return work


def work_queue(port: int, setup: dict, kind: Kind):
    def work() -> None:
        started = time.perf_counter()
        token = setup["engineer_token"]
        path = "/api/v1/notifications/?department=engineering&status=new&ordering=created_at"
        status, content = api(port, token, "GET", path + "&page_size=1")
        if status != 200:
            kind.record(started, f"list {status}")
            return
        results = json.loads(content)["results"]
        if not results:
            kind.record(started)  # nothing waiting: the list was the whole work
            return
        kind.acted += 1
        item = results[0]["id"]
        status, content = api(port, token, "POST", f"/api/v1/notifications/{item}/acknowledge/")
        if status == 400:  # taken meanwhile by the previous round's retry: not an error
            kind.record(started)
            return
        if status != 200:
            kind.record(started, f"acknowledge {status} {content[:120]!r}")
            return
        body = {"body": "Reproduced; the fix ships in the next release.", "done": True}
        status, content = api(port, token, "POST", f"/api/v1/notifications/{item}/respond/", body)
        kind.record(started, None if status == 200 else f"respond {status} {content[:120]!r}")

    return work


def view_reports(port: int, kind: Kind):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    form = opener.open(f"{base}/login/").read().decode()  # noqa: S310 - as above
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    login = urllib.parse.urlencode(
        {"username": "soak-admin", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    ).encode()
    request = urllib.request.Request(f"{base}/login/", login, headers={"Referer": base})  # noqa: S310 - as above
    opener.open(request)  # noqa: S310 - as above
    pages = itertools.cycle(["/insights/root-causes/", "/insights/time-to-fix/"])

    def work() -> None:
        started = time.perf_counter()
        try:
            response = opener.open(f"{base}{next(pages)}")  # noqa: S310 - http on loopback
            error = None if response.status == 200 and "/login/" not in response.url else "login"
        except OSError as exc:
            error = str(exc)
        kind.record(started, error)

    return work


# --- what is watched --------------------------------------------------------------------------


def metric_values(port: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = conn.getresponse().read().decode()
    conn.close()
    values = {}
    for line in text.splitlines():
        if line.startswith("switchboard_") and " " in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's and Celery's workers), in MB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, AttributeError):
            continue
        pending.extend(int(child) for child in children)
    return round(total / 1024, 1)


def run(args: argparse.Namespace, procs: Processes) -> dict:
    setup = prepare()
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="soak-metrics-")
    start(procs, port, metrics_dir)
    wait_http(procs, port, "/readyz", setup["rep_token"])
    kinds = {name: Kind(name) for name in ("log a call", "email in", "queue action", "report view")}
    began = time.monotonic()
    until = began + args.seconds
    loads = [
        (0.25, log_calls(port, setup, kinds["log a call"]), kinds["log a call"]),
        (5.0, emails_in(kinds["email in"]), kinds["email in"]),
        (1.0, work_queue(port, setup, kinds["queue action"]), kinds["queue action"]),
        (5.0, view_reports(port, kinds["report view"]), kinds["report view"]),
    ]
    threads = [
        threading.Thread(target=every, args=(s, until, w, k), daemon=True) for s, w, k in loads
    ]
    # Memory is first read once the processes are warm: after a minute, or a fifth of a
    # shorter run.
    warm_after = min(60.0, args.seconds / 5)
    for thread in threads:
        thread.start()
    samples: list[dict] = []
    memory_start: dict[str, float] = {}
    while time.monotonic() < until:
        time.sleep(min(10.0, max(1.0, until - time.monotonic())))
        procs.check()
        values = metric_values(port)
        samples.append(values)
        if not memory_start and time.monotonic() - began >= warm_after:
            memory_start = {name: rss_mb(p.pid) for name, p in procs.running.items()}
    for thread in threads:
        thread.join()
    load_seconds = time.monotonic() - began
    memory_end = {name: rss_mb(p.pid) for name, p in procs.running.items()}
    drained_at = time.monotonic()
    while metric_values(port).get("switchboard_outbox_backlog", 0) > 0:
        if time.monotonic() - drained_at > 120:
            break
        time.sleep(1)
    drain_seconds = round(time.monotonic() - drained_at, 1)
    lags = [s.get("switchboard_outbox_lag_seconds", 0.0) for s in samples]
    depth = {
        queue: max(s.get(f'switchboard_celery_queue_depth{{queue="{queue}"}}', 0) for s in samples)
        for queue in WORKERS
    }
    memory = {
        name: {
            "after_first_minute_mb": memory_start.get(name),
            "end_mb": memory_end[name],
            "growth": round(memory_end[name] / memory_start[name] - 1, 3)
            if memory_start.get(name)
            else None,
        }
        for name in memory_end
    }
    errors = sum(len(kind.errors) for kind in kinds.values())
    from conversations.models import InboundMessage
    from queues.models import Notification
    from routing.models import RoutingRun
    from tickets.models import Ticket

    stored = {
        "tickets": Ticket.objects.count(),
        "events_routed": RoutingRun.objects.count(),
        "emails_stored": InboundMessage.objects.count(),
        "queue_items_done": Notification.objects.filter(status="done").count(),
        "queue_rounds_that_found_an_item": kinds["queue action"].acted,
    }
    return {
        "benchmark": "soak",
        "machine": machine(),
        "code": code_version(ROOT),
        "seconds": round(load_seconds),
        "work": {name: kind.summary(load_seconds) for name, kind in kinds.items()},
        "outbox_lag_s": {"median": round(statistics.median(lags), 2), "max": round(max(lags), 2)},
        "drain_after_load_s": drain_seconds,
        "stored": stored,
        "max_queue_depth": depth,
        "memory": memory,
        "memory_bound": MEMORY_BOUND,
        "memory_growth_ok": all(
            m["growth"] is not None and m["growth"] <= MEMORY_BOUND for m in memory.values()
        ),
        "errors": errors,
        "logs": str(procs.logs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    args = parser.parse_args()
    procs = Processes()
    try:
        print(json.dumps(run(args, procs), indent=2))
    finally:
        procs.stop_all()
        import redis

        redis.Redis.from_url(REDIS).flushdb()


if __name__ == "__main__":
    main()
