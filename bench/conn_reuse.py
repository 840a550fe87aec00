"""Why the web tier keeps database connections: the same API request, per-request connections
(Django's default, CONN_MAX_AGE=0) against persistent ones (CONN_MAX_AGE=600).

Uses its own database (created and migrated if missing) and prints JSON.
"""

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_bench"
)
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
os.environ.pop("REDIS_URL", None)  # routing runs in-process; it is not what is measured here

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
# The readiness check is the lightest request that touches the database (SELECT 1 and the
# outbox's oldest event); the list a typical one.
PATHS = ["/readyz", "/api/v1/tickets/"]


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def serve(conn_max_age: int, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_CONN_MAX_AGE": str(conn_max_age), "LOG_LEVEL": "WARNING"}
    env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(  # noqa: S603 - our own server on loopback
        [str(gunicorn), "helpdesk.wsgi:application", f"--bind=127.0.0.1:{port}", "--workers=1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        response.read()
        return response.status


def _timings(url: str, token: str) -> dict:
    for _ in range(20):  # warm up
        get(url, token)
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        get(url, token)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 3),
        "p95_ms": round(timings[int(len(timings) * 0.95)], 3),
    }


def measure(conn_max_age: int, token: str, port: int) -> dict:
    server = serve(conn_max_age, port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base}/readyz", token)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return {path: _timings(base + path, token) for path in PATHS}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from demo.data import demo_seed

    token = {username: key for username, _, key in demo_seed().users}["rita"]
    per_request = measure(0, token, 8765)
    persistent = measure(600, token, 8766)
    print(
        json.dumps(
            {
                "server": "gunicorn, 1 sync worker, PostgreSQL over TCP on loopback",
                "requests_per_endpoint": REQUESTS,
                "endpoints": {
                    path: {
                        "baseline_new_connection_per_request": per_request[path],
                        "persistent_connections": persistent[path],
                        "slowdown_without_persistent_connections": round(
                            per_request[path]["median_ms"] / persistent[path]["median_ms"], 2
                        ),
                    }
                    for path in PATHS
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
