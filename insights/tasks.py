"""Celery tasks of insights: the monthly root-cause digest and the reports' rollups, run
by beat, and the long exports written in the background."""

from celery import shared_task

from insights.digest import root_cause_digests_send
from insights.export import export_build, exports_delete_expired
from insights.rollups import rollups_refresh


@shared_task(name="insights.tasks.send_root_cause_digests", acks_late=True)
def send_root_cause_digests() -> int:
    """Beat, every INSIGHTS_DIGEST_SWEEP_SECONDS: the last month's digests once they are due,
    each stored once (a run after they are all stored sends nothing)."""
    return root_cause_digests_send()


@shared_task(name="insights.tasks.build_export", acks_late=True)
def build_export(export_id: str) -> bool:
    """Write a long table's file. Idempotent: a finished export is left alone, and a worker that
    died part-way leaves one that the redelivered task writes again from the start."""
    return export_build(export_id)


@shared_task(name="insights.tasks.delete_old_exports", acks_late=True)
def delete_old_exports() -> int:
    """Beat, hourly: exports older than INSIGHTS_EXPORT_KEEP_DAYS, with their files."""
    return exports_delete_expired()


@shared_task(name="insights.tasks.refresh_rollups", acks_late=True)
def refresh_rollups() -> dict[str, int]:
    """Beat, every INSIGHTS_ROLLUP_REFRESH_SECONDS: count the days before today again for the
    backlog and market reports. Idempotent: each run writes the whole rollups."""
    return rollups_refresh()
