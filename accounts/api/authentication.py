"""Token authentication whose tokens expire API_TOKEN_DAYS after they were issued.

DRF reads the token with its user in one join. That read is kept for API_TOKEN_CACHE_SECONDS in
a cache every web process shares (``accounts.token_cache``), so a client sending request after
request is authenticated without SQL. Revoking the token (DELETE /api/v1/auth/token/, or in the
admin), deactivating its user or changing their password still refuses it on the next request,
in every process: those writes replace the cached entry (see that module for how), and the
expiry is checked on every request, from the token's creation time. When the cache is down,
or with API_TOKEN_CACHE_SECONDS=0, each request reads the token from the database as before.
"""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts import token_cache
from accounts.selectors import api_token_has_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        token = token_cache.token_cached(key)
        if token is not None and token.user.is_active:
            user, cached = token.user, True
        else:
            # Unknown keys and inactive users are refused here, and never cached.
            user, token = super().authenticate_credentials(key)
            cached = False
        if api_token_has_expired(token=token):
            raise exceptions.AuthenticationFailed(
                "Token has expired; obtain a new one from POST /api/v1/auth/token/."
            )
        if not cached:
            token_cache.token_remember(token)
        return user, token
