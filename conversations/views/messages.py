"""A message's parts, for staff: its HTML in a sandboxed frame, its attachments, its original."""

import base64

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from conversations.bodies import html_without_remote_images
from conversations.models import Attachment, InboundMessage, Message
from conversations.selectors import attachment_get, inbound_get, message_get

# Types a browser would render or run if it were allowed to guess: always a download, and as
# bytes, whatever the sender said they were.
_NEVER_INLINE = (
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
)


_INLINE_MAX_BYTES = 5 * 1024 * 1024


def _inline_images(message: Message, html: str) -> str:
    """The message's own images (``cid:``) written into the page as data: URIs. The frame is
    sandboxed into an origin of its own, so its requests carry no session cookie: an image
    fetched from our address would meet the login page."""
    if "cid:" not in html:
        return html
    budget = _INLINE_MAX_BYTES
    for attachment in message.attachments.exclude(content_id="").exclude(file=""):
        kind = attachment.content_type.lower()
        if not kind.startswith("image/") or kind in _NEVER_INLINE or attachment.size > budget:
            continue
        with attachment.file.open("rb") as handle:
            data = base64.b64encode(handle.read()).decode()
        budget -= attachment.size
        html = html.replace(
            f'src="cid:{attachment.content_id}"', f'src="data:{kind};base64,{data}"'
        )
    return html


def _frame_policy(images: bool) -> str:
    # No script at all, styles inline only, images from the message itself (cid:, rewritten
    # to our address) unless the reader asked for remote ones; the frame is sandboxed besides.
    image_sources = "* data:" if images else "'self' data:"
    return (
        f"default-src 'none'; img-src {image_sources}; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
    )


@login_required
@require_GET
@xframe_options_sameorigin
def message_html(request, pk: int):
    try:
        message = message_get(message_id=pk)
    except Message.DoesNotExist:
        raise Http404("No such message") from None
    images = request.GET.get("images") == "1"
    html = message.html if images else html_without_remote_images(message.html)
    html = _inline_images(message, html)
    page = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer"></head>'
        f"<body>{html}</body></html>"
    )
    response = HttpResponse(page, content_type="text/html; charset=utf-8")
    # Instead of the site's policy: django-csp sets its own only where none is set yet.
    response["Content-Security-Policy"] = _frame_policy(images)
    return response


def _download(file, *, filename: str, content_type: str) -> FileResponse:
    if content_type.lower() in _NEVER_INLINE or not content_type:
        content_type = "application/octet-stream"
    response = FileResponse(
        file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_GET
def attachment_download(request, pk: int):
    try:
        attachment = attachment_get(attachment_id=pk)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment") from None
    if not attachment.file:
        raise Http404("This attachment was not kept (see the original message)")
    return _download(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type
    )


@login_required
@require_GET
def inbound_raw(request, pk: int):
    try:
        inbound = inbound_get(inbound_id=pk)
    except InboundMessage.DoesNotExist:
        raise Http404("No such message") from None
    response = _download(
        inbound.raw, filename=f"message-{inbound.pk}.eml", content_type="message/rfc822"
    )
    return response
