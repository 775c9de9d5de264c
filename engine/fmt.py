"""``bcdr fmt``: the canonical layout of HCL source text.

Rules: two spaces of indent per level of ``{ [ (``; in a run of consecutive argument
lines at the same level the ``=`` signs line up (``name  = value``), as ``terraform fmt``
does: a line that opens a multi-line value (``tags = {``) is not aligned and ends the run;
at most one blank line in a row, and exactly one between top-level blocks; no trailing
spaces; one final newline. Comments, strings and heredoc bodies are kept as written.
Always holds: the output parses to the same configuration, and ``format_source`` is
idempotent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.config import check_syntax

_HEREDOC_RE = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\s*$")
_ATTR_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*=(?![=>])\s*(.*)$")
_OPEN = "{[("
_CLOSE = "}])"


@dataclass
class _Line:
    text: str  # stripped of trailing space; leading space too unless verbatim
    verbatim: bool  # inside a heredoc, a block comment or a multi-line string
    depth: int  # bracket depth at the start of the line
    closers: int  # closing brackets at the start of the line
    depth_end: int


class _Scanner:
    """Walks the text line by line, tracking brackets outside strings and comments."""

    def __init__(self) -> None:
        self.depth = 0
        self.stack: list[list[int]] = []  # open strings/interpolations: [kind, braces]
        self.heredoc: str | None = None
        self.in_comment = False

    def line(self, raw: str) -> _Line:
        raw = raw.rstrip()
        if self.heredoc is not None:
            if raw.strip() == self.heredoc:
                self.heredoc = None
                return _Line(raw.strip(), False, self.depth, 0, self.depth)
            return _Line(raw, True, self.depth, 0, self.depth)
        verbatim = self.in_comment or bool(self.stack)
        text = raw if verbatim else raw.strip()
        start = self.depth
        closers = 0
        if not verbatim:
            for ch in text:
                if ch in _CLOSE:
                    closers += 1
                elif ch not in " \t":
                    break
        self._scan(text)
        if not verbatim and not self.stack and not self.in_comment:
            m = _HEREDOC_RE.search(_strip_comment(text))
            if m:
                self.heredoc = m.group(1)
        return _Line(text, verbatim, start, closers, self.depth)

    def _scan(self, text: str) -> None:
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if self.in_comment:
                end = text.find("*/", i)
                if end < 0:
                    return
                self.in_comment = False
                i = end + 2
                continue
            if self.stack and self.stack[-1][0] == 0:  # inside a string
                if ch == "\\":
                    i += 2
                    continue
                if ch == '"':
                    self.stack.pop()
                elif text.startswith(("$${", "%%{"), i):
                    i += 3
                    continue
                elif text.startswith(("${", "%{"), i):
                    self.stack.append([1, 0])
                    i += 2
                    continue
                i += 1
                continue
            # code: top level or inside an interpolation
            if ch == '"':
                self.stack.append([0, 0])
            elif ch == "#" or text.startswith("//", i):
                return
            elif text.startswith("/*", i):
                self.in_comment = True
                i += 2
                continue
            elif ch in _OPEN:
                if self.stack:
                    self.stack[-1][1] += 1
                else:
                    self.depth += 1
            elif ch in _CLOSE:
                if self.stack:
                    if ch == "}" and self.stack[-1][1] == 0:
                        self.stack.pop()  # end of ${...}
                    else:
                        self.stack[-1][1] -= 1
                else:
                    self.depth = max(0, self.depth - 1)
            i += 1


def _strip_comment(text: str) -> str:
    """The line without a trailing # or // comment (quotes respected, roughly)."""
    in_str = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and in_str:
            i += 2
            continue
        if ch == '"':
            in_str = not in_str
        elif not in_str and (ch == "#" or text.startswith("//", i)):
            return text[:i]
        i += 1
    return text


def format_source(text: str, filename: str = "<input>") -> str:
    """Return ``text`` in canonical layout; ValueError ("file:line: ...") if not valid HCL."""
    check_syntax(text, filename)
    scanner = _Scanner()
    lines = [scanner.line(raw) for raw in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    attr_run: list[tuple[int, str, str, int]] = []  # (out index, name, rest, indent)

    def flush() -> None:
        if not attr_run:
            return
        width = max(len(name) for _, name, _, _ in attr_run)
        for idx, name, rest, indent in attr_run:
            out[idx] = " " * indent + name.ljust(width) + " = " + rest
        attr_run.clear()

    prev_closed_top = False
    for ln in lines:
        if ln.verbatim:
            flush()
            out.append(ln.text)
            prev_closed_top = False
            continue
        if not ln.text:
            flush()
            if out and out[-1] != "":
                out.append("")
            prev_closed_top = False
            continue
        if prev_closed_top and out and out[-1] != "":
            flush()
            out.append("")
        indent = 2 * max(0, ln.depth - ln.closers)
        m = _ATTR_RE.match(ln.text)
        if m and ln.closers == 0 and ln.depth_end == ln.depth:
            if attr_run and attr_run[-1][3] != indent:
                flush()
            attr_run.append((len(out), m.group(1), m.group(2), indent))
            out.append("")  # filled in by flush()
        elif m and ln.closers == 0:
            flush()  # a multi-line argument is not aligned and ends the run (terraform fmt)
            out.append(" " * indent + m.group(1) + " = " + m.group(2))
        else:
            flush()
            out.append(" " * indent + ln.text)
        prev_closed_top = ln.depth_end == 0 and ln.depth > 0
    flush()
    while out and out[-1] == "":
        out.pop()
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(out) + "\n" if out else ""
