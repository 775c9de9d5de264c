"""HCL syntax that needs no parser: string escapes, heredoc re-quoting, ``SyntaxProblem``.

Used by ``engine/hcltree.py`` while it converts the parser's tree. Always holds: a bad
escape or template is a ``SyntaxProblem`` carrying the ``SourceRange`` where it was
found; ``heredoc_as_string`` keeps every ``${...}`` and ``%{...}`` part verbatim.
"""

from __future__ import annotations

import re

from sdk.diagnostics import SourceRange


class SyntaxProblem(Exception):
    """A syntax mistake found while converting; ``parse_body`` makes it a diagnostic."""

    def __init__(self, summary: str, detail: str, range: SourceRange):
        super().__init__(f"{range}: {summary}")
        self.summary, self.detail, self.range = summary, detail, range


_ESCAPE_RE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def unescape(text: str, rng: SourceRange) -> str:
    """Resolve a quoted string's escapes (``\\n``, ``\\"``, ``\\u00e9``)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) or m.group(2):
            code = int(m.group(1) or m.group(2), 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                raise SyntaxProblem(
                    f"Invalid escape sequence {m.group(0)}",
                    f"U+{code:04X} is not a Unicode character (a surrogate half or past "
                    "U+10FFFF): write the character itself, or \\UNNNNNNNN for one past U+FFFF",
                    rng,
                )
            return chr(code)
        ch = m.group(3)
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch]
        raise SyntaxProblem(
            f"Invalid escape sequence \\{ch}", 'use \\\\ for a backslash, \\" for a quote', rng
        )

    return _ESCAPE_RE.sub(repl, text) if "\\" in text else text


def heredoc_as_string(text: str) -> str:
    """Re-quote a heredoc body as an HCL string, keeping ``${}``/``%{}`` parts verbatim."""
    out = ['"']
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith(("$${", "%%{"), i):
            out.append(text[i : i + 3])
            i += 3
        elif text.startswith(("${", "%{"), i):
            end = _matching_brace(text, i + 2)
            out.append(text[i:end].replace("\n", " "))
            i = end
        else:
            out.append({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}.get(ch, ch))
            i += 1
    out.append('"')
    return "".join(out)


def _matching_brace(text: str, i: int) -> int:
    depth, n = 1, len(text)
    while i < n and depth:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        i += 1
    return i
