"""The string functions: join, split, replace, substr, format and tostring.

Always holds: arguments that should be strings accept numbers and bools (printed as HCL
does); a bad argument or format is a ``FunctionError`` naming it; ``format`` follows
Terraform's verbs (``%s %d %v %q %t %f …``) and refuses an unknown verb or a wrong
number of arguments.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string, need
from engine.functions.encoding import f_jsonencode
from engine.typeconv import type_name


def f_join(sep: Any, lst: Any) -> str:
    need(sep, str, "a string", "separator")
    need(lst, list, "a list of strings", "second argument")
    return sep.join(as_string(v, "list element") for v in lst)


def f_split(sep: Any, text: Any) -> list[str]:
    need(sep, str, "a string", "separator")
    text = as_string(text, "second argument")
    if text == "":
        return [""]
    return text.split(sep) if sep else list(text)


def f_replace(text: Any, search: Any, repl: Any) -> str:
    text, search, repl = as_string(text), as_string(search), as_string(repl)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        try:
            pattern = re.compile(search[1:-1])
        except re.error as err:
            raise FunctionError(f"invalid regular expression {search}: {err}") from None
        return pattern.sub(re.sub(r"\$(\d+)", r"\\\1", repl), text)
    return text.replace(search, repl)


def f_substr(text: Any, offset: Any, length: Any) -> str:
    text = as_string(text)
    off, n = int(as_number(offset, "offset")), int(as_number(length, "length"))
    if off < 0:
        off = max(0, len(text) + off)
    return text[off:] if n == -1 else text[off : off + n]


_FORMAT_RE = re.compile(r"%(?:(%)|([-+ #0]*)(\d+)?(?:\.(\d+))?([a-zA-Z]))")


def f_format(spec: Any, *args: Any) -> str:
    need(spec, str, "a format string", "first argument")
    it = iter(args)
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        if m.group(1):
            return "%"
        flags, width, prec, verb = m.group(2) or "", m.group(3), m.group(4), m.group(5)
        try:
            value = next(it)
        except StopIteration:
            raise FunctionError(f"not enough arguments for {m.group(0)!r} in the format") from None
        count += 1
        if verb == "v":
            text = value if isinstance(value, str) else f_jsonencode(value)
        elif verb == "s":
            text = as_string(value, f"argument {count}")
        elif verb == "q":
            text = json.dumps(as_string(value, f"argument {count}"), ensure_ascii=False)
        elif verb == "t":
            need(value, bool, "a bool", f"argument {count}")
            text = "true" if value else "false"
        elif verb in "dbxXoeEfgG":
            num = as_number(value, f"argument {count}")
            if verb in "dbxXo":
                if num != int(num):
                    raise FunctionError(f"%{verb} needs a whole number, not {num}")
                num = int(num)
            py = f"%{flags}{width or ''}{'.' + prec if prec is not None else ''}{verb}"
            if verb == "b":
                text = format(num, "b")
            else:
                return py % num
        else:
            raise FunctionError(f"unsupported format verb %{verb}")
        if prec is not None:
            text = text[: int(prec)]
        if width:
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width))
        return text

    out = _FORMAT_RE.sub(repl, spec)
    if next(it, _END) is not _END:
        raise FunctionError(f"too many arguments for the format {spec!r}")
    return out


_END = object()


def f_tostring(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | dict):
        raise FunctionError(f"cannot convert a {type_name(value)} to a string")
    return as_string(value)
