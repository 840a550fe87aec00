"""Changing many tickets at once (the ticket list's bulk action): each through ticket_update, so
each change is recorded and routed as if it had been made alone."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from tickets.models import Ticket
from tickets.services import clean_tag_names, ticket_update

BULK_MAX_TICKETS = 200


@dataclass
class BulkResult:
    changed: list[Ticket] = field(default_factory=list)
    unchanged: list[Ticket] = field(default_factory=list)  # already as asked
    refused: list[tuple[Ticket, str]] = field(default_factory=list)  # and why


def tickets_bulk_update(*, ticket_ids, actor: User, changes: dict, add_tag: str = "") -> BulkResult:
    """Apply the same change (any of assignee, status, priority, and a tag added) to many
    tickets, each in its own transaction and through ``ticket_update``, so each is recorded on
    its timeline and routed as if changed alone. A ticket the change cannot apply to (resolving
    one without a root cause, say) is refused with the reason; the others are changed."""
    if len(ticket_ids) > BULK_MAX_TICKETS:
        raise ValidationError({"tickets": f"{BULK_MAX_TICKETS} tickets at most at once."})
    tag = clean_tag_names([add_tag])[0] if add_tag.strip() else ""
    result = BulkResult()
    for ticket_id in sorted(set(ticket_ids)):
        with transaction.atomic():
            # Locked first, so the tags added to and the version compared with are the
            # ticket's own at this moment, not as they were when the batch began.
            locked = Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket_id).first()
            if locked is None:
                continue
            version = locked.version
            fields = dict(changes)
            if tag:
                fields["tags"] = sorted({*locked.tags.values_list("name", flat=True), tag})
            try:
                with transaction.atomic():
                    updated = ticket_update(ticket=locked, actor=actor, **fields)
            except ValidationError as error:
                result.refused.append((locked, " ".join(error.messages)))
                continue
        (result.changed if updated.version != version else result.unchanged).append(updated)
    return result
