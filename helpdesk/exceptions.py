"""API error handling: domain validation errors become 400s with field errors, never 500s."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

_OVER_LIMITS = (TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig)


def exception_handler(exc, context):
    # Django refuses a form body past DATA_UPLOAD_MAX_* while DRF parses it; left to Django,
    # that is its HTML 400 page, which no API client reads.
    if isinstance(exc, _OVER_LIMITS):
        exc = exceptions.ParseError("The request body has too many fields or is too large.")
    # Services raise Django's ValidationError (they serve forms and the admin too); the API
    # answers it exactly like a serializer's own field errors.
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
