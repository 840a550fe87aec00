"""The portal's forms: what a customer may send, checked at the edge with field errors."""

import idna
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tickets.forms import PlainLabelsForm
from tickets.limits import TEXT_MAX_LENGTH
from tickets.models import Ticket

KINDS = [
    (Ticket.Kind.CALL, "A question"),
    (Ticket.Kind.BUG, "A problem with a product"),
    (Ticket.Kind.RFE, "A feature request"),
    (Ticket.Kind.RMA, "A return (a faulty or damaged product)"),
]
RETURN_FIELDS = ("rma_serial_number", "rma_order_number", "rma_reason")
# What the request form asks besides the message itself, kept with the request.
ANSWERS = ("kind", "product", "organisation", *RETURN_FIELDS)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files, each within PORTAL_ATTACHMENT_MAX_BYTES, at most PORTAL_ATTACHMENTS_MAX."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > settings.PORTAL_ATTACHMENTS_MAX:
            raise forms.ValidationError(f"Attach at most {settings.PORTAL_ATTACHMENTS_MAX} files.")
        cleaned = [super(AttachmentsField, self).clean(upload, initial) for upload in files]
        for upload in cleaned:
            if upload.size > settings.PORTAL_ATTACHMENT_MAX_BYTES:
                limit = filesizeformat(settings.PORTAL_ATTACHMENT_MAX_BYTES)
                raise forms.ValidationError(f"{upload.name} is over the limit of {limit}.")
        if sum(upload.size for upload in cleaned) > settings.PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES:
            limit = filesizeformat(settings.PORTAL_ATTACHMENTS_TOTAL_MAX_BYTES)
            raise forms.ValidationError(f"Together the files may weigh at most {limit}.")
        return cleaned


def mail_address(address: str) -> str:
    """The address as mail carries it: an internationalised domain (bücher.example) in its
    ASCII form (xn--bcher-kva.example), by IDNA 2008 with UTS 46 (straße.de stays straße.de,
    where Python's own codec, IDNA 2003, makes it strasse.de: another domain)."""
    # Django's EmailField has refused letters beyond ASCII before the @ already.
    local, _, domain = address.rpartition("@")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise forms.ValidationError("Enter a valid email address.") from exc
    return f"{local}@{domain}"


def one_line(value: str) -> None:
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise forms.ValidationError("Write this on one line.")


class RequestForm(PlainLabelsForm):
    name = forms.CharField(label="Your name", max_length=200, validators=[one_line])
    email = forms.EmailField(label="Your email address", max_length=254)
    organisation = forms.CharField(
        label="Organisation", max_length=200, required=False, validators=[one_line]
    )
    product = forms.CharField(
        label="Product", max_length=100, required=False, validators=[one_line]
    )
    kind = forms.ChoiceField(
        label="What is it about?", choices=KINDS, widget=forms.RadioSelect, initial="call"
    )
    rma_serial_number = forms.CharField(label="Serial number", max_length=100, required=False)
    rma_order_number = forms.CharField(label="Order number", max_length=100, required=False)
    rma_reason = forms.CharField(label="Why are you returning it?", max_length=500, required=False)
    subject = forms.CharField(label="Subject", max_length=200, validators=[one_line])
    description = forms.CharField(
        label="Tell us more", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 7})
    )
    attachments = AttachmentsField(label="Attachments")
    # A field people never see (hidden by the stylesheet, skipped by the keyboard): only a bot
    # fills it in.
    website = forms.CharField(
        label="Leave this empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_email(self) -> str:
        return mail_address(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Ticket.Kind.RMA:
            for name in RETURN_FIELDS:
                if not cleaned.get(name, "").strip():
                    self.add_error(name, "A return needs this.")
        else:
            for name in RETURN_FIELDS:
                cleaned[name] = ""
        return cleaned


class LinkRequestForm(PlainLabelsForm):
    email = forms.EmailField(label="Your email address", max_length=254)

    def clean_email(self) -> str:
        return mail_address(self.cleaned_data["email"])


class ReplyForm(PlainLabelsForm):
    body = forms.CharField(
        label="Your message",
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = AttachmentsField(label="Attachments")

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("body") or "").strip() and not cleaned.get("attachments"):
            self.add_error("body", "Write a message or attach a file.")
        return cleaned


class NotSolvedForm(PlainLabelsForm):
    body = forms.CharField(
        label="What is still wrong?",
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SurveyForm(PlainLabelsForm):
    score = forms.TypedChoiceField(
        label="How likely are you to recommend us to a friend or colleague?",
        choices=[(score, str(score)) for score in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a score from 0 to 10."},
    )
    comment = forms.CharField(
        label="What is the main reason for your score?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
