"""The signed link of each survey: the recipient's own, never shown to staff.

A link names its survey, signed and timestamped (``django.core.signing``, compared in constant
time). It works for SURVEY_ANSWER_DAYS after the survey was sent, plus SURVEY_CHANGE_DAYS in
which an answer may still be changed; the survey's own dates decide what the link may still do.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from surveys.models import Survey

SALT = "switchboard.survey"


def survey_token(survey: Survey) -> str:
    # With the contact's token version: revoking the contact's links revokes this one too.
    version = survey.contact.portal_token_version if survey.contact else 0
    return signing.dumps({"s": survey.pk, "v": version}, salt=SALT)


def survey_for_token(token: str) -> Survey | None:
    """The survey a link is for; None for a link that is not ours, too old, or revoked."""
    max_age = (settings.SURVEY_ANSWER_DAYS + settings.SURVEY_CHANGE_DAYS) * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        return None
    survey = (
        Survey.objects.select_related("ticket", "contact__customer").filter(pk=data["s"]).first()
    )
    if survey is None or survey.contact is None:
        return None
    if survey.contact.portal_token_version != data.get("v"):
        return None  # revoked with the contact's links
    return survey


def survey_url(survey: Survey) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("portal-survey", args=[survey_token(survey)])
