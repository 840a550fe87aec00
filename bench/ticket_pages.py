"""Ticket pages benchmark: the ticket list and the ticket page with 100,000 tickets stored.

Prints JSON: for each page, the number of queries and the median and 95th percentile render
time (the whole Django request in-process: middleware, view, queries, template), next to the
same figures for ``/healthz`` (no query, no template), the baseline measured in the same run.
Targets: the list stays under 15 queries and 150 ms median; no page's query count grows with
the rows it shows.
"""

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
from _setup import measure_page, setup  # noqa: E402

TICKETS = 100_000
REQUESTS = 60
WORDS = (
    "export crash login invoice printer scanner latency timeout report dashboard upload "
    "password backup sync license install update battery screen cable"
).split()


def populate() -> dict:
    from django.db import connection

    from accounts.models import Contact, Customer, User
    from tickets.models import Tag, Ticket, TimelineEntry

    rng = random.Random(7)  # noqa: S311 - repeatable sample data, not secrets
    reps = [User(username=f"rep{i}", first_name="Rep", last_name=str(i)) for i in range(20)]
    User.objects.bulk_create(reps)
    reps = list(User.objects.filter(username__startswith="rep"))
    customers = Customer.objects.bulk_create(Customer(name=f"Customer {i}") for i in range(500))
    Contact.objects.bulk_create(
        Contact(customer=c, name=f"Contact of {c.name}", phone="+1 555 0100") for c in customers
    )
    tags = Tag.objects.bulk_create(Tag(name=name) for name in ("vip", "billing", "outage"))
    kinds, statuses = ["call", "bug", "rfe", "rma"], ["new", "open", "pending", "resolved"]
    batch = []
    for index in range(TICKETS):
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        subject = f"{rng.choice(WORDS).capitalize()} problem {index}"
        batch.append(
            Ticket(
                customer=customers[index % len(customers)],
                kind=kinds[index % 4],
                channel="phone",
                subject=subject,
                description=words,
                search_text=f"{subject}\n{words}",
                product=rng.choice(["Reports", "Portal", "Scanner X2", ""]),
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                status=statuses[index % 4],
                assignee=reps[index % len(reps)] if index % 3 else None,
            )
        )
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    with connection.cursor() as cursor:
        # Spread creation over about a year, newest last, as a real history would be.
        cursor.execute(
            "UPDATE tickets_ticket SET created_at = now() - (%s - id) * interval '5 minutes', "
            "updated_at = now() - (%s - id) * interval '5 minutes'",
            [TICKETS, TICKETS],
        )
    through = Ticket.tags.through
    ids = list(Ticket.objects.values_list("id", flat=True))
    through.objects.bulk_create(
        (through(ticket_id=pk, tag_id=tags[pk % 3].pk) for pk in ids if pk % 4 == 0),
        batch_size=5000,
    )
    busy = ids[-1]
    entries = [
        TimelineEntry(ticket_id=busy, kind="note", author=reps[i % 20], body=f"Note {i} " * 20)
        for i in range(60)
    ]
    entries += [
        TimelineEntry(ticket_id=busy, kind="call", author=reps[i % 20], body="Called",
                      call_duration_seconds=300)
        for i in range(20)
    ]  # fmt: skip
    TimelineEntry.objects.bulk_create(entries)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would give a real database
    return {"rep": reps[1], "busy_ticket": busy}


def main() -> None:
    setup("switchboard_bench_pages")
    from django.test import Client

    started = time.perf_counter()
    people = populate()
    seeded_s = round(time.perf_counter() - started, 1)
    client = Client()
    client.force_login(people["rep"])
    pages = {
        "baseline /healthz": "/healthz",
        "ticket list, first page": "/tickets/",
        "ticket list, filtered, by priority": "/tickets/?status=open&kind=bug&sort=priority",
        "ticket list, full-text search": "/tickets/?q=printer+timeout",
        "ticket list, last page": "/tickets/?page=2000",
        "my open tickets": "/tickets/mine/",
        "ticket page (80 timeline entries)": f"/tickets/{people['busy_ticket']}/",
    }
    figures = {name: measure_page(client, url, REQUESTS) for name, url in pages.items()}
    baseline = figures["baseline /healthz"]["median_ms"]
    for result in figures.values():
        result["x_baseline"] = round(result["median_ms"] / baseline, 1) if baseline else None
    print(
        json.dumps(
            {
                "tickets_stored": TICKETS,
                "seeded_in_s": seeded_s,
                "requests_per_page": REQUESTS,
                "pages": figures,
                "targets": {"list_queries_under": 15, "list_median_ms_under": 150},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
