"""What the CLI does so that sensitive values stay secret (rule EXT-4).

Warnings for sensitive values written in plaintext (no state key configured), sealing and
opening saved plan files with the state key, masking sensitive values in JSON that
commands print, and giving deletes and drift the sensitive attributes of their instance.
Always holds: with a state key configured a saved plan file holds no plaintext; JSON that
``plan``, ``show`` and ``drift`` print reads ``(sensitive value)`` where a value is
sensitive; only ``output -raw NAME`` and ``output -json`` print a sensitive value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine import render
from sdk.diagnostics import warning as diag_warning

if TYPE_CHECKING:
    from engine.plan import Plan


def warn_plaintext(s: Any, store: Any) -> None:
    """Each command whose writes stored sensitive values in plaintext says so (EXT-4)."""
    from state import NO_KEY_WARNING

    if not store.plaintext_writes:
        return
    where = ", ".join(dict.fromkeys(store.plaintext_writes))
    ui = s.ui or s.use_ui(False)
    warning = diag_warning(
        "Sensitive values stored in plaintext", f"Written for: {where}.\n{NO_KEY_WARNING}"
    )
    ui.print(render.diagnostics_text([warning]), err=True)
    store.plaintext_writes.clear()


def plan_file_text(s: Any, plan: Plan, name: str, config: Any) -> str:
    """A saved plan's text: sealed with the state key, or plain with a warning when it
    holds sensitive values and no key is configured."""
    import json

    from state import NO_KEY_WARNING, keys_from_env, seal_document

    text = json.dumps(plan.to_json(), sort_keys=True)
    keys = keys_from_env()
    if keys.configured:
        return json.dumps(seal_document(text.encode("utf-8"), keys, f"plan:{plan.lineage}"))
    if plan_has_secrets(plan, config):
        ui = s.ui or s.use_ui(False)
        warning = diag_warning(
            "Sensitive values stored in plaintext",
            f"The saved plan {name} holds sensitive values.\n{NO_KEY_WARNING}",
        )
        ui.print(render.diagnostics_text([warning]), err=True)
    return text


def open_plan_data(data: Any, name: str) -> Any:
    """A saved plan's JSON, opened with the configured key when it is sealed."""
    import json

    from state import keys_from_env, open_document
    from state.crypto import SEALED

    if isinstance(data, dict) and SEALED in data:
        return json.loads(open_document(data, keys_from_env(), f"The plan file {name}"))
    return data


def sensitive_variables(config: Any) -> set[str]:
    return {n for n, v in config.variables.items() if v.sensitive} if config else set()


def plan_has_secrets(plan: Plan, config: Any) -> bool:
    """Whether a plan holds a sensitive value (attribute, output or variable)."""
    for ch in [*plan.changes, *plan.drift]:
        for side in (ch.before or {}, ch.after or {}):
            if any(side.get(k) is not None for k in ch.sensitive_attrs):
                return True
    if any(o.sensitive and (o.before, o.after) != (None, None) for o in plan.outputs):
        return True
    return any(plan.variables.get(n) is not None for n in sensitive_variables(config))


def mask_plan_json(data: dict[str, Any], sensitive_vars: set[str] | None) -> dict[str, Any]:
    """A plan's JSON with every sensitive value read as ``(sensitive value)`` (EXT-4).

    ``sensitive_vars`` None: which variables are sensitive is unknown, so all are masked.
    """
    hidden = render.SENSITIVE

    def mask(values: Any, keys: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {k: hidden if k in keys and v is not None else v for k, v in values.items()}

    for list_name in ("resource_changes", "resource_drift"):
        for ch in data.get(list_name, []):
            change = ch.get("change", {})
            keys = set(change.get("after_sensitive", {})) | set(change.get("before_sensitive", {}))
            for side in ("before", "after"):
                change[side] = mask(change.get(side), keys)
    for o in data.get("output_changes", {}).values():
        if o.get("sensitive"):
            for side in ("before", "after"):
                if o.get(side) is not None:
                    o[side] = hidden
    for name, v in data.get("variables", {}).items():
        if sensitive_vars is None or name in sensitive_vars:
            v["value"] = hidden
    return data
