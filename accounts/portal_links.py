"""The signed links by which a contact reaches their requests on the portal, without an account.

A link carries the contact and the contact's token version, signed (``django.core.signing``,
HMAC-SHA256 with the secret key, compared in constant time) and timestamped. It expires after
PORTAL_LINK_MAX_AGE_DAYS; raising the version (``contact_links_revoke``) revokes every link the
contact was sent. A ticket id is never enough: the portal shows a ticket only to a contact whose
signed link it came with, and only if the ticket is theirs (or their colleagues').
"""

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.urls import reverse

from accounts.models import Contact

SALT = "switchboard.portal.contact"


class LinkExpired(Exception):
    """The link was ours but is too old: the contact may ask for a new one."""


def contact_token(contact: Contact) -> str:
    return signing.dumps({"c": contact.pk, "v": contact.portal_token_version}, salt=SALT)


def contact_for_token(token: str) -> Contact | None:
    """The contact a link is for; None for a link that is not ours, or was revoked.
    Raises ``LinkExpired`` for one of ours past its age."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.PORTAL_LINK_MAX_AGE_DAYS * 86400)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    contact = Contact.objects.select_related("customer").filter(pk=data["c"]).first()
    if contact is None or contact.portal_token_version != data.get("v"):
        return None
    return contact


def portal_url(contact: Contact, *, ticket_id: int | None = None) -> str:
    """The absolute link to the contact's requests, or to one of them."""
    token = contact_token(contact)
    if ticket_id is None:
        path = reverse("portal-requests", args=[token])
    else:
        path = reverse("portal-ticket", args=[token, ticket_id])
    return settings.SITE_URL.rstrip("/") + path


def contact_links_revoke(contact: Contact) -> None:
    """Make every link sent to the contact so far stop working."""
    Contact.objects.filter(pk=contact.pk).update(portal_token_version=F("portal_token_version") + 1)
    contact.refresh_from_db(fields=["portal_token_version"])
