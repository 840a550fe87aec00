from rest_framework import permissions


class IsAdminOrReadOnly(permissions.BasePermission):
    """Anyone authenticated may read; only admins (staff with admin-site access) may write."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff
