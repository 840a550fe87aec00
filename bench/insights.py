"""Report pages at a million tickets.

Loads tickets with realistic distributions over three years (in time order, as a help desk
writes them) with their timelines, resolutions, events, queue items, follow-ups, surveys,
invoices and "same problem" links, straight into PostgreSQL with INSERT ... SELECT; then times
every report page (the whole request, in-process through Django's test client) and counts its
queries, first at a small size and then at the full size, against a bare
``SELECT COUNT(*) FROM tickets_ticket`` measured in the same run.

Prints JSON, then one line per page: median ms at full size, the ratio to COUNT(*), and the
query counts at both sizes (they must be equal: a count that grows with the data is a bug).

    .venv/bin/python bench/insights.py            # 1,000,000 tickets, about 10 minutes
    BENCH_TICKETS=100000 .venv/bin/python bench/insights.py
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
from _setup import measure_page, setup  # noqa: E402

TICKETS = int(os.environ.get("BENCH_TICKETS", "1000000"))
SMALL = max(TICKETS // 100, 2000)
CUSTOMERS = 5000
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "7"))
TIME_ZONE = "Europe/Berlin"
PAGES = [
    ("root causes, 30 days", "/insights/root-causes/"),
    ("root causes, a year", "/insights/root-causes/?period=year"),
    ("root cause drill-down, 30 days", "/insights/root-causes/product_defect/"),
    ("time to fix, 30 days", "/insights/time-to-fix/"),
    ("time to fix by product, 90 days", "/insights/time-to-fix/?period=90d&group=product"),
    ("backlog and flow, 90 days", "/insights/flow/?period=90d"),
    ("backlog and flow by kind, a year", "/insights/flow/?period=year&group=kind"),
    ("market research, a year", "/insights/market/?period=year"),
    ("money and shipping, 90 days", "/insights/money/?period=90d"),
    ("sales and satisfaction, 90 days", "/insights/sales/?period=90d"),
]

# One statement per table; :first and :last are the ids of the tickets being added, so the
# same statements grow the data from the small size to the full one. Every random choice is
# drawn in a LATERAL so one row's columns agree with each other.
LOAD_TICKETS = """
INSERT INTO tickets_ticket (
    id, kind, channel, subject, description, product, priority, status, rma_number,
    created_at, updated_at, resolved_at, first_response_at, status_changed_at,
    customer_id, contact_id, created_by_id, assignee_id, department_id, resolution,
    rma_order_number, rma_reason, rma_serial_number, root_cause, search_text, version,
    rma_status, first_resolved_at, first_reopened_at)
SELECT i, r.kind, r.channel, 'Ticket ' || i, 'Described ' || i, r.product, 'normal',
       CASE WHEN r.resolved IS NULL THEN 'open' ELSE 'resolved' END,
       CASE WHEN r.kind = 'rma' THEN 'RMA-' || i END,
       r.created, COALESCE(r.resolved, r.created), r.resolved,
       CASE WHEN r.u4 < 0.9 THEN r.created + r.respond END, COALESCE(r.resolved, r.created),
       r.customer, r.customer, r.rep, r.rep,
       (SELECT id FROM accounts_department WHERE slug = CASE r.kind
            WHEN 'bug' THEN 'engineering' WHEN 'rma' THEN 'shipping'
            WHEN 'rfe' THEN 'marketing' ELSE 'support' END),
       CASE WHEN r.resolved IS NULL THEN '' ELSE 'Resolved' END,
       '', CASE WHEN r.kind = 'rma' THEN (ARRAY['Dead on arrival', 'Damaged in transit',
            'Wrong item', 'Stopped working'])[1 + floor(r.u3 * 4)::int] ELSE '' END, '',
       CASE WHEN r.resolved IS NULL THEN '' ELSE (ARRAY['product_defect', 'product_defect',
            'product_defect', 'usability', 'documentation', 'documentation', 'installation',
            'customer_training', 'customer_training', 'manufacturing', 'order_entry_error',
            'shipping_damage', 'other'])[1 + floor(r.u3 * 13)::int] END,
       'Ticket ' || i, 1,
       CASE WHEN r.kind <> 'rma' THEN '' WHEN r.resolved IS NULL THEN 'received'
            WHEN r.u4 < 0.5 THEN 'replacement_shipped' ELSE 'refunded' END,
       -- One in 25 resolved tickets was resolved once before, and reopened (the timeline
       -- below says the same).
       CASE WHEN i %% 25 = 0 THEN r.created + (r.resolved - r.created) / 3 ELSE r.resolved END,
       CASE WHEN i %% 25 = 0 THEN r.created + (r.resolved - r.created) / 2 END
