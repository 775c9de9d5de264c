"""Plans as Terraform prints them: the legend, one block per instance, drift, outputs, totals
(and, first, what the plan reconciled of an interrupted apply).

Always holds: a sensitive attribute reads ``(sensitive value)``, an unknown one
``(known after apply)``; a replacement marks its forcing attributes ``# forces
replacement``; notes and cost appear under their instance and the cost is totalled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.text import Text

from engine.plan import Action, Change, OutputChange, Plan
from engine.render.common import (
    KNOWN_AFTER,
    LEGEND,
    PRODUCT,
    SENSITIVE,
    SHOWN_UNCHANGED,
    STYLE,
    cost_phrase,
    format_value,
    line,
)
from sdk.addrs import InstanceAddr
from sdk.values import UNKNOWN


# -------------------------------------------------------------------- resources
def _attr(text: Text, sym: str, name: str, width: int, value: str, suffix: str = "") -> None:
    text.append("      ")
    text.append(sym, style=STYLE.get(sym))
    text.append(f" {name:<{width}} = {value}")
    if suffix:
        text.append(suffix, style="dim")
    text.append("\n")


def _val(change: Change, key: str, value: Any) -> str:
    if key in change.sensitive_attrs and value is not None and value is not UNKNOWN:
        return SENSITIVE
    return format_value(value, 8)


_GONE = {"expired": "expired", "revoked": "been revoked"}  # why a drifted object is gone


def _header(change: Change, drift: bool) -> str:
    a, reason = change.address, change.reason or ""
    if drift and change.action is Action.DELETE:
        return f"{a} has {_GONE.get(reason, 'been deleted')}"
    if drift:
        return f"{a} has changed"
    if change.action is Action.CREATE:
        return f"{a} will be created"
    if change.action is Action.UPDATE:
        return f"{a} will be updated in-place"
    if change.action is Action.DELETE:
        return f"{a} will be destroyed"
    if change.action is Action.READ:
        return f"{a} will be read during apply"
    if "tainted" in reason:
        return f"{a} is tainted, so must be replaced"
    if reason == "replace_by_request":
        return f"{a} will be replaced, as requested"
    if reason == "replace_by_triggers":
        return f"{a} will be replaced due to changes in replace_triggered_by"
    return f"{a} must be replaced"


def _because(change: Change) -> str | None:
    reason = change.reason or ""
    if change.action is not Action.DELETE:
        return None
    try:
        addr = InstanceAddr.parse(change.address)
    except ValueError:
        addr = None
    if reason == "delete_because_no_resource_config":
        base = str(addr.resource) if addr else change.address
        return f"(because {base} is not in configuration)"
    if reason == "delete_because_count_index" and addr is not None:
        return f"(because index [{addr.key}] is out of range for count)"
    if reason == "delete_because_each_key" and addr is not None:
        return f"(because key [{json.dumps(addr.key)}] is not in for_each map)"
    if reason == "delete_because_destroy":
        return None
    return None


def _body(text: Text, change: Change, drift: bool) -> None:
    before, after = change.before or {}, change.after or {}
    action = change.action
    rows: list[tuple[str, str, str, str]] = []  # sym, name, value, suffix
    hidden = 0
    if action is Action.CREATE:
        for k in sorted(after):
            if after[k] is not None:
                rows.append(("+", k, _val(change, k, after[k]), ""))
    elif action is Action.DELETE:
        for k in sorted(before):
            if before[k] is not None:
                rows.append(("-", k, f"{_val(change, k, before[k])} -> null", ""))
    else:
        forces = set(change.replace_paths) if action.is_replace else set()
        for k in sorted(set(before) | set(after)):
            b, a = before.get(k), after.get(k)
            suffix = " # forces replacement" if k in forces else ""
            if a is UNKNOWN:
                if b is None:
                    rows.append(("+", k, KNOWN_AFTER, suffix))
                else:
                    rows.append(("~", k, f"{_val(change, k, b)} -> {KNOWN_AFTER}", suffix))
            elif a == b:
                if k in SHOWN_UNCHANGED and a is not None and not drift:
                    rows.append((" ", k, _val(change, k, a), ""))
                else:
                    hidden += 1
            elif b is None:
                rows.append(("+", k, _val(change, k, a), suffix))
            elif a is None:
                rows.append(("-", k, f"{_val(change, k, b)} -> null", suffix))
            else:
                value = f"{_val(change, k, b)} -> {_val(change, k, a)}"
                if k in change.sensitive_attrs:
                    value = SENSITIVE
                rows.append(("~", k, value, suffix))
    width = max((len(r[1]) for r in rows), default=0)
    for sym, name, value, suffix in rows:
        _attr(text, sym, name, width, value, suffix)
    if hidden:
        noun = "attribute" if hidden == 1 else "attributes"
        line(text, f"        # ({hidden} unchanged {noun} hidden)", "dim")
    if not drift:
        for note in change.notes:
            line(text, f"        # note: {note}", "dim")
        phrase = cost_phrase(change.cost, change.cost_words)
        if phrase:
            line(text, f"        # cost: {phrase}", "dim")


def change_text(change: Change, *, drift: bool = False) -> Text:
    """One resource instance's block: ``# header``, ``+ resource "T" "N" {`` … ``}``."""
    text = Text()
    line(text, f"  # {_header(change, drift)}", "bold")
    because = _because(change)
    if because and not drift:
        line(text, f"  # {because}", "bold")
    sym = "~" if drift and change.action is Action.UPDATE else change.action.symbol
    text.append(f"{sym:>3}", style=STYLE.get(sym))
    text.append(f' resource "{change.type}" "{change.name}" {{\n')
    _body(text, change, drift)
    line(text, "    }")
    return text


