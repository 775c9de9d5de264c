"""Terraform's built-in functions that apply to bcdr, registered by name in ``FUNCTIONS``.

The functions live by family: ``collection.py`` (everyday collections and numbers),
``lists.py``, ``sets.py``, ``maths.py``, ``text.py``, ``regex.py``, ``encoding.py``,
``yamlcodec.py``, ``hashes.py``, ``paths.py``, ``template.py``, ``dates.py`` and
``network.py``; their argument checks in ``args.py``; type constraints and conversion live
in ``engine/typeconv.py`` (re-exported here for callers). Each function is a plain Python
function over plain values, called by ``FunctionCall`` in ``engine/exprops.py``. Always
holds: a function never sees ``UNKNOWN`` unless its name is in ``UNKNOWN_AWARE`` (the
call returns ``UNKNOWN`` otherwise); a user mistake is a ``FunctionError`` (the call adds
its file:line); what a function needs of the evaluation (the specs' folder, the plan's
time) it takes as the keyword arguments ``CONTEXT_ARGS`` names; an ``IMPURE_FUNCTIONS``
call is ``UNKNOWN`` while planning (known after apply, as in Terraform); ``try`` and
``can`` are evaluated lazily by the call, ``sensitive``, ``nonsensitive`` and
``issensitive`` read or set the mark of their value there, and the entries here only
complete the registry.
"""

from __future__ import annotations

import base64
import difflib
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
from engine.functions.dates import (
    f_formatdate,
    f_plantimestamp,
    f_timeadd,
    f_timecmp,
    f_timestamp,
)
from engine.functions.encoding import (
    f_base64decode,
    f_csvdecode,
    f_file,
    f_fileexists,
    f_jsondecode,
    f_jsonencode,
    f_textdecodebase64,
    f_textencodebase64,
    f_tobool,
    f_tonumber,
    f_type,
    f_urlencode,
)
from engine.functions.hashes import FILE_HASHES, HASHES, f_bcrypt, f_uuid, f_uuidv5
from engine.functions.lists import (
    f_alltrue,
    f_anytrue,
    f_chunklist,
    f_coalescelist,
    f_compact,
    f_index,
    f_matchkeys,
    f_one,
    f_reverse,
    f_slice,
    f_sum,
    f_transpose,
)
from engine.functions.maths import f_log, f_parseint, f_pow, f_signum
from engine.functions.network import f_cidrhost, f_cidrnetmask, f_cidrsubnet, f_cidrsubnets
from engine.functions.paths import (
    f_abspath,
    f_basename,
    f_dirname,
    f_filebase64,
    f_fileset,
    f_pathexpand,
)
from engine.functions.regex import f_regex, f_regexall
from engine.functions.sets import f_setintersection, f_setproduct, f_setsubtract, f_setunion
from engine.functions.template import f_templatefile
from engine.functions.text import (
    f_chomp,
    f_format,
    f_formatlist,
    f_indent,
    f_join,
    f_replace,
    f_split,
    f_strcontains,
    f_strrev,
    f_substr,
    f_title,
    f_tostring,
    f_trim,
    f_trimprefix,
    f_trimsuffix,
)
from engine.functions.yamlcodec import f_yamldecode, f_yamlencode
from engine.typeconv import TypeConstraint, convert, parse_type, type_name

