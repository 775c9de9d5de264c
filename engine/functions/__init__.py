"""The everyday HCL functions, registered by name in ``FUNCTIONS``.

The functions live by family in ``collection.py``, ``text.py`` and ``encoding.py``, their
argument checks in ``args.py``; type constraints and conversion live in
``engine/typeconv.py`` (re-exported here for callers). Each function is a plain Python
function over plain values, called by ``FunctionCall`` in ``engine/exprops.py``. Always
holds: a function never sees ``UNKNOWN`` unless its name is in ``UNKNOWN_AWARE`` (the
call returns ``UNKNOWN`` otherwise); a user mistake is a ``FunctionError`` (the call adds
its file:line); ``try`` and ``can`` are evaluated lazily by the call, ``sensitive`` and
``nonsensitive`` set or drop the mark of their value there, and the entries here only
complete the registry.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import inspect
import math
from collections.abc import Callable
from functools import cache
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string
from engine.functions.collection import (
    f_abs,
    f_coalesce,
    f_concat,
    f_contains,
    f_distinct,
    f_element,
    f_flatten,
    f_keys,
    f_length,
    f_lookup,
    f_max,
    f_merge,
    f_min,
    f_range,
    f_sort,
    f_tolist,
    f_tomap,
    f_toset,
    f_values,
    f_zipmap,
)
from engine.functions.encoding import (
    f_base64decode,
    f_file,
    f_fileexists,
    f_jsondecode,
    f_jsonencode,
    f_tobool,
    f_tonumber,
)
from engine.functions.text import f_format, f_join, f_replace, f_split, f_substr, f_tostring
from engine.typeconv import TypeConstraint, convert, parse_type, type_name

__all__ = [
    "FUNCTIONS",
    "LAZY_FUNCTIONS",
    "MARK_FUNCTIONS",
    "PATH_FUNCTIONS",
    "UNKNOWN_AWARE",
    "FunctionError",
    "arity",
    "call_problem",
    "TypeConstraint",
    "convert",
    "parse_type",
    "type_name",
]


def _try_placeholder(*args: Any) -> Any:
    return args[0]


def _can_placeholder(*args: Any) -> bool:
    return True


def _mark_placeholder(value: Any) -> Any:
    return value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": f_abs,
    "base64decode": f_base64decode,
    "base64encode": lambda s: base64.b64encode(as_string(s).encode()).decode(),
    "can": _can_placeholder,
    "ceil": lambda n: math.ceil(as_number(n)),
    "coalesce": f_coalesce,
    "concat": f_concat,
    "contains": f_contains,
    "distinct": f_distinct,
    "element": f_element,
    "endswith": lambda s, suffix: as_string(s).endswith(as_string(suffix)),
    "file": f_file,
    "fileexists": f_fileexists,
    "flatten": f_flatten,
    "floor": lambda n: math.floor(as_number(n)),
    "format": f_format,
    "join": f_join,
    "jsondecode": f_jsondecode,
    "jsonencode": f_jsonencode,
    "keys": f_keys,
    "length": f_length,
    "lookup": f_lookup,
    "lower": lambda s: as_string(s).lower(),
    "max": f_max,
    "merge": f_merge,
    "min": f_min,
    "nonsensitive": _mark_placeholder,
    "range": f_range,
    "replace": f_replace,
    "sensitive": _mark_placeholder,
    "sha256": lambda s: hashlib.sha256(as_string(s).encode()).hexdigest(),
    "sort": f_sort,
    "split": f_split,
    "startswith": lambda s, prefix: as_string(s).startswith(as_string(prefix)),
    "substr": f_substr,
    "tobool": f_tobool,
    "tolist": f_tolist,
    "tomap": f_tomap,
    "tonumber": f_tonumber,
    "toset": f_toset,
    "tostring": f_tostring,
    "trimspace": lambda s: as_string(s).strip(),
    "try": _try_placeholder,
    "upper": lambda s: as_string(s).upper(),
    "values": f_values,
    "zipmap": f_zipmap,
}

#: evaluated by exprops.py argument by argument (errors are caught)
LAZY_FUNCTIONS = frozenset({"try", "can"})
#: evaluated by exprops.py: ``sensitive`` marks its value, ``nonsensitive`` drops the marks
MARK_FUNCTIONS = frozenset({"sensitive", "nonsensitive"})
#: called with ``base=path.module`` taken under ``path.cwd`` (the specs' folder)
PATH_FUNCTIONS = frozenset({"file", "fileexists"})
#: called even when an argument holds UNKNOWN; they handle it themselves
UNKNOWN_AWARE = frozenset(
    {
        "length",
        "lookup",
        "merge",
        "concat",
        "keys",
        "values",
        "element",
        "coalesce",
        "flatten",
        "zipmap",
        "tolist",
        "tomap",
    }
)


@cache
def arity(name: str) -> tuple[int, int | None]:
    """(fewest, most) arguments the function ``name`` takes; most is None for no limit."""
    if name in LAZY_FUNCTIONS:
        return 1, None
    params = [
        p
        for p in inspect.signature(FUNCTIONS[name]).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        fixed = [p for p in params if p.kind is not p.VAR_POSITIONAL]
        return sum(1 for p in fixed if p.default is p.empty), None
    return sum(1 for p in params if p.default is p.empty), len(params)


def call_problem(name: str, nargs: int | None) -> tuple[str, str] | None:
    """What is wrong with calling ``name`` with ``nargs`` arguments (None: not known, as
    with an expanded ``args...``), as (summary, detail), or None when nothing is.

    Both the static check of a configuration and the evaluation of a call use it, so the
    same mistake reads the same (and is reported once)."""
    if name not in FUNCTIONS:
        close = difflib.get_close_matches(name, sorted(FUNCTIONS), n=1, cutoff=0.6)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        return (
            f'Call to unknown function "{name}"',
            f"There is no function named {name}.{hint} Available functions: "
            + ", ".join(sorted(FUNCTIONS)),
        )
    if nargs is None:
        return None
    least, most = arity(name)
    if least <= nargs and (most is None or nargs <= most):
        return None
    if most == least:
        wanted = f"exactly {least} argument{'s' if least != 1 else ''}"
    elif most is None:
        wanted = f"at least {least} argument{'s' if least != 1 else ''}"
    else:
        wanted = f"{least} to {most} arguments"
    summary = "Not enough function arguments" if nargs < least else "Too many function arguments"
    return summary, f"Function {name} takes {wanted}, but is given {nargs}."
