"""The one way a message comes in: its bytes stored, once, before anything else.

The pipe command, the IMAP poller and the provider webhooks all call ``inbound_store`` and
acknowledge only after it returned (the mail server, the IMAP server and the provider keep the
message until then, and try again on an error). Understanding the message is a task enqueued on
commit: a message that cannot be understood is still stored, and waits for a person.
"""

import contextlib
import hashlib
import logging
import os
import tempfile
from email.parser import BytesHeaderParser

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from conversations.mime import header_text, message_ids
from conversations.models import InboundMessage, Mailbox
from helpdesk.queue import enqueue_on_commit
from routing.engine.rows import insert_or_get

logger = logging.getLogger(__name__)


def dedupe_key(raw: bytes) -> tuple[str, str]:
    """(the key a message is known by, the SHA-256 of its bytes): its Message-ID, or the
    digest for a message without one."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        headers = BytesHeaderParser().parsebytes(raw[:1_000_000])
        message_id = next(iter(message_ids(header_text(headers, "Message-ID"))), "")
    except Exception:  # headers too broken to read: the bytes still identify the message
        message_id = ""
    return (f"id:{message_id}"[:255] if message_id else f"sha256:{digest}"), digest


# Above this size a message is looked for before its file is written (see inbound_store).
LOOK_FIRST_BYTES = 256 * 1024


def _raw_name(digest: str) -> str:
    # Content-addressed: the same bytes stored twice (a retry after a lost answer) are one file.
    return f"mail/raw/{digest[:2]}/{digest}.eml"


def inbound_store(
    *,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None = None,
    provider_id: str = "",
    imap_uid: int | None = None,
    form: dict | None = None,
) -> tuple[InboundMessage, bool]:
    """Keep a message as received, once: (its row, whether it is new). A new one is processed
    by a task after commit. Raises only when it could not be stored (storage or database
    unreachable): the caller must then not acknowledge it."""
    from conversations.tasks import process_inbound

    key, digest = dedupe_key(raw)
    if len(raw) > LOOK_FIRST_BYTES:
        # A large message known already (another copy of it, with other headers) costs a query
        # rather than writing megabytes only to delete them again.
        existing = InboundMessage.objects.filter(dedupe_key=key).first()
        if existing is not None:
            return existing, False
    # The file first, so that no row ever names a missing one; by content, so that a retry or a
    # second fetch of the same bytes writes nothing.
    name = _raw_name(digest)
    written = not _kept_whole(name, len(raw))
    if written:
        name = _write_whole(name, raw)
    row = InboundMessage(
        mailbox=mailbox,
        source=source,
        dedupe_key=key,
        sha256=digest,
        raw=name,
        size=len(raw),
        provider_id=provider_id[:255],
        imap_uid=imap_uid,
        form=form or {},
    )
    # One statement, no savepoint: of two processes storing it at once, one inserts it.
    [(inbound, created)] = insert_or_get([row], unique=("dedupe_key",))
    if created:
        enqueue_on_commit(process_inbound, inbound.pk)
    elif written and inbound.raw.name != name:
        # Known already, by its Message-ID with other bytes (a copy delivered to another of
        # our addresses, say), or stored at this moment by another process too: the file just
        # written is nobody's.
        default_storage.delete(name)
    return inbound, created


def _kept_whole(name: str, size: int) -> bool:
    """Whether the file of these bytes is there, whole. One cut short (written before files
    were written whole, or by a storage that does not) is written again: trusted, the retry
    would store the message truncated, and the mail server would then drop its copy."""
    if not default_storage.exists(name):
        return False
    if default_storage.size(name) == size:
        return True
    logger.warning("Raw message file %s is incomplete; writing it again", name)
    return False


def _write_whole(name: str, raw: bytes) -> str:
    """Write the message's file so that it is never seen part-written, and is on disk before
    the message is acknowledged (the mail server, the provider or the IMAP cursor then forgets
    it). On a local disk: a file of its own in the same folder, flushed, then renamed onto the
    name (atomic), and the folder flushed; of two writers at once, each renames a whole file.
    A storage without local paths (S3, say) has the object whole once its upload returned."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        if default_storage.exists(name):
            default_storage.delete(name)  # cut short, found by _kept_whole
        return default_storage.save(name, ContentFile(raw))
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    descriptor, part = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(part, default_storage.file_permissions_mode or 0o644)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return name


def mailbox_for_raw(raw: bytes, *, name: str = "") -> Mailbox | None:
    """The mailbox a message came to: the one named, else the one its recipients reach."""
    if name:
        return Mailbox.objects.filter(name=name).first()
    from conversations.mime import addresses

    try:
        headers = BytesHeaderParser().parsebytes(raw[:1_000_000])
        recipients = [
            address
            for header in ("Delivered-To", "X-Original-To", "To", "Cc")
            for _, address in addresses(headers, header)
        ]
    except Exception:  # headers nothing can read: stored all the same, without a mailbox
        return None
    return mailbox_for(recipients)


def mailbox_for(recipients: list[str]) -> Mailbox | None:
    """The active mailbox one of these addresses reaches (``support+anything@`` reaches
    ``support@``), or None."""
    from conversations.addressing import base_address

    bases = [base_address(address) for address in recipients]
    mailboxes = {
        mailbox.address.lower(): mailbox for mailbox in Mailbox.objects.filter(is_active=True)
    }
    return next((mailboxes[base] for base in bases if base in mailboxes), None)
