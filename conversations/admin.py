from django import forms
from django.contrib import admin, messages
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

from conversations.models import (
    InboundMessage,
    Mailbox,
    Message,
    ReplyTemplate,
    SenderAddress,
)
from helpdesk.read_only_admin import ReadOnlyAdmin


class MailboxForm(forms.ModelForm):
    # The password is never shown again; left empty, the stored one is kept.
    imap_password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current password.",
    )

    confirm_token_server = forms.BooleanField(
        required=False,
        label="Send the token to the new server",
        help_text="For XOAUTH2, after changing the server or user: the token goes there next.",
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "is_active",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_auth",
            "imap_user",
            "imap_password",
            "imap_token_file",
            "imap_folder",
            "imap_move_to",
        ]

    # Where the stored password goes: changed, it must be typed again, or whoever may edit a
    # mailbox could point it at their own server and have the poller log in there with it.
    _PASSWORD_GOES_TO = ("imap_host", "imap_port", "imap_security", "imap_user")

    def clean(self):
        data = super().clean()
        if self.cleaned_data.get("imap_password") or not self.instance.pk:
            return data
        moved = [name for name in self._PASSWORD_GOES_TO if name in self.changed_data]
        if (
            moved
            and data.get("imap_auth") == Mailbox.Auth.XOAUTH2
            and "imap_token_file" not in self.changed_data
            and not data.get("confirm_token_server")
        ):
            # The same for a token: it goes to the new server only once that is confirmed.
            self.add_error(
                "imap_token_file",
                "The server or user changed: tick the box below to confirm that this token "
                "may be sent to the new server.",
            )
        if moved and self.instance.imap_password:
            self.add_error(
                "imap_password",
                "The server or user changed: type the password again (the stored one is only "
                "ever sent to the server it was given for).",
            )
        else:
            self.cleaned_data["imap_password"] = self.instance.imap_password
        return data

    def clean_imap_password(self):
        return self.cleaned_data.get("imap_password") or ""


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    """Addresses customers write to; with an IMAP server, fetched by the poller. A mailbox whose
    polls fail shows the error and when it last worked, and is retried with backoff."""

    form = MailboxForm
    list_display = [
        "name",
        "address",
        "is_active",
        "imap_host",
        "state",
        "last_success_at",
        "last_error_short",
    ]
    list_filter = ["is_active"]
    readonly_fields = [
        "imap_uidvalidity",
        "imap_last_uid",
        "last_polled_at",
        "last_success_at",
        "last_error",
        "failures",
        "next_poll_at",
    ]

    actions = ["poll_now"]

    @admin.action(description="Test: fetch new mail now")
    def poll_now(self, request, queryset):
        """Poll the chosen IMAP mailboxes at once and say what came of it: how many messages
        were new, or the error (also kept on the mailbox)."""
        from conversations.imap import mailbox_poll

        for mailbox in queryset:
            if not mailbox.polls_imap:
                self.message_user(request, f"{mailbox}: no IMAP server set.", messages.WARNING)
                continue
            try:
                stored = mailbox_poll(mailbox_id=mailbox.pk, force=True)
            except Exception as exc:  # shown to the admin, who is testing exactly this
                self.message_user(
                    request, f"{mailbox}: {type(exc).__name__}: {exc}", messages.ERROR
                )
            else:
                self.message_user(request, f"{mailbox}: connected; {stored} new message(s).")

    @admin.display(description="Last error")
    def last_error_short(self, mailbox: Mailbox) -> str:
        return mailbox.last_error[:120]

    @admin.display(description="Polling")
    def state(self, mailbox: Mailbox) -> str:
        # Active is what the admin asked for; this is what happens: a mailbox can be active
        # and failing every poll.
        if not mailbox.polls_imap:
            return "no IMAP server"
        if not mailbox.is_active:
            return "switched off"
        if mailbox.failures:
            return format_html(
                '<strong class="errornote">failing: {} poll{} in a row</strong>',
                mailbox.failures,
                pluralize(mailbox.failures),
            )
        return "working" if mailbox.last_success_at else "not polled yet"


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    """Mail as received and what became of it; reps work the waiting ones at /mail/."""

    list_display = ["id", "received_at", "source", "mailbox", "sender", "subject", "status"]
    list_filter = ["status", "source", "mailbox"]
    search_fields = ["sender", "subject", "dedupe_key"]
    list_select_related = ["mailbox"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "direction", "channel", "sender", "subject", "created_at"]
    list_filter = ["direction", "channel", "is_automatic"]
    search_fields = ["sender", "subject", "message_id"]
    list_select_related = ["ticket"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """Canned responses reps start a reply from (placeholders: contact.name, customer.name,
    ticket.reference, ticket.subject, rep.name, each as {{ name }})."""

    list_display = ["name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "body"]


@admin.register(SenderAddress)
class SenderAddressAdmin(admin.ModelAdmin):
    """Addresses reps said belong to a contact (remembered from triage)."""

    list_display = ["email", "contact", "created_at"]
    search_fields = ["email", "contact__name"]
    autocomplete_fields = ["contact"]
