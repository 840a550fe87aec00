"""A revision row: one row whose number and token change with every change to something workers
keep between events (the compiled rule set, who departments email), in the change's
transaction. A worker keys what it keeps by the row as it read it, and reads the row afresh
each time (routing reads both in the statement that claims an event), so it sees a change made
by any process with no delay of its own.

The token is new with each change because a number can come round again: a change that rolled
back leaves the number where it was, and the next change reaches the same number with other
contents.
"""

import uuid

from django.db import models
from django.db.models import F
from django.utils import timezone


class Revision(models.Model):
    number = models.PositiveBigIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


def revision_bump(model: type[Revision]) -> None:
    """Mark ``model``'s row as changed, in the caller's transaction."""
    bump = {"number": F("number") + 1, "token": uuid.uuid4(), "changed_at": timezone.now()}
    # The UPDATE locks the row, so changes are counted one after the other.
    if model.objects.filter(pk=1).update(**bump):
        return
    # No row yet (a new database, or a flushed one): the first change makes it; one made by a
    # change committed meanwhile is bumped as usual.
    _, created = model.objects.get_or_create(pk=1, defaults={"number": 1})
    if not created:
        model.objects.filter(pk=1).update(**bump)


def revision_key(number, token) -> tuple:
    """The row as a key, from its columns as read in raw SQL; (0, None) before there is one."""
    if number is None:
        return (0, None)
    return (number, token if isinstance(token, uuid.UUID) else uuid.UUID(str(token)))
