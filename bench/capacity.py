"""Capacity: what one web process and one routing worker can carry, and so how many of each a
team of 10, 100 or 1,000 agents needs.

The unit of the web tier is one gunicorn sync process; the unit of routing is one routing
worker process. Each is driven to saturation, alone, with the database seeded as a working
help desk (tickets routed into queues), and the cost of each request an agent's browser makes
is measured in the same run, against /healthz (no query, no template) as the baseline:

- the pages' own polls: the open ticket's live facts (every TICKET_LIVE_SECONDS), its timeline
  (every 10 s once the page is a minute old), the navigation's counts, queues and mail (every
  NAV_COUNTS_REFRESH_SECONDS) and the open queue's list (as often);
- the pages themselves: a ticket page, a queue page;
- a ticket created through the API (as the call log or an integration does).

Then the sizing follows from an agent's day, stated in AGENT below (the figures peers publish
for a busy agent: about 10 tickets handled an hour, a page every half minute, a ticket or a
queue always open): per agent, the requests of each kind per second times each one's cost in a
web process's time, and the events routed per second times a routing worker's time per event.
Processes are sized to run at most at TARGET_UTILISATION, so a burst has room.

    .venv/bin/python bench/capacity.py             # about five minutes
"""

import argparse
import http.client
import json
import math
import os
import re
import sys
import threading
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from _harness import (  # noqa: E402
    Processes,
    code_version,
    free_port,
    machine,
    post_load,
    run_together,
    spread,
    wait_http,
)
from soak import BIN, ENV, PASSWORD, REDIS, prepare  # noqa: E402

SECONDS_PER_ENDPOINT = 12
CONNECTIONS = 4  # client connections kept busy: a sync process serves one at a time
BACKLOG = 600  # tickets routed from a standing start to time the routing worker
TARGET_UTILISATION = 0.6

# An agent's day at its busiest hour. Rates are per agent per second.
AGENT = {
    "tickets_per_hour": 10,  # handled: created or worked on
    "events_per_ticket": 4,  # created, a note or reply, status changes: each one is routed
    "page_views_per_minute": 2,
    "share_on_ticket_page": 0.5,  # the rest of the time a queue page is open
}


