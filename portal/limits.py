"""How much anyone on the internet may ask of the portal, counted in the shared "portal" cache
in fixed windows (an hour, a day).

The counts are kept where every web process sees them (Redis). If that cache cannot be reached
the limits are skipped and a warning logged: a customer must still be able to ask for help.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str  # what is counted, and whose: "requests:ip:192.0.2.1"
    allowed: int
    seconds: int
    message: str


def _cache():
    return caches["portal"]


def _key(limit: Limit, now: float) -> str:
    return f"{limit.name}:{limit.seconds}:{int(now // limit.seconds)}"


def limit_reached(limits: list[Limit]) -> Limit | None:
    """Count one more attempt against each limit; the first one it goes over, if any."""
    now = time.time()
    try:
        cache = _cache()
        for limit in limits:
            key = _key(limit, now)
            cache.add(key, 0, timeout=limit.seconds + 60)
            if cache.incr(key) > limit.allowed:
                return limit
    except Exception:  # the cache is unreachable: let the customer through
        logger.warning("Portal limits skipped: the portal cache cannot be reached", exc_info=True)
    return None


def request_limits(address: str | None) -> list[Limit]:
    """The request form's limits: per client address per hour and per day, and everyone's per
    day (a flood from many addresses)."""
    hourly, daily = settings.PORTAL_REQUESTS_PER_HOUR, settings.PORTAL_REQUESTS_PER_DAY
    limits = [
        Limit(
            "requests:all",
            settings.PORTAL_REQUESTS_TOTAL_PER_DAY,
            86400,
            "We are receiving an unusual number of requests right now. Please try again later, "
            "or write to us by email.",
        )
    ]
    if address:
        limits[:0] = [
            Limit(
                f"requests:ip:{address}",
                hourly,
                3600,
                f"You have sent {hourly} requests within the hour, the most we accept. Please try "
                "again in an hour, or write to us by email.",
            ),
            Limit(
                f"requests:ip:{address}",
                daily,
                86400,
                f"You have sent {daily} requests today, the most we accept. Please try again "
                "tomorrow, or write to us by email.",
            ),
        ]
    return limits


def link_limits(address: str | None, email: str) -> list[Limit]:
    """ "Email me a link": per client address as the form, and per email address, so that nobody
    can fill a stranger's inbox with our links."""
    return [
        *request_limits(address)[:-1],
        Limit(
            f"links:email:{email.lower()}",
            settings.PORTAL_LINKS_PER_ADDRESS_PER_HOUR,
            3600,
            "",
        ),
    ]
