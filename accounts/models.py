"""Who: staff and their departments, and the customers (with contacts and invoices) they serve."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Upper

from helpdesk.revisions import Revision


class User(AbstractUser):
    """A member of staff. Customers do not log in yet; they are ``Contact`` rows."""

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Department(models.Model):
    """A team that receives routed work in its queue (engineering, finance, shipping, ...)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    email = models.EmailField(
        blank=True, help_text="Shared mailbox; when empty, emails go to each member."
    )
    response_target_hours = models.PositiveIntegerField(
        default=8,
        help_text="Working hours within which a new queue item should be acknowledged; past "
        "it the item is marked and escalated once to the department's leads.",
    )
    members = models.ManyToManyField(User, through="Membership", related_name="departments")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class EmailPreference(models.TextChoices):
        IMMEDIATE = "immediate", "An email for each new item"
        DIGEST = "digest", "A daily digest"
        NONE = "none", "No email"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(
        default=False,
        help_text="Leads hear about escalated queue items; a sales lead sees the team's "
        "follow-ups.",
    )
    email_preference = models.CharField(
        max_length=10, choices=EmailPreference.choices, default=EmailPreference.IMMEDIATE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.department}"


class Customer(models.Model):
    """An organisation that buys from the company.

    Its financial standing (contract, unpaid and overdue invoices) is derived from data by
    ``accounts.selectors``; nothing here is a flag someone has to remember to update.
    """

    name = models.CharField(max_length=200, unique=True)
    salesperson = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
        help_text="The owning salesperson, who follows up on resolved issues.",
    )
    contract_starts_on = models.DateField(null=True, blank=True)
    contract_ends_on = models.DateField(
        null=True, blank=True, help_text="End of the service contract; empty when there is none."
    )
    pay_for_bug = models.BooleanField(
        default=False, help_text="The customer is paid (or credited) for bugs it reports."
    )
    colleagues_see_tickets = models.BooleanField(
        "colleagues see each other's tickets",
        default=False,
        help_text="On the portal, each contact sees every ticket of the customer, not only "
        "their own.",
    )
    is_internal = models.BooleanField(
        "internal or partner",
        default=False,
        help_text="A part of the company or a partner: its contacts get no satisfaction surveys.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a customer who calls, writes or is written to."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=100, blank=True)
    # Set when mail to the address failed for good (a bounce): reps see it, and no more mail
    # is sent there until the address is corrected.
    email_bouncing_since = models.DateTimeField(null=True, blank=True)
    email_bounce_reason = models.CharField(max_length=300, blank=True)
    # Part of every portal link signed for the contact: raising it revokes every link sent.
    portal_token_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["email"], name="contact_email_idx"),
            # Incoming mail finds its sender by a case-insensitive match (email__iexact).
            models.Index(Upper("email"), name="contact_email_upper_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer})"


class Invoice(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    issued_on = models.DateField()
    due_on = models.DateField()
    paid_on = models.DateField(null=True, blank=True, help_text="Empty while unpaid.")

    class Meta:
        ordering = ["-issued_on", "number"]
        indexes = [models.Index(fields=["customer", "paid_on"], name="invoice_unpaid_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="invoice_amount_gte_0"),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("issued_on")),
                name="invoice_due_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_paid(self) -> bool:
        return self.paid_on is not None


class DirectoryRevision(Revision):
    """Which revision of the departments, their memberships and the staff accounts is current
    (``helpdesk.revisions``): changed with every change to them (``accounts.directory``).
    Routing's workers keep who a department emails for each new item under it."""

    class Meta:
        verbose_name = "directory revision"
        verbose_name_plural = "directory revisions"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="directoryrevision_single_row"),
        ]

    def __str__(self) -> str:
        return f"Directory revision {self.number}"
