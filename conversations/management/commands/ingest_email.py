"""``manage.py ingest_email``: one message on stdin, for a mail server's pipe delivery.

Postfix and Exim hand each message to the command (through ``scripts/ingest-email``, which
also turns a failure to start into 75) and read its exit status, as sysexits(3) defines it: 0
means delivered, 75 (EX_TEMPFAIL) asks the server to keep the message and try later. Anything
else would bounce the message to its sender, so the command never exits otherwise: junk is
stored and quarantined, not refused. Empty input is nothing to deliver (0).
"""

import sys

from django.core.management.base import BaseCommand

EX_OK = 0
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store one RFC 822 message read on standard input (exit 75 if it cannot be stored)."
    # call_command(..., stdin=...) hands a stream in place of the process's own (tests).
    stealth_options = ("stdin",)
    # A system check's error (in any app) would exit 1, which bounces the mail: what the
    # command needs, the database and the storage, it finds out by storing.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--mailbox", default="", help="The mailbox's name (else found from the recipients)."
        )

    def handle(self, *args, **options):
        raw = self._read(options.get("stdin"))
        if not raw.strip():
            return
        code = self._store(raw, options["mailbox"])
        if code != EX_OK:
            sys.exit(code)

    def _read(self, stream) -> bytes:
        stream = stream or sys.stdin
        data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
        return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data

    def _store(self, raw: bytes, mailbox_name: str) -> int:
        try:
            from conversations.intake import inbound_store, mailbox_for_raw
            from conversations.models import InboundMessage

            mailbox = mailbox_for_raw(raw, name=mailbox_name)
            if mailbox_name and mailbox is None:
                # Stored all the same (refused, the mail would bounce), for a rep to see.
                self.stderr.write(f"ingest_email: no mailbox is named {mailbox_name!r}")
            inbound, created = inbound_store(
                raw=raw, source=InboundMessage.Source.PIPE, mailbox=mailbox
            )
        except Exception as exc:  # the database or the storage is unreachable: try again later
            self.stderr.write(f"ingest_email: not stored, the mail server should retry: {exc}")
            return EX_TEMPFAIL
        said = "stored" if created else "already stored"
        self.stdout.write(f"ingest_email: {said} as inbound message {inbound.pk}")
        return EX_OK
