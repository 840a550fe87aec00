"""Forms of the conversation pages: they validate at the edge; the services write."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tickets.forms import PlainLabelsForm, long_text


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files at once (Django's documented recipe): a list, possibly empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ReplyForm(PlainLabelsForm):
    body = long_text("Reply", rows=6)
    attachments = MultipleFileField(label="Attach files", required=False)
    # Made when the composer is shown, sent back with it: the same reply posted twice (a double
    # click, the browser's resend) is sent once (conversations.replies.reply_send).
    sent_as = forms.RegexField(regex=r"^[0-9a-f]{16}$", required=False, widget=forms.HiddenInput)
    # What the reply leaves the ticket at: a question asked waits for the customer (pending),
    # and their answer opens it again (conversations.processing).
    then_status = forms.ChoiceField(
        label="Then set the ticket to",
        required=False,
        choices=[
            ("", "its status as it is"),
            ("pending", "Pending: waiting for the customer"),
            ("open", "Open"),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Said before the rep uploads, not only after the upload is refused.
        self.fields["attachments"].help_text = (
            f"Up to {filesizeformat(settings.EMAIL_ATTACHMENT_MAX_BYTES)} each, "
            f"{filesizeformat(settings.EMAIL_REPLY_ATTACHMENTS_MAX_BYTES)} together."
        )

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        limit = settings.EMAIL_ATTACHMENT_MAX_BYTES
        too_big = [upload.name for upload in files if upload.size > limit]
        if too_big:
            raise forms.ValidationError(
                f"Over the limit of {filesizeformat(limit)} per file: {', '.join(too_big)}. "
                "Choose the files again (the browser drops them when a form is refused)."
            )
        total, most = (
            sum(upload.size for upload in files),
            settings.EMAIL_REPLY_ATTACHMENTS_MAX_BYTES,
        )
        if total > most:
            # Refused here rather than by the customer's mail server, after it was sent.
            raise forms.ValidationError(
                f"Together the files weigh {filesizeformat(total)}: one email carries at most "
                f"{filesizeformat(most)} of them. Choose fewer again, and send the rest in "
                "another reply."
            )
        return files


class AssignForm(PlainLabelsForm):
    """Who sent a waiting message: a contact, or a new contact of a customer."""

    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact_name = forms.CharField(label="New contact's name", max_length=200, required=False)
    # The customer whose fieldset the form is: a name typed for a new contact there, with no
    # choice ticked, means that new contact.
    for_customer = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("contact") and not data.get("customer"):
            if data.get("contact_name", "").strip() and data.get("for_customer"):
                data["customer"] = data["for_customer"]
                return data
            raise forms.ValidationError("Choose a contact, or a customer to add the sender to.")
        return data


class AttachForm(PlainLabelsForm):
    reference = forms.CharField(label="Ticket reference", max_length=20)
