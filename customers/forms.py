from django import forms

from accounts.models import Contact, Customer


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "title"]


class PortalSettingsForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["colleagues_see_tickets", "is_internal"]
