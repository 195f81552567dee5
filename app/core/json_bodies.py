"""Reading JSON from outside: too deep a document is bad input (a ValueError, so a 400), never a crash."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider


class TooDeep(ValueError):
    pass


def loads(text: str | bytes) -> Any:
    """json.loads, but nesting past Python's recursion limit (1,000 levels of `[`) is a ValueError like any
    other malformed body, instead of a RecursionError that would answer 500."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep("The JSON is nested too deeply.") from None


class JSONProvider(DefaultJSONProvider):
    """Flask's own, reading request bodies (request.get_json) with `loads` above."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        return loads(s)
