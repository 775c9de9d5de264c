"""Regular expressions as Terraform writes them (RE2 syntax), on Python's ``re``: regex,
regexall, and the patterns of ``replace``.

``compile_re2`` translates the RE2 syntax into ``re``'s: ``\\d \\w \\s`` match ASCII only,
``$`` is the end of the text unless the pattern sets ``(?m)``, ``\\z`` is ``\\Z``,
``(?<name>…)`` is ``(?P<name>…)``, ``[[:alpha:]]`` classes and ``\\Q…\\E`` quoting work. Always
holds: a pattern RE2 does not accept (backreferences, look-arounds, possessive or
conditional forms) or that Python's ``re`` cannot match as RE2 does (``\\p{…}``
classes, ``(?U)``) is a ``FunctionError`` naming the construct, never a silent difference;
results are as Terraform's: the match for a pattern without groups, a list of the groups,
or a map of the named groups, with a group that took no part as null.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from engine.functions.args import FunctionError, as_string

_ASCII_CLASSES = {
    "d": "0-9",
    "w": "0-9A-Za-z_",
    "s": "\\t\\n\\f\\r ",
}
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_REFUSED = [
    ("(?=", "look-ahead (?=…)"),
    ("(?!", "negative look-ahead (?!…)"),
    ("(?<=", "look-behind (?<=…)"),
    ("(?<!", "negative look-behind (?<!…)"),
    ("(?(", "conditional (?(…)…)"),
    ("(?#", "comment (?#…)"),
    ("(?>", "atomic group (?>…)"),
    ("(?P=", "backreference (?P=…)"),
]
_FLAGS = r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?[:)]"  # compiled on first use


def _unsupported(what: str, pattern: str) -> FunctionError:
    return FunctionError(
        f"the regular expression {pattern!r} uses {what}, which RE2 (Terraform's syntax) "
        "does not have or bcdr cannot match as RE2 does",
        "rewrite the pattern without it",
    )


def _translate(pattern: str) -> str:
    for token, what in _REFUSED:
        if token in pattern:
            raise _unsupported(what, pattern)
    multiline = False
    for m in re.finditer(_FLAGS, pattern):
        on = m.group(1)
        bad = set(on + (m.group(2) or "")) - set("imsU")
        if bad:
            raise _unsupported(f"the flag {sorted(bad)[0]!r}", pattern)
        if "U" in on + (m.group(2) or ""):
            raise _unsupported("the ungreedy flag (?U)", pattern)
        multiline = multiline or "m" in on
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end
                out.append(re.escape(pattern[i + 2 : end]))
                i = end + 2
                continue
            if nxt.isdigit() and nxt != "0":
                raise _unsupported(f"the backreference \\{nxt}", pattern)
            if nxt in "pPCGXRKNhHV":
                raise _unsupported(f"\\{nxt}", pattern)
            if nxt == "z":
                out.append("\\Z")
            elif nxt == "Z":
                raise _unsupported("\\Z", pattern)
            elif nxt in _ASCII_CLASSES:
                out.append(_ASCII_CLASSES[nxt] if in_class else f"[{_ASCII_CLASSES[nxt]}]")
            elif nxt.lower() in _ASCII_CLASSES and not in_class:
                out.append(f"[^{_ASCII_CLASSES[nxt.lower()]}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end].lstrip("^") if end > 0 else ""
                if name not in _POSIX:
                    raise _unsupported(f"the class [:{name}:]", pattern)
                if pattern[i + 2] == "^":
                    raise _unsupported(f"the negated class [:^{name}:]", pattern)
                out.append(_POSIX[name])
                i = end + 2
                continue
            if ch == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            elif ch == "[":
                ch = "\\["  # a literal [ inside a class (Python warns of nested sets)
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is a literal
                out.append("\\]")
                i += 1
            continue
        if pattern.startswith("(?<", i):
            out.append("(?P<")
            i += 3
            continue
        if ch in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise _unsupported(f"the possessive repetition {ch}+", pattern)
        if ch == "$" and not multiline:
            out.append("\\Z")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """``pattern`` (RE2 syntax) compiled with Python's ``re``; FunctionError if refused."""
    try:
        return re.compile(_translate(pattern))
    except re.error as err:
        raise FunctionError(f"invalid regular expression {pattern!r}: {err}") from None


def _result(pattern: re.Pattern[str], m: re.Match[str]) -> Any:
    if pattern.groups == 0:
        return m.group(0)
    names = pattern.groupindex
    if names:
        if len(names) != pattern.groups:
            raise FunctionError(
                "the pattern mixes named and unnamed groups",
                "name every group, or none (Terraform returns a map or a list)",
            )
        return {name: m.group(name) for name in sorted(names)}
    return list(m.groups())


def f_regex(pattern: Any, text: Any) -> Any:
    compiled = compile_re2(as_string(pattern, "pattern"))
    m = compiled.search(as_string(text, "second argument"))
    if m is None:
        raise FunctionError("the pattern did not match any part of the given string")
    return _result(compiled, m)


def f_regexall(pattern: Any, text: Any) -> list[Any]:
    compiled = compile_re2(as_string(pattern, "pattern"))
    return [_result(compiled, m) for m in compiled.finditer(as_string(text, "second argument"))]
