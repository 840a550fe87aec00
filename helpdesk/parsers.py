"""The API's JSON parser: refuses what Python's json module would accept but nothing can store.

``1e400`` parses to infinity, which no integer or decimal field can take (an OverflowError deep
in a field, a 500); a body nested thousands of levels deep exhausts the recursion limit. Both are
bad input: a 400 like any other parse error.
"""

import codecs
import json
import math

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json.loads(text, parse_float=_finite, parse_constant=_no_constants)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {str(exc)[:200]}") from None
