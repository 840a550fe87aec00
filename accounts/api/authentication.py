"""Token authentication whose tokens expire API_TOKEN_DAYS after they were issued."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.selectors import api_token_has_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if api_token_has_expired(token=token):
            raise exceptions.AuthenticationFailed(
                "Token has expired; obtain a new one from POST /api/v1/auth/token/."
            )
        return user, token
