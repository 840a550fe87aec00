"""How much anyone on the internet may ask of the portal, counted in the shared "portal" cache
in fixed windows (an hour, a day).

The counts are kept where every web process sees them (Redis). If that cache cannot be reached
the limits are skipped and a warning logged: a customer must still be able to ask for help.
"""

import ipaddress
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


def _client(address: str | None) -> str | None:
    """Whom a limit counts: the address, or for IPv6 its /64 (one subscriber's network has
    billions of addresses)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _per_client(kind: str, address: str | None, what: str) -> list[Limit]:
    client = _client(address)
    if client is None:
        return []
    hourly, daily = settings.PORTAL_REQUESTS_PER_HOUR, settings.PORTAL_REQUESTS_PER_DAY
    return [
        Limit(
            f"{kind}:ip:{client}",
            hourly,
            3600,
            f"You have sent {hourly} {what} within the hour, the most we accept. Please try "
            "again in an hour, or write to us by email.",
        ),
        Limit(
            f"{kind}:ip:{client}",
            daily,
            86400,
            f"You have sent {daily} {what} today, the most we accept. Please try again "
            "tomorrow, or write to us by email.",
        ),
    ]


def request_limits(address: str | None) -> list[Limit]:
    """The request form's limits per client address, per hour and per day: every post counts,
    whether or not it is a valid request."""
    return _per_client("requests", address, "requests")


def total_limit() -> list[Limit]:
    """Everyone's requests in a day (a flood from many addresses). Only requests that passed
    the form's checks and the proof of work count, so junk cannot close the form for all."""
    return [
        Limit(
            "requests:all",
            settings.PORTAL_REQUESTS_TOTAL_PER_DAY,
            86400,
            "We are receiving an unusual number of requests right now. Please try again later, "
            "or write to us by email.",
        )
    ]


def link_limits(address: str | None, email: str) -> list[Limit]:
    """ "Email me a link": per client address, and per email address, so that nobody can fill a
    stranger's inbox with our links (that one is not told: the answer must not differ)."""
    return [
        *_per_client("links", address, "requests for a link"),
        Limit(
            f"links:email:{email.lower()}",
            settings.PORTAL_LINKS_PER_ADDRESS_PER_HOUR,
            3600,
            "",
        ),
    ]
