"""Forms of the queue and follow-up pages; queues.services and queues.followups write."""

from django import forms

from queues.followups import NEW_TICKET, REOPEN
from queues.models import FollowUpTask
from tickets.forms import PlainLabelsForm
from tickets.models import Ticket


class ResponseForm(PlainLabelsForm):
    body = forms.CharField(label="Response", widget=forms.Textarea(attrs={"rows": 3}))
    done = forms.BooleanField(label="Done with it", required=False)


def _at_most(limit: int) -> dict[str, str]:
    return {"max_length": f"at most {limit} characters (this has %(show_value)d)."}


class RmaStepForm(PlainLabelsForm):
    status = forms.ChoiceField(
        label="Return step",
        choices=Ticket.RmaStatus.choices,
        error_messages={
            "required": "Choose a return step.",
            "invalid_choice": "Choose a return step.",
        },
    )
    carrier = forms.CharField(
        label="Carrier", required=False, max_length=40, error_messages=_at_most(40)
    )
    tracking_number = forms.CharField(
        label="Tracking number", required=False, max_length=60, error_messages=_at_most(60)
    )
    note = forms.CharField(
        label="Note", required=False, max_length=500, error_messages=_at_most(500)
    )


def form_errors_text(form: forms.Form) -> str:
    """A form's errors as a person reads them: "Estimated value: Ensure ...", each field by its
    label, never by its name."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        text = " ".join(errors)
        parts.append(f"{field.label}: {text}" if field is not None else text)
    return "; ".join(parts)


class OutcomeForm(PlainLabelsForm):
    outcome = forms.ChoiceField(
        label="Outcome", choices=FollowUpTask.Outcome.choices, widget=forms.RadioSelect
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    upsell_value = forms.DecimalField(
        label="Estimated value", required=False, min_value=0, max_digits=12, decimal_places=2
    )
    reschedule_on = forms.DateField(
        label="Try again on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    not_satisfied_action = forms.ChoiceField(
        label="Then",
        choices=[(REOPEN, "Reopen the ticket"), (NEW_TICKET, "Open a linked ticket")],
        initial=REOPEN,
        required=False,
    )

    def clean_not_satisfied_action(self):
        return self.cleaned_data.get("not_satisfied_action") or REOPEN
