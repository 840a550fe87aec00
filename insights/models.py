"""What insights keeps of its own: which part of the company each root cause points at (so
that the department that causes a kind of problem hears about it), and the long exports
written by a worker."""

import uuid

from django.conf import settings
from django.db import models

from accounts.models import Customer, Department
from tickets.models import Ticket

# Which function creates problems of each root cause when no one has said otherwise (a row of
# RootCauseOwner, edited in the admin, overrides it; migration 0002 writes these as rows).
DEFAULT_OWNERS = {
    "product_defect": "engineering",
    "usability": "engineering",
    "manufacturing": "engineering",
    "documentation": "marketing",
    "installation": "support",
    "customer_training": "support",
    "order_entry_error": "sales",
    "shipping_damage": "shipping",
    "other": "support",
}


class RootCauseOwner(models.Model):
    """The function that creates problems of a root cause (product defects: engineering)."""

    root_cause = models.CharField(max_length=20, choices=Ticket.RootCause.choices, unique=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["root_cause"]
        verbose_name = "root cause owner"
        verbose_name_plural = "root cause owners"

    def __str__(self) -> str:
        return f"{self.get_root_cause_display()}: {self.department or 'nobody'}"


def _export_path(export: "Export", filename: str) -> str:
    return f"exports/{export.pk}/{filename}"


class Export(models.Model):
    """A long report table written to a file by a worker, for the person who asked for it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Being written"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    table = models.CharField(max_length=60)  # the name of the long table (insights.export)
    query = models.TextField(blank=True, help_text="The report's filters, as in its URL.")
    arguments = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=8)
    filename = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=_export_path, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="insights_export_created_idx")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, round(100 * self.rows_done / self.rows_total)) if self.rows_total else 0


class DailyFlow(models.Model):
    """Tickets created, and tickets finally resolved, per company day, kind and channel: the
    backlog report's counts for the days before the last refresh (insights.rollups), so that a
    year of it reads a few thousand rows rather than a third of the tickets. Rewritten whole at
    each refresh; the report counts the days since from the tickets themselves."""

    day = models.DateField()
    kind = models.CharField(max_length=8, choices=Ticket.Kind.choices)
    channel = models.CharField(max_length=8, choices=Ticket.Channel.choices)
    created = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "channel"], name="insights_dailyflow_day_kind_channel"
            )
        ]
        verbose_name = "daily flow"
        verbose_name_plural = "daily flow"

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.channel}: +{self.created} -{self.resolved}"


class Rollup(models.Model):
    """How far a rollup reaches: it holds every company day before ``complete_before``,
    counted in ``time_zone`` when it was last refreshed. One row per rollup."""

    name = models.CharField(max_length=40, primary_key=True)
    complete_before = models.DateField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_seconds = models.FloatField(null=True, blank=True)  # how long the refresh took

    def __str__(self) -> str:
        return f"{self.name}: days before {self.complete_before or 'none yet'}"


class ProductCustomer(models.Model):
    """Each customer who has had a ticket about a product, and when the first was created: the
    market report's customers of a product, for the tickets created before the last refresh
    (insights.rollups). Rewritten whole at each refresh."""

    product = models.CharField(max_length=100)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    first_ticket_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "customer"], name="insights_productcustomer_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product}: customer {self.customer_id} since {self.first_ticket_at}"
