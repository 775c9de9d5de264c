"""The Blob REST wire rules the SAS endpoint answers by: byte ranges, entity tags, error codes.

Pure functions and tables, no I/O: ``byte_range`` reads a ``Range``/``x-ms-range`` header
against a blob's size, ``etags`` an ``If-Match``/``If-None-Match`` header, ``MESSAGES`` the
Blob-style message of each error code, ``STDLIB_ERRORS`` what the standard library's own
refusals become. Always holds: a number of any length in a header is handled without
parsing it whole (a byte position past 2**63 is past every disk).
"""

from __future__ import annotations

import re

_MAX_DIGITS = 19  # a byte position past 2**63 is past every disk: clamp, never parse it whole
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

MESSAGES = {
    "AuthenticationFailed": "Server failed to authenticate the request. Make sure the value "
    "of Authorization header is formed correctly including the signature.",
    "BlobNotFound": "The specified blob does not exist.",
    "InvalidRange": "The range specified is invalid for the current size of the resource.",
    "ConditionNotMet": "The condition specified using HTTP conditional header(s) is not met.",
    "InvalidHeaderValue": "The value for one of the HTTP headers is not in the correct format.",
    "InvalidUri": "The requested URI does not represent any resource on the server.",
    "UnsupportedHttpVerb": "The resource doesn't support the specified HTTP verb.",
    "InternalError": "The server encountered an internal error. Please retry the request.",
}
# what the standard library's own refusals become (it parses the request line and headers)
STDLIB_ERRORS = {
    400: (400, "InvalidUri"),
    414: (414, "InvalidUri"),
    431: (400, "InvalidHeaderValue"),
    501: (501, "UnsupportedHttpVerb"),
    505: (400, "InvalidHeaderValue"),
}


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else 1 << 63


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """(first, last) for a satisfiable single range; None for no range or a malformed one;
    False for an unsatisfiable one (416). Numbers of any length are handled."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = _position(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = _position(first)
    if start >= size or (last != "" and _position(last) < start):
        return False
    return start, size - 1 if last == "" else min(_position(last), size - 1)


def etags(header: str) -> set[str]:
    """The entity tags an ``If-Match``/``If-None-Match`` header lists (weak ones as strong)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}