__all__ = [
    "FUNCTIONS",
    "LAZY_FUNCTIONS",
    "CONTEXT_ARGS",
    "IMPURE_FUNCTIONS",
    "MARK_FUNCTIONS",
    "RESULT_KINDS",
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


def _issensitive_placeholder(value: Any) -> bool:
    return False


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": f_abs,
    "abspath": f_abspath,
    "alltrue": f_alltrue,
    "anytrue": f_anytrue,
    "base64decode": f_base64decode,
    "base64encode": lambda s: base64.b64encode(as_string(s).encode()).decode(),
    "basename": f_basename,
    "bcrypt": f_bcrypt,
    "can": _can_placeholder,
    "ceil": lambda n: math.ceil(as_number(n)),
    "chomp": f_chomp,
    "chunklist": f_chunklist,
    "cidrhost": f_cidrhost,
    "cidrnetmask": f_cidrnetmask,
    "cidrsubnet": f_cidrsubnet,
    "cidrsubnets": f_cidrsubnets,
    "coalesce": f_coalesce,
    "coalescelist": f_coalescelist,
    "compact": f_compact,
    "concat": f_concat,
    "contains": f_contains,
    "csvdecode": f_csvdecode,
    "dirname": f_dirname,
    "distinct": f_distinct,
    "element": f_element,
    "endswith": lambda s, suffix: as_string(s).endswith(as_string(suffix)),
    "file": f_file,
    "filebase64": f_filebase64,
    "fileexists": f_fileexists,
    "fileset": f_fileset,
    "flatten": f_flatten,
    "floor": lambda n: math.floor(as_number(n)),
    "format": f_format,
    "formatdate": f_formatdate,
    "formatlist": f_formatlist,
    "indent": f_indent,
    "index": f_index,
    "issensitive": _issensitive_placeholder,
    "join": f_join,
    "jsondecode": f_jsondecode,
    "jsonencode": f_jsonencode,
    "keys": f_keys,
    "length": f_length,
    "log": f_log,
    "lookup": f_lookup,
    "lower": lambda s: as_string(s).lower(),
    "matchkeys": f_matchkeys,
    "max": f_max,
    "merge": f_merge,
    "min": f_min,
    "nonsensitive": _mark_placeholder,
    "one": f_one,
    "parseint": f_parseint,
    "pathexpand": f_pathexpand,
    "plantimestamp": f_plantimestamp,
    "pow": f_pow,
    "range": f_range,
    "regex": f_regex,
    "regexall": f_regexall,
    "replace": f_replace,
    "reverse": f_reverse,
    "sensitive": _mark_placeholder,
    "setintersection": f_setintersection,
    "setproduct": f_setproduct,
    "setsubtract": f_setsubtract,
    "setunion": f_setunion,
    "signum": f_signum,
    "slice": f_slice,
    "sort": f_sort,
    "split": f_split,
    "startswith": lambda s, prefix: as_string(s).startswith(as_string(prefix)),
    "strcontains": f_strcontains,
    "strrev": f_strrev,
    "substr": f_substr,
    "sum": f_sum,
    "templatefile": f_templatefile,
    "textdecodebase64": f_textdecodebase64,
    "textencodebase64": f_textencodebase64,
    "timeadd": f_timeadd,
    "timecmp": f_timecmp,
    "timestamp": f_timestamp,
    "title": f_title,
    "tobool": f_tobool,
    "tolist": f_tolist,
    "tomap": f_tomap,
    "tonumber": f_tonumber,
    "toset": f_toset,
    "tostring": f_tostring,
    "transpose": f_transpose,
    "trim": f_trim,
    "trimprefix": f_trimprefix,
    "trimspace": lambda s: as_string(s).strip(),
    "trimsuffix": f_trimsuffix,
    "try": _try_placeholder,
    "type": f_type,
    "upper": lambda s: as_string(s).upper(),
    "urlencode": f_urlencode,
    "uuid": f_uuid,
    "uuidv5": f_uuidv5,
    "values": f_values,
    "yamldecode": f_yamldecode,
    "yamlencode": f_yamlencode,
    "zipmap": f_zipmap,
    **HASHES,
}

#: evaluated by exprops.py argument by argument (errors are caught)
LAZY_FUNCTIONS = frozenset({"try", "can"})
#: evaluated by exprops.py: ``sensitive`` marks its value, ``nonsensitive`` drops the marks,
#: ``issensitive`` says whether it has any
MARK_FUNCTIONS = frozenset({"sensitive", "nonsensitive", "issensitive"})
_PATH_FUNCTIONS = ("abspath", "file", "filebase64", "fileexists", "fileset", "templatefile")
#: the keyword arguments a function takes from the evaluation (exprops.py gives them):
#: ``base`` is ``path.module`` under ``path.cwd`` (the specs' folder), ``plan_time`` the
#: plan's timestamp
CONTEXT_ARGS: dict[str, tuple[str, ...]] = {
    **{name: ("base",) for name in (*_PATH_FUNCTIONS, *sorted(FILE_HASHES))},
    "plantimestamp": ("plan_time",),
}
#: functions whose result is always of one primitive type (or null), for a conditional
#: to unify with the branch it did not evaluate (``c ? 1 : tostring(x)`` is a string)
RESULT_KINDS: dict[str, str] = {
    **dict.fromkeys(
        "format join lower upper title replace substr trim trimspace trimprefix trimsuffix "
        "chomp indent strrev tostring jsonencode yamlencode base64encode base64decode md5 "
        "sha1 sha256 sha512 formatdate timeadd cidrhost cidrnetmask".split(),
        "string",
    ),
    **dict.fromkeys(
        "tonumber length abs ceil floor max min parseint pow log signum sum".split(), "number"
    ),
    **dict.fromkeys(
        "tobool contains startswith endswith strcontains alltrue anytrue can fileexists "
        "issensitive".split(),
        "bool",
    ),
}
#: a new value on every call: unknown while planning, computed when applying
IMPURE_FUNCTIONS = frozenset({"bcrypt", "timestamp", "uuid"})
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
