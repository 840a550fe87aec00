"""Fetching a mailbox's new mail over IMAP (imap-tools), polled by Celery beat.

New mail is what has a UID above the last one stored, in a folder of the same UIDVALIDITY. Flags
are never read or set: fetching uses ``BODY.PEEK[]``, so a message someone else already read in
their mail client is still fetched, and ours leave it unread for them. Each message is stored
(``inbound_store``) before the last UID moves past it, so a poll that dies half-way fetches the
rest next time and stores nothing twice (the Message-ID says it is known). A UIDVALIDITY change
(the folder was rebuilt) looks at every message again; those already stored are recognised.
Moving processed mail to a folder, when asked, happens only after it is stored, moves that
message only (never a plain EXPUNGE, which would take others' deleted mail with it), and is
checked possible (the folder exists, and is another) before anything is fetched.

A poll that fails (the server unreachable, a refused login, a certificate that does not verify:
TLS is never given up for a plain connection) records the error, keeps the time of the last
success for the admin, and puts the next try off, doubling from a minute up to an hour.
"""

import imaplib
import logging
import ssl
from contextlib import contextmanager, suppress
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.query import U

from conversations.intake import inbound_store
from conversations.models import InboundMessage, Mailbox

logger = logging.getLogger(__name__)


def _client(mailbox: Mailbox):
    timeout = settings.EMAIL_IMAP_TIMEOUT_SECONDS
    if mailbox.imap_security == Mailbox.Security.SSL:
        context = ssl.create_default_context()
        return MailBox(mailbox.imap_host, mailbox.imap_port, timeout=timeout, ssl_context=context)
    if mailbox.imap_security == Mailbox.Security.STARTTLS:
        context = ssl.create_default_context()
        return MailBoxStartTls(
            mailbox.imap_host, mailbox.imap_port, timeout=timeout, ssl_context=context
        )
    return MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port, timeout=timeout)


def _login(client, mailbox: Mailbox):
    if mailbox.imap_auth == Mailbox.Auth.XOAUTH2:
        token = _token_file(mailbox).read_text().strip()
        return client.xoauth2(mailbox.imap_user, token, initial_folder=None)
    return client.login(mailbox.imap_user, mailbox.imap_password, initial_folder=None)


def _token_file(mailbox: Mailbox) -> Path:
    """The mailbox's token file, which must lie in EMAIL_IMAP_TOKEN_DIR: whoever may edit a
    mailbox must not make the poller send them any file the worker can read."""
    allowed = settings.EMAIL_IMAP_TOKEN_DIR
    if not allowed:
        raise PermissionError("XOAUTH2 needs EMAIL_IMAP_TOKEN_DIR, the folder token files are in")
    # A bare file name is one in that folder, as the field's help says.
    path = (Path(allowed) / mailbox.imap_token_file).resolve()
    if not path.is_relative_to(Path(allowed).resolve()):
        raise PermissionError(f"The token file must be in EMAIL_IMAP_TOKEN_DIR ({allowed})")
    return path


def _backoff(failures: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** max(failures - 1, 0), 3600))


def mailboxes_due() -> list[int]:
    """The active IMAP mailboxes whose next poll is due."""
    now = timezone.now()
    return list(
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .values_list("id", flat=True)
    )


def _claim(mailbox_id: int) -> bool:
    """One poller per mailbox at a time: a conditional UPDATE pushes the next poll past this
    one's longest run; of two workers, one wins."""
    now = timezone.now()
    return bool(
        Mailbox.objects.filter(pk=mailbox_id, is_active=True)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .update(
            next_poll_at=now + timedelta(seconds=settings.EMAIL_IMAP_TIMEOUT_SECONDS * 10),
            last_polled_at=now,
        )
    )


