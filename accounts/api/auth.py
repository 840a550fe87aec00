"""API tokens: obtained with a username and password, under the same lockout as the login page;
they expire after API_TOKEN_DAYS and their owner can revoke them (admins too, in the admin)."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts import services
from accounts.models import User
from accounts.selectors import api_token_expires_at
from helpdesk.throttles import AnonRateThrottle, UserRateThrottle


@extend_schema_serializer(component_name="AuthToken")  # the name DRF's serializer had
class TokenCredentialsSerializer(AuthTokenSerializer):
    # No longer than a username can be: a longer one matches no account, and the failed login
    # django-axes records for it would not fit its column (a DataError, a 500).
    username = serializers.CharField(
        label="Username",
        max_length=User._meta.get_field("username").max_length,
        write_only=True,
    )


class TokenObtainView(ObtainAuthToken):
    """POST a username and password to get the account's token; DELETE to revoke it."""

    # DRF's view opts out of the default rate limits; this one keeps them.
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    serializer_class = TokenCredentialsSerializer
    # And it parses with DRF's plain JSON parser, which lets a body nested thousands deep end in
    # a RecursionError (a 500): the project's strict parser makes it a 400 like everywhere else.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [permissions.IsAuthenticated()]
        return []

    def get_serializer_context(self):
        # django-axes marks a locked-out attempt on the request that authenticate() is given, and
        # its middleware reads the mark from Django's request: hand it that one, not DRF's
        # wrapper, so a locked-out client gets the 429 rather than a plain "wrong password".
        return {**super().get_serializer_context(), "request": self.request._request}

    @extend_schema(
        auth=[],  # a username and password, not a token or a session
        responses=inline_serializer(
            "IssuedToken",
            {"token": serializers.CharField(), "expires": serializers.DateTimeField()},
        ),
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = services.api_token_issue(user=serializer.validated_data["user"])
        expires = api_token_expires_at(token=token)
        return Response({"token": token.key, "expires": expires.isoformat()})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, *args, **kwargs):
        """Revoke your own token: requests with it are refused from now on."""
        services.api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
