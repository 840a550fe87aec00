"""Reading an RFC 822 message, whatever state it arrives in.

The standard library's parser does the MIME work and records what it had to
repair as defects; what it leaves to us is decoding text whose charset is missing, misnamed or
wrong (``charsets``), headers it cannot parse, parts without names, and a message that is not
MIME at all.
Nothing here raises on bad mail: every oddity ends as a defect, a fallback or an empty value.
"""

import binascii
import contextlib
import hashlib
import io
import mimetypes
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.feedparser import BytesFeedParser
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import BinaryIO

from conversations.charsets import clean_text, decode_bytes, decode_words, raw_bytes_decoded

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass
class Part:
    """An attachment: what describes it, and (unless it was left out for its size) its content,
    decoded only when read, one attachment at a time."""

    filename: str
    content_type: str
    size: int
    content_id: str = ""
    kept: bool = True
    source: Message | None = field(default=None, repr=False)

    def spool(self) -> tuple[BinaryIO, str, int]:
        """The attachment's bytes in a temporary file (in memory while small), with their
        SHA-256 and size. Base64, the encoding of nearly every attachment, is decoded a chunk
        at a time, so a large attachment is never held whole in memory beside its encoded
        form; the parsed part then lets go of that form."""
        if self.source is None:
            raise ValueError("this attachment was not kept")
        spool = tempfile.SpooledTemporaryFile(max_size=_CHUNK)  # noqa: SIM115 - returned open
        digest = hashlib.sha256()
        try:
            for chunk in _decoded_chunks(self.source):
                digest.update(chunk)
                spool.write(chunk)
        except ValueError:  # binascii.Error, or a character outside ASCII in the payload
            # Broken base64 somewhere: start again with Python's own lenient decoding of the
            # whole part (what a mail client would show).
            spool.seek(0)
            spool.truncate()
            data = _part_bytes(self.source)
            digest = hashlib.sha256(data)
            spool.write(data)
        size = spool.tell()
        spool.seek(0)
        self.source.set_payload("")
        self.source = None
        return spool, digest.hexdigest(), size


def _decoded_chunks(part: Message):
    payload = part.get_payload()
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding != "base64" or not isinstance(payload, str):
        yield _part_bytes(part)
        return
    carry = ""
    for start in range(0, len(payload), _CHUNK):
        text = carry + "".join(payload[start : start + _CHUNK].split())
        usable = len(text) - len(text) % 4
        carry = text[usable:]
        if usable:
            # strict_mode: a character outside the alphabet raises (binascii.Error), and the
            # caller starts again; it is never skipped silently mid-stream.
            yield binascii.a2b_base64(text[:usable], strict_mode=True)
    if carry.strip("="):
        yield binascii.a2b_base64(carry + "=" * (-len(carry) % 4))


@dataclass
class DeliveryReport:
    """What a delivery status notification (RFC 3464) says about one recipient."""

    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass
class ParsedMail:
    message: Message
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    sender: str = ""
    sender_name: str = ""
    sender_header: str = ""  # the header the sender was read from
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)  # To, Cc, Delivered-To, X-Original-To
    date: str = ""
    text: str = ""
    html: str = ""
    attachments: list[Part] = field(default_factory=list)
    reports: list[DeliveryReport] = field(default_factory=list)
    # The Message-ID of the message a delivery report is about, from its enclosed headers.
    reported_message_id: str = ""
    defects: list[str] = field(default_factory=list)
    omitted_bytes: int = 0  # attachment bytes left out for the limits
    _headers: dict[str, str] = field(default_factory=dict, repr=False)

    def header(self, name: str) -> str:
        if name not in self._headers:
            self._headers[name] = header_text(self.message, name)
        return self._headers[name]


def _raw_header(message: Message, name: str) -> str:
    """The header as it came (encoded words left as they are), or ""."""
    # raw_items: as stored, raw 8-bit bytes kept as surrogates (clean_text decodes them).
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return value if isinstance(value, str) else str(value)
    return ""