def mailbox_poll(*, mailbox_id: int, force: bool = False) -> int:
    """Fetch and store the mailbox's new mail; how many messages were new. ``force`` polls even
    if the next poll is not due (the admin's "test now")."""
    if not force and not _claim(mailbox_id):
        return 0
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    try:
        stored = _fetch_new(mailbox)
    except Exception as exc:  # every failure is the mailbox's state, shown to the admin
        failures = mailbox.failures + 1
        logger.warning("Mailbox %s: poll failed (%d in a row): %s", mailbox.name, failures, exc)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            failures=failures,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_poll_at=timezone.now() + _backoff(failures),
        )
        raise
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(
        failures=0,
        last_error="",
        last_success_at=now,
        next_poll_at=now + timedelta(seconds=settings.EMAIL_IMAP_POLL_SECONDS),
    )
    return stored


@contextmanager
def _session(mailbox: Mailbox):
    """A logged-in client, logged out after, whatever happened: a refused login closes its
    socket too, and a LOGOUT that fails (the connection is what broke) never hides the error
    that broke it."""
    client = _client(mailbox)
    try:
        box = _login(client, mailbox)
    except BaseException:
        with suppress(Exception):
            client.client.shutdown()
        raise
    try:
        # imaplib keeps the capabilities the server listed before login; most servers list
        # more after it (Dovecot lists MOVE only then).
        kind, data = box.client.capability()
        if kind == "OK" and data and data[-1]:
            box.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
        yield box
    finally:
        with suppress(Exception):
            box.logout()


def _move(box, uid: int, folder: str) -> None:
    """Move one message, and only it. Without MOVE (RFC 6851), a copy flagged deleted is
    expunged by its UID (UIDPLUS, RFC 4315); a plain EXPUNGE would also remove every other
    message someone flagged deleted, fetched by us or not. Without either, the original stays,
    flagged deleted, for the next expunge of the mailbox's owner."""
    capabilities = box.client.capabilities
    if "MOVE" in capabilities:
        box.move(str(uid), folder)
        return
    box.copy(str(uid), folder)
    # Not imap-tools' flag(), which sends a plain EXPUNGE after the STORE.
    kind, data = box.client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
    if kind != "OK":
        raise RuntimeError(f"STORE {uid} answered {kind}: {data!r}")
    if "UIDPLUS" in capabilities:
        kind, data = box.client.uid("EXPUNGE", str(uid))
        if kind != "OK":
            raise RuntimeError(f"UID EXPUNGE {uid} answered {kind}: {data!r}")


def _check_move_target(box, mailbox: Mailbox) -> None:
    # Before anything is fetched: stored and then not moved, every message would be fetched
    # one at a time, a poll each, backing off for an hour after a few.
    target = mailbox.imap_move_to

    def name(folder: str) -> str:  # INBOX is one folder however it is written (RFC 3501)
        return "INBOX" if folder.upper() == "INBOX" else folder

    if name(target) == name(mailbox.imap_folder):
        raise ValueError(f"The folder to move processed mail to is the folder polled ({target})")
    if not box.folder.exists(target):
        raise ValueError(f"The folder to move processed mail to does not exist: {target}")


def _fetch_new(mailbox: Mailbox) -> int:
    stored = 0
    with _session(mailbox) as box:
        if mailbox.imap_move_to:
            _check_move_target(box, mailbox)
        status = box.folder.status(mailbox.imap_folder, ["UIDVALIDITY"])
        uidvalidity = int(status["UIDVALIDITY"])
        where = mailbox.imap_cursor_key
        same = mailbox.imap_uidvalidity == uidvalidity and mailbox.imap_cursor_of == where
        last = mailbox.imap_last_uid if same else 0
        if mailbox.imap_uidvalidity is not None and not same:
            logger.warning(
                "Mailbox %s: UIDVALIDITY or folder changed; looking at all mail", mailbox.name
            )
        box.folder.set(mailbox.imap_folder, readonly=not mailbox.imap_move_to)
        # "last+1:*" always includes the highest UID, even when it is not above ``last``
        # (RFC 3501): the filter below keeps only what is new.
        uids = sorted(int(uid) for uid in box.uids(AND(uid=U(last + 1, "*"))))
        new = [uid for uid in uids if uid > last][: settings.EMAIL_IMAP_BATCH]
        for uid in new:
            given = True
            try:
                raw = _fetch_raw(box, uid)
            except Refused as refused:
                raw, given = _unfetchable(mailbox, uid, uidvalidity, refused), False
            if raw is not None:
                _, created = inbound_store(
                    raw=raw, source=InboundMessage.Source.IMAP, mailbox=mailbox, imap_uid=uid
                )
                stored += created
            _advance(mailbox, uid=uid, uidvalidity=uidvalidity, where=where)
            if mailbox.imap_move_to and given:  # one the server refuses stays where it is
                _move(box, uid, mailbox.imap_move_to)
        if not new:  # the cursor, under this UIDVALIDITY and folder
            _advance(mailbox, uid=last, uidvalidity=uidvalidity, where=where)
    return stored


