"""Check blocks: ``check "NAME" { assert { condition, error_message } ... }``, as Terraform's.

``decode_check`` turns a top-level ``check`` block into a ``Check`` of
``engine/configmodel.py`` (one or more asserts, decoded by ``engine/conditions.py``).
``run_checks`` judges every check block at the end of a plan (against the planned values),
of an apply (against the new ones) and of a refresh-only plan or ``bcdr drift`` (against
the refreshed ones). Always holds: a failed assert is a warning, never an error, so a check
changes no plan, no apply and no exit code of ``plan -detailed-exitcode`` (as in
Terraform); an assert whose value is not known yet makes its check ``unknown`` ("known
after apply"); a destroy judges no check; nothing here knows a resource type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.conditions import decode_conditions, judge, overall
from engine.configmodel import Block, Check
from engine.plan import CheckResult
from sdk.diagnostics import Diagnostic, Diagnostics, error

if TYPE_CHECKING:
    from engine.configmodel import Config
    from engine.evaluate import Evaluator


def decode_check(block: Block, d: list[Diagnostic]) -> Check | None:
    """The check block ``block`` (one label), or None when it has no usable assert."""
    name = block.labels[0]
    where = f'check "{name}"'
    for attr in block.body.attributes.values():
        d.append(
            error(
                f'Unsupported argument "{attr.name}" in {where}',
                "a check block holds assert blocks only",
                attr.range,
            )
        )
    others = [b for b in block.body.blocks if b.type != "assert"]
    for nested in others:
        d.append(
            error(
                f'Unexpected block "{nested.type}" in {where}',
                'a check block holds assert { condition = ..., error_message = "..." } blocks',
                nested.range,
            )
        )
    asserts = decode_conditions(block.body.blocks, ("assert",), where, d)["assert"]
    if not any(b.type == "assert" for b in block.body.blocks):
        d.append(
            error(
                f"{where} has no assert block",
                'write at least one assert { condition = ..., error_message = "..." }',
                block.range,
            )
        )
    return Check(name, asserts, block.range) if asserts else None


def run_checks(config: Config, ev: Evaluator) -> tuple[list[CheckResult], Diagnostics]:
    """Judge every check block with the values ``ev`` holds: (results, warnings)."""
    results: list[CheckResult] = []
    diags = Diagnostics()
    ctx = ev.context()
    for name, check in sorted(config.checks.items()):
        address = f"check.{name}"
        statuses: list[str] = []
        messages: list[str] = []
        for cond in check.asserts:
            verdict = judge(cond, ctx, address)
            statuses.append(verdict.status)
            if verdict.message:
                messages.append(verdict.message)
            if verdict.problem is not None:
                diags.append(verdict.problem)
        results.append(CheckResult("check", address, overall(statuses), messages))
    return results, diags