# ------------------------------------------------------------------------ plans
def _outputline(text: Text, o: OutputChange, width: int) -> None:
    sym = o.action.symbol.strip() or " "
    if o.sensitive:
        value = SENSITIVE
    elif o.action is Action.CREATE:
        value = format_value(o.after, 2)
    elif o.action is Action.DELETE:
        value = f"{format_value(o.before, 2)} -> null"
    else:
        value = f"{format_value(o.before, 2)} -> {format_value(o.after, 2)}"
    text.append("  ")
    text.append(sym, style=STYLE.get(sym))
    text.append(f" {o.name:<{width}} = {value}\n")


def outputs_changes_text(outputs: Iterable[OutputChange]) -> Text:
    changed = [o for o in outputs if o.action is not Action.NOOP]
    text = Text()
    if not changed:
        return text
    line(text, "Changes to Outputs:")
    width = max(len(o.name) for o in changed)
    for o in changed:
        _outputline(text, o, width)
    return text


def drift_text(plan: Plan, *, everything: bool = False) -> Text:
    """ "Objects have changed outside of bcdr" and each drifted instance; empty if none.
    ``everything``: the changes of observed attributes too (a refresh-only plan's)."""
    text = Text()
    outside = plan.drift if everything else plan.outside_changes()
    if not outside:
        return text
    line(text, "")
    line(text, f"Note: Objects have changed outside of {PRODUCT}", "bold")
    line(text, "")
    line(
        text,
        f"{PRODUCT} detected the following changes made outside of {PRODUCT} since the last "
        f'"{PRODUCT} apply":',
    )
    for change in outside:
        line(text, "")
        text.append_text(change_text(change, drift=True))
    return text


_RECONCILED = {
    "adopted": "adopted an object left by an interrupted apply (tainted)",
    "removed": "removed from the state: an interrupted apply deleted it",
}


def reconciled_lines(plan: Plan) -> list[str]:
    """One line per intent of an interrupted apply the plan reconciled."""
    out = []
    for r in plan.reconciled:
        what = _RECONCILED.get(r.outcome)
        if what is None:  # dropped
            what = (
                f"an interrupted {r.action.value} made nothing; planned again"
                if r.action is not Action.UPDATE and r.action is not Action.DELETE
                else f"an interrupted {r.action.value}; refreshed from the platform"
            )
        out.append(f"{r.address}: {what}")
    return out


def reconciled_text(plan: Plan) -> Text:
    """ "Reconciled an interrupted apply" and a line per instance; empty if none."""
    text = Text()
    if not plan.reconciled:
        return text
    line(text, "")
    line(text, "Note: Reconciled what an interrupted apply left", "bold")
    line(text, "")
    for entry in reconciled_lines(plan):
        line(text, f"  {entry}")
    return text


def plan_totals(plan: Plan) -> tuple[dict[str, int], dict[str, str]]:
    """The plan's cost, summed by key, and the providers' words for each key."""
    totals: dict[str, int] = {}
    words: dict[str, str] = {}
    for change in plan.changes:
        for key, n in change.cost.items():
            totals[key] = totals.get(key, 0) + n
        words.update(change.cost_words)
    return totals, words


