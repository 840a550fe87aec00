"""Text in whatever charset mail declares, misnames or omits: bytes to text (the declared
charset through an alias table, else UTF-8, else cp1252), RFC 2047 encoded words and raw 8-bit
bytes in headers, and text made fit to store. Nothing here raises on bad input."""

import codecs
import re
from email.header import decode_header

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
    # Microsoft's and Apple's names (the "x-" of others, x-euc-jp say, is dropped below).
    "windows-31j": "cp932",
    "x-ms-cp932": "cp932",
    "windows-949": "cp949",
    "x-windows-949": "cp949",
    "cp-1252": "cp1252",
    "latin-9": "iso8859_15",
    "koi8-ru": "koi8_u",
    "x-mac-ce": "mac_latin2",
}

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # a byte the parser could not decode
_NOT_ESCAPED = re.compile("[\ud800-\udc7f\udd00-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Text fit to store: undecodable bytes replaced, NUL and other control characters (which
    PostgreSQL's ``text`` refuses, or which only confuse) removed, newlines kept."""
    if _SURROGATE.search(text):
        # Lone surrogates other than undecoded bytes (a UTF-7 or escape decoder can make
        # them) are no text: PostgreSQL and the page's encoder refuse them.
        text = _NOT_ESCAPED.sub("\ufffd", text)
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    # "x-" marks a name not registered (x-cp1251, x-euc-jp, x-mac-cyrillic): the rest may be.
    for candidate in (name, name[2:] if name.startswith("x-") else None):
        if candidate:
            try:
                return codecs.lookup(CHARSET_ALIASES.get(candidate, candidate)).name
            except (LookupError, ValueError):  # unknown, or not a name at all (a NUL in it)
                continue
    return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """The text of ``data``: in its declared charset if that decodes it, else UTF-8, else
    cp1252 with replacement characters. Whether a fallback was needed."""
    declared = _codec(charset)
    for codec in (declared, "utf-8"):
        if codec:
            try:
                return data.decode(codec), codec != declared
            except (UnicodeError, LookupError, ValueError):  # "undefined" raises UnicodeError
                continue
    return data.decode("cp1252", "replace"), True


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded, each in its charset (or the fallbacks of decode_bytes)."""
    if "=?" not in value:
        return value
    original, bytewise = value, False
    if not value.isascii():
        # decode_header gives back the text between encoded words as bytes made with
        # raw-unicode-escape, which turns a character past U+00FF into "\\u0416": handed its
        # UTF-8 bytes one per character instead, it gives them back as they were.
        try:
            value, bytewise = value.encode("utf-8", "surrogateescape").decode("latin-1"), True
        except UnicodeEncodeError:  # a lone surrogate: left to clean_text
            pass
    try:
        parts = decode_header(value)
    except Exception:
        return original
    decoded = []
    for part, charset in parts:
        if isinstance(part, bytes):
            part = decode_bytes(part, None if charset == "unknown-8bit" else charset)[0]
        elif bytewise:  # no encoded word after all: the text as it came
            part = original
        decoded.append(part)
    return "".join(decoded)


def raw_bytes_decoded(value: str) -> str:
    """A header with raw 8-bit bytes in it (against RFC 5322, but common: kept by the parser
    as surrogates) as text, the bytes read as UTF-8, else cp1252, as a body without a charset
    is; encoded words around them are left for ``decode_words``."""
    if not _ESCAPED_BYTE.search(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # other lone surrogates too: clean_text replaces them all
        return value
    return decode_bytes(data, None)[0]
