"""The filters every report takes from its URL: a period (in the company's time zone) and what
tickets count (kind, product, customer, channel, responsible department)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.models import Customer, Department
from tickets.models import Ticket

PERIODS = [
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("month", "Last calendar month"),
    ("quarter", "Last calendar quarter"),
    ("year", "Last 365 days"),
    ("custom", "From … to …"),
]


@dataclass(frozen=True)
class Period:
    first: date  # included
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before."""
        last = self.first - timedelta(days=1)
        return Period(last - timedelta(days=self.days - 1), last)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: the company's midnights."""
        start = timezone.make_aware(datetime.combine(self.first, time.min))
        end = timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))
        return start, end

    def __str__(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_for(choice: str, *, today: date, first: date | None, last: date | None) -> Period:
    if choice == "custom" and first and last:
        return Period(first, last)
    if choice == "90d":
        return Period(today - timedelta(days=89), today)
    if choice == "year":
        return Period(today - timedelta(days=364), today)
    if choice == "month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end)
    if choice == "quarter":
        end = _quarter_start(today) - timedelta(days=1)
        return Period(_quarter_start(end), end)
    return Period(today - timedelta(days=29), today)


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False, initial="30d")
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Ticket.Kind.choices], required=False)
    channel = forms.ChoiceField(
        choices=[("", "Any channel"), *Ticket.Channel.choices], required=False
    )
    product = forms.CharField(required=False, max_length=100)
    # Typed, not picked from a list: a list of every customer would make each report page as
    # slow as the number of customers. A name (any case) or a customer's number.
    customer = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Any customer", "autocomplete": "off"}),
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        to_field_name="slug",
        empty_label="Any department",
    )

    def clean_customer(self) -> Customer | None:
        typed = (self.cleaned_data.get("customer") or "").strip()
        if not typed:
            return None
        found = Customer.objects.filter(name__iexact=typed).first()
        if found is None and typed.isdigit():
            found = Customer.objects.filter(pk=int(typed)).first()
        if found is None:
            raise forms.ValidationError("No customer has that name or number.")
        return found

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("period") == "custom":
            start, end = cleaned.get("start"), cleaned.get("end")
            if not start or not end:
                self.add_error("start", "Give both dates of the period.")
            elif end < start:
                self.add_error("end", "The period cannot end before it starts.")
            elif (end - start).days > 3660:
                self.add_error("end", "Ten years at most.")
        return cleaned

    def _data(self) -> dict:
        """What was given, read; nothing (the defaults) when it could not be read."""
        return (self.cleaned_data if self.is_valid() else None) or {}

    def chosen(self, name: str):
        """One filter's value (a Customer, a Department, a kind...), or None when not given."""
        return self._data().get(name) or None

    def chosen_period(self) -> Period:
        data = self._data()
        return period_for(
            data.get("period") or "30d",
            today=timezone.localdate(),
            first=data.get("start"),
            last=data.get("end"),
        )

    def ticket_filter(self, prefix: str = "", *, department: bool = True) -> Q:
        """Which tickets count, as a condition on Ticket, or on the rows that point at a
        ticket through ``prefix`` (``"ticket__"`` for queue items). Without ``department``
        the department filter is left to the caller (a queue's department is its own)."""
        data = self._data()
        condition = Q()
        for name in ("kind", "channel"):
            if data.get(name):
                condition &= Q(**{prefix + name: data[name]})
        if data.get("product"):
            condition &= Q(**{prefix + "product__iexact": data["product"].strip()})
        if data.get("customer"):
            condition &= Q(**{prefix + "customer": data["customer"]})
        if department and data.get("department"):
            condition &= Q(**{prefix + "department": data["department"]})
        return condition

    def rollup_filter(self) -> Q | None:
        """The same filter as a condition on the daily rollup (insights.rollups), which knows
        only kinds and channels; None when a filter it cannot answer is given."""
        data = self._data()
        if any(data.get(name) for name in ("product", "customer", "department")):
            return None
        return Q(**{name: data[name] for name in ("kind", "channel") if data.get(name)})
