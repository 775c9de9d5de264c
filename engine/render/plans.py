"""Plans, diagnostics, apply events and state → terminal text (rich ``Text``) and JSON.

Pure formatting: no I/O, no decisions about what to do. Wording and symbols follow
Terraform where they mean the same (``+ create``, ``~ update in-place``, ``-/+``...).
Always holds: a sensitive value is never put into text (it reads ``(sensitive value)``),
a value known only after apply reads ``(known after apply)``, and the plain text of
every function's result (``Text.plain``) is what ``-no-color`` prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rich.text import Text

from engine.addrs import InstanceAddr
from engine.diagnostics import Diagnostic
from engine.plan import Action, Change, OutputChange, Plan
from engine.values import UNKNOWN

KNOWN_AFTER = "(known after apply)"
SENSITIVE = "(sensitive value)"
PRODUCT = "bcdr"

_STYLE = {"+": "green", "-": "red", "~": "yellow", "-/+": "magenta", "+/-": "magenta"}
_LEGEND = {
    Action.CREATE: "create",
    Action.UPDATE: "update in-place",
    Action.DELETE_THEN_CREATE: "destroy and then create replacement",
    Action.CREATE_THEN_DELETE: "create replacement and then destroy",
    Action.DELETE: "destroy",
    Action.READ: "read (data resources)",
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_SHOWN_UNCHANGED = ("id", "name")


# ------------------------------------------------------------------------- values
def format_value(value: Any, indent: int = 0) -> str:
    """HCL-like text of a value; nested lines are indented from column ``indent``."""
    if value is UNKNOWN:
        return KNOWN_AFTER
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    pad = " " * (indent + 4)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{pad}{format_value(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = {k: (k if _IDENT.match(str(k)) else json.dumps(str(k))) for k in value}
        width = max(len(k) for k in keys.values())
        items = [
            f"{pad}{keys[k]:<{width}} = {format_value(v, indent + 4)}" for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    return json.dumps(str(value))


def human_bytes(n: int | float) -> str:
    """1536 → ``1.5 KiB``; exact below 1 KiB."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def format_elapsed(seconds: float) -> str:
    """Terraform's ``0s``, ``12s``, ``1m5s``."""
    s = int(seconds)
    return f"{s // 60}m{s % 60}s" if s >= 60 else f"{s}s"


def cost_phrase(cost: Mapping[str, int | float]) -> str:
    """``{"bytes_to_snapshot": 2048}`` → ``2.0 KiB to snapshot``; zero items left out."""
    parts = []
    for key, n in cost.items():
        if not n:
            continue
        if key == "bytes_to_snapshot":
            parts.append(f"{human_bytes(n)} to snapshot")
        elif key == "bytes_to_copy":
            parts.append(f"{human_bytes(n)} to copy across regions")
        elif key == "blocks_to_restore":
            parts.append(f"{n} blocks to restore")
        elif key.startswith("bytes_"):
            parts.append(f"{human_bytes(n)} {key[6:].replace('_', ' ')}")
        else:
            parts.append(f"{key.replace('_', ' ')}: {n}")
    return ", ".join(parts)


# -------------------------------------------------------------------- resources
def _line(text: Text, s: str, style: str | None = None) -> None:
    text.append(s, style=style)
    text.append("\n")


def _attr(text: Text, sym: str, name: str, width: int, value: str, suffix: str = "") -> None:
    text.append("      ")
    text.append(sym, style=_STYLE.get(sym))
    text.append(f" {name:<{width}} = {value}")
    if suffix:
        text.append(suffix, style="dim")
    text.append("\n")


def _val(change: Change, key: str, value: Any) -> str:
    if key in change.sensitive_attrs and value is not None and value is not UNKNOWN:
        return SENSITIVE
    return format_value(value, 8)


def _header(change: Change, drift: bool) -> str:
    a, reason = change.address, change.reason or ""
    if drift:
        return f"{a} has been deleted" if change.action is Action.DELETE else f"{a} has changed"
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
                if k in _SHOWN_UNCHANGED and a is not None and not drift:
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
        _line(text, f"        # ({hidden} unchanged {noun} hidden)", "dim")
    if not drift:
        for note in change.notes:
            _line(text, f"        # note: {note}", "dim")
        if cost_phrase(change.cost):
            _line(text, f"        # cost: {cost_phrase(change.cost)}", "dim")


