"""Token authentication whose tokens expire API_TOKEN_DAYS after they were issued.

A request pays one query for it: DRF reads the token with its user in one join, and the expiry
is checked on the row read. The result is not cached, on purpose: a revoked token
(DELETE /api/v1/auth/token/, or in the admin), an expired one and a deactivated user must be
refused on the next request, and a cache kept in each web process cannot be told of a
revocation made in another. A cache they share (Redis) costs a round trip too, about what the
indexed lookup costs.
"""

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
