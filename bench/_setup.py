"""Shared set-up for benchmarks: a fresh PostgreSQL database of their own, migrated.

Celery publishes to an in-memory broker nobody consumes, so a benchmark times the work itself
(calling the services a worker would call) and not a round trip through Redis.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(database: str) -> None:
    sys.path.insert(0, str(ROOT))
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
    url = f"{base.rstrip('/')}/{database}"
    _recreate(base, database)
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = "memory://localhost/"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _recreate(base: str, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    admin = psycopg2.connect(f"{base.rstrip('/')}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure_page(client, url: str, requests: int) -> dict:
    """Query count (the most of any request), median and p95 of ``requests`` GETs of ``url``
    through Django's test client, after one warm-up request."""
    import statistics
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up caches, templates and the connection
    timings, queries = [], []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.append(len(captured.captured_queries))
    return {
        "queries": max(queries),
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
    }