FROM generate_series(%(first)s, %(last)s) AS i,
-- "+ 0 * i" ties the draws to the row: an uncorrelated LATERAL would be drawn once for all.
LATERAL (SELECT random() + 0 * i AS u1, random() + 0 * i AS u2, random() + 0 * i AS u3,
                random() + 0 * i AS u4, random() + 0 * i AS u5, random() + 0 * i AS u6) AS u,
LATERAL (SELECT
    now() - interval '3 years' + (i::float / %(last)s) * interval '3 years'
        + u.u6 * interval '20 minutes' AS created,
    CASE WHEN u.u1 < 0.5 THEN 'call' WHEN u.u1 < 0.75 THEN 'bug'
         WHEN u.u1 < 0.88 THEN 'rfe' ELSE 'rma' END AS kind,
    CASE WHEN u.u2 < 0.4 THEN 'phone' WHEN u.u2 < 0.75 THEN 'email'
         WHEN u.u2 < 0.95 THEN 'web' ELSE 'api' END AS channel,
    'Product ' || chr(65 + floor(12 * u.u3 * u.u3)::int) AS product,
    1 + floor(%(customers)s * u.u5 * u.u5)::int AS customer,
    (SELECT min(id) FROM accounts_user) + floor(u.u4 * 20)::int AS rep,
    -ln(1 - u.u4) * interval '2 hours' AS respond,
    u.u3 AS u3, u.u4 AS u4
) AS p,
LATERAL (SELECT p.*,
    CASE WHEN p.created > now() - interval '10 days' AND u.u6 < 0.5 THEN NULL
         WHEN u.u6 < 0.01 THEN NULL
         ELSE p.created + (-ln(1 - u.u5) * 30) * interval '1 hour' END AS resolved
) AS r
"""
LOAD_TIMELINE = [
    # The entry every ticket starts with; a phone ticket's is the call, with its length.
    """INSERT INTO tickets_timelineentry (kind, body, is_internal, call_duration_seconds,
           changes, created_at, author_id, ticket_id)
       SELECT CASE WHEN channel = 'phone' THEN 'call' ELSE 'created' END, '', false,
              CASE WHEN channel = 'phone' THEN 60 + (id * 7919) %% 900 END, '{}', created_at,
              created_by_id, id
       FROM tickets_ticket WHERE id BETWEEN %(first)s AND %(last)s""",
    # One in 25 resolved tickets was resolved once before and reopened a day later.
    """INSERT INTO tickets_timelineentry (kind, body, is_internal, changes, created_at,
           author_id, ticket_id)
       SELECT 'status_change', '', false, c.changes::jsonb, c.at, assignee_id, id
       FROM tickets_ticket, LATERAL (VALUES
           ('{"status": ["open", "resolved"]}', created_at + (resolved_at - created_at) / 3),
           ('{"status": ["resolved", "open"]}', created_at + (resolved_at - created_at) / 2))
           AS c(changes, at)
       WHERE id BETWEEN %(first)s AND %(last)s AND resolved_at IS NOT NULL AND id %% 25 = 0""",
    """INSERT INTO tickets_timelineentry (kind, body, is_internal, changes, created_at,
           author_id, ticket_id)
       SELECT 'status_change', '', false, '{"status": ["open", "resolved"]}', resolved_at,
              assignee_id, id
       FROM tickets_ticket WHERE id BETWEEN %(first)s AND %(last)s AND resolved_at IS NOT NULL""",
    # A return's steps, a day or two apart.
    """INSERT INTO tickets_timelineentry (kind, body, is_internal, changes, created_at,
           author_id, ticket_id)
       SELECT 'rma', '', false, jsonb_build_object('return status', jsonb_build_array(s.old,
              s.new)), created_at + s.days * interval '1 day', assignee_id, id
       FROM tickets_ticket, LATERAL (VALUES ('', 'authorised', 0), ('authorised',
           'awaiting_return', 0.1), ('awaiting_return', 'received', 3 + id %% 4),
           ('received', 'inspected', 5 + id %% 3), ('inspected', rma_status, 7 + id %% 5))
           AS s(old, new, days)
       WHERE id BETWEEN %(first)s AND %(last)s AND kind = 'rma'
         AND (s.new <> 'inspected' OR rma_status <> 'received')
         AND (s.old <> 'inspected' OR rma_status IN ('replacement_shipped', 'refunded'))""",
]
LOAD_EVENTS = """
INSERT INTO tickets_ticketevent (id, type, snapshot, changes, depth, created_at,
    dispatched_at, dispatch_failures, ticket_id)
