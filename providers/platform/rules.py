"""The core's rule problems as plan diagnostics.

A rule is a pure function in ``core/<package>/rules.py``; a resource type calls it at plan
time on the facts it has (planned or on the platform) and turns each ``Problem`` into a
diagnostic here. Always holds: the diagnostic points at the argument's file:line (else the
block's), its detail starts with the resource's address, and a cited rule leads the summary
and is tagged (``rule_error``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers.platform.frame import rule_error, where
from sdk import PlanRequest, ValidateRequest
from sdk.diagnostics import Diagnostic, error

if TYPE_CHECKING:
    from core.problems import Problem


def problem_diagnostic(
    req: ValidateRequest | PlanRequest, problem: Problem, attr: str
) -> Diagnostic:
    """The plan error for ``problem``, at the argument ``attr``."""
    detail, at = f"{req.address}: {problem.fix}", where(req, attr)
    if problem.cited:
        return rule_error(problem.rule, problem.summary, detail, at, req.address)
    return error(problem.summary, detail, at, address=req.address)
