"""The string functions: join, split, replace, substr, format, formatlist, title, trim, ….

Always holds: arguments that should be strings accept numbers and bools (printed as HCL
does); a bad argument or format is a ``FunctionError`` naming it; ``format`` follows
Terraform's verbs (``%s %d %v %q %t %f …``) and refuses an unknown verb or a wrong
number of arguments; ``substr`` and ``strrev`` work on characters as Terraform counts
them (``graphemes``), not on code points.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from re import error
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string, graphemes, need
from engine.functions.encoding import f_jsonencode
from engine.functions.regex import compile_re2
from engine.typeconv import type_name


def f_join(sep: Any, *lists: Any) -> str:
    need(sep, str, "a string", "separator")
    if not lists:
        raise FunctionError("join needs at least one list after the separator")
    items: list[str] = []
    for lst in lists:
        need(lst, list, "a list of strings", "second argument")
        items.extend(as_string(v, "list element") for v in lst)
    return sep.join(items)


def f_split(sep: Any, text: Any) -> list[str]:
    need(sep, str, "a string", "separator")
    text = as_string(text, "second argument")
    if text == "":
        return [""]
    return text.split(sep) if sep else list(text)


def f_replace(text: Any, search: Any, repl: Any) -> str:
    text, search, repl = as_string(text), as_string(search), as_string(repl)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        pattern = compile_re2(search[1:-1])
        return pattern.sub(_go_replacement(repl), text)
    return text.replace(search, repl)


_GO_GROUP = r"\$(?:\$|\{(\w+)\}|(\w+))"  # compiled on first use


def _go_replacement(repl: str) -> Callable[[re.Match[str]], str]:
    """Go's ``Regexp.ReplaceAllString`` template: ``$1``, ``${1}``, ``${name}``, ``$$``."""

    def expand(m: re.Match[str]) -> str:
        def group(g: re.Match[str]) -> str:
            name = g.group(1) or g.group(2)
            if name is None:
                return "$"
            try:
                got = m.group(int(name) if name.isdigit() else name)
            except (IndexError, error):
                return ""
            return got or ""

        return re.sub(_GO_GROUP, group, repl)

    return expand


def f_substr(text: Any, offset: Any, length: Any) -> str:
    chars = graphemes(as_string(text))
    off, n = int(as_number(offset, "offset")), int(as_number(length, "length"))
    if off < 0:
        off = max(0, len(chars) + off)
    if off > len(chars):
        raise FunctionError(f"offset {off} is beyond the string's {len(chars)} characters")
    return "".join(chars[off:] if n == -1 else chars[off : off + n])


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


def f_formatlist(spec: Any, *args: Any) -> list[str]:
    need(spec, str, "a format string", "first argument")
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise FunctionError(
            "the list arguments have different lengths",
            "formatlist takes lists of one length (and single values, used for every item)",
        )
    if not lengths:
        return [f_format(spec, *args)]
    n = lengths.pop()
    return [f_format(spec, *(a[i] if isinstance(a, list) else a for a in args)) for i in range(n)]


def _go_title_separator(ch: str) -> bool:
    """Go's ``strings.Title`` rule: what a word starts after."""
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


def f_title(text: Any) -> str:
    out: list[str] = []
    prev = " "
    for ch in as_string(text):
        out.append(ch.upper() if _go_title_separator(prev) else ch)
        prev = ch
    return "".join(out)


def f_chomp(text: Any) -> str:
    return as_string(text).rstrip("\r\n")


def f_indent(spaces: Any, text: Any) -> str:
    return as_string(text).replace("\n", "\n" + " " * int(as_number(spaces, "first argument")))


def f_trim(text: Any, cutset: Any) -> str:
    return as_string(text).strip(as_string(cutset, "cutset"))


def f_trimprefix(text: Any, prefix: Any) -> str:
    return as_string(text).removeprefix(as_string(prefix, "prefix"))


def f_trimsuffix(text: Any, suffix: Any) -> str:
    return as_string(text).removesuffix(as_string(suffix, "suffix"))


def f_strrev(text: Any) -> str:
    return "".join(reversed(graphemes(as_string(text))))


def f_strcontains(text: Any, substr: Any) -> bool:
    return as_string(substr, "second argument") in as_string(text)
