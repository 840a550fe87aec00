"""The one thing insights keeps of its own: which part of the company each root cause points
at, so that the department that causes a kind of problem hears about it."""

from django.db import models

from accounts.models import Department
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