def change_text(change: Change, *, drift: bool = False) -> Text:
    """One resource instance's block: ``# header``, ``+ resource "T" "N" {`` … ``}``."""
    text = Text()
    _line(text, f"  # {_header(change, drift)}", "bold")
    because = _because(change)
    if because and not drift:
        _line(text, f"  # {because}", "bold")
    sym = "~" if drift and change.action is Action.UPDATE else change.action.symbol
    text.append(f"{sym:>3}", style=_STYLE.get(sym))
    text.append(f' resource "{change.type}" "{change.name}" {{\n')
    _body(text, change, drift)
    _line(text, "    }")
    return text


# ------------------------------------------------------------------------ plans
def _output_line(text: Text, o: OutputChange, width: int) -> None:
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
    text.append(sym, style=_STYLE.get(sym))
    text.append(f" {o.name:<{width}} = {value}\n")


def outputs_changes_text(outputs: Iterable[OutputChange]) -> Text:
    changed = [o for o in outputs if o.action is not Action.NOOP]
    text = Text()
    if not changed:
        return text
    _line(text, "Changes to Outputs:")
    width = max(len(o.name) for o in changed)
    for o in changed:
        _output_line(text, o, width)
    return text


def drift_text(plan: Plan) -> Text:
    """ "Objects have changed outside of bcdr" and each drifted instance; empty if none."""
    text = Text()
    if not plan.drift:
        return text
    _line(text, "")
    _line(text, f"Note: Objects have changed outside of {PRODUCT}", "bold")
    _line(text, "")
    _line(
        text,
        f"{PRODUCT} detected the following changes made outside of {PRODUCT} since the last "
        f'"{PRODUCT} apply":',
    )
    for change in plan.drift:
        _line(text, "")
        text.append_text(change_text(change, drift=True))
    return text


def plan_totals(plan: Plan) -> dict[str, int]:
    totals: dict[str, int] = {}
    for change in plan.changes:
        for key, n in change.cost.items():
            totals[key] = totals.get(key, 0) + n
    return totals


def plan_text(plan: Plan) -> Text:
    """The whole plan as ``bcdr plan`` prints it (without the note about ``-out``)."""
    text = drift_text(plan)
    changes = plan.resource_changes()
    outputs = outputs_changes_text(plan.outputs)
    if plan.mode == "refresh-only":
        if not plan.drift:
            _line(text, "")
            _line(text, "No changes. Your infrastructure still matches the configuration.", "bold")
            _line(text, "")
            _line(
                text,
                f"{PRODUCT} has checked that the real remote objects still match the result of "
                "your most recent changes, and found no differences.",
            )
        else:
            _line(text, "")
            _line(
                text,
                f"This is a refresh-only plan, so {PRODUCT} will not take any actions to undo "
                "these. If you were expecting these changes then you can apply this plan to "
                f"record the updated values in the {PRODUCT} state without changing any remote "
                "objects.",
            )
        return text
    if not changes and not outputs.plain:
        _line(text, "")
        if plan.mode == "destroy":
            _line(text, "No changes. No objects need to be destroyed.", "bold")
            _line(text, "")
            _line(
                text,
                "Either you have not created any objects yet or the existing objects were "
                f"already deleted outside of {PRODUCT}.",
            )
        else:
            _line(text, "No changes. Your infrastructure matches the configuration.", "bold")
            _line(text, "")
            _line(
                text,
                f"{PRODUCT} has compared your real infrastructure against your configuration "
                "and found no differences, so no changes are needed.",
            )
        return text
    if changes:
        _line(text, "")
        _line(
            text,
            f"{PRODUCT} used the selected providers to generate the following execution plan. "
            "Resource actions are indicated with the following symbols:",
        )
        present = {c.action for c in changes}
        for action, words in _LEGEND.items():
            if action in present:
                sym = action.symbol
                text.append(f"{sym:>3}", style=_STYLE.get(sym))
                text.append(f" {words}\n")
        _line(text, "")
        _line(text, f"{PRODUCT} will perform the following actions:")
        for change in changes:
            _line(text, "")
            text.append_text(change_text(change))
        _line(text, "")
        add, chg, destroy = plan.counts()
        _line(text, f"Plan: {add} to add, {chg} to change, {destroy} to destroy.", "bold")
        phrase = cost_phrase(plan_totals(plan))
        if phrase:
            _line(text, f"Cost: {phrase}.", "bold")
    if outputs.plain:
        _line(text, "")
        text.append_text(outputs)
        if not changes:
            _line(text, "")
            _line(
                text,
                "You can apply this plan to save these new output values to the "
                f"{PRODUCT} state, without changing any real infrastructure.",
            )
    return text