def login(port: int, username: str) -> str:
    """A session cookie for ``username``, through the login form as a browser gets one."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    response = conn.getresponse()
    form = response.read().decode()
    cookies = _cookies(response)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "Referer": f"http://127.0.0.1:{port}/login/",
    }
    conn.request("POST", "/login/", body, headers)
    response = conn.getresponse()
    response.read()
    cookies |= _cookies(response)
    if "sessionid" not in cookies:
        raise RuntimeError(f"login as {username} failed: {response.status}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def _cookies(response) -> dict[str, str]:
    found = {}
    for header in response.msg.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def get_load(port: int, paths: list[str], headers: dict, seconds: float) -> dict:
    """GETs of ``paths`` (in turn) over CONNECTIONS connections for ``seconds``: the rate one
    process sustains and the latencies; any answer but 200 fails the run."""
    deadline = time.monotonic() + seconds
    timings: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        index = offset
        mine = []
        while time.monotonic() < deadline:
            path = paths[index % len(paths)]
            index += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except (http.client.HTTPException, OSError) as exc:
                failures.append(f"{path}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:  # a lost session would be a redirect to the login
                failures.append(f"{path}: {response.status}")
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONNECTIONS)]
    elapsed = run_together(threads)
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, first: {failures[0]}")
    per_s = len(timings) / elapsed
    return {"per_s": round(per_s, 1), "ms_of_process": round(1000 / per_s, 2), **spread(timings)}


def create_tickets(port: int, setup: dict, total: int, label: str) -> None:
    """``total`` tickets of every kind through the API, over two connections."""
    customers = setup["customers"]
    post_load(
        port,
        "/api/v1/tickets/",
        setup["rep_token"],
        lambda i: {
            "kind": ("bug", "rfe", "call", "rma")[i % 4],
            "customer": customers[i % len(customers)],
            "subject": f"{label} {i}",
        },
        total,
        connections=2,
    )


def seed(port: int, procs: Processes, setup: dict) -> dict:
    """Tickets created through the API and routed by a worker, so the queues hold items."""
    create_tickets(port, setup, 400, "Seed")
    routing_worker(procs)
    wait_routed()
    procs.stop("worker-routing")
    from queues.models import Notification
    from tickets.models import Ticket

    ticket = Ticket.objects.filter(kind="bug").order_by("-id").first()
    return {"ticket": ticket.pk, "version": ticket.version, "items": Notification.objects.count()}


def routing_worker(procs: Processes) -> None:
    argv = [str(BIN / "celery"), "-A", "helpdesk", "worker", "-Q", "routing", "-n", "cap@%h"]
    argv += ["--concurrency=1", "--pool=prefork", "-l", "WARNING"]
    procs.start("worker-routing", argv, ENV, ROOT)


def wait_routed(timeout: float = 600) -> float:
    """Seconds until no ticket event waits for routing."""
    from tickets.models import TicketEvent

    began = time.monotonic()
    while TicketEvent.objects.filter(dispatched_at__isnull=True).exists():
        if time.monotonic() - began > timeout:
            raise RuntimeError("routing did not catch up")
        time.sleep(0.05)
    return time.monotonic() - began


def routing_capacity(port: int, procs: Processes, setup: dict) -> dict:
    """A backlog of BACKLOG more tickets written with no worker running (behind those the web
    measurement created), then one routing worker (one process) started: events routed per
    second from its first run to its last."""
    from django.utils import timezone

    from routing.models import RoutingRun

    create_tickets(port, setup, BACKLOG, "Backlog")
    started = timezone.now()
    routing_worker(procs)
    wait_routed()
    procs.stop("worker-routing")
    runs = RoutingRun.objects.filter(created_at__gte=started).order_by("created_at")
    times = list(runs.values_list("created_at", flat=True))
    if len(times) < 2:
        raise RuntimeError(f"the routing worker routed {len(times)} events")
    span = (times[-1] - times[0]).total_seconds()
    per_s = (len(times) - 1) / span
    return {"events": len(times), "per_s": round(per_s, 1), "ms_per_event": round(1000 / per_s, 2)}


def sizing(web: dict, routing: dict) -> dict:
    """Processes for 10, 100 and 1,000 agents from the measured costs and AGENT."""
    from django.conf import settings

    on_ticket = AGENT["share_on_ticket_page"]
    per_agent = {  # requests per agent per second, by the endpoint that answers them
        "ticket live poll": on_ticket / settings.TICKET_LIVE_SECONDS,
        "ticket timeline poll": on_ticket / 10,
        "navigation counts poll": 1 / settings.NAV_COUNTS_REFRESH_SECONDS,
        "queue list refresh": (1 - on_ticket) / settings.NAV_COUNTS_REFRESH_SECONDS,
        "ticket page": AGENT["page_views_per_minute"] / 60 * on_ticket,
        "queue page": AGENT["page_views_per_minute"] / 60 * (1 - on_ticket),
        "API ticket create": AGENT["tickets_per_hour"] / 3600,
    }
    web_seconds = sum(rate * web[name]["ms_of_process"] / 1000 for name, rate in per_agent.items())
    events = AGENT["tickets_per_hour"] * AGENT["events_per_ticket"] / 3600
    routing_seconds = events * routing["ms_per_event"] / 1000
    table = {}
    for agents in (10, 100, 1000):
        table[agents] = {
            "requests_per_s": round(agents * sum(per_agent.values()), 1),
            "web_processes": max(2, math.ceil(agents * web_seconds / TARGET_UTILISATION)),
            "events_per_s": round(agents * events, 2),
            "routing_processes": max(1, math.ceil(agents * routing_seconds / TARGET_UTILISATION)),
        }
    return {
        "agent": AGENT,
        "requests_per_agent_per_s": {k: round(v, 4) for k, v in per_agent.items()},
        "web_process_seconds_per_agent_per_s": round(web_seconds, 5),
        "routing_process_seconds_per_agent_per_s": round(routing_seconds, 5),
        "target_utilisation": TARGET_UTILISATION,
        "by_team_size": table,
    }


def run() -> dict:
    setup = prepare()
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    from accounts.models import User

    agent = User.objects.get(username="member-engineering")
    agent.set_password(PASSWORD)
    agent.save()
    port = free_port()
    env = {**ENV, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"}
    argv = [str(BIN / "gunicorn"), "-c", "python:helpdesk.gunicorn_conf"]
    procs.start("web", [*argv, "helpdesk.wsgi:application"], env, ROOT)
    wait_http(procs, port, "/readyz", setup["rep_token"])
    seeded = seed(port, procs, setup)
    session = {"Cookie": login(port, "member-engineering")}
    ticket, version = seeded["ticket"], seeded["version"]
    endpoints = {
        # The baseline: the cheapest answer the process gives (no query, no session).
        "baseline /healthz": ["/healthz"],
        "ticket live poll": [f"/tickets/{ticket}/live/?version={version}"],
        "ticket timeline poll": [f"/tickets/{ticket}/timeline/?after=0"],
        "navigation counts poll": ["/nav/counts/"],
        "queue list refresh": ["/queues/engineering/?fragment=list"],
        "ticket page": [f"/tickets/{ticket}/"],
        "queue page": ["/queues/engineering/"],
    }
    web = {
        name: get_load(port, paths, session, SECONDS_PER_ENDPOINT)
        for name, paths in endpoints.items()
    }
    customers = setup["customers"]
    created = post_load(
        port,
        "/api/v1/tickets/",
        setup["rep_token"],
        lambda i: {"kind": "bug", "customer": customers[i % len(customers)], "subject": f"C{i}"},
        600,
        connections=CONNECTIONS,
    )
    web["API ticket create"] = {**created, "ms_of_process": round(1000 / created["per_s"], 2)}
    wait_routed_first = routing_capacity(port, procs, setup)
    return {
        "benchmark": "capacity",
        "machine": machine(),
        "code": code_version(ROOT),
        "seeded_queue_items": seeded["items"],
        "one_web_process": web,
        "one_routing_worker": wait_routed_first,
        "sizing": sizing(web, wait_routed_first),
    }


procs = Processes()


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    try:
        print(json.dumps(run(), indent=2))
    finally:
        procs.stop_all()
        import redis

        redis.Redis.from_url(REDIS).flushdb()


if __name__ == "__main__":
    main()
