"""A message's parts, for staff: its HTML in a sandboxed frame, its attachments, its original."""

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
    html = html.replace('src="cid:', f'src="/messages/{message.pk}/cid/')
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
def message_cid(request, pk: int, content_id: str):
    """An image the message's HTML shows from its own parts (``cid:``)."""
    attachment = Attachment.objects.filter(message_id=pk, content_id=content_id).first()
    if (
        attachment is None
        or not attachment.file
        or not attachment.content_type.startswith("image/")
    ):
        raise Http404("No such image")
    if attachment.content_type in _NEVER_INLINE:
        raise Http404("No such image")
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


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
