"""Telling mail written by a person from mail written by a machine.

A help desk that answers an out-of-office reply, or opens a ticket for a bounce of its own
acknowledgement, starts a loop; the most reported email bug across help desks. The signs are
those RFC 3834 and the mail systems in use give (the same Zammad, osTicket and django-helpdesk
check), in the order a bounce, then an automatic reply, then list mail.
"""

import re
from dataclasses import dataclass

from conversations.mime import ParsedMail

HUMAN, BOUNCE, AUTO, LIST = "human", "bounce", "auto", "list"

_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
_BOUNCE_SUBJECTS = re.compile(
    r"^(undeliver(ed|able)|delivery (status notification|failure|has failed)|"
    r"returned mail|mail delivery (failed|failure|system)|failure notice|"
    r"non[- ]?delivery|unzustellbar|non remis|no se puede entregar)",
    re.IGNORECASE,
)
# The phrase, then the subject it answers after a colon (or nothing): "Automatic reply: Help".
# A person's subject may begin with the same words ("Automatic reply rules stopped working").
_AUTO_SUBJECTS = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|antwort)|automatische antwort|out of (the )?office|"
    r"abwesenheitsnotiz|"
    r"absence|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|"
    r"automatisch antwoord|fuera de la oficina|hors du bureau)"
    r"(\s*(auto-?reply|reply|notice|message))?\s*(:|$)",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}


@dataclass(frozen=True)
class Verdict:
    kind: str  # HUMAN, BOUNCE, AUTO or LIST
    reason: str = ""
    # False when only the subject's words say so, which a person's subject can say too.
    certain: bool = True

    @property
    def is_robot(self) -> bool:
        """Never answered (no acknowledgement) and never counted as the customer replying."""
        return self.kind != HUMAN


def classify(mail: ParsedMail, *, list_mail_is_automatic: bool = True) -> Verdict:
    """What wrote this message, with the sign that told. A delivery report is a bounce before
    anything else; an automatic reply sent from the null address (as RFC 3834 asks) is an
    automatic reply, not a bounce; list mail last."""
    return (
        _report(mail)
        or _auto(mail)
        or _bounce(mail)
        or _list(mail, list_mail_is_automatic)
        or Verdict(HUMAN)
    )


def _report(mail: ParsedMail) -> Verdict | None:
    content_type = mail.message.get_content_type()
    report_type = str(mail.message.get_param("report-type") or "").lower()
    if content_type == "multipart/report" and report_type in ("delivery-status", ""):
        return Verdict(BOUNCE, "a delivery status notification (multipart/report)")
    if content_type == "multipart/report":
        # A read receipt (disposition-notification), an abuse or spam report (feedback-report):
        # a machine's report, never the customer writing, and nothing to mark as bouncing.
        return Verdict(AUTO, f"a report (multipart/report; report-type={report_type})")
    if mail.reports:
        return Verdict(BOUNCE, "a delivery status part (message/delivery-status)")
    if mail.header("X-Failed-Recipients"):
        return Verdict(BOUNCE, "X-Failed-Recipients")
    return None


def _bounce(mail: ParsedMail) -> Verdict | None:
    if _BOUNCE_SENDERS.match(mail.sender):
        return Verdict(BOUNCE, f"sent by {mail.sender.split('@')[0]}")
    null_sender = mail.header("Return-Path").strip() == "<>"
    if null_sender and _BOUNCE_SUBJECTS.search(mail.subject):
        return Verdict(BOUNCE, "a failure subject from the null sender")
    if mail.header("From").strip() == "<>":
        return Verdict(BOUNCE, "From: <>")
    if null_sender:
        return Verdict(BOUNCE, "sent from the null address (Return-Path: <>)")
    return None


def _auto(mail: ParsedMail) -> Verdict | None:
    auto_submitted = mail.header("Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Verdict(AUTO, f"Auto-Submitted: {auto_submitted}")
    for header in ("Precedence", "X-Precedence"):
        value = mail.header(header).lower()
        if value in _AUTO_PRECEDENCE:
            return Verdict(AUTO, f"{header}: {value}")
    for header in (
        "X-Autoreply",
        "X-Autorespond",
        "X-Autoresponse",
        "X-AutoReply-From",
        "X-Mail-Autoreply",
        "X-MS-Exchange-Inbox-Rules-Loop",
        "X-Loop",
    ):
        if mail.header(header):
            return Verdict(AUTO, header)
    if _AUTO_SUBJECTS.search(mail.subject):
        return Verdict(AUTO, "an automatic-reply subject", certain=False)
    return None


def _list(mail: ParsedMail, list_mail_is_automatic: bool) -> Verdict | None:
    if not list_mail_is_automatic:
        return None
    for header in ("List-Id", "List-Unsubscribe"):
        if mail.header(header):
            return Verdict(LIST, header)
    return None
