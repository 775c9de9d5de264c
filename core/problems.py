"""A platform rule's verdict on typed facts: a list of ``Problem``, empty when the rule holds.

Rule functions (``core/<package>/rules.py``) are pure: facts in, problems out, no I/O. The
provider turns each problem into a diagnostic at plan time; the core calls ``enforce`` on the
same function's problems at apply time. Always holds: ``enforce`` raises ``CoreError`` with
the first problem's text and returns when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import CoreError


@dataclass(frozen=True)
class Problem:
    """One reason a rule refuses the facts: its id, what is wrong, why and what to do."""

    rule: str  # the rule id, "RP-10"
    summary: str  # what is wrong, short
    fix: str  # why, and what to do
    about: str = ""  # the fact it is about (a disk id), for the caller to point at
    cited: bool = True  # plan diagnostics name the rule (False: a plain error, as before)

    def message(self, context: str = "") -> str:
        text = f"{self.summary}; {self.fix}"
        return f"{context}: {text}" if context else text


def enforce(problems: Sequence[Problem], context: str = "") -> None:
    """Raise ``CoreError`` with the first problem (prefixed by ``context``), if any."""
    if problems:
        raise CoreError(problems[0].message(context))
