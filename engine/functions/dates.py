"""The time functions: timestamp, plantimestamp, formatdate, timeadd and timecmp.

Timestamps are RFC 3339 strings (``2018-01-02T23:12:01Z``, ``…-08:00``); durations are
Go's (``"1h30m"``, ``"-10m"``, ``"1.5s"``, ``"300ms"``); ``formatdate`` takes
Terraform's own format spec (``YYYY-MM-DD hh:mm ZZZ``, ``'quoted text'``), not strftime.
Always holds: a bad timestamp, duration or format is a ``FunctionError`` saying which;
results keep the timestamp's own UTC offset (``Z`` for UTC); ``timestamp`` is the time
of the call in UTC, and ``engine/exprops.py`` makes it unknown while planning (known
after apply, as in Terraform); ``plantimestamp`` is the plan's one time, given as
``plan_time``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from engine.functions.args import FunctionError, as_string

#: patterns are strings, compiled on first use by re's own cache (start-up)
_RFC3339 = r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"


def parse_timestamp(text: Any, arg: str = "timestamp") -> datetime:
    """An RFC 3339 timestamp (the form Terraform accepts), with its UTC offset."""
    text = as_string(text, arg)
    m = re.match(_RFC3339, text)
    if m is None:
        raise FunctionError(
            f'"{text}" is not a valid RFC 3339 timestamp',
            'write it as "2018-01-02T23:12:01Z" or "2018-01-02T15:12:01-08:00"',
        )
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, zone = m.group(7), m.group(8)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    if zone in ("Z", "z"):
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as err:
        raise FunctionError(f'"{text}" is not a valid RFC 3339 timestamp: {err}') from None


def _offset(t: datetime, colon: bool) -> str:
    delta = t.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


def format_rfc3339(t: datetime) -> str:
    """As Go's ``time.RFC3339`` prints: whole seconds, ``Z`` when the offset is zero."""
    zone = "Z" if not t.utcoffset() else _offset(t, True)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + zone


def f_timestamp() -> str:
    return format_rfc3339(datetime.now(UTC))


def f_plantimestamp(*, plan_time: str = "") -> str:
    return plan_time or f_timestamp()


_MONTHS = "January February March April May June July August September October November December"
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"


def _verb(letter: str, count: int, t: datetime) -> str | None:
    """One format verb's text (``YYYY`` → ``2018``), None for no such verb."""
    hour12 = t.hour % 12 or 12
    month, day = _MONTHS.split()[t.month - 1], _DAYS.split()[t.weekday()]
    utc = not t.utcoffset()
    table: dict[tuple[str, int], str] = {
        ("Y", 4): f"{t.year:04d}",
        ("Y", 2): f"{t.year % 100:02d}",
        ("M", 4): month,
        ("M", 3): month[:3],
        ("M", 2): f"{t.month:02d}",
        ("M", 1): str(t.month),
        ("D", 2): f"{t.day:02d}",
        ("D", 1): str(t.day),
        ("E", 4): day,
        ("E", 3): day[:3],
        ("h", 2): f"{t.hour:02d}",
        ("h", 1): str(t.hour),
        ("H", 2): f"{hour12:02d}",
        ("H", 1): str(hour12),
        ("A", 2): "AM" if t.hour < 12 else "PM",
        ("a", 2): "am" if t.hour < 12 else "pm",
        ("m", 2): f"{t.minute:02d}",
        ("m", 1): str(t.minute),
        ("s", 2): f"{t.second:02d}",
        ("s", 1): str(t.second),
        ("Z", 5): _offset(t, True),
        ("Z", 4): _offset(t, False),
        ("Z", 3): "UTC" if utc else _offset(t, False),
        ("Z", 1): "Z" if utc else _offset(t, True),
    }
    return table.get((letter, count))


def f_formatdate(spec: Any, timestamp: Any) -> str:
    spec = as_string(spec, "format")
    t = parse_timestamp(timestamp)
    out: list[str] = []
    i, n = 0, len(spec)
    while i < n:
        ch = spec[i]
        if ch == "'":
            end = spec.find("'", i + 1)
            if end < 0:
                raise FunctionError("the format has a ' without its closing '")
            out.append("'" if end == i + 1 else spec[i + 1 : end])
            i = end + 1
        elif ch.isascii() and ch.isalpha():
            j = i
            while j < n and spec[j] == ch:
                j += 1
            text = _verb(ch, j - i, t)
            if text is None:
                raise FunctionError(
                    f'invalid date format verb "{spec[i:j]}"',
                    "letters are format verbs (YYYY, MM, DD, hh, mm, ss, ZZZ, …); "
                    "put literal text in single quotes",
                )
            out.append(text)
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_DURATION_PART = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
}


def parse_duration(text: Any) -> timedelta:
    """A Go duration (``"1h30m"``, ``"-2.5s"``, ``"0"``) as a timedelta."""
    text = as_string(text, "duration")
    body = text
    sign = 1
    if body[:1] in "+-" and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return timedelta(0)
    seconds, pos = 0.0, 0
    while pos < len(body):
        m = re.compile(_DURATION_PART).match(body, pos)
        if m is None:
            break
        seconds += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not body or pos != len(body):
        raise FunctionError(
            f'"{text}" is not a valid duration',
            'write a number with a unit: "30s", "10m", "1h30m", "-1h" (units ns us ms s m h)',
        )
    return timedelta(seconds=sign * seconds)


def f_timeadd(timestamp: Any, duration: Any) -> str:
    return format_rfc3339(parse_timestamp(timestamp) + parse_duration(duration))


def f_timecmp(a: Any, b: Any) -> int:
    ta, tb = parse_timestamp(a, "first argument"), parse_timestamp(b, "second argument")
    return (ta > tb) - (ta < tb)
