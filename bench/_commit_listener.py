"""Commit-to-commit latency from PostgreSQL itself: triggers that ``pg_notify`` the inserts of
a ticket and of its notifications, and a listener noting when each arrives, which is when its
transaction committed."""

import select
import threading
import time

CHANNEL = "bench_pipeline"


class CommitListener:
    """Triggers that ``pg_notify`` a ticket's and its notifications' inserts, and a listener
    that notes when each notification arrives, that is when its transaction committed."""

    def __init__(self, dsn: str) -> None:
        import psycopg2

        from queues.models import Notification
        from tickets.models import Ticket

        self.conn = psycopg2.connect(dsn)
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
