"""API tokens and their users, remembered for ``API_TOKEN_CACHE_SECONDS`` in the ``api-token``
cache (Redis, shared by every web process, when ``REDIS_URL`` is set), so that a request with a
token sends no SQL to be authenticated.

What a cached token may not do is outlive a change that refuses it. Every write that can
(deleting the token, in the API or the admin or by deleting its user; saving the token or its
user: deactivation, a password or superuser change) reaches the receivers below, which replace
the entry with a tombstone, at once and again once the transaction commits. A tombstone is kept
as long as an entry would be, and entries are only ever added where there is none (Redis ``SET
NX``): a request that read the old row just before the change cannot put it back. The expiry
is computed from the cached creation time on every request. A write that sends no signal
(``QuerySet.update()``) is seen when the entry expires, ``API_TOKEN_CACHE_SECONDS`` later.
Without Redis (the embedded default) the cache is the web process's memory: a revocation made
in another process (``manage.py``, a second web worker) is seen that late too.

The cache is a shortcut, never a requirement: when it cannot be reached the database answers,
and this process leaves the cache alone for a few seconds rather than wait on it per request.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import User

log = logging.getLogger(__name__)

# What is kept of the user: every column but the password hash, which no API request reads
# (it loads from the database if one ever does). Also what the entry is checked against, so an
# entry written by a version of the code with other columns is not used.
_USER_FIELDS = tuple(
    field.attname for field in User._meta.concrete_fields if field.attname != "password"
)
_REVOKED = "revoked"
# How long a process that failed to reach the cache goes to the database without trying it.
_BACKOFF_SECONDS = 5.0
_skip_until = 0.0


def _ttl() -> int:
    return settings.API_TOKEN_CACHE_SECONDS


def _cache_key(key: str) -> str:
    # The token itself is a password: only its digest is sent to the cache.
    return hashlib.sha256(key.encode()).hexdigest()


def _unreachable(exc: Exception) -> None:
    global _skip_until
    _skip_until = time.monotonic() + _BACKOFF_SECONDS
    log.warning("API token cache unreachable, tokens are read from the database: %s", exc)


def _usable() -> bool:
    return _ttl() > 0 and time.monotonic() >= _skip_until


def token_cached(key: str) -> Token | None:
    """The token ``key`` with its user as cached, or None (not cached, revoked, or no cache)."""
    if not _usable():
        return None
    cache_key = _cache_key(key)
    try:
        entry = caches["api-token"].get(cache_key)
    # Whatever the cache raises (unreachable, misconfigured), the database answers.
    except Exception as exc:
        _unreachable(exc)
        return None
    if not isinstance(entry, dict) or entry.get("fields") != _USER_FIELDS:
        return None
    user = User.from_db("default", _USER_FIELDS, entry["values"])
    token = Token(key=key, user=user, created=entry["created"])
    token._state.adding = False
    token._state.db = "default"
    return token


def token_remember(token: Token) -> None:
    """Cache ``token`` and its user, unless an entry or a tombstone is there already."""
    if not _usable():
        return
    user = token.user
    cache_key = _cache_key(token.key)
    entry = {
        "created": token.created,
        "fields": _USER_FIELDS,
        "values": tuple(getattr(user, name) for name in _USER_FIELDS),
    }
    try:
        caches["api-token"].add(cache_key, entry, timeout=_ttl())
    except Exception as exc:
        _unreachable(exc)


def _tombstone(keys: list[str]) -> None:
    # Tried even while reads are backing off: a revocation is rare and must reach the cache if
    # it can. Unreachable, the entries expire within API_TOKEN_CACHE_SECONDS.
    tombstones = dict.fromkeys(map(_cache_key, keys), _REVOKED)
    try:
        caches["api-token"].set_many(tombstones, _ttl())
    except Exception as exc:
        _unreachable(exc)


def tokens_forget(keys: list[str], *, using: str = "default") -> None:
    """Refuse the cached entries of ``keys`` from now on, and again once the transaction
    commits: a request that read the row before the commit may have cached it meanwhile."""
    if not keys or _ttl() <= 0:
        return
    _tombstone(keys)
    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(lambda: _tombstone(keys), using=using)


def token_changed(sender, instance: Token, created: bool = False, using="default", **kwargs):
    """``post_save`` and ``post_delete`` of a token. A token just created has no entry yet."""
    if not created:
        tokens_forget([instance.key], using=using)


def user_changed(sender, instance: User, created: bool = False, using="default", **kwargs):
    """``post_save`` of a user: their token's entry holds the user as they were."""
    if created or _ttl() <= 0:
        return
    keys = list(
        Token.objects.using(using).filter(user_id=instance.pk).values_list("key", flat=True)
    )
    tokens_forget(keys, using=using)
