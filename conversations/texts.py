"""What a message received says, as it is kept: its whole text, what it adds to the
conversation (quoted history and signature taken off, ``bodies``) and its sanitised HTML, with
the contact's signed links removed; and what a ticket opened by it says."""

import re

from django.conf import settings

from conversations import bodies
from conversations.mime import ParsedMail
from tickets.limits import TEXT_MAX_LENGTH

NO_TEXT = "(no text; see the attachments)"

# A contact's signed links (their requests, their survey) in what they quote back: staff must not
# be able to follow them and act in the customer's name. The original keeps them.
_SIGNED_LINK = re.compile(r"(/support/(?:my|survey)/)[A-Za-z0-9_\-:]+")


def _without_links(text: str) -> str:
    return _SIGNED_LINK.sub(r"\1[link removed]", text)


def texts_of(mail: ParsedMail) -> tuple[str, str, str]:
    """(whole text, what it adds, sanitised HTML), the contact's signed links removed."""
    languages = list(settings.EMAIL_REPLY_LANGUAGES)
    html = bodies.sanitise_html(mail.html) if mail.html else ""
    text = mail.text or bodies.html_to_text(html)
    if mail.text:
        new = bodies.new_text(mail.text, languages=languages)
    elif html:
        new = bodies.new_text(bodies.html_new_text(html), languages=languages)
    else:
        new = ""
    return _without_links(text), _without_links(new), _without_links(html)


def description_of(texts) -> str:
    """What a ticket opened by a message says: what the message adds, within the limit."""
    text = texts[1] or texts[0] or NO_TEXT
    return text if len(text) <= TEXT_MAX_LENGTH else text[: TEXT_MAX_LENGTH - 1] + "…"