def plan_json(plan: Plan) -> dict[str, Any]:
    """Terraform-shaped JSON: ``resource_changes``, ``resource_drift``, ``output_changes``."""
    return plan.to_json()


# ------------------------------------------------------------------ diagnostics
def _context(address: str | None) -> str:
    if not address:
        return ""
    head, _, rest = address.partition(".")
    if head == "var":
        return f', in variable "{rest}"'
    if head == "output":
        return f', in output "{rest}"'
    if head == "local":
        return ", in locals"
    if head == "provider":
        return f', in provider "{rest}"'
    try:
        addr = InstanceAddr.parse(address)
    except ValueError:
        return ""
    return f', in resource "{addr.type}" "{addr.name}"'


def diagnostic_text(d: Diagnostic, source: Mapping[str, list[str]] | None = None) -> Text:
    """``Error: summary``, ``on FILE line N, in resource "T" "N":``, the line, the detail."""
    text = Text()
    _line(text, "")
    label = "Error" if d.is_error else "Warning"
    text.append(f"{label}: ", style="bold red" if d.is_error else "bold yellow")
    _line(text, d.summary, "bold")
    if d.range is not None:
        _line(text, "")
        _line(text, f"  on {d.range.filename} line {d.range.line}{_context(d.address)}:")
        lines = (source or {}).get(d.range.filename)
        if lines and 0 < d.range.line <= len(lines):
            _line(text, f"  {d.range.line:>3}: {lines[d.range.line - 1].rstrip()}", "dim")
    elif d.address:
        _line(text, "")
        _line(text, f"  with {d.address}")
    if d.detail:
        _line(text, "")
        for row in d.detail.rstrip().splitlines():
            _line(text, row)
    if d.rule:
        _line(text, f"(platform rule {d.rule})", "dim")
    return text


def diagnostics_text(
    diagnostics: Iterable[Diagnostic], source: Mapping[str, list[str]] | None = None
) -> Text:
    """All diagnostics, errors first, in the order found."""
    items = list(diagnostics)
    text = Text()
    for d in [d for d in items if d.is_error] + [d for d in items if not d.is_error]:
        text.append_text(diagnostic_text(d, source))
    return text


# ----------------------------------------------------------------- apply events
_VERBS = {
    Action.CREATE: ("Creating...", "Creation complete", "Creation failed"),
    Action.UPDATE: ("Modifying...", "Modifications complete", "Modifications failed"),
    Action.DELETE: ("Destroying...", "Destruction complete", "Destruction failed"),
    Action.DELETE_THEN_CREATE: ("Replacing...", "Replacement complete", "Replacement failed"),
    Action.CREATE_THEN_DELETE: ("Replacing...", "Replacement complete", "Replacement failed"),
    Action.READ: ("Reading...", "Read complete", "Read failed"),
    Action.NOOP: ("Refreshing...", "Refresh complete", "Refresh failed"),
}


