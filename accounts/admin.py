from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Contact, Customer, Department, Invoice, Membership, User


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


class InvoiceInline(admin.TabularInline):
    model = Invoice
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "salesperson", "contract_ends_on", "pay_for_bug"]
    list_filter = ["pay_for_bug"]
    search_fields = ["name", "contacts__name", "contacts__email"]
    autocomplete_fields = ["salesperson"]
    inlines = [ContactInline, InvoiceInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "email", "phone"]
    search_fields = ["name", "email", "phone", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "amount", "due_on", "paid_on"]
    list_filter = ["paid_on"]
    search_fields = ["number", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
