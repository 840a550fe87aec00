"""Forms of the rep's workspace. They validate input at the edge; the services do the writes."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Contact, Customer, User
from helpdesk.parsing import positive_int
from tickets.limits import TEXT_MAX_LENGTH
from tickets.models import Ticket
from tickets.returns import missing_return_details

NEW_CONTACT = "new"
KIND_KEYS = {"c": "call", "b": "bug", "r": "rfe", "m": "rma"}  # the one keystroke per kind


class LongTextField(forms.CharField):
    """A description, resolution or note: up to ``TEXT_MAX_LENGTH`` characters, a pasted log
    included. Line breaks count as the rep sees them: browsers send each as two characters.
    There is no maxlength in the page, as the browser would silently cut a pasted log short;
    the message says how long it is instead, and the rep keeps all of it to trim."""

    widget = forms.Textarea

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")

    def validate(self, value):
        super().validate(value)
        if len(value) > TEXT_MAX_LENGTH:
            raise ValidationError(
                f"Keep it to at most {TEXT_MAX_LENGTH:,} characters (this has {len(value):,}).",
                code="max_length",
            )


def long_text(label: str, *, rows: int | None = None, **kwargs) -> LongTextField:
    attrs = {"rows": rows} if rows else {}
    return LongTextField(label=label, widget=forms.Textarea(attrs=attrs), **kwargs)


class PlainLabelsForm(forms.Form):
    """Labels read as plain names ("Subject", not "Subject:"): they are what a screen reader
    announces and what the browser tests find fields by."""

    # Fields a service names differently from the form (the service's name: the form's).
    service_field_names: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's refusal next to the field it names (or above the form when it
        names none of this form's), keeping everything typed."""
        for field, errors in exc.message_dict.items():
            field = self.service_field_names.get(field, field)
            self.add_error(field if field in self.fields else None, errors)

    def _require_return_details(self, data: dict) -> None:
        # Next to their fields, with the other errors, rather than after them from the service.
        if data.get("kind") == Ticket.Kind.RMA:
            for name, message in missing_return_details(data).items():
                self.add_error(name, message)


def parse_started_at(value: str | None):
    """When the call began, from the form's hidden field; now if it is missing or garbled (a
    rep cannot fix a hidden field, so it must never be the reason a call is not saved)."""
    try:
        parsed = parse_datetime(value or "") if value else None
    except ValueError:  # well-formed but impossible, such as month 13
        parsed = None
    if parsed is None:
        return timezone.now()
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class CallTimerForm(PlainLabelsForm):
    """A call form: it records when it was opened, and the call is timed from then, on the
    server's clock."""

    started_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("started_at", timezone.now().isoformat())

    def clean_started_at(self):
        return parse_started_at(self.cleaned_data.get("started_at"))


