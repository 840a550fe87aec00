from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from accounts import roles, services
from accounts.models import Contact, Customer, Department, Invoice, Membership, User


class InvoicePermissions:
    """Invoices are changed by whoever ``roles.can_edit_invoices`` says, here as in the API
    (finance need not be granted Django's invoice permissions as well). Deleting one stays
    with Django's ``accounts.delete_invoice``: it rewrites the customer's standing."""

    def has_module_permission(self, request) -> bool:
        return roles.can_edit_invoices(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return roles.can_edit_invoices(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return roles.can_edit_invoices(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return roles.can_edit_invoices(request.user)


class ServiceWritesAdmin(admin.ModelAdmin):
    """An admin whose ``save_model`` (and ``save_related``) write through services. What a
    service refuses is shown on the form like the form's own errors: never a server error, and
    never "saved" over a change that was not."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # The admin's transaction has rolled the write back. Validate the same POST again
            # with the service's errors added, so the page is shown with them and saves nothing.
            request.service_errors = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, "service_errors", None)
        return form if error is None else _form_with_errors(form, error)


def _form_with_errors(form_class, error: ValidationError):
    class WithServiceErrors(form_class):
        def clean(self):
            cleaned = super().clean()
            details = error.message_dict if hasattr(error, "error_dict") else {}
            for name, messages in details.items() or [(NON_FIELD_ERRORS, error.messages)]:
                if name in self.fields:
                    self.add_error(name, messages)
                else:  # a read-only field, or an inline's: name it in the form's own errors
                    prefix = "" if name == NON_FIELD_ERRORS else f"{name}: "
                    self.add_error(None, [prefix + message for message in messages])
            return cleaned

    return WithServiceErrors


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["department"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class InvoiceInline(InvoicePermissions, admin.TabularInline):
    model = Invoice
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ServiceWritesAdmin):
    list_display = ["name", "salesperson", "contract_ends_on", "pay_for_bug"]
    list_filter = ["pay_for_bug"]
    search_fields = ["name", "contacts__name", "contacts__email"]
    autocomplete_fields = ["salesperson"]
    inlines = [ContactInline, InvoiceInline]

    def has_view_permission(self, request, obj=None) -> bool:
        # Those who edit invoices pick their customer (the invoice's autocomplete asks this).
        return roles.can_edit_invoices(request.user) or super().has_view_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # The same fields the API refuses: contract and pay-for-bug, the salesperson.
        closed = roles.customer_fields_closed_to(request.user)
        return [*super().get_readonly_fields(request, obj), *closed]

    def save_model(self, request, obj, form, change) -> None:
        # Through the services, which check the contract's dates and who may set its terms.
        fields = _changes(form, services.CUSTOMER_FIELDS, every=not change)
        if change:
            current = Customer.objects.get(pk=obj.pk)
            services.customer_update(customer=current, actor=request.user, **fields)
        else:
            obj.pk = services.customer_create(actor=request.user, **fields).pk

    def save_formset(self, request, form, formset, change) -> None:
        write = INLINE_WRITES[formset.model]
        # What the admin's history message lists, as formset.save() would have recorded.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            if inline in formset.deleted_forms:
                # Django's, as permitted: no service deletes a contact or an invoice.
                if inline.instance.pk is not None:
                    formset.delete_existing(inline.instance)
                    formset.deleted_objects.append(inline.instance)
            elif inline.has_changed():
                is_new = inline.instance.pk is None
                try:
                    saved = write(inline, customer=form.instance)
                except ValidationError as error:
                    # The field is the inline's, not the customer's: say whose error it is.
                    name = f"{formset.model._meta.verbose_name} {inline.instance}".capitalize()
                    raise ValidationError([f"{name}: {m}" for m in error.messages]) from error
                if is_new:
                    formset.new_objects.append(saved)
                else:
                    formset.changed_objects.append((saved, inline.changed_data))


def _changes(form, allowed: frozenset, *, every: bool) -> dict:
    """What the form sets (all of it for a new row, else what changed); what no service takes
    is refused rather than dropped."""
    if unsaved := set(form.changed_data) - set(allowed):
        raise ValidationError({name: "This cannot be changed here." for name in unsaved})
    names = set(form.cleaned_data if every else form.changed_data) & set(allowed)
    return {name: form.cleaned_data[name] for name in names}


def _contact_write(form, *, customer: Customer | None = None) -> Contact:
    fields = _changes(form, services.CONTACT_FIELDS | {"customer"}, every=form.instance.pk is None)
    customer = fields.pop("customer", customer)
    if form.instance.pk is None:
        return services.contact_create(customer=customer, **fields)
    # A new customer stays in the fields: the service refuses moving a contact.
    fields |= {"customer": customer} if "customer" in form.changed_data else {}
    contact = Contact.objects.get(pk=form.instance.pk)  # not the form's, already edited
    return services.contact_update(contact=contact, **fields)


def _invoice_write(form, *, customer: Customer | None = None) -> Invoice:
    fields = _changes(form, services.INVOICE_FIELDS | {"customer"}, every=form.instance.pk is None)
    customer = fields.pop("customer", customer)
    if form.instance.pk is None:
        return services.invoice_create(customer=customer, **fields)
    fields |= {"customer": customer} if "customer" in form.changed_data else {}
    invoice = Invoice.objects.get(pk=form.instance.pk)
    return services.invoice_update(invoice=invoice, **fields)


INLINE_WRITES = {Contact: _contact_write, Invoice: _invoice_write}


@admin.register(Contact)
class ContactAdmin(ServiceWritesAdmin):
    list_display = ["name", "customer", "email", "phone"]
    search_fields = ["name", "email", "phone", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = _contact_write(form).pk


@admin.register(Invoice)
class InvoiceAdmin(InvoicePermissions, ServiceWritesAdmin):
    list_display = ["number", "customer", "amount", "due_on", "paid_on"]
    list_filter = ["paid_on"]
    search_fields = ["number", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = _invoice_write(form).pk
