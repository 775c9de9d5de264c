"""Diagnostics, live apply lines and summaries, outputs and state as text or JSON.

Always holds: errors come before warnings; a diagnostic names its file and line and, when
the source is given, shows that line; a sensitive output reads ``<sensitive>`` in lists
and a sensitive attribute ``(sensitive value)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.text import Text

from engine.plan import Action
from engine.render.common import (
    PRODUCT,
    SENSITIVE,
    format_elapsed,
    format_value,
    line,
)
from sdk.addrs import InstanceAddr
from sdk.diagnostics import Diagnostic
from sdk.units import human_bytes


# ------------------------------------------------------------------ diagnostics
def _context(address: str | None) -> str:
    if not address:
        return ""
    head, _, rest = address.partition(".")
    if head == "var":
        return f', in variable "{rest}"'
    if head == "output":
        return f', in output "{rest}"'
    if head == "check":
        return f', in check "{rest}"'
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
    line(text, "")
    label = "Error" if d.is_error else "Warning"
    text.append(f"{label}: ", style="bold red" if d.is_error else "bold yellow")
    line(text, d.summary, "bold")
    if d.range is not None:
        line(text, "")
        line(text, f"  on {d.range.filename} line {d.range.line}{_context(d.address)}:")
        lines = (source or {}).get(d.range.filename)
        if lines and 0 < d.range.line <= len(lines):
            line(text, f"  {d.range.line:>3}: {lines[d.range.line - 1].rstrip()}", "dim")
    elif d.address:
        line(text, "")
        line(text, f"  with {d.address}")
    if d.detail:
        line(text, "")
        for row in d.detail.rstrip().splitlines():
            line(text, row)
    if d.rule:
        line(text, f"(platform rule {d.rule})", "dim")
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


def diagnostic_json(d: Diagnostic, source: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    """Terraform's JSON diagnostic: severity, summary, detail, range (start/end), snippet.

    ``start`` is where the finding is; ``end`` is the end of that line (bcdr records no
    end). ``byte`` offsets and the ``snippet`` are given when the source is known.
    bcdr adds ``rule`` (a platform rule id) when there is one.
    """
    out: dict[str, Any] = {"severity": d.severity.value, "summary": d.summary, "detail": d.detail}
    if d.address:
        out["address"] = d.address
    r = d.range
    if r is not None:
        start: dict[str, int] = {"line": r.line, "column": r.column}
        end = dict(start)
        lines = (source or {}).get(r.filename)
        code = lines[r.line - 1] if lines and 0 < r.line <= len(lines) else None
        if lines is not None and code is not None:
            before = sum(len(ln.encode()) + 1 for ln in lines[: r.line - 1])
            start["byte"] = before + len(code[: r.column - 1].encode())
            end = {"line": r.line, "column": len(code) + 1, "byte": before + len(code.encode())}
        out["range"] = {"filename": r.filename, "start": start, "end": end}
        if code is not None:
            context = _context(d.address).removeprefix(", in ")
            out["snippet"] = {
                "context": context or None,
                "code": code,
                "start_line": r.line,
                "highlight_start_offset": r.column - 1,
                "highlight_end_offset": len(code),
                "values": [],
            }
    if d.rule:
        out["rule"] = d.rule
    return out


def diagnostics_json(
    diagnostics: Iterable[Diagnostic], source: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """``validate -json``'s document (Terraform's shape), also printed by any ``-json``
    command that fails: ``format_version``, ``valid``, the counts, the diagnostics."""
    items = list(diagnostics)
    ordered = [d for d in items if d.is_error] + [d for d in items if not d.is_error]
    errors = sum(1 for d in items if d.is_error)
    return {
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": len(items) - errors,
        "diagnostics": [diagnostic_json(d, source) for d in ordered],
    }


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
            done, total = human_bytes(ev.done), human_bytes(ev.total)
            text.append(f"{ev.message or 'working'}: {done} of {total} ({pct}%)")
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
    line(text, "")
    counts = f"{result.added} added, {result.changed} changed, {result.destroyed} destroyed"
    if result.imported:
        counts = f"{result.imported} imported, {counts}"
    if result.ok:
        if destroy:
            line(text, f"Destroy complete! Resources: {result.destroyed} destroyed.", "bold green")
        else:
            line(text, f"Apply complete! Resources: {counts}.", "bold green")
        return text
    word = "Destroy" if destroy else "Apply"
    if result.interrupted:
        line(text, f"{word} interrupted. Resources: {counts}.", "bold red")
    else:
        line(text, f"{word} failed. Resources: {counts}.", "bold red")
    if result.failed:
        line(text, f"Failed: {', '.join(a for a, _ in result.failed)}")
    if result.skipped:
        line(text, f"Not attempted: {', '.join(result.skipped)}")
    line(text, f"Run `{PRODUCT} plan` to see what remains to be done.")
    return text


# ---------------------------------------------------------------- state, output
def outputs_text(outputs: Mapping[str, tuple[Any, bool]]) -> Text:
    """``name = value`` lines; sensitive values read ``<sensitive>`` like Terraform."""
    text = Text()
    for name in sorted(outputs):
        value, sensitive = outputs[name]
        line(text, f"{name} = {'<sensitive>' if sensitive else format_value(value)}")
    return text


def state_instance_text(record: Any, sensitive: Iterable[str] = ()) -> Text:
    """One instance as ``show``/``state show`` print it, sensitive attributes masked."""
    hidden = set(sensitive)
    text = Text()
    line(text, f"# {record.address}:", "bold")
    if record.status == "tainted":
        line(text, "# (tainted)", "red")
    line(text, f'resource "{record.type}" "{record.name}" {{')
    attrs = {k: v for k, v in sorted(record.attributes.items()) if v is not None}
    width = max((len(k) for k in attrs), default=0)
    for k, v in attrs.items():
        value = SENSITIVE if k in hidden else format_value(v, 4)
        line(text, f"    {k:<{width}} = {value}")
    line(text, "}")
    return text


def state_json(
    records: Iterable[Any],
    outputs: Mapping[str, tuple[Any, bool]],
    sensitive_by_address: Mapping[str, list[str]],
) -> dict[str, Any]:
    """Terraform's ``show -json`` shape for a state: ``values.root_module.resources``, each
    with the ``sensitive_values`` of that instance."""
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
                "sensitive_values": {k: True for k in sensitive_by_address.get(r.address, [])},
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
