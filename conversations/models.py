"""Messages exchanged with customers, and the raw mail they came from.

Every message received is first an ``InboundMessage``: its bytes kept as they arrived, unique by
its Message-ID (or the SHA-256 of its bytes when it has none), stored before it is acknowledged
and parsed afterwards by a task. What that task makes of it is a ``Message`` on a ticket, a
bounce recorded against a contact, or a reason it waits for a person (triage, quarantine).
"""

from django.conf import settings
from django.db import models

from accounts.models import Contact
from tickets.models import MessageDirection, Ticket, TimelineEntry


class Mailbox(models.Model):
    """An address customers write to, and optionally the IMAP folder its mail is fetched from."""

    class Security(models.TextChoices):
        SSL = "ssl", "TLS from the start (IMAPS, usually port 993)"
        STARTTLS = "starttls", "STARTTLS (usually port 143)"
        # Only for a server on this machine or a private network (tests, a local relay).
        PLAIN = "plain", "None (loopback or a private network only)"

    class Auth(models.TextChoices):
        PASSWORD = "password", "Password"
        XOAUTH2 = "xoauth2", "OAuth 2 access token (XOAUTH2)"

    name = models.SlugField(unique=True, help_text="A short name, e.g. support.")
    address = models.EmailField(
        unique=True, help_text="The address customers write to; replies come from it."
    )
    is_active = models.BooleanField(default=True)
    imap_host = models.CharField(
        max_length=255, blank=True, help_text="Leave empty when mail arrives by pipe or webhook."
    )
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    imap_auth = models.CharField(max_length=10, choices=Auth.choices, default=Auth.PASSWORD)
    imap_user = models.CharField(max_length=255, blank=True)
    imap_password = models.CharField(
        max_length=255, blank=True, help_text="The password, for password authentication."
    )
    imap_token_file = models.CharField(
        max_length=500,
        blank=True,
        help_text=(
            "For XOAUTH2: a file in EMAIL_IMAP_TOKEN_DIR holding a current access token, kept "
            "fresh by the identity provider's helper (msal, google-auth); read at every poll."
        ),
    )
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_move_to = models.CharField(
        max_length=255, blank=True, help_text="Move fetched mail to this folder (optional)."
    )
    # Where the poll stands: mail with a UID above imap_last_uid in a folder of this UIDVALIDITY
    # is new. A UIDVALIDITY change means the folder was rebuilt: every message is looked at
    # again, and the Message-ID keeps the ones already stored from being stored twice.
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    # The folder the two above were read in (``imap_cursor_key``): another server, account or
    # folder starts from its first message, whatever its UIDVALIDITY, which two folders can
    # share (Dovecot gives two made in the same second the same).
    imap_cursor_of = models.CharField(max_length=800, blank=True, editable=False)
    # A message the server refuses to give (FETCH answered NO or BAD: a corrupt item on
    # Exchange, say), and how many polls in a row it refused: after
    # EMAIL_IMAP_UNFETCHABLE_AFTER the poll goes past it, leaving a note for a rep, rather
    # than never fetching anything after it.
    imap_refused_uid = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_refused_times = models.PositiveIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text="Polls failed in a row; the next is put off longer after each."
    )
    next_poll_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def polls_imap(self) -> bool:
        return bool(self.imap_host)

    @property
    def imap_cursor_key(self) -> str:
        """The folder polled, as ``imap_cursor_of`` records it. Not the port: the same server
        on another port (143 to 993) is the same folder, whose mail need not be read again."""
        return f"{self.imap_host.lower()}/{self.imap_user}/{self.imap_folder}"


