"""The directory's revision: one row that changes with every change to the departments, their
memberships, or what of a staff account others rely on (its email address, whether it is
active), in the transaction of the change.

Whatever keeps such facts between requests or events (routing's workers keep who a department
emails for each new item) keys them by this row and reads it afresh each time, cheaply (routing
reads it in the statement that claims an event). The receivers below are connected by
``AccountsConfig.ready()``; a write that sends no signal (``QuerySet.update()``, raw SQL in a
shell) must call ``directory_revision_bump()`` itself.
"""

import uuid

from django.db.models import F
from django.utils import timezone

from accounts.models import DirectoryRevision

# The columns of a staff account that the directory's readers use.
USER_FIELDS = frozenset({"email", "is_active"})


def directory_revision_bump() -> None:
    """Mark the directory as changed, in the caller's transaction."""
    bump = {"number": F("number") + 1, "token": uuid.uuid4(), "changed_at": timezone.now()}
    # The UPDATE locks the row: changes are counted one after the other.
    if DirectoryRevision.objects.filter(pk=1).update(**bump):
        return
    # No row yet (a flushed database): the first change makes it; one made by a change
    # committed meanwhile is bumped as usual.
    _, created = DirectoryRevision.objects.get_or_create(pk=1, defaults={"number": 1})
    if not created:
        DirectoryRevision.objects.filter(pk=1).update(**bump)


def directory_key(number, token) -> tuple:
    """The revision as a key, from its columns as read in raw SQL; (0, None) before any row."""
    if number is None:
        return (0, None)
    return (number, token if isinstance(token, uuid.UUID) else uuid.UUID(str(token)))


def department_changed(sender, **kwargs) -> None:
    """A department or a membership was saved or deleted."""
    directory_revision_bump()


def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """A new account belongs to no department yet; a login (``last_login``) or a password
    change touches nothing the directory's readers use."""
    if created or (update_fields is not None and not USER_FIELDS & set(update_fields)):
        return
    directory_revision_bump()


def user_deleted(sender, **kwargs) -> None:
    directory_revision_bump()
