"""The request form's proof of work (ALTCHA, self-hosted: no third party, works offline).

The page fetches a challenge signed with ALTCHA_HMAC_KEY; the altcha widget's script (from the
django-altcha package) searches for the number that solves it; the form posts the solution,
which is checked here: signature in constant time, expiry, and used once (the challenge is kept
in the "portal" cache until it expires). A bot must spend the work for every request.
"""

import base64
import json
import logging
import re
import time
from datetime import datetime, timedelta

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


# What challenge_new signs: a random hex salt and one expiry. Anything else (a second
# "expires=", another "?", a digit that is not ASCII) is not ours.
_SALT = re.compile(r"\A[0-9a-f]{1,64}\?expires=([0-9]{1,12})&\Z")


def _decoded(payload: str) -> dict | None:
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode())
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    fields = ("algorithm", "challenge", "salt", "signature")
    if not all(isinstance(data.get(name), str) for name in fields):
        return None
    number = data.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 10**9:
        return None
    if data["algorithm"] not in ("SHA-256", "SHA-512"):
        return None
    return data


def challenge_error(payload: str) -> str:
    """Why the solution is refused ("" when it is good). Marks a good one as used."""
    data = _decoded(payload or "")
    salt = _SALT.match(data["salt"]) if data is not None else None
    if data is None or salt is None:
        return "The check that you are not a robot did not finish. Please try again."
    if int(salt[1]) < time.time():
        return "The check that you are not a robot expired. Please try again."
    try:
        expected = altcha.create_challenge(
            altcha.ChallengeOptions(
                algorithm=data["algorithm"],
                hmac_key=settings.ALTCHA_HMAC_KEY,
                number=data["number"],
                salt=data["salt"],
            )
        )
    except Exception:  # whatever the library makes of input it did not expect: a refusal
        logger.warning("Proof-of-work payload refused by the altcha library", exc_info=True)
        return "The check that you are not a robot failed. Please try again."
    if not (
        expected.salt == data["salt"]
        and constant_time_compare(expected.challenge, data["challenge"])
        and constant_time_compare(expected.signature, data["signature"])
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