def header_text(message: Message, name: str) -> str:
    """A header's value as text ("" when absent), RFC 2047 words decoded, unfolded."""
    return clean_text(" ".join(decode_words(raw_bytes_decoded(_raw_header(message, name))).split()))


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a header (``<id>`` each), normalised, in order."""
    found = [normalise_message_id(match) for match in _MESSAGE_ID.findall(value or "")]
    if not found and value.strip() and " " not in value.strip():
        found = [normalise_message_id(value)]  # a bare id without its angle brackets
    return [mid for mid in found if mid]


def normalise_message_id(value: str) -> str:
    """A Message-ID as we store and compare it: no brackets or spaces, at most 250 characters.
    A longer one keeps its start and a digest of the whole: cut short, two ids that differ
    only after the cut would be one message (the second dropped as a duplicate)."""
    value = value.strip().strip("<>").strip()
    if len(value) <= 250:
        return value
    return f"{value[:200]}~{hashlib.sha256(value.encode(errors='replace')).hexdigest()[:40]}"


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(name, address) of each address in a header, addresses lower-cased; those without an
    ``@`` are dropped."""
    # Split before decoding: a comma inside an encoded display name is not a separator.
    raw = clean_text(" ".join(raw_bytes_decoded(_raw_header(message, name)).split()))
    if not raw:
        return []
    try:
        pairs = getaddresses([raw])
    except Exception:
        return []
    found = []
    for display, address in pairs:
        address = address.strip().strip("<>").lower()
        if "@" in address and " " not in address and len(address) <= 320:
            found.append((clean_text(decode_words(display)).strip(), address))
    return found


def _sender(message: Message) -> tuple[str, str, str]:
    """(address, name, header) of who wrote: From, else Reply-To, Sender or Return-Path."""
    for header in ("From", "Reply-To", "Sender", "Return-Path"):
        found = addresses(message, header)
        if found:
            display, address = found[0]
            return address, display, header
    return "", "", ""


def safe_filename(name: str | None, *, content_type: str, index: int) -> str:
    """A filename safe to store and to offer for download: no path, no control characters,
    at most 200 characters, with an extension guessed from the type when it has none."""
    name = clean_text(unicodedata.normalize("NFC", name or ""))
    name = _FILENAME_UNSAFE.sub("_", name).strip(" ._")
    if not name:
        extension = ".eml" if content_type == "message/rfc822" else ""
        extension = extension or mimetypes.guess_extension(content_type) or ".bin"
        stem = "forwarded" if content_type == "message/rfc822" else "attachment"
        name = f"{stem}-{index}{extension}"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:190] + "." + extension[:9]) if dot and len(extension) < 10 else name[:200]
    return name


# Parts the parser splits into blocks that are one thing to us.
_WHOLE = ("message/rfc822", "message/delivery-status")


def _leaves(part: Message):
    """Every part holding content, depth first; a forwarded message is one part, not opened."""
    if part.get_content_type() in _WHOLE or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    if isinstance(payload, list):
        for sub in payload:
            yield from _leaves(sub)


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
        filename = part.get_filename()
    except Exception:
        return True
    return disposition == "attachment" or bool(filename)


def _part_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is not None:
            try:
                return inner.as_bytes(policy=policy.SMTP)
            except Exception:
                return str(inner).encode("utf-8", "replace")
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def _part_text(part: Message, mail: ParsedMail) -> str:
    data = _part_bytes(part)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text, fell_back = decode_bytes(data, charset)
    if fell_back and data and not data.isascii():
        mail.defects.append(f"CharsetFallback({charset or 'none declared'})")
    return clean_text(text)


def _delivery_reports(part: Message, mail: ParsedMail) -> None:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks[1:] or blocks:  # the first block is about the report, not a recipient
        recipient = header_text(block, "Final-Recipient") or header_text(
            block, "Original-Recipient"
        )
        if not recipient:
            continue
        mail.reports.append(
            DeliveryReport(
                recipient=recipient.split(";")[-1].strip().lower(),
                action=header_text(block, "Action").lower(),
                status=header_text(block, "Status"),
                diagnostic=header_text(block, "Diagnostic-Code")[:300],
            )
        )


def _reported_message_id(part: Message) -> str:
    """The Message-ID of the original a bounce encloses (whole, or its headers only)."""
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return next(iter(message_ids(header_text(payload[0], "Message-ID"))), "")
    data = _part_bytes(part)
    inner = message_from_bytes(data)
    return next(iter(message_ids(header_text(inner, "Message-ID"))), "")