SELECT id, 'ticket.created', '{}', '{}', 0, created_at, created_at, 0, id
FROM tickets_ticket WHERE id BETWEEN %(first)s AND %(last)s
"""
LOAD_QUEUE_ITEMS = """
INSERT INTO routing_notification (message, status, acted_at, created_at, department_id,
    event_id, ticket_id, done_at, due_at, responses)
SELECT '', CASE WHEN id %% 20 = 0 THEN 'new' ELSE 'done' END,
       CASE WHEN id %% 20 <> 0 THEN created_at + ((id * 31) %% 600) * interval '1 minute' END,
       created_at, department_id, id, id,
       CASE WHEN id %% 20 <> 0 THEN created_at + interval '2 days' END,
       created_at + interval '8 hours', 1
FROM tickets_ticket
WHERE id BETWEEN %(first)s AND %(last)s AND kind IN ('bug', 'rma', 'rfe')
"""
LOAD_FOLLOWUPS = """
INSERT INTO routing_followuptask (reason, due_on, status, outcome, outcome_notes, created_at,
    completed_at, customer_id, event_id, salesperson_id, ticket_id, attempts, upsell_value)
SELECT 'Check the customer is satisfied', (t.resolved_at + interval '2 days')::date,
       CASE WHEN t.resolved_at < now() - interval '7 days' THEN 'done' ELSE 'open' END,
       CASE WHEN t.resolved_at >= now() - interval '7 days' THEN ''
            ELSE (ARRAY['satisfied', 'satisfied', 'not_satisfied', 'no_answer', 'upsell'])
                 [1 + t.id %% 5] END, '', t.resolved_at,
       CASE WHEN t.resolved_at < now() - interval '7 days'
            THEN t.resolved_at + ((t.id %% 5) * interval '1 day') END,
       t.customer_id, t.id, c.salesperson_id, t.id, 1,
       CASE WHEN t.id %% 5 = 4 AND t.resolved_at < now() - interval '7 days'
            THEN 500 + (t.id %% 40) * 250 END
FROM tickets_ticket t JOIN accounts_customer c ON c.id = t.customer_id
WHERE t.id BETWEEN %(first)s AND %(last)s AND t.resolved_at IS NOT NULL AND t.id %% 10 = 3
  AND c.salesperson_id IS NOT NULL
"""
LOAD_SURVEYS = """
INSERT INTO surveys_survey (status, reason, send_after, sent_at, score, comment, answered_at,
    created_at, contact_id, resolution_event_id, ticket_id)
SELECT CASE WHEN id %% 3 = 0 THEN 'answered' ELSE 'sent' END, '', resolved_at,
       resolved_at + interval '1 day',
       CASE WHEN id %% 3 = 0 THEN (ARRAY[10, 10, 9, 9, 9, 8, 8, 7, 6, 5, 3, 0])[1 + id %% 12] END,
       '', CASE WHEN id %% 3 = 0 THEN resolved_at + interval '2 days' END, resolved_at,
       contact_id, id, id
FROM tickets_ticket
WHERE id BETWEEN %(first)s AND %(last)s AND resolved_at IS NOT NULL AND id %% 5 = 1
"""
LOAD_RELATED = """
INSERT INTO tickets_ticket_related (from_ticket_id, to_ticket_id)
SELECT a, b FROM (SELECT id AS a, id - 1 - (id %% 17) AS b FROM tickets_ticket
                  WHERE id BETWEEN %(first)s AND %(last)s AND id %% 101 = 0
                    AND id - 1 - (id %% 17) >= 1) AS pairs