class InboundMessage(models.Model):
    """One message as received, before and after it was understood."""

    class Source(models.TextChoices):
        PIPE = "pipe", "Mail server pipe"
        IMAP = "imap", "IMAP"
        WEBHOOK = "webhook", "Provider webhook"
        STAFF = "staff", "Uploaded by staff"
        WEB = "web", "Web request form"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        TICKET = "ticket", "Opened a ticket"
        APPENDED = "appended", "Added to a ticket"
        BOUNCE = "bounce", "Delivery failure report"
        AUTO = "auto", "Automatic reply"
        LOOP = "loop", "Our own mail come back"
        TRIAGE = "triage", "Waiting for a rep: who sent it?"
        QUARANTINED = "quarantined", "Quarantined"
        DISMISSED = "dismissed", "Dismissed by a rep"

    WAITING = (Status.TRIAGE, Status.QUARANTINED)

    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    # The Message-ID (normalised), or "sha256:<hex>" of the bytes without one. Unique across
    # mailboxes: a message sent to two of our addresses, or fetched twice, is one message.
    dedupe_key = models.CharField(max_length=255, unique=True)
    sha256 = models.CharField(max_length=64)
    raw = models.FileField(upload_to="mail/raw/", max_length=255)
    size = models.PositiveBigIntegerField()
    provider_id = models.CharField(
        max_length=255, blank=True, help_text="The provider's id for it (webhooks), if any."
    )
    imap_uid = models.BigIntegerField(null=True, blank=True)
    # What the web request form asked besides the message itself (kind, product, organisation,
    # return details); empty for mail.
    form = models.JSONField(default=dict, blank=True)
    # What the parser read, kept for the lists and the search; empty until processed.
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True, help_text="Why it waits, or what was made of it.")
    defects = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "received_at"],
                condition=models.Q(status__in=["pending", "triage", "quarantined"]),
                name="inbound_waiting_idx",
            ),
            models.Index(fields=["sender", "received_at"], name="inbound_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} message {self.pk} ({self.get_status_display()})"


class Message(models.Model):
    """One message of a ticket's conversation with the customer, in or out."""

    Direction = MessageDirection
    Channel = Ticket.Channel

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=MessageDirection.choices)
    channel = models.CharField(
        max_length=10, choices=Ticket.Channel.choices, default=Ticket.Channel.EMAIL
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member of staff who wrote it (outgoing).",
    )
    inbound = models.OneToOneField(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="message"
    )
    entry = models.OneToOneField(
        TimelineEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="message"
    )
    sender = models.CharField(max_length=320, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="The whole text, quoted parts included.")
    text_new = models.TextField(
        blank=True, help_text="What this message adds: quoted text and signature removed."
    )
    html = models.TextField(blank=True, help_text="The HTML body, sanitised.")
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    is_automatic = models.BooleanField(
        default=False, help_text="An auto-reply (out of office): recorded, never answered."
    )
    delivery_id = models.BigIntegerField(
        null=True, blank=True, help_text="The email delivery sending it (outgoing)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on T-{self.ticket_id}"

    @property
    def quoted_text(self) -> str:
        """What the display leaves out (quoted history, signature): the rest of the text."""
        if not self.text_new or self.text.strip() == self.text_new.strip():
            return ""
        if self.text.startswith(self.text_new):
            return self.text[len(self.text_new) :].strip()
        return self.text


class Attachment(models.Model):
    """A file that came with a message or went with one, kept through Django's storage."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="mail/attachments/", max_length=255, blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    content_id = models.CharField(max_length=255, blank=True)
    omitted = models.CharField(
        max_length=300, blank=True, help_text="Why the content was not kept (too large)."
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class SenderAddress(models.Model):
    """Another address a contact writes from, remembered when a rep said who a sender is."""

    email = models.EmailField(unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sender_addresses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        verbose_name_plural = "sender addresses"

    def __str__(self) -> str:
        return self.email


class ReplyTemplate(models.Model):
    """A canned response a rep starts a reply from, with placeholders filled for the ticket:
    ``{{ contact.name }}``, ``{{ customer.name }}``, ``{{ ticket.reference }}``,
    ``{{ ticket.subject }}``, ``{{ rep.name }}``."""

    name = models.CharField(max_length=100, unique=True)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from conversations.reply_templates import unknown_placeholders

        unknown = unknown_placeholders(self.body)
        if unknown:
            raise ValidationError(
                {
                    "body": f"Unknown placeholders: {', '.join(unknown)}. Known: "
                    "contact.name, customer.name, ticket.reference, ticket.subject, rep.name."
                }
            )
