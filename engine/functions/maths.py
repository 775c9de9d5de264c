"""The number functions beyond abs, ceil, floor, min and max: parseint, pow, log, signum.

Always holds: numbers are Python ints and floats; a whole result of ``pow`` or ``log``
is an int (``pow(3, 2)`` is ``9``); a bad argument (a base outside 2–62, digits the base
does not have, the log of a non-positive number) is a ``FunctionError`` saying which.
"""

from __future__ import annotations

import math
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _whole_if_exact(x: float) -> int | float:
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def f_parseint(text: Any, base: Any) -> int:
    text = as_string(text, "first argument")
    b = as_number(base, "base")
    if b != int(b) or not 2 <= b <= 62:
        raise FunctionError(f"the base must be a whole number from 2 to 62, not {b}")
    b = int(b)
    digits = text[1:] if text[:1] in "+-" else text
    value = 0
    for ch in digits:
        d = _DIGITS.find(ch.lower() if b <= 36 else ch)
        if d < 0 or d >= b:
            digits = ""
            break
        value = value * b + d
    if not digits:
        raise FunctionError(f'cannot parse "{text}" as a base {b} integer')
    return -value if text.startswith("-") else value


def f_pow(x: Any, y: Any) -> int | float:
    a, b = as_number(x, "first argument"), as_number(y, "second argument")
    try:
        got = math.pow(a, b)
    except (OverflowError, ValueError) as err:
        raise FunctionError(f"cannot raise {a} to the power {b}: {err}") from None
    return _whole_if_exact(got)


def f_log(x: Any, base: Any) -> int | float:
    a, b = as_number(x, "first argument"), as_number(base, "base")
    if a <= 0 or b <= 0 or b == 1:
        raise FunctionError(f"log({a}, {b}) is not defined: both must be positive, the base not 1")
    return _whole_if_exact(math.log(a) / math.log(b))


def f_signum(x: Any) -> int:
    n = as_number(x)
    return (n > 0) - (n < 0)
