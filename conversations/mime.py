"""Reading an RFC 822 message, whatever state it arrives in.

The standard library's parser (``policy.default``) does the MIME work and records what it had to
repair as defects; what it leaves to us is decoding text whose charset is missing, misnamed or
wrong, headers it cannot parse, parts without names, and a message that is not MIME at all.
Nothing here raises on bad mail: every oddity ends as a defect, a fallback or an empty value.
"""

import codecs
import contextlib
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

# Charset names mail clients use that Python does not know, or knows under another name.
CHARSET_ALIASES = {
    "windows-874": "cp874",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-user-defined": "cp1252",
    "cp-850": "cp850",
    "unknown-8bit": "cp1252",
    "x-unknown": "cp1252",
    "ansi_x3.4-1968": "ascii",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-sjis": "shift_jis",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5-hkscs": "big5hkscs",
    "utf8": "utf-8",
    "x-utf-8": "utf-8",
}

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass
class Part:
    """An attachment: its bytes (None when left out for its size) and what describes it."""

    filename: str
    content_type: str
    data: bytes | None
    size: int
    content_id: str = ""


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

    def header(self, name: str) -> str:
        return header_text(self.message, name)


def clean_text(text: str) -> str:
    """Text fit to store: undecodable bytes replaced, NUL and other control characters (which
    PostgreSQL's ``text`` refuses, or which only confuse) removed, newlines kept."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """The text of ``data``: in its declared charset if that decodes it, else UTF-8, else
    cp1252 with replacement characters. Whether a fallback was needed."""
    declared = _codec(charset)
    for codec in (declared, "utf-8"):
        if codec:
            try:
                return data.decode(codec), codec != declared
            except (UnicodeDecodeError, LookupError):
                continue
    return data.decode("cp1252", "replace"), True


def header_text(message: Message, name: str) -> str:
    """A header's value as text ("" when absent or unreadable), RFC 2047 words decoded."""
    try:
        values = message.get_all(name)
    except Exception:  # a header the registry cannot parse at all
        values = None
    if not values:
        return ""
    try:
        value = str(values[0])
    except Exception:
        value = ""
    if "=?" in value:
        # policy.default decodes encoded words; a header it kept raw is tried once more here.
        with contextlib.suppress(Exception):
            value = str(make_header(decode_header(value)))
    return clean_text(" ".join(value.split()))


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a header (``<id>`` each), normalised, in order."""
    found = [normalise_message_id(match) for match in _MESSAGE_ID.findall(value or "")]
    if not found and value.strip() and " " not in value.strip():
        found = [normalise_message_id(value)]  # a bare id without its angle brackets
    return [mid for mid in found if mid]


def normalise_message_id(value: str) -> str:
    """A Message-ID as we store and compare it: no brackets or spaces, at most 250 characters."""
    return value.strip().strip("<>").strip()[:250]


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(name, address) of each address in a header, addresses lower-cased; those without an
    ``@`` are dropped."""
    raw = header_text(message, name)
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
            found.append((display.strip(), address))
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
    inner = message_from_bytes(data, policy=policy.default)
    return next(iter(message_ids(header_text(inner, "Message-ID"))), "")


def parse(raw: bytes, *, attachment_max_bytes: int, message_max_bytes: int) -> ParsedMail:
    """Everything we read from a message. Attachments over ``attachment_max_bytes``, and all of
    them in a message over ``message_max_bytes``, are kept as names and sizes only."""
    message = message_from_bytes(raw.replace(b"\x00", b""), policy=policy.default)
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
    keep_attachments = len(raw) <= message_max_bytes
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
    data = _part_bytes(part)
    size = len(data)
    if not keep or size > attachment_max_bytes:
        mail.omitted_bytes += size
        data = None
    content_id = header_text(part, "Content-ID").strip("<> ")[:250]
    mail.attachments.append(
        Part(
            filename=safe_filename(filename, content_type=content_type, index=index),
            content_type=content_type[:255],
            data=data,
            size=size,
            content_id=content_id,
        )
    )


def _date(message: Message) -> str:
    value = header_text(message, "Date")
    if not value:
        return ""
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
