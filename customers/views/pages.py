"""The customer's page, and the edits staff make there: contacts, portal sharing, links."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Contact, Customer
from accounts.portal_links import contact_links_revoke
from accounts.services import contact_create, contact_update, customer_update
from customers.forms import ContactForm, PortalSettingsForm
from customers.selectors import customer_overview


def _page(request, pk: int, *, contact_form=None, editing=None, status=200) -> HttpResponse:
    try:
        overview = customer_overview(customer_id=pk)
    except Customer.DoesNotExist:
        raise Http404("No such customer.") from None
    rows = [
        (
            contact,
            contact_form
            if editing == contact.pk
            else ContactForm(instance=contact, auto_id=f"contact-{contact.pk}-%s"),
        )
        for contact in overview.contacts
    ]
    return render(
        request,
        "customers/customer_page.html",
        {
            "o": overview,
            "customer": overview.customer,
            "contact_rows": rows,
            "contact_form": contact_form if editing is None else ContactForm(),
            "editing": editing,
            "settings_form": PortalSettingsForm(instance=overview.customer),
        },
        status=status,
    )


@login_required
@require_GET
def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, pk, contact_form=ContactForm())


def _apply(form, save) -> bool:
    try:
        save()
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


@login_required
@require_POST
def contact_save(request: HttpRequest, pk: int, contact_id: int | None = None) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    contact = get_object_or_404(Contact, pk=contact_id, customer=customer) if contact_id else None
    form = ContactForm(request.POST, instance=contact)
    if form.is_valid():
        fields = form.cleaned_data
        if contact is None:
            saved = _apply(form, lambda: contact_create(customer=customer, **fields))
        else:
            fresh = Contact.objects.get(pk=contact.pk)
            saved = _apply(form, lambda: contact_update(contact=fresh, **fields))
        if saved:
            name = fields["name"]
            messages.success(request, f"{'Added' if contact is None else 'Saved'} {name}.")
            return redirect("customer-page", pk=customer.pk)
    if contact is not None:
        form.auto_id = f"contact-{contact.pk}-%s"
    return _page(request, customer.pk, contact_form=form, editing=contact_id, status=400)


@login_required
@require_POST
def portal_settings_save(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = PortalSettingsForm(request.POST, instance=Customer.objects.get(pk=pk))
    if form.is_valid():
        customer_update(customer=customer, actor=request.user, **form.cleaned_data)
        messages.success(request, "Saved the portal and survey settings.")
    return redirect("customer-page", pk=customer.pk)


@login_required
@require_POST
def contact_links_revoke_view(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id, customer_id=pk)
    contact_links_revoke(contact)
    messages.success(
        request,
        f"Every link sent to {contact.name} so far no longer works; the next email carries a "
        "new one.",
    )
    return redirect("customer-page", pk=pk)