class Refused(RuntimeError):
    """The server answered a FETCH with NO or BAD."""


def _unfetchable(mailbox: Mailbox, uid: int, uidvalidity: int, refused: Refused) -> bytes:
    """What to store for a message the server refuses to give: nothing yet (the poll fails,
    and tries again after its backoff) until it refused it EMAIL_IMAP_UNFETCHABLE_AFTER polls
    in a row; then a note in its place, quarantined, so the poll goes on to the mail after it
    and a rep learns to look for this one in the mailbox itself."""
    times = mailbox.imap_refused_times + 1 if mailbox.imap_refused_uid == uid else 1
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_refused_uid=uid, imap_refused_times=times)
    if times < settings.EMAIL_IMAP_UNFETCHABLE_AFTER:
        raise refused
    logger.warning("Mailbox %s: UID %s refused %d times; going past it", mailbox.name, uid, times)
    note = EmailMessage()
    note["Subject"] = f"A message the mail server would not give (UID {uid})"
    note["Message-ID"] = f"<unfetchable.{mailbox.pk}.{uidvalidity}.{uid}@switchboard.invalid>"
    note["X-Switchboard-Unfetchable"] = f"{mailbox.imap_folder} UID {uid}"
    note.set_content(
        f"The IMAP server of mailbox {mailbox.name} refused message UID {uid} of folder "
        f"{mailbox.imap_folder} in {times} polls in a row: {refused}\n\nIt is still in the "
        "mailbox: read it there, with a mail client, and answer it or forward it to the help "
        "desk."
    )
    return bytes(note)


def _advance(mailbox: Mailbox, *, uid: int, uidvalidity: int, where: str) -> None:
    """The cursor past ``uid``, never back: a poll overlapping this one (the admin's "test
    now") that got further is not undone."""
    same_cursor = Q(imap_uidvalidity=uidvalidity, imap_cursor_of=where)
    Mailbox.objects.filter(pk=mailbox.pk).filter(~same_cursor | Q(imap_last_uid__lt=uid)).update(
        imap_last_uid=uid, imap_uidvalidity=uidvalidity, imap_cursor_of=where
    )


def _fetch_raw(box, uid: int) -> bytes | None:
    """The message's bytes, without marking it read (``BODY.PEEK[]``); None if it is gone."""
    try:
        kind, data = box.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    except imaplib.IMAP4.abort:
        raise  # the connection broke: the next poll tries again, nothing to count
    except imaplib.IMAP4.error as exc:  # imaplib raises on BAD itself
        raise Refused(f"FETCH {uid} answered BAD: {exc}") from exc
    if kind != "OK":
        raise Refused(f"FETCH {uid} answered {kind}: {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    # No body: expunged meanwhile, or the server could not give it. Only the first may be
    # passed over; the cursor moving past a message still there would lose it.
    kind, found = box.client.uid("SEARCH", "UID", str(uid))
    if kind == "OK" and str(uid).encode() in b" ".join(found or [b""]).split():
        raise Refused(f"FETCH {uid} gave no body, and the message is still there")
    logger.warning("Mailbox message UID %s was expunged before it could be fetched", uid)
    return None
