from django import forms

from accounts.models import Contact, Customer
from tickets.forms import PlainLabelsForm


class ContactForm(PlainLabelsForm, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "title"]


class PortalSettingsForm(PlainLabelsForm, forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["colleagues_see_tickets", "is_internal"]
