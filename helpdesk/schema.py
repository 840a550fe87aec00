"""The OpenAPI schema's error responses, added in one place for every operation.

drf-spectacular documents only the answers a view declares, so a client reading the schema
would not learn that a bad filter is a 400 or a missing ticket a 404, and a client generated from
it would fail on them. The bodies are what helpdesk.exceptions.exception_handler returns: field
errors for a 400, ``{"detail": "..."}`` for everything else.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

# Query parameters that never make a 400: a bad page is a 404 and an unknown ordering or page
# size is ignored; any other one is a filter, validated by its FilterSet.
_UNVALIDATED_QUERY = {"page", "page_size", "ordering", "format"}
_WRITES = {"POST", "PUT", "PATCH"}


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why the request was refused.")


class ValidationErrorSerializer(serializers.Serializer):
    """Stands for the free-form field errors of a 400 (its schema is the extension's below)."""


class ValidationErrorExtension(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": (
                "Field errors: each field, or its exact place (`conditions.all[2].value`), with "
                "its messages (nested fields and lists nest likewise). Errors that belong to no "
                'field are under `detail` or `non_field_errors`; a body that is not JSON is `{"'
                'detail": "JSON parse error - ..."}`.'
            ),
            "additionalProperties": {},
            "example": {"subject": ["This field may not be blank."]},
        }


_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, response in self._error_responses(operation).items():
            # A view's own declaration of a code (the ticket's 409, an import's 400) stands.
            responses.setdefault(code, response)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_responses(self, operation) -> dict[str, dict]:
        errors = {}
        if self._may_refuse_input(operation):
            errors["400"] = self._error(ValidationErrorSerializer, "Bad input: field errors.")
        if self.view.get_authenticators():
            # Even where anyone may call, a wrong or expired token is refused.
            errors["401"] = self._error(ErrorDetailSerializer, "Not logged in, or a bad token.")
        if self.view.get_permissions():
            errors["403"] = self._error(ErrorDetailSerializer, "Not allowed to do this.")
        if "{" in self.path or self._is_paginated_list():
            errors["404"] = self._error(ErrorDetailSerializer, "No such object, or page.")
        if self.view.get_throttles():
            errors["429"] = self._error(ErrorDetailSerializer, "Too many requests.")
            errors["429"]["headers"] = _RETRY_AFTER
        return errors

    def _may_refuse_input(self, operation) -> bool:
        if self.method in _WRITES:
            return True
        return any(
            parameter["in"] == "query" and parameter["name"] not in _UNVALIDATED_QUERY
            for parameter in operation.get("parameters", [])
        )

    def _is_paginated_list(self) -> bool:
        return (
            self.method == "GET"
            and self._is_list_view()
            and getattr(self.view, "pagination_class", None) is not None
        )

    def _error(self, serializer, description: str) -> dict:
        return self._get_response_for_code(
            OpenApiResponse(response=serializer, description=description), "4XX"
        )