def event_text(ev: Any) -> Text | None:
    """One live line for an ``ApplyEvent``: start, progress, done, failed or skipped."""
    start, done, failed = _VERBS.get(ev.action, _VERBS[Action.UPDATE])
    id_part = f" [id={ev.id}]" if ev.id else ""
    text = Text()
    text.append(f"{ev.address}: ", style="bold")
    if ev.kind == "start":
        text.append(ev.message or start)
        if ev.action is not Action.CREATE:
            text.append(id_part)
    elif ev.kind == "progress":
        if ev.total:
            pct = 100 * ev.done // ev.total if ev.total else 0
            text.append(f"{ev.message or 'working'}: {ev.done}/{ev.total} ({pct}%)")
        else:
            text.append(ev.message or f"Still working... [{format_elapsed(ev.elapsed)} elapsed]")
    elif ev.kind == "done":
        text.append(f"{done} after {format_elapsed(ev.elapsed)}", style="green")
        if ev.action is not Action.DELETE:
            text.append(id_part)
    elif ev.kind == "failed":
        text.append(f"{failed} after {format_elapsed(ev.elapsed)}", style="red")
        if ev.message:
            text.append(f": {ev.message}")
    elif ev.kind == "skipped":
        text.append("Skipped", style="yellow")
        reason = (ev.message or "a dependency failed").removeprefix("skipped: ")
        text.append(f" ({reason})")
    else:
        return None
    return text


def apply_summary_text(result: Any, *, destroy: bool = False) -> Text:
    """``Apply complete! Resources: …`` or what failed, was skipped, or was interrupted."""
    text = Text()
    _line(text, "")
    counts = f"{result.added} added, {result.changed} changed, {result.destroyed} destroyed"
    if result.ok:
        if destroy:
            _line(text, f"Destroy complete! Resources: {result.destroyed} destroyed.", "bold green")
        else:
            _line(text, f"Apply complete! Resources: {counts}.", "bold green")
        return text
    word = "Destroy" if destroy else "Apply"
    if result.interrupted:
        _line(text, f"{word} interrupted. Resources: {counts}.", "bold red")
    else:
        _line(text, f"{word} failed. Resources: {counts}.", "bold red")
    if result.failed:
        _line(text, f"Failed: {', '.join(a for a, _ in result.failed)}")
    if result.skipped:
        _line(text, f"Not attempted: {', '.join(result.skipped)}")
    _line(text, f"Run `{PRODUCT} plan` to see what remains to be done.")
    return text


# ---------------------------------------------------------------- state, output
def outputs_text(outputs: Mapping[str, tuple[Any, bool]]) -> Text:
    """``name = value`` lines; sensitive values read ``<sensitive>`` like Terraform."""
    text = Text()
    for name in sorted(outputs):
        value, sensitive = outputs[name]
        _line(text, f"{name} = {'<sensitive>' if sensitive else format_value(value)}")
    return text


def state_instance_text(record: Any, sensitive: Iterable[str] = ()) -> Text:
    """One instance as ``show``/``state show`` print it, sensitive attributes masked."""
    hidden = set(sensitive)
    text = Text()
    _line(text, f"# {record.address}:", "bold")
    if record.status == "tainted":
        _line(text, "# (tainted)", "red")
    _line(text, f'resource "{record.type}" "{record.name}" {{')
    attrs = {k: v for k, v in sorted(record.attributes.items()) if v is not None}
    width = max((len(k) for k in attrs), default=0)
    for k, v in attrs.items():
        value = SENSITIVE if k in hidden else format_value(v, 4)
        _line(text, f"    {k:<{width}} = {value}")
    _line(text, "}")
    return text


def state_json(
    records: Iterable[Any],
    outputs: Mapping[str, tuple[Any, bool]],
    sensitive_by_type: Mapping[str, list[str]],
) -> dict[str, Any]:
    """Terraform's ``show -json`` shape for a state: ``values.root_module.resources``."""
    resources = []
    for r in records:
        resources.append(
            {
                "address": r.address,
                "mode": "managed",
                "type": r.type,
                "name": r.name,
                "index": r.index_key,
                "provider_name": r.provider,
                "schema_version": r.schema_version,
                "values": r.attributes,
                "sensitive_values": {k: True for k in sensitive_by_type.get(r.type, [])},
                "depends_on": r.dependencies,
                **({"tainted": True} if r.status == "tainted" else {}),
            }
        )
    return {
        "format_version": "1.0",
        "values": {
            "outputs": {
                name: {"value": v, "sensitive": s} for name, (v, s) in sorted(outputs.items())
            },
            "root_module": {"resources": resources},
        },
    }
