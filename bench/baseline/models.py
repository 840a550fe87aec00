from django.conf import settings
from django.db import models


class Entry(models.Model):
    """Eleven fields, about what a ticket row holds: the insert the baseline endpoint makes."""

    kind = models.CharField(max_length=8)
    channel = models.CharField(max_length=16)
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    customer_id = models.IntegerField()
    contact_id = models.IntegerField(null=True, blank=True)
    product = models.CharField(max_length=100, blank=True)
    priority = models.CharField(max_length=8, default="normal")
    status = models.CharField(max_length=16, default="open")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "baseline"

    def __str__(self) -> str:
        return self.subject