def plan_text(plan: Plan) -> Text:
    """The whole plan as ``bcdr plan`` prints it (without the note about ``-out``), with
    the checks not known yet (a failed one is a warning, printed with the warnings)."""
    text = _plan_text(plan)
    text.append_text(checks_text(plan))
    return text


def checks_text(plan: Plan) -> Text:
    """One line per check block whose result is known only after apply."""
    text = Text()
    pending = [c for c in plan.checks if c.kind == "check" and c.status == "unknown"]
    if pending:
        line(text, "")
        for c in pending:
            line(text, f"{c.address}: known after apply (judged when the apply ends)")
    return text


def _plan_text(plan: Plan) -> Text:
    text = reconciled_text(plan)
    text.append_text(drift_text(plan, everything=plan.mode == "refresh-only"))
    changes = plan.resource_changes()
    outputs = outputs_changes_text(plan.outputs)
    if plan.mode == "refresh-only":
        if not plan.drift:
            line(text, "")
            line(text, "No changes. Your infrastructure still matches the configuration.", "bold")
            line(text, "")
            line(
                text,
                f"{PRODUCT} has checked that the real remote objects still match the result of "
                "your most recent changes, and found no differences.",
            )
        else:
            line(text, "")
            line(
                text,
                f"This is a refresh-only plan, so {PRODUCT} will not take any actions to undo "
                "these. If you were expecting these changes then you can apply this plan to "
                f"record the updated values in the {PRODUCT} state without changing any remote "
                "objects.",
            )
        return text
    refactored = plan.moves or plan.forget or plan.imports
    if not changes and not outputs.plain and not refactored:
        line(text, "")
        if plan.mode == "destroy":
            line(text, "No changes. No objects need to be destroyed.", "bold")
            line(text, "")
            line(
                text,
                "Either you have not created any objects yet or the existing objects were "
                f"already deleted outside of {PRODUCT}.",
            )
        else:
            line(text, "No changes. Your infrastructure matches the configuration.", "bold")
            line(text, "")
            line(
                text,
                f"{PRODUCT} has compared your real infrastructure against your configuration "
                "and found no differences, so no changes are needed.",
            )
        return text
    if changes or refactored:
        if changes:
            line(text, "")
            line(
                text,
                f"{PRODUCT} used the selected providers to generate the following execution "
                "plan. Resource actions are indicated with the following symbols:",
            )
            present = {c.action for c in changes}
            for action, words in LEGEND.items():
                if action in present:
                    sym = action.symbol
                    text.append(f"{sym:>3}", style=STYLE.get(sym))
                    text.append(f" {words}\n")
        line(text, "")
        line(text, f"{PRODUCT} will perform the following actions:")
        moved_from = {m.dst: m.src for m in plan.moves}
        imported = {i.address: i.id for i in plan.imports}
        for change in changes:
            line(text, "")
            if change.address in moved_from:
                line(text, f"  # (moved from {moved_from.pop(change.address)})")
            if change.address in imported:
                line(text, f"  # (imported from {json.dumps(imported.pop(change.address))})")
            text.append_text(change_text(change))
        for address, id in imported.items():  # imports with nothing else to do
            line(text, "")
            line(text, f"  # {address} will be imported", "bold")
            line(text, f"    (id {json.dumps(id)})")
        for dst, src in moved_from.items():  # moves with nothing else to do
            line(text, "")
            line(text, f"  # {src} has moved to {dst}", "bold")
        for address in plan.forget:
            line(text, "")
            line(text, f"  # {address} will no longer be managed by {PRODUCT}", "bold")
            line(text, "    (removed from the state; the object itself is not destroyed)")
        line(text, "")
        add, chg, destroy = plan.counts()
        forget = f", {len(plan.forget)} to forget" if plan.forget else ""
        imports = f"{len(plan.imports)} to import, " if plan.imports else ""
        line(
            text,
            f"Plan: {imports}{add} to add, {chg} to change, {destroy} to destroy{forget}.",
            "bold",
        )
        phrase = cost_phrase(*plan_totals(plan))
        if phrase:
            line(text, f"Cost: {phrase}.", "bold")
    if outputs.plain:
        line(text, "")
        text.append_text(outputs)
        if not changes:
            line(text, "")
            line(
                text,
                "You can apply this plan to save these new output values to the "
                f"{PRODUCT} state, without changing any real infrastructure.",
            )
    return text


def plan_json(plan: Plan) -> dict[str, Any]:
    """Terraform-shaped JSON: ``resource_changes``, ``resource_drift``, ``output_changes``,
    ``checks``."""
    return plan.to_json()
