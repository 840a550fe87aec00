"""Fetching a mailbox's new mail over IMAP (imap-tools), polled by Celery beat.

New mail is what has a UID above the last one stored, in a folder of the same UIDVALIDITY. Flags
are never read or set: fetching uses ``BODY.PEEK[]``, so a message someone else already read in
their mail client is still fetched, and ours leave it unread for them. Each message is stored
(``inbound_store``) before the last UID moves past it, so a poll that dies half-way fetches the
rest next time and stores nothing twice (the Message-ID says it is known). A UIDVALIDITY change
(the folder was rebuilt) looks at every message again; those already stored are recognised.
Moving processed mail to a folder, when asked, happens only after it is stored.

A poll that fails (the server unreachable, a refused login, a certificate that does not verify:
TLS is never given up for a plain connection) records the error, keeps the time of the last
success for the admin, and puts the next try off, doubling from a minute up to an hour.
"""

import logging
import ssl
from datetime import timedelta
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
    path = Path(mailbox.imap_token_file).resolve()
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


def _fetch_new(mailbox: Mailbox) -> int:
    stored = 0
    with _login(_client(mailbox), mailbox) as box:
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
            raw = _fetch_raw(box, uid)
            if raw is not None:
                _, created = inbound_store(
                    raw=raw, source=InboundMessage.Source.IMAP, mailbox=mailbox, imap_uid=uid
                )
                stored += created
            Mailbox.objects.filter(pk=mailbox.pk).update(
                imap_last_uid=uid, imap_uidvalidity=uidvalidity, imap_cursor_of=where
            )
            if mailbox.imap_move_to:
                box.move(str(uid), mailbox.imap_move_to)
        if not new:
            Mailbox.objects.filter(pk=mailbox.pk).update(
                imap_uidvalidity=uidvalidity, imap_last_uid=last, imap_cursor_of=where
            )
    return stored


def _fetch_raw(box, uid: int) -> bytes | None:
    """The message's bytes, without marking it read (``BODY.PEEK[]``)."""
    kind, data = box.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if kind != "OK":
        raise RuntimeError(f"FETCH {uid} answered {kind}: {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None  # expunged meanwhile: nothing to store
