"""API rate limits: per user once authenticated, per client address before.

DRF's own classes read their rates and cache once, at import; these read them per request from
``API_THROTTLE_RATES`` and the ``api-throttle`` cache, so a rate of ``None`` turns a limit off
and the counts are shared by every web process when that cache is Redis.
"""

import logging

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework import throttling

log = logging.getLogger(__name__)


class _SettingsRate:
    def allow_request(self, request, view):
        # A rate limit must not take the API down with Redis: tickets are still accepted while
        # the broker is away (the outbox catches up), so requests are let through meanwhile.
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            log.warning("API rate limit not applied, its cache is unreachable: %s", exc)
            return True

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    @property
    def cache(self):
        return caches["api-throttle"]


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """Requests without a user (obtaining a token), counted per client address."""


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Requests of a logged-in user or a token, counted per user."""
