"""Diagnostics: how user mistakes travel from where they are found to the CLI.

A user mistake is never an exception that reaches the user: it becomes a ``Diagnostic``
(severity, summary, detail, where, which rule) and all of them are reported together.
A bug is an exception. Always holds: a ``Diagnostic`` is immutable and JSON-friendly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class SourceRange(NamedTuple):
    """A place in a spec file: ``filename`` as the user knows it (relative), 1-based line.

    A named tuple: every node of a parsed configuration carries one, so the parse cache
    holds tens of thousands, and a tuple is read back from it about twice as fast as a
    dataclass (``Diagnostic.to_json`` writes it as an object, as before)."""

    filename: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``summary`` says what is wrong; ``detail`` says where and what to do."""

    severity: Severity
    summary: str
    detail: str = ""
    range: SourceRange | None = None
    address: str | None = None
    rule: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "summary": self.summary,
            "detail": self.detail,
            "range": None if self.range is None else self.range._asdict(),
            "address": self.address,
            "rule": self.rule,
        }


def error(
    summary: str,
    detail: str = "",
    range: SourceRange | None = None,
    *,
    address: str | None = None,
    rule: str | None = None,
) -> Diagnostic:
    return Diagnostic(Severity.ERROR, summary, detail, range, address, rule)


def warning(
    summary: str,
    detail: str = "",
    range: SourceRange | None = None,
    *,
    address: str | None = None,
    rule: str | None = None,
) -> Diagnostic:
    return Diagnostic(Severity.WARNING, summary, detail, range, address, rule)


class Diagnostics(list[Diagnostic]):
    """An ordered collection of diagnostics; ``has_errors`` decides whether to go on."""

    # no __init__ of its own: list's takes the same (an iterable of diagnostics, or none),
    # and a plan makes a Diagnostics per checked body

    @property
    def has_errors(self) -> bool:
        return bool(self) and any(d.is_error for d in self)

    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.is_error]

    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if not d.is_error]


class DiagnosticsError(Exception):
    """Raised to stop a run because of user mistakes; carries all of them."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = Diagnostics(diagnostics)
        super().__init__("; ".join(d.summary for d in self.diagnostics))
