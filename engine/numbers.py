"""Numbers as Terraform's expression language has them: exact arithmetic, Go's modulo, and
the shortest text.

Values stay Python ``int`` and ``float`` (state, plans and providers see nothing else);
only the arithmetic is exact. An operation works on each operand's shortest decimal form
(``repr``), so ``0.1 + 0.2`` is ``0.3`` and ``2.5 * 2`` is the int ``5``, as cty's
arbitrary-precision numbers give. Always holds: ``normalize`` gives an ``int`` for an
integral result of sane magnitude and otherwise the nearest ``float``; two ``int``
operands give Python's exact int result; ``%`` truncates toward zero (``-7 % 3`` is
``-1``, as in Go); ``format_number`` is the inverse of ``parse_number`` for every finite
number (``parse_number(format_number(n)) == n``).
"""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from typing import Any

#: digits kept by inexact operations (division): far beyond a float's 17
_CONTEXT = decimal.Context(prec=80, Emax=999_999, Emin=-999_999)
#: integral results up to this size become ints; larger ones stay floats
_INT_LIMIT = 10**30


def is_number(value: Any) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def exact(value: int | float) -> Decimal:
    """The number's exact decimal, from its shortest text for a float."""
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def normalize(d: Decimal) -> int | float:
    """An int when ``d`` is integral and of sane magnitude, else the nearest float."""
    if not d.is_finite():
        raise OverflowError("not a finite number")
    if d == d.to_integral_value() and abs(d) < _INT_LIMIT:
        return int(d)
    f = float(d)
    if math.isinf(f):
        raise OverflowError("the result is too large for a number")
    return f


def arithmetic(op: str, a: int | float, b: int | float) -> int | float:
    """``a op b`` for ``+ - * / %``, exactly; ZeroDivisionError for ``/`` or ``%`` by 0."""
    if isinstance(a, int) and isinstance(b, int) and op != "/":
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            raise ZeroDivisionError
        return go_modulo(a, b)
    x, y = exact(a), exact(b)
    if op in ("/", "%") and y == 0:
        raise ZeroDivisionError
    ops = {
        "+": _CONTEXT.add,
        "-": _CONTEXT.subtract,
        "*": _CONTEXT.multiply,
        "/": _CONTEXT.divide,
        "%": _CONTEXT.remainder,  # sign of the dividend: truncated, as Go's
    }
    return normalize(ops[op](x, y))


def go_modulo(a: int, b: int) -> int:
    """``a % b`` truncated toward zero (the sign of ``a``), as Go and Terraform do."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def compare(a: int | float, b: int | float) -> int:
    """-1, 0 or 1 as ``a`` is less than, equal to or greater than ``b`` (exactly)."""
    x, y = exact(a), exact(b)
    return (x > y) - (x < y)


def parse_number(text: str) -> int | float:
    """A number from its text (``"3"`` → 3, ``"2.0"`` → 2, ``" 2.5 "`` → 2.5, ``"1e3"``
    → 1000); ValueError when it is not one."""
    text = text.strip()
    try:
        n = int(text)
    except ValueError:
        pass
    else:
        return n if abs(n) < _INT_LIMIT else normalize(Decimal(n))
    if not text or text.lower().lstrip("+-") in ("inf", "infinity", "nan", "snan"):
        raise ValueError(text)
    try:
        d = Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(text) from None
    try:
        return normalize(d)
    except OverflowError:
        raise ValueError(text) from None


def literal_number(text: str) -> int | float:
    """A number literal of the language (``2.0`` is the number 2)."""
    return parse_number(text)


def format_number(value: int | float) -> str:
    """A number's shortest text as Terraform prints it: ``2.0`` → ``2``, ``1e20`` →
    ``100000000000000000000``, ``1.5e-07`` → ``0.00000015``."""
    if isinstance(value, int):
        return str(value)
    if math.isinf(value) or math.isnan(value):
        return str(value)
    d = exact(value)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d, "f")