_CHUNK = 1024 * 1024


def _message_from(source: bytes | BinaryIO) -> tuple[Message, int]:
    """The parsed message and its size in bytes, read a chunk at a time (a 25 MB message is
    never held twice), NUL bytes dropped. compat32, the parser's own policy: the same MIME
    structure and defects as policy.default, with headers kept as strings and decoded here only
    when read (the header registry parses every header asked for, and costs more than all the
    rest of the parse)."""
    parser = BytesFeedParser()
    size = 0
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        parser.feed(chunk.replace(b"\x00", b"") if b"\x00" in chunk else chunk)
    return parser.close(), size


def parse(
    source: bytes | BinaryIO, *, attachment_max_bytes: int, message_max_bytes: int
) -> ParsedMail:
    """Everything we read from a message (its bytes, or a file to read them from).
    Attachments over ``attachment_max_bytes``, and all of them in a message over
    ``message_max_bytes``, are kept as names and sizes only."""
    message, size = _message_from(source)
    mail = ParsedMail(message=message)
    mail.message_id = next(iter(message_ids(header_text(message, "Message-ID"))), "")
    mail.in_reply_to = message_ids(header_text(message, "In-Reply-To"))
    mail.references = message_ids(header_text(message, "References"))
    mail.subject = header_text(message, "Subject")[:300]
    mail.sender, mail.sender_name, mail.sender_header = _sender(message)
    mail.to = [address for _, address in addresses(message, "To")]
    mail.cc = [address for _, address in addresses(message, "Cc")]
    extra = [
        address
        for header in ("Delivered-To", "X-Original-To", "Envelope-To")
        for _, address in addresses(message, header)
    ]
    mail.recipients = list(dict.fromkeys(mail.to + mail.cc + extra))
    mail.date = _date(message)
    keep_attachments = size <= message_max_bytes
    texts: list[str] = []
    htmls: list[str] = []
    for index, part in enumerate(_leaves(message), start=1):
        mail.defects.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            _delivery_reports(part, mail)
            continue
        if content_type in ("message/rfc822", "text/rfc822-headers") and not (
            mail.reported_message_id
        ):
            with contextlib.suppress(Exception):
                mail.reported_message_id = _reported_message_id(part)
        if content_type in ("text/plain", "text/html") and not _is_attachment(part):
            (texts if content_type == "text/plain" else htmls).append(_part_text(part, mail))
            continue
        if part.is_multipart() and content_type != "message/rfc822":
            continue
        _add_attachment(mail, part, index, attachment_max_bytes, keep_attachments)
    mail.defects.extend(type(defect).__name__ for defect in message.defects)
    mail.defects = sorted(set(mail.defects))
    mail.text = "\n\n".join(text for text in texts if text.strip())
    mail.html = htmls[0] if htmls else ""
    return mail


def _add_attachment(mail, part, index, attachment_max_bytes, keep) -> None:
    content_type = part.get_content_type()
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    if filename and "=?" in filename:  # an encoded word where RFC 2231 was due (Outlook)
        filename = decode_words(filename)
    size = _decoded_size(part)
    kept = keep and size <= attachment_max_bytes
    if not kept:
        mail.omitted_bytes += size
    content_id = header_text(part, "Content-ID").strip("<> ")[:250]
    mail.attachments.append(
        Part(
            filename=safe_filename(filename, content_type=content_type, index=index),
            content_type=content_type[:255],
            size=size,
            content_id=content_id,
            kept=kept,
            source=part if kept else None,
        )
    )


def _decoded_size(part: Message) -> int:
    """The size of the part once decoded, told from its encoded form without decoding it
    (base64 makes four characters of three bytes, and breaks lines)."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return len(_part_bytes(part))
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        characters = len(payload) - payload.count("\n") - payload.count("\r")
        return characters * 3 // 4 - payload.rstrip().count("=")
    if encoding == "quoted-printable":
        return len(_part_bytes(part))
    return len(payload)


def _date(message: Message) -> str:
    value = header_text(message, "Date")
    if not value:
        return ""
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
