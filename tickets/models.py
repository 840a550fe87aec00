"""What happened: tickets, their timeline, and the outbox of events that others subscribe to."""

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from accounts.models import Contact, Customer, Department
from tickets.limits import one_line


class Tag(models.Model):
    """A label on tickets, added by people or by routing rules."""

    name = models.SlugField(max_length=50, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call (question)"
        BUG = "bug", "Bug report"
        RFE = "rfe", "Request for enhancement"
        RMA = "rma", "Return materials authorization"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"
        WEB = "web", "Web"
        CHAT = "chat", "Chat"
        API = "api", "API"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class RootCause(models.TextChoices):
        # The company measures why customers call, not how long: every resolution names one.
        PRODUCT_DEFECT = "product_defect", "Product defect"
        USABILITY = "usability", "Usability"
        DOCUMENTATION = "documentation", "Documentation"
        INSTALLATION = "installation", "Installation"
        MANUFACTURING = "manufacturing", "Manufacturing"
        ORDER_ENTRY_ERROR = "order_entry_error", "Order entry error"
        SHIPPING_DAMAGE = "shipping_damage", "Shipping damage"
        CUSTOMER_TRAINING = "customer_training", "Customer training"
        OTHER = "other", "Other"

    class RmaStatus(models.TextChoices):
        # The steps shipping takes a return through, in order.
        AUTHORISED = "authorised", "Authorised"
        AWAITING_RETURN = "awaiting_return", "Awaiting return"
        RECEIVED = "received", "Received"
        INSPECTED = "inspected", "Inspected"
        REPLACEMENT_SHIPPED = "replacement_shipped", "Replacement shipped"
        REFUNDED = "refunded", "Refunded"

    DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)
    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)

    kind = models.CharField(max_length=8, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    subject = models.CharField(max_length=200, validators=[one_line])
    description = models.TextField(blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    product = models.CharField(max_length=100, blank=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        help_text="The team responsible for the ticket, when it is not (only) a person.",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_tickets",
    )
    rma_number = models.CharField(max_length=20, null=True, blank=True, unique=True)
    rma_serial_number = models.CharField("serial number", max_length=100, blank=True)
    rma_order_number = models.CharField("order number", max_length=100, blank=True)
    rma_reason = models.CharField("return reason", max_length=500, blank=True)
    rma_status = models.CharField(
        "return status", max_length=20, choices=RmaStatus.choices, blank=True
    )
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    resolution = models.TextField(
        blank=True, help_text="What fixed it, as the rep summarised it on resolving."
    )
    related = models.ManyToManyField(
        "self", blank=True, help_text="Other reports of the same problem, and follow-ups."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Raised by every edit, so a save based on an older read is refused."
    )
    search_text = models.TextField(
        blank=True,
        editable=False,
        help_text="What the search box searches: the ticket's words and numbers and what was "
        "said on it (notes, calls, answers, follow-ups, return steps).",
    )
    # On PostgreSQL a trigger keeps this in step with search_text (migration 0008), so ranking a
    # search reads stored vectors instead of parsing every matching ticket's text again. Unused
    # (empty) on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The first call logged or note written to the customer after creation.",
    )
    # Kept when the ticket is reopened (resolved_at is cleared then): time to the first fix,
    # and whether that fix held, are measured from these (insights).
    first_resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_reopened_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was first reopened."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="ticket_status_created_idx"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_created_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            # Reports by when tickets were resolved. A B-tree, not BRIN: reopened tickets are
            # resolved long after their neighbours on disk, which would widen every BRIN range.
            # It carries what the root-cause counts and time to fix read (on PostgreSQL), so a
            # year of them is read from the index alone.
            models.Index(
                fields=["resolved_at"],
                include=[
                    *("id", "root_cause", "status", "kind", "channel", "product", "created_at"),
                    *("first_response_at", "first_resolved_at", "first_reopened_at"),
                ],
                condition=models.Q(resolved_at__isnull=False),
                name="ticket_resolved_cover_idx",
            ),
            # The backlog: tickets not resolved, by age (small: only the open ones).
            models.Index(
                fields=["created_at"],
                condition=models.Q(resolved_at__isnull=True),
                name="ticket_open_created_idx",
            ),
            # Reports: a product's customers (market research), a kind's tickets of a period.
            models.Index(
                fields=["product", "customer", "created_at"], name="ticket_product_customer_idx"
            ),
            # It carries the columns those reports group by (on PostgreSQL), so a year of a
            # kind's tickets is read from the index alone.
            models.Index(
                fields=["kind", "created_at"],
                include=["id", "product", "customer"],
                name="ticket_kind_created_cover_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @classmethod
    def priority_rank(cls, field: str = "priority"):
        """An expression ordering priorities from urgent (0) to low (3); ``field`` is the path
        to the priority from the rows being ordered (``ticket__priority`` for queue items)."""
        order = [cls.Priority.URGENT, cls.Priority.HIGH, cls.Priority.NORMAL, cls.Priority.LOW]
        return models.Case(
            *[models.When(**{field: value}, then=rank) for rank, value in enumerate(order)],
            output_field=models.IntegerField(),
        )

    @property
    def reference(self) -> str:
        """The human reference used on the phone and in email subjects, e.g. ``T-1042``."""
        return f"T-{self.pk}"


class MessageDirection(models.TextChoices):
    """Which way a message of the conversation with the customer went (``message`` entries)."""

    IN = "in", "From the customer"
    OUT = "out", "To the customer"


class MessageSender(models.TextChoices):
    """Who wrote a message received, as its ``ticket.message_received`` event says."""

    CONTACT = "contact", "A contact of the ticket's customer"
    STAFF = "staff", "A member of staff"
    UNKNOWN = "unknown", "Someone else"


class SurveyCategory(models.TextChoices):
    """Where a 0-10 "would you recommend us" score puts the customer (Net Promoter)."""

    PROMOTER = "promoter", "Promoter (9-10)"
    PASSIVE = "passive", "Passive (7-8)"
    DETRACTOR = "detractor", "Detractor (0-6)"

    @classmethod
    def of(cls, score: int) -> "SurveyCategory":
        if score >= 9:
            return cls.PROMOTER
        return cls.PASSIVE if score >= 7 else cls.DETRACTOR


class TimelineEntry(models.Model):
    """One recorded interaction or change on a ticket, shown in order on its timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", "Ticket created"
        NOTE = "note", "Note"
        CALL = "call", "Call"
        STATUS_CHANGE = "status_change", "Status change"
        FIELD_CHANGE = "field_change", "Field change"
        LINK = "link", "Linked ticket"
        ROUTING = "routing", "Routing"
        DEPARTMENT = "department", "Department"
        RESPONSE = "response", "Department response"
        RMA = "rma", "Return"
        FOLLOWUP = "followup", "Follow-up"
        MESSAGE = "message", "Message"
        SURVEY = "survey", "Satisfaction survey"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    body = models.TextField(blank=True)
    is_internal = models.BooleanField(
        default=True, help_text="Internal notes are never shown to the customer."
    )
    call_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    changes = models.JSONField(
        default=dict, blank=True, help_text='Field changes as {"field": [old, new]}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="timeline_ticket_idx"),
            # Reports by when things happened (calls of a period): written in time order.
            BrinIndex(fields=["created_at"], name="timeline_created_brin"),
            # A return's steps, read back for the return funnel (small: returns only).
            models.Index(
                fields=["ticket", "created_at"],
                condition=models.Q(kind="rma"),
                name="timeline_rma_idx",
            ),
            # The calls of a period, for the backlog report: a few in ten entries, read from
            # the index alone (on PostgreSQL, which keeps the duration in it).
            models.Index(
                fields=["created_at"],
                include=["call_duration_seconds", "ticket"],
                condition=models.Q(call_duration_seconds__isnull=False),
                name="timeline_calls_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on T-{self.ticket_id}"


class TicketEvent(models.Model):
    """The transactional outbox: written in the same transaction as the change it describes.

    Subscribers (routing) receive each event through a Celery task enqueued on commit; the
    periodic sweep enqueues again any event still undispatched, so delivery is at least once and
    subscribers make it effectively once.
    """

    class Type(models.TextChoices):
        CREATED = "ticket.created", "Ticket created"
        UPDATED = "ticket.updated", "Ticket updated"
        STATUS_CHANGED = "ticket.status_changed", "Status changed"
        NOTE_ADDED = "ticket.note_added", "Note added"
        TIMER = "ticket.timer", "Time-based rule due"
        MESSAGE_RECEIVED = "ticket.message_received", "Message received"
        SURVEY_ANSWERED = "survey.answered", "Satisfaction survey answered"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The ticket as it was when the event happened, and what changed: routing decides on this
    # snapshot, so a late or repeated delivery decides exactly as a prompt one would have.
    snapshot = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, blank=True)
    caused_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consequences",
        help_text="The event whose automatic handling made this change, if any.",
    )
    depth = models.PositiveSmallIntegerField(
        default=0, help_text="How many automatic steps separate this event from a person's act."
    )
    # Routed in a batch with others, each event's log lines still name the request (or task)
    # that wrote it, not the one whose dispatch task happened to route the batch.
    # db_default too: a process of the previous release, still running while a deploy migrates,
    # writes events without the column.
    request_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="The request that wrote it, if any.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_failures = models.PositiveIntegerField(
        default=0, help_text="Dispatches that raised; after too many the sweep leaves it alone."
    )
    next_dispatch_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The sweep leaves it alone until then (a claim, or a failure's backoff).",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="event_undispatched_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} on T-{self.ticket_id}"

    def status_change(self) -> tuple[str, str] | None:
        """(old, new) status, for a status change; else None."""
        change = (self.changes or {}).get("status")
        if self.type != self.Type.STATUS_CHANGED or not change or len(change) != 2:
            return None
        return change[0], change[1]

    def reopened(self) -> bool:
        """Whether this event took its ticket out of a done status (resolved, closed)."""
        change = self.status_change()
        done = Ticket.DONE_STATUSES
        return change is not None and change[0] in done and change[1] not in done


class SavedView(models.Model):
    """A ticket list's filters and sort saved under a name: a rep's own, or shared with everyone
    by an admin ("Urgent bugs", "Returns waiting for a part")."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    NAME_MAX_LENGTH = 60
    QUERY_MAX_LENGTH = 1000

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # The list's query string (only the filters and the sort, see tickets.services).
    query = models.CharField(max_length=QUERY_MAX_LENGTH, blank=True)
    shared = models.BooleanField(
        default=False, help_text="Listed for everyone, not only its owner."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner})"


class ListColumns(models.Model):
    """The columns a member of staff chose for their ticket list (tickets.list_columns), beside
    the reference and subject that every list shows."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ticket_list_columns"
    )
    columns = models.JSONField(default=list, help_text="Column names, in no particular order.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "list columns"

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.columns) or 'reference and subject only'}"
