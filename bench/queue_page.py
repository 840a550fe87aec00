"""Queue page benchmark: the engineering queue with 100,000 notifications stored.

Prints JSON: query count, median and 95th percentile render time of the queue page (the whole
request in-process) at page sizes 25 and 100, filtered and sorted, against ``/healthz`` (no
query, no template) measured in the same run. The query count must not grow with page size.
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

NOTIFICATIONS = 100_000
REQUESTS = 60


def populate():
    from django.db import connection

    from accounts.models import Customer, Department, Membership, User
    from queues.models import Notification
    from routing.models import Rule
    from tickets.models import Ticket, TicketEvent

    rng = random.Random(11)  # noqa: S311 - repeatable sample data, not secrets
    engineer = User.objects.create(username="erin", first_name="Erin")
    engineering = Department.objects.get(slug="engineering")
    Membership.objects.create(user=engineer, department=engineering)
    others = list(Department.objects.exclude(slug="engineering"))
    customers = Customer.objects.bulk_create(Customer(name=f"Customer {i}") for i in range(300))
    rules = Rule.objects.bulk_create(
        Rule(name=f"Rule {i}", order=i, trigger="ticket.created", actions=[], conditions={})
        for i in range(20)
    )
    tickets = Ticket.objects.bulk_create(
        (
            Ticket(
                customer=customers[i % 300],
                kind=["call", "bug", "rfe", "rma"][i % 4],
                channel="phone",
                subject=f"Ticket {i}",
                priority=rng.choice(["low", "normal", "high", "urgent"]),
            )
            for i in range(NOTIFICATIONS // 2)
        ),
        batch_size=5000,
    )
    events = TicketEvent.objects.bulk_create(
        (TicketEvent(ticket=t, type="ticket.created", snapshot={}) for t in tickets),
        batch_size=5000,
    )
    statuses = ["new", "acknowledged", "done", "done"]
    items = []
    for index, event in enumerate(events):
        for department in (engineering, others[index % len(others)]):
            items.append(
                Notification(
                    department=department,
                    ticket_id=event.ticket_id,
                    event=event,
                    rule=rules[index % 20],
                    message="Please look",
                    status=statuses[index % 4],
                    acted_by=engineer if index % 4 else None,
                )
            )
    Notification.objects.bulk_create(items, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE routing_notification SET created_at = now() - id * interval '3 minutes', "
            "due_at = now() - id * interval '3 minutes' + interval '8 hours'"
        )
        cursor.execute("ANALYZE")
    return engineer


def main() -> None:
    setup("switchboard_bench_queue")
    from django.test import Client

    started = time.perf_counter()
    engineer = populate()
    seeded = round(time.perf_counter() - started, 1)
    client = Client()
    client.force_login(engineer)
    pages = {
        "baseline /healthz": "/healthz",
        "new items, 25 a page": "/queues/engineering/",
        "new items, 100 a page": "/queues/engineering/?page_size=100",
        "done items, 25 a page, page 200": "/queues/engineering/?status=done&page=200",
        "new bugs by priority": "/queues/engineering/?kind=bug&sort=priority",
    }
    figures = {name: measure_page(client, url, REQUESTS) for name, url in pages.items()}
    print(
        json.dumps(
            {
                "notifications_stored": NOTIFICATIONS,
                "seeded_in_s": seeded,
                "requests_per_page": REQUESTS,
                "pages": figures,
                "queries_grow_with_page_size": figures["new items, 100 a page"]["queries"]
                > figures["new items, 25 a page"]["queries"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
