"""The directory's revision: one row that changes with every change to the departments, their
memberships, or what of a staff account others rely on (its email address, whether it is
active), with the change (in its transaction when it has one).

Whatever keeps such facts between requests or events (routing's workers keep who a department
emails for each new item) keys them by this row and reads it afresh each time, cheaply (routing
reads it in the statement that claims an event). The receivers below are connected by
``AccountsConfig.ready()``: saves and deletes, cascades, ``QuerySet.delete()`` and the
``members`` relation's ``add()``/``set()``. A write that sends none of those signals
(``QuerySet.update()``, ``bulk_create``/``bulk_update``, raw SQL, a data migration's historical
models) must call ``directory_revision_bump()`` itself; what was kept is read again after
``routing.engine.actions.LASTING_SECONDS`` at the latest anyway.
"""

from accounts.models import DirectoryRevision
from helpdesk.revisions import revision_bump

# The columns of a staff account that the directory's readers use.
USER_FIELDS = frozenset({"email", "is_active"})


def directory_revision_bump() -> None:
    """Mark the directory as changed, in the caller's transaction."""
    revision_bump(DirectoryRevision)


def department_changed(sender, **kwargs) -> None:
    """A department or a membership was saved or deleted."""
    directory_revision_bump()


def members_changed(sender, action: str, **kwargs) -> None:
    """Members added to or removed from a department through its ``members`` relation."""
    if action in ("post_add", "post_remove", "post_clear"):
        directory_revision_bump()


def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """A new account belongs to no department yet; a login (``last_login`` alone) touches
    nothing the directory's readers use. (A password change saves the whole account, which
    counts as a change: it only costs the workers a reload.)"""
    if created or (update_fields is not None and not USER_FIELDS & set(update_fields)):
        return
    directory_revision_bump()


def user_deleted(sender, **kwargs) -> None:
    directory_revision_bump()