class CallLogForm(CallTimerForm):
    """Everything a rep types while on the phone, on one screen, in the order they learn it."""

    # The contact service names its own fields; the form shows them on the new contact's.
    service_field_names = {"name": "new_contact_name", "email": "new_contact_email"}

    customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(),
        widget=forms.HiddenInput,
        error_messages={"required": "Find the customer: type a name, email, phone or T-number."},
    )
    customer_query = forms.CharField(label="Customer", required=False, max_length=200)
    contact = forms.CharField(label="Contact", required=False)
    new_contact_name = forms.CharField(label="New contact's name", required=False, max_length=200)
    new_contact_email = forms.EmailField(label="Email", required=False)
    new_contact_phone = forms.CharField(label="Phone", required=False, max_length=40)
    kind = forms.ChoiceField(
        label="Kind",
        choices=Ticket.Kind.choices,
        widget=forms.RadioSelect,
        initial=Ticket.Kind.CALL,
    )
    product = forms.CharField(label="Product", required=False, max_length=100)
    subject = forms.CharField(label="Subject", max_length=200)
    description = long_text("Description", required=False)
    priority = forms.ChoiceField(
        label="Priority", choices=Ticket.Priority.choices, initial=Ticket.Priority.NORMAL
    )
    rma_serial_number = forms.CharField(label="Serial number", required=False, max_length=100)
    rma_order_number = forms.CharField(label="Order number", required=False, max_length=100)
    rma_reason = forms.CharField(label="Reason for return", required=False, max_length=500)
    resolved_during_call = forms.BooleanField(label="Resolved during the call", required=False)
    root_cause = forms.ChoiceField(
        label="Root cause", required=False, choices=[("", "—"), *Ticket.RootCause.choices]
    )
    resolution = long_text("Resolution", rows=2, required=False)
    related = forms.ModelMultipleChoiceField(
        label="Same problem as", queryset=Ticket.objects.all(), required=False
    )

    def customer_contacts(self) -> list[Contact]:
        """The contacts to offer: the chosen customer's, when one is chosen."""
        customer_id = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        customer_id = positive_int(customer_id)
        if customer_id is None:
            return []
        return list(Contact.objects.filter(customer_id=customer_id).order_by("name"))

    def clean(self):
        data = super().clean()
        customer = data.get("customer")
        contact = data.get("contact") or ""
        data["new_contact"] = None
        if contact == NEW_CONTACT:
            if not data.get("new_contact_name", "").strip():
                self.add_error("new_contact_name", "Give the new contact's name.")
            data["new_contact"] = {
                "name": data.get("new_contact_name", "").strip(),
                "email": data.get("new_contact_email", ""),
                "phone": data.get("new_contact_phone", ""),
            }
            data["contact"] = None
        elif contact:
            found = Contact.objects.filter(pk=positive_int(contact))
            data["contact"] = found.filter(customer=customer).first() if customer else None
            if data["contact"] is None:
                self.add_error("contact", "Choose one of this customer's contacts.")
        else:
            data["contact"] = None
        self._require_return_details(data)
        if data.get("resolved_during_call"):
            if not data.get("root_cause"):
                self.add_error("root_cause", "Choose the root cause of the problem.")
            if not data.get("resolution", "").strip():
                self.add_error("resolution", "Say how it was resolved.")
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        names = (
            "customer kind subject description contact new_contact product priority "
            "resolved_during_call root_cause resolution related started_at "
            "rma_serial_number rma_order_number rma_reason"
        ).split()
        return {name: data[name] for name in names}


