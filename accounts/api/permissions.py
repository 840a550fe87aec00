"""The API's permission classes, one per capability of ``accounts.roles``, composed in the
views with DRF's operators: ``IsAuthenticated & (ReadOnly | CanEditInvoices)``."""

from rest_framework import permissions

from accounts import roles


class ReadOnly(permissions.BasePermission):
    """GET, HEAD and OPTIONS: reading is every member of staff's."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS


class CanEditRules(permissions.BasePermission):
    message = "Only admins, and those granted rule editing, change routing rules."

    def has_permission(self, request, view) -> bool:
        return roles.can_edit_rules(request.user)


class CanEditInvoices(permissions.BasePermission):
    message = "Only finance and admins change invoices."

    def has_permission(self, request, view) -> bool:
        return roles.can_edit_invoices(request.user)


# What most resources are: everyone reads, one capability writes. DRF reports a composed
# refusal with its generic message, so actions that only write use the capability alone.
READ_OR_EDIT_RULES = [permissions.IsAuthenticated & (ReadOnly | CanEditRules)]
READ_OR_EDIT_INVOICES = [permissions.IsAuthenticated & (ReadOnly | CanEditInvoices)]
