"""The request form's proof of work (ALTCHA, self-hosted: no third party, works offline).

The page fetches a challenge signed with ALTCHA_HMAC_KEY; the altcha widget's script (from the
django-altcha package) searches for the number that solves it; the form posts the solution,
which is checked here: signature in constant time, expiry, and used once (the challenge is kept
in the "portal" cache until it expires). A bot must spend the work for every request.
"""

import base64
import json
import logging
import time
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import altcha
from django.conf import settings
from django.core.cache import caches
from django.utils.crypto import constant_time_compare

logger = logging.getLogger(__name__)


def challenge_new() -> dict:
    expires = datetime.now().astimezone() + timedelta(
        minutes=settings.ALTCHA_CHALLENGE_EXPIRE_MINUTES
    )
    challenge = altcha.create_challenge(
        altcha.ChallengeOptions(
            hmac_key=settings.ALTCHA_HMAC_KEY,
            max_number=settings.ALTCHA_MAX_NUMBER,
            expires=expires,
        )
    )
    return {
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "maxnumber": challenge.max_number,
        "salt": challenge.salt,
        "signature": challenge.signature,
    }


def _decoded(payload: str) -> dict | None:
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode())
    except (ValueError, TypeError):
        return None
    fields = ("algorithm", "challenge", "number", "salt", "signature")
    if not isinstance(data, dict) or not all(
        isinstance(data.get(name), str | int) for name in fields
    ):
        return None
    if data["algorithm"] not in ("SHA-256", "SHA-512") or not isinstance(data["number"], int):
        return None
    return data


def challenge_error(payload: str) -> str:
    """Why the solution is refused ("" when it is good). Marks a good one as used."""
    data = _decoded(payload or "")
    if data is None:
        return "The check that you are not a robot did not finish. Please try again."
    expires = parse_qs(str(data["salt"]).partition("?")[2]).get("expires", ["0"])[0]
    if not expires.isdigit() or int(expires) < time.time():
        return "The check that you are not a robot expired. Please try again."
    expected = altcha.create_challenge(
        altcha.ChallengeOptions(
            algorithm=data["algorithm"],
            hmac_key=settings.ALTCHA_HMAC_KEY,
            number=data["number"],
            salt=str(data["salt"]),
        )
    )
    if not (
        constant_time_compare(expected.challenge, str(data["challenge"]))
        and constant_time_compare(expected.signature, str(data["signature"]))
    ):
        return "The check that you are not a robot failed. Please try again."
    try:
        fresh = caches["portal"].add(
            f"altcha:{expected.challenge}",
            1,
            timeout=settings.ALTCHA_CHALLENGE_EXPIRE_MINUTES * 60 + 60,
        )
    except Exception:  # the cache is unreachable: the work was still done
        logger.warning("Proof-of-work replay check skipped: the portal cache cannot be reached")
        fresh = True
    if not fresh:
        return "This check was already used. Please try again."
    return ""
