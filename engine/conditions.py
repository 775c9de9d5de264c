"""Custom conditions: ``precondition``, ``postcondition`` and ``assert`` blocks, decoded and judged.

A resource's ``lifecycle`` holds preconditions and postconditions, an ``output`` holds
preconditions, a ``check`` block holds asserts (``engine/checks.py``); each is a
``Condition`` of ``engine/configmodel.py``. ``decode_conditions`` checks the blocks as
Terraform does: ``condition`` and ``error_message`` are both given, a condition refers to
something (else it could check nothing), ``error_message`` is a string, and ``self`` is
for postconditions only. ``judge`` evaluates one condition to a ``Verdict``;
``ConditionJudge`` is what the planner and the applier call for a resource instance or an
output, recording each object's result (``CheckResult``) for the plan's ``checks``.
Always holds: a failed condition is an error at the condition's file:line carrying its
error_message (a warning for an assert); a condition whose value is not known yet is
``unknown`` (judged again at apply), never a failure; a sensitive error_message is not
shown; nothing here knows a resource type.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engine.configmodel import Block, Condition
from engine.expr import evaluate_marked, references, static_value
from engine.exprnodes import EvalContext, EvalError
from engine.plan import CheckResult
from sdk.diagnostics import Diagnostic, Diagnostics, Severity, error
from sdk.values import UNKNOWN, is_wholly_known, mark_paths

SUMMARIES = {
    "precondition": "Resource precondition failed",
    "postcondition": "Resource postcondition failed",
    "output": "Output value precondition failed",
    "assert": "Check block assertion failed",
}
_HIDDEN = "The error message included a sensitive value, so it will not be displayed."


def decode_conditions(
    blocks: list[Block], kinds: tuple[str, ...], where: str, d: list[Diagnostic]
) -> dict[str, list[Condition]]:
    """The condition blocks of ``kinds`` among ``blocks``, by kind (each kind present)."""
    out: dict[str, list[Condition]] = {k: [] for k in kinds}
    for block in blocks:
        if block.type not in kinds:
            continue
        attrs = block.body.attributes
        extra = [n for n in attrs if n not in ("condition", "error_message")]
        for name in extra:
            d.append(
                error(
                    f'Unsupported argument "{name}" in {_a(block.type)} block of {where}',
                    "a condition block holds condition and error_message only",
                    attrs[name].range,
                )
            )
        for nested in block.body.blocks:
            d.append(
                error(
                    f'Unexpected block "{nested.type}" in {_a(block.type)} block', "", nested.range
                )
            )
        cond, msg = attrs.get("condition"), attrs.get("error_message")
        if cond is None or msg is None:
            missing = "condition" if cond is None else "error_message"
            d.append(
                error(
                    f"{_a(block.type).capitalize()} block of {where} has no {missing}",
                    f'write {block.type} {{ condition = EXPRESSION, error_message = "..." }}',
                    block.range,
                )
            )
            continue
        refs = references(cond.expr)
        if not refs:
            d.append(
                error(
                    f"Invalid {block.type} expression",
                    f"{cond.range}: the condition must refer to at least one object from "
                    "elsewhere in the configuration (a variable, a resource, self...), or "
                    "else its result would not be checking anything",
                    cond.range,
                )
            )
        if block.type != "postcondition":
            for ref in [*refs, *references(msg.expr)]:
                if ref.kind == "self":
                    d.append(
                        error(
                            f'Invalid "self" in {_a(block.type)} of {where}',
                            f"{ref.range}: self is the resource's new object, known only "
                            "after its plan: use it in a postcondition, or refer to other "
                            "objects here",
                            ref.range,
                        )
                    )
        try:
            message = static_value(msg.expr)
        except EvalError:
            message = ""  # it refers to something: judged when evaluated
        if not isinstance(message, str):
            d.append(
                error(
                    f"Invalid error_message in {_a(block.type)} block of {where}",
                    f"{msg.range}: error_message must be a string, not {message!r}",
                    msg.range,
                )
            )
            continue
        out[block.type].append(Condition(block.type, cond.expr, msg.expr, cond.range))
    return out


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


@dataclass
class Verdict:
    """What one condition came to: ``pass``, ``fail``, ``unknown`` or ``error`` (it could
    not be evaluated); ``message`` is the error_message of a failure, ``problem`` the
    diagnostic of a failure or an error."""

    status: str
    message: str = ""
    problem: Diagnostic | None = None


def judge(cond: Condition, ctx: EvalContext, address: str, kind: str = "") -> Verdict:
    """Evaluate ``cond`` in ``ctx``; a failure is an error, or a warning for an assert."""
    severity = Severity.WARNING if cond.kind == "assert" else Severity.ERROR

    def invalid(detail: str, rng: Any) -> Verdict:
        summary = f"Invalid {cond.kind} result"
        return Verdict("error", "", _diag(severity, summary, detail, rng, address))

    try:
        value, _ = evaluate_marked(cond.condition, ctx)
    except EvalError as err:
        detail = f"{err.summary}: {err.detail}" if err.detail else err.summary
        return invalid(detail, err.range or cond.range)
    if value is UNKNOWN:
        return Verdict("unknown")
    if value in ("true", "false"):
        value = value == "true"
    if not isinstance(value, bool):
        shown = "null" if value is None else repr(value)
        return invalid(f"the condition must be true or false, not {shown}", cond.range)
    if value:
        return Verdict("pass")
    message = _message(cond, ctx)
    summary = SUMMARIES[kind or cond.kind]
    return Verdict("fail", message, _diag(severity, summary, message, cond.range, address))


def _message(cond: Condition, ctx: EvalContext) -> str:
    try:
        value, marked = evaluate_marked(cond.error_message, ctx)
    except EvalError as err:
        return f"(the error_message could not be evaluated: {err.summary})"
    if marked:
        return _HIDDEN
    if not isinstance(value, str) or not is_wholly_known(value):
        return "(the error_message is not a known string)"
    return value


def _diag(severity: Severity, summary: str, detail: str, rng: Any, address: str) -> Diagnostic:
    return Diagnostic(severity, summary, f"{rng}: {detail}" if rng else detail, rng, address)


class ConditionJudge:
    """The conditions of one plan or apply: judged per resource instance or output, with
    each object's result kept (``results``, by address) for the plan's ``checks``."""

    def __init__(self) -> None:
        self.results: dict[str, CheckResult] = {}

    def check(
        self,
        conditions: list[Condition],
        ctx: EvalContext,
        address: str,
        kind: str,
        *,
        final: bool = False,
    ) -> Diagnostics:
        """Judge ``conditions`` of the object at ``address`` (``kind``: ``resource`` or
        ``output_value``); ``final``: at apply, where a value still unknown is a failure
        to check. Returns the failures (errors) and records the object's result."""
        diags = Diagnostics()
        if not conditions:
            return diags
        statuses: list[str] = []
        messages: list[str] = []
        for cond in conditions:
            verdict = judge(cond, ctx, address, "output" if kind == "output_value" else "")
            if verdict.status == "unknown" and final:
                rng = cond.range
                verdict = Verdict(
                    "error",
                    "",
                    error(
                        f"Invalid {cond.kind} result",
                        f"{rng}: the condition's value is still unknown after apply",
                        rng,
                        address=address,
                    ),
                )
            statuses.append(verdict.status)
            if verdict.message:
                messages.append(verdict.message)
            if verdict.problem is not None:
                diags.append(verdict.problem)
        prior = self.results.get(address)
        if prior is not None:  # pre- and postconditions of one instance: one result
            statuses.append(prior.status)
            messages = [*prior.problems, *messages]
        self.results[address] = CheckResult(kind, address, overall(statuses), messages)
        return diags


def overall(statuses: list[str]) -> str:
    """Terraform's aggregate: any error, else any fail, else any unknown, else pass."""
    for status in ("error", "fail", "unknown"):
        if status in statuses:
            return status
    return "pass"


def with_self(ctx: EvalContext, value: Any, sensitive: list[str]) -> EvalContext:
    """``ctx`` with ``self`` bound to an instance's object (its ``sensitive`` paths marked)."""
    return replace(ctx, self_value=mark_paths(value, sensitive), has_self=True)
