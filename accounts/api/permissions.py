from rest_framework import permissions

from accounts.selectors import user_in_department


class IsFinanceOrAdminForWrites(permissions.BasePermission):
    """Invoices are everyone's to read and finance's (or an admin's) to change."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return user.is_staff or user_in_department(user, "finance")