CROSS JOIN LATERAL (VALUES (a, b), (b, a)) AS both_ways(x, y)
ON CONFLICT DO NOTHING
"""


def load_people():
    from django.db import connection

    from accounts.models import Customer, Department, Membership, User

    support = Department.objects.get(slug="support")
    sales = Department.objects.get(slug="sales")
    reps = [User.objects.create(username=f"rep{n}", first_name=f"Rep {n}") for n in range(20)]
    for rep in reps:
        Membership.objects.create(user=rep, department=support)
    sellers = [User.objects.create(username=f"seller{n}") for n in range(10)]
    for seller in sellers:
        Membership.objects.create(user=seller, department=sales)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO accounts_customer (id, name, pay_for_bug, created_at,
                   salesperson_id, colleagues_see_tickets, is_internal)
               SELECT i, 'Customer ' || i, i %% 10 = 0, now() - interval '4 years',
                      %(seller)s + i %% 10, false, i %% 50 = 0
               FROM generate_series(1, %(customers)s) AS i""",
            {"customers": CUSTOMERS, "seller": sellers[0].pk},
        )
        cursor.execute(
            """INSERT INTO accounts_contact (id, name, email, phone, title, customer_id,
                   email_bounce_reason, portal_token_version)
               SELECT i, 'Contact ' || i, 'contact' || i || '@example.com', '', '', i, '', 1
               FROM generate_series(1, %(customers)s) AS i""",
            {"customers": CUSTOMERS},
        )
        # Twenty invoices a customer over three years; one in ten unpaid, some of them overdue.
        cursor.execute(
            """INSERT INTO accounts_invoice (number, amount, issued_on, due_on, paid_on,
                   customer_id)
               SELECT 'INV-' || c || '-' || n, 500 + (c * 37 + n * 101) %% 20000,
                      current_date - (n * 54), current_date - (n * 54) + 30,
                      CASE WHEN (c + n) %% 10 = 0 THEN NULL
                           ELSE current_date - (n * 54) + 20 END, c
               FROM generate_series(1, %(customers)s) AS c, generate_series(0, 19) AS n""",
            {"customers": CUSTOMERS},
        )
        for table in ("accounts_customer", "accounts_contact"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
    Customer.objects.count()


def load_tickets(first: int, last: int) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    values = {"first": first, "last": last, "customers": CUSTOMERS}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [first / (last + 1)])
        cursor.execute(LOAD_TICKETS, values)
        for statement in LOAD_TIMELINE:
            cursor.execute(statement, values)
        for statement in (LOAD_EVENTS, LOAD_QUEUE_ITEMS, LOAD_FOLLOWUPS, LOAD_SURVEYS):
            cursor.execute(statement, values)
        cursor.execute(LOAD_RELATED, values)
        for table in ("tickets_ticket", "tickets_ticketevent"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as cursor:
        # As autovacuum would, soon after a bulk load: statistics for the planner, and the
        # visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    return round(time.perf_counter() - started, 1)


def count_baseline() -> float:
    from django.db import connection

    timings = []
    with connection.cursor() as cursor:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            cursor.execute("SELECT COUNT(*) FROM tickets_ticket")
            cursor.fetchone()
            timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def refresh_rollups() -> float:
    from insights.rollups import rollups_refresh

    started = time.perf_counter()
    rollups_refresh()
    return round(time.perf_counter() - started, 2)


def measure(client) -> dict:
    return {label: measure_page(client, url, REQUESTS) for label, url in PAGES}


def main() -> None:
    os.environ["DJANGO_TIME_ZONE"] = TIME_ZONE
    setup("switchboard_bench_insights")
    from django.db import connection
    from django.test import Client

    from accounts.models import User

    load_people()
    with connection.cursor() as cursor:
        # The pages are read by a person with no special rights.
        cursor.execute("SELECT 1")
    viewer = User.objects.get(username="rep0")
    client = Client()
    client.force_login(viewer)

    small_load = load_tickets(1, SMALL)
    refresh_rollups()
    small = measure(client)
    full_load = load_tickets(SMALL + 1, TICKETS)
    # As beat does every INSIGHTS_ROLLUP_REFRESH_SECONDS; timed, since it is work the database
    # does for the reports.
    rollups_seconds = refresh_rollups()
    full = measure(client)
    baseline = count_baseline()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('tickets_ticket'))")
        size = cursor.fetchone()[0]
    result = {
        "tickets": TICKETS,
        "small_size": SMALL,
        "load_seconds": {"small": small_load, "full": full_load},
        "rollups_refresh_seconds": rollups_seconds,
        "tickets_table_with_indexes": size,
        "baseline_count_ms": baseline,
        "pages": {
            label: {
                "median_ms": full[label]["median_ms"],
                "p95_ms": full[label]["p95_ms"],
                "ratio_to_count": round(full[label]["median_ms"] / baseline, 1)
                if baseline
                else None,
                "queries": full[label]["queries"],
                "queries_at_small_size": small[label]["queries"],
                "small_median_ms": small[label]["median_ms"],
            }
            for label, _ in PAGES
        },
    }
    print(json.dumps(result, indent=2))
    for label, figures in result["pages"].items():
        print(
            f"{label}: {figures['median_ms']} ms median ({figures['ratio_to_count']}x COUNT(*)), "
            f"queries {figures['queries_at_small_size']} -> {figures['queries']}"
        )


if __name__ == "__main__":
    main()
