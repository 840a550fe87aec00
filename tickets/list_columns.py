"""The ticket list's columns: which there are, in the order the list shows them, and which each
member of staff chose (``ListColumns``). The reference and the subject are always shown."""

from django.core.exceptions import ValidationError

from tickets.models import ListColumns

COLUMNS = {
    "kind": "Kind",
    "customer": "Customer",
    "contact": "Contact",
    "product": "Product",
    "priority": "Priority",
    "status": "Status",
    "assignee": "Assignee",
    "department": "Department",
    "channel": "Channel",
    "tags": "Tags",
    "created": "Created",
    "updated": "Updated",
}
DEFAULT_COLUMNS = ("kind", "customer", "priority", "status", "assignee", "tags", "created")


def list_columns_for(*, user) -> list[str]:
    """The columns ``user`` sees, in the list's order: their choice, or the default."""
    chosen = ListColumns.objects.filter(user=user).values_list("columns", flat=True).first()
    names = set(DEFAULT_COLUMNS if chosen is None else chosen)
    return [name for name in COLUMNS if name in names]


def list_columns_save(*, user, names: list[str]) -> list[str]:
    """Keep ``names`` as the columns ``user`` sees; an unknown name refuses the whole choice."""
    unknown = sorted(set(names) - COLUMNS.keys())
    if unknown:
        raise ValidationError({"columns": f"No such column: {', '.join(unknown)}."})
    chosen = [name for name in COLUMNS if name in set(names)]
    ListColumns.objects.update_or_create(user=user, defaults={"columns": chosen})
    return chosen