class TicketEditForm(PlainLabelsForm):
    """The fields a rep changes while working a ticket.

    Each field carries, hidden, the value the rep saw (``show_hidden_initial``), so only what
    the rep changed is saved, and a concurrent change by someone else to another field is merged
    rather than refused; ``version`` tells whether anyone changed the ticket since.
    """

    EDITABLE = (
        "status",
        "priority",
        "assignee",
        "kind",
        "product",
        "root_cause",
        "resolution",
        "rma_serial_number",
        "rma_order_number",
        "rma_reason",
    )

    status = forms.ChoiceField(label="Status", choices=Ticket.Status.choices)
    priority = forms.ChoiceField(label="Priority", choices=Ticket.Priority.choices)
    assignee = forms.ModelChoiceField(
        label="Assignee",
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="Nobody",
    )
    kind = forms.ChoiceField(label="Kind", choices=Ticket.Kind.choices)
    product = forms.CharField(label="Product", required=False, max_length=100)
    root_cause = forms.ChoiceField(
        label="Root cause", required=False, choices=[("", "—"), *Ticket.RootCause.choices]
    )
    resolution = long_text("Resolution", rows=3, required=False)
    rma_serial_number = forms.CharField(label="Serial number", required=False, max_length=100)
    rma_order_number = forms.CharField(label="Order number", required=False, max_length=100)
    rma_reason = forms.CharField(label="Reason for return", required=False, max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.EDITABLE:
            self.fields[name].show_hidden_initial = True

    def clean(self):
        data = super().clean()
        self._require_return_details(data)
        return data

    @staticmethod
    def shown_value(ticket: Ticket, name: str):
        return ticket.assignee_id if name == "assignee" else getattr(ticket, name)

    @classmethod
    def for_ticket(cls, ticket: Ticket) -> "TicketEditForm":
        initial = {name: cls.shown_value(ticket, name) for name in cls.EDITABLE}
        return cls(initial={**initial, "version": ticket.version})

    def edited_fields(self) -> dict:
        """What the rep changed from what they saw, with the new values."""
        return {
            name: self.cleaned_data[name] for name in self.EDITABLE if name in self.changed_data
        }

    def _seen(self, name: str):
        raw = self.data.get(self.add_initial_prefix(name))
        try:
            value = self.fields[name].to_python(raw)
        except forms.ValidationError:
            return None
        return value.pk if isinstance(value, User) else value

    def clashes(self, current: Ticket) -> list[str]:
        """The fields the rep changed that someone else changed too since the rep read them."""
        return [
            name
            for name in self.edited_fields()
            if (self._seen(name) or "") != (self.shown_value(current, name) or "")
        ]

    @classmethod
    def over(cls, data, current: Ticket) -> "TicketEditForm":
        """The rep's values again, now edited over ``current``: submitting it applies them."""
        data = data.copy()
        data["version"] = str(current.version)
        probe = cls()
        for name in cls.EDITABLE:
            value = cls.shown_value(current, name)
            data[probe.add_initial_prefix(name)] = "" if value is None else str(value)
        return cls(data)


class NoteForm(PlainLabelsForm):
    body = long_text("Note", rows=3)
    is_public = forms.BooleanField(
        label="Visible to the customer", required=False, help_text="Otherwise internal."
    )


class CallForm(CallTimerForm):
    body = long_text("What was said", rows=3)


class LinkForm(PlainLabelsForm):
    reference = forms.CharField(label="Ticket reference", max_length=20)


NOBODY = "nobody"  # the bulk form's assignee for "unassign"
BULK_STATUSES = [  # resolving needs a root cause and a summary per ticket: one at a time
    (value, label) for value, label in Ticket.Status.choices if value not in Ticket.DONE_STATUSES
]


class BulkChangeForm(PlainLabelsForm):
    """The ticket list's bulk action: the tickets ticked and what to change on all of them."""

    assignee = forms.ChoiceField(required=False, label="Assign to")
    status = forms.ChoiceField(
        required=False, label="Set status", choices=[("", "Keep"), *BULK_STATUSES]
    )
    priority = forms.ChoiceField(
        required=False, label="Set priority", choices=[("", "Keep"), *Ticket.Priority.choices]
    )
    tag = forms.CharField(required=False, max_length=50, label="Add tag")

    def __init__(self, *args, staff, **kwargs):
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        self.staff = {str(user.pk): user for user in staff}
        self.fields["assignee"].choices = [
            ("", "Keep"),
            (NOBODY, "Nobody"),
            *((pk, user.username) for pk, user in self.staff.items()),
        ]

    def clean(self):
        cleaned = super().clean() or {}
        given = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        try:
            self.ticket_ids = sorted({int(value) for value in given})
        except (TypeError, ValueError):
            raise ValidationError("Those are not tickets of the list.") from None
        if not self.ticket_ids:
            raise ValidationError("Tick the tickets to change first.")
        if not any(cleaned.get(name) for name in ("assignee", "status", "priority", "tag")):
            raise ValidationError(
                "Choose what to change: an assignee, a status, a priority or a tag."
            )
        return cleaned

    def changes(self) -> dict:
        data, changes = self.cleaned_data, {}
        if data.get("assignee") == NOBODY:
            changes["assignee"] = None
        elif data.get("assignee"):
            changes["assignee"] = self.staff[data["assignee"]]
        for name in ("status", "priority"):
            if data.get(name):
                changes[name] = data[name]
        return changes

    def summary(self) -> str:
        """What the change does, as the confirmation says it ("priority Urgent, tag billing")."""
        data, parts = self.cleaned_data, []
        if data.get("assignee"):
            parts.append(f"assignee {dict(self.fields['assignee'].choices)[data['assignee']]}")
        for name in ("status", "priority"):
            if data.get(name):
                parts.append(f"{name} {dict(self.fields[name].choices)[data[name]]}")
        if data.get("tag"):
            parts.append(f"tag {data['tag'].strip().lower()}")
        return ", ".join(parts)
