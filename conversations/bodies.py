"""What a person reads of a message: its HTML made safe, its text, and what it adds to the
conversation with the quoted history and signature taken off.

HTML is cleaned by nh3 (Ammonia: an allow-list, so anything not named, scripts and event
handlers first, is gone) and is shown only in a sandboxed frame whose own policy blocks remote
images until the reader asks for them (``views.message_html``). Text is derived from HTML by
inscriptis (tables laid out, not run together). Quoted replies and signatures are recognised by
mail-parser-reply in the languages of ``EMAIL_REPLY_LANGUAGES``; the whole text is kept too.
"""

import contextlib
import re

import nh3
from inscriptis import get_text
from lxml import html as lxml_html
from mailparser_reply import EmailMessage as ReplyParser

# Written above the quoted history of our own emails, so a reply is cut there first.
REPLY_SEPARATOR = "## Reply above this line ##"

_TAGS = (set(nh3.ALLOWED_TAGS) | {"img", "font", "center"}) - {"map", "area"}
_ATTRIBUTES = {
    "*": {"title", "dir", "lang", "align"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "table": {"border", "cellpadding", "cellspacing", "width"},
    "font": {"color", "size"},
    "ol": {"start", "type"},
}
# cid: names an attachment of the same message (the frame rewrites it to our own address);
# remote images load only if the reader asks (the frame's Content-Security-Policy).
_SCHEMES = {"http", "https", "mailto", "cid", "tel"}
# Where mail clients put the quoted history in HTML: Thunderbird and Apple Mail, Gmail, Outlook.
_QUOTE_XPATH = " | ".join(
    [
        "//blockquote[@type='cite']",
        "//div[contains(concat(' ', @class, ' '), ' gmail_quote ')]",
        "//*[@id='divRplyFwdMsg']",
        "//*[@id='appendonsend']",
        "//*[@id='mail-editor-reference-message-container']",
    ]
)


def sanitise_html(html: str) -> str:
    """The HTML with everything that could run, track by handlers or break out removed."""
    if not html.strip():
        return ""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        clean_content_tags={"script", "style", "title", "head"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _no_remote_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and value.lower().startswith(("http:", "https:", "//")):
        return None
    return value


def html_without_remote_images(html: str) -> str:
    """Sanitised HTML with every image that would be fetched from elsewhere (a tracker's pixel,
    say) left without its source, for reading before the reader asks for them."""
    if not html.strip():
        return ""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_no_remote_images,
    )


def html_to_text(html: str) -> str:
    if not html.strip():
        return ""
    try:
        return get_text(html).strip()
    except Exception:  # markup lxml gives up on: its words are still better than nothing
        return re.sub(r"<[^>]+>", " ", html).strip()


def html_new_text(html: str) -> str:
    """The text of the HTML without the blocks mail clients mark as quoted history."""
    with contextlib.suppress(Exception):
        tree = lxml_html.fromstring(html)
        for element in tree.xpath(_QUOTE_XPATH):
            element.drop_tree()
        return html_to_text(lxml_html.tostring(tree, encoding="unicode"))
    return html_to_text(html)


def new_text(text: str, *, languages: list[str]) -> str:
    """What a reply adds: the text above our separator, without quoted history or signature
    (the whole text when nothing is recognised, or when taking it off would leave nothing)."""
    cut = text.split(REPLY_SEPARATOR, 1)[0]
    if REPLY_SEPARATOR in text:
        # The line that introduces the separator ("On ... wrote:") is left hanging above it.
        cut = re.sub(r"\n[^\n]*(wrote|schrieb|a écrit|escribió|ha scritto)[^\n]*:\s*$", "", cut)
    try:
        replies = ReplyParser(cut, languages=languages, keep_hyphen_lists=True).read().replies
    except Exception:
        replies = []
    body = replies[0].body.strip() if replies else ""
    return body or cut.strip() or text.strip()
