"""Mail arriving from an email provider's inbound webhook, through django-anymail.

Anymail verifies the request (the provider's signature, and the basic auth of
``ANYMAIL["WEBHOOK_SECRET"]``) and normalises each provider's payload into one message; we store
it like any other (``inbound_store``) before the view answers 200, so a provider whose request
failed sends it again, and a second delivery of the same message is recognised.

Providers post whole messages, attachments included, often over Django's 2.5 MB limit on request
bodies. The limit is raised on these routes only (``EMAIL_WEBHOOK_MAX_BYTES``): the body is read
here within that limit, and a form post is parsed by the standard library's MIME parser, so
Django's global limit keeps guarding every other page.
"""

import base64
import logging
from email import policy
from email.parser import BytesParser
from functools import wraps

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, HttpResponse, QueryDict
from django.urls import re_path
from django.utils.crypto import constant_time_compare
from django.utils.datastructures import MultiValueDict

from conversations.intake import inbound_store, mailbox_for, mailbox_for_raw
from conversations.models import InboundMessage

logger = logging.getLogger(__name__)


def on_inbound(sender, event, esp_name, **kwargs) -> None:
    """anymail's ``inbound`` signal: store the message (raising, the view answers 500 and the
    provider tries again)."""
    message = event.message
    try:
        raw = message.as_bytes()
    except Exception:  # a message the serialiser trips on is still kept, as text
        raw = message.as_string().encode("utf-8", "surrogateescape")
    inbound_store(
        raw=raw,
        source=InboundMessage.Source.WEBHOOK,
        mailbox=_mailbox_of(message, raw),
        provider_id=f"{esp_name.lower()}:{event.event_id or ''}",
    )


def _mailbox_of(message, raw: bytes):
    """The mailbox the provider delivered it to: its envelope recipient, else To and Cc."""
    envelope = getattr(message, "envelope_recipient", None)
    try:
        recipients = [str(address.addr_spec) for address in (message.to or []) + (message.cc or [])]
    except Exception:
        # anymail refuses a To it cannot parse ("undisclosed-recipients:;" on mail sent by
        # Bcc): refused, the provider would post it again and again, then drop it. Our own
        # reading of the headers is lenient.
        return mailbox_for([envelope] if envelope else []) or mailbox_for_raw(raw)
    return mailbox_for(([envelope] if envelope else []) + recipients)


def _basic_auth_ok(request) -> bool:
    secrets = settings.ANYMAIL.get("WEBHOOK_SECRET") or []
    if isinstance(secrets, str):
        secrets = [secrets]
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return any(constant_time_compare(given, secret) for secret in secrets)


def _form(content_type: str, body: bytes) -> tuple[QueryDict, MultiValueDict]:
    post = QueryDict(mutable=True)
    files = MultiValueDict()
    if content_type.startswith("multipart/form-data"):
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        form = BytesParser(policy=policy.HTTP).parsebytes(header + body)
        limit = (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS or 1000) + (
            settings.DATA_UPLOAD_MAX_NUMBER_FILES or 100
        )
        for count, part in enumerate(form.iter_parts()):
            if count >= limit:
                raise SuspiciousOperation("Too many parts in a webhook's form")
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            data = _part_bytes(part)
            filename = part.get_filename()
            if filename:
                files.appendlist(name, SimpleUploadedFile(filename, data, part.get_content_type()))
            else:
                post.appendlist(name, data.decode(part.get_content_charset() or "utf-8", "replace"))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        post = QueryDict(body, mutable=True, encoding="utf-8")
    post._mutable = False
    return post, files


def _part_bytes(part) -> bytes:
    """A form part's content. A part the MIME parser takes for a container (a forwarded
    message, ``message/rfc822``, or a ``multipart/*`` file) has no decoded payload: its bytes
    are those after its headers."""
    if not part.is_multipart():
        return part.get_payload(decode=True) or b""
    whole = part.as_bytes()
    for separator in (b"\r\n\r\n", b"\n\n"):
        _, found, body = whole.partition(separator)
        if found:
            return body
    return b""


def larger_requests(view):
    """Let this view read a request body up to EMAIL_WEBHOOK_MAX_BYTES (413 beyond)."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        if not settings.EMAIL_WEBHOOKS:
            raise Http404("Inbound webhooks are off (ANYMAIL_WEBHOOK_SECRET is not set)")
        if not _basic_auth_ok(request):
            # Refused before a byte of the body is read: a stranger cannot make us read and
            # parse 40 MB. (anymail checks again, and the provider's signature besides.) A 401
            # with its challenge: Amazon SNS sends the credentials only when challenged.
            response = HttpResponse("Basic authentication required", status=401)
            response["WWW-Authenticate"] = 'Basic realm="Switchboard inbound email"'
            return response
        limit = settings.EMAIL_WEBHOOK_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length", status=400)
        if length > limit:
            return HttpResponse(f"Larger than {limit} bytes", status=413)
        if request.method == "POST":
            body = request.read(limit + 1)
            if len(body) > limit:
                return HttpResponse(f"Larger than {limit} bytes", status=413)
            # What request.body and request.POST would have read, within our limit.
            request._body = body
            request._post, request._files = _form(request.META.get("CONTENT_TYPE", ""), body)
        return view(request, *args, **kwargs)

    return answer


def inbound_urlpatterns() -> list:
    """anymail's inbound routes (one per provider), each allowed larger requests."""
    from anymail.urls import urlpatterns

    return [
        re_path(pattern.pattern.regex.pattern, larger_requests(pattern.callback), name=pattern.name)
        for pattern in urlpatterns
        if "inbound" in str(pattern.pattern)
    ]
