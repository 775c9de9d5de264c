"""Plans: plain data made by the planner and consumed by the applier.

``Action`` is a tiny enum; a ``Change`` holds ``before`` and ``after`` of one resource
instance; a ``Plan`` holds the changes, the drift found by refresh, the output changes, the
intents of an interrupted apply it reconciled (``Reconciled``), the results of its custom
conditions and check blocks (``CheckResult``) and the lineage and serial of the state it
was made against. No I/O here. Always holds:
``Plan.from_json(p.to_json()) == p`` (``UNKNOWN`` survives the round trip through
Terraform's ``after_unknown`` mask).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sdk.diagnostics import Diagnostic, Severity, SourceRange
from sdk.values import apply_mask, strip_unknown, unknown_mask

PLAN_FORMAT_VERSION = "1.0"
"""Terraform's string form, as in every JSON document bcdr prints (``show -json``...)."""


class Action(StrEnum):
    NOOP = "no-op"
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    DELETE_THEN_CREATE = "delete-then-create"
    CREATE_THEN_DELETE = "create-then-delete"

    @property
    def actions(self) -> list[str]:
        """Terraform's ``change.actions`` list."""
        return {
            Action.NOOP: ["no-op"],
            Action.CREATE: ["create"],
            Action.READ: ["read"],
            Action.UPDATE: ["update"],
            Action.DELETE: ["delete"],
            Action.DELETE_THEN_CREATE: ["delete", "create"],
            Action.CREATE_THEN_DELETE: ["create", "delete"],
        }[self]

    @property
    def symbol(self) -> str:
        return {
            Action.NOOP: " ",
            Action.CREATE: "+",
            Action.READ: "<=",
            Action.UPDATE: "~",
            Action.DELETE: "-",
            Action.DELETE_THEN_CREATE: "-/+",
            Action.CREATE_THEN_DELETE: "+/-",
        }[self]

    @property
    def is_replace(self) -> bool:
        return self in (Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)


#: a drift ``Change``'s reason when only ``observed`` attributes changed (``Plan.outside_changes``)
OBSERVED = "observed_attributes_changed"


@dataclass
class Change:
    """What will happen to one resource instance.

    ``before`` is the refreshed prior state (None for a create); ``after`` the planned
    state (None for a delete), where ``UNKNOWN`` marks values known only after apply.
    ``cost`` says what the change costs the platform, by the provider's keys, and
    ``cost_words`` how each key reads (the provider's phrase); ``notes`` are lines for the
    reviewer.
    """

    address: str
    type: str
    name: str
    index: int | str | None
    provider: str
    action: Action
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    replace_paths: list[str] = field(default_factory=list)
    sensitive_attrs: list[str] = field(default_factory=list)
    reason: str | None = None
    dependencies: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cost: dict[str, int] = field(default_factory=dict)
    cost_words: dict[str, str] = field(default_factory=dict)
    private: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "name": self.name,
            "index": self.index,
            "provider_name": self.provider,
            "action_reason": self.reason,
            "change": {
                "actions": self.action.actions,
                "before": self.before,
                "after": strip_unknown(self.after),
                "after_unknown": unknown_mask(self.after) if self.after is not None else {},
                "replace_paths": [[p] for p in self.replace_paths],
                "before_sensitive": {k: True for k in self.sensitive_attrs},
                "after_sensitive": {k: True for k in self.sensitive_attrs},
            },
            "dependencies": self.dependencies,
            "notes": self.notes,
            "cost": self.cost,
            "cost_words": self.cost_words,
            "private": self.private,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        ch = data["change"]
        actions = ch["actions"]
        action = next(a for a in Action if a.actions == actions)
        after = ch.get("after")
        if after is not None:
            after = apply_mask(after, ch.get("after_unknown") or {})
        return cls(
            address=data["address"],
            type=data["type"],
            name=data["name"],
            index=data.get("index"),
            provider=data.get("provider_name", ""),
            action=action,
            before=ch.get("before"),
            after=after,
            replace_paths=[p[0] for p in ch.get("replace_paths", [])],
            sensitive_attrs=sorted(ch.get("after_sensitive", {})),
            reason=data.get("action_reason"),
            dependencies=list(data.get("dependencies", [])),
            notes=list(data.get("notes", [])),
            cost=dict(data.get("cost", {})),
            cost_words=dict(data.get("cost_words", {})),
            private=dict(data.get("private", {})),
        )


@dataclass
class OutputChange:
    name: str
    action: Action
    before: Any = None
    after: Any = None
    sensitive: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "actions": self.action.actions,
            "before": self.before,
            "after": strip_unknown(self.after),
            "after_unknown": unknown_mask(self.after),
            "sensitive": self.sensitive,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutputChange:
        action = next(a for a in Action if a.actions == data["actions"])
        return cls(
            name=data["name"],
            action=action,
            before=data.get("before"),
            after=apply_mask(data.get("after"), data.get("after_unknown", False)),
            sensitive=bool(data.get("sensitive")),
        )


CHECK_STATUSES = ("pass", "fail", "unknown", "error")


@dataclass
class CheckResult:
    """The result of one checkable object's conditions: a resource instance's pre- and
    postconditions (``kind`` ``resource``), an output's preconditions (``output_value``) or
    a check block's asserts (``check``). ``status`` is one of ``CHECK_STATUSES``
    (``unknown``: known after apply); ``problems`` are the error_messages of failures."""

    kind: str
    address: str
    status: str
    problems: list[str] = field(default_factory=list)

    @property
    def config_address(self) -> str:
        """The address without an instance key (``check.rpo``, ``bcdr_data.a``)."""
        return self.address.split("[", 1)[0]


def checks_json(results: list[CheckResult]) -> list[dict[str, Any]]:
    """Terraform's ``checks``: one entry per configuration object, with its instances."""
    by_object: dict[str, list[CheckResult]] = {}
    for r in results:
        by_object.setdefault(r.config_address, []).append(r)
    out = []
    for address, items in sorted(by_object.items()):
        statuses = {r.status for r in items}
        status = next((s for s in ("error", "fail", "unknown") if s in statuses), "pass")
        out.append(
            {
                "address": {"kind": items[0].kind, "to_display": address},
                "status": status,
                "instances": [
                    {
                        "address": {"to_display": r.address},
                        "status": r.status,
                        "problems": [{"message": m} for m in r.problems],
                    }
                    for r in items
                ],
            }
        )
    return out


def checks_from_json(data: list[dict[str, Any]]) -> list[CheckResult]:
    out = []
    for obj in data:
        kind = obj["address"]["kind"]
        for inst in obj.get("instances", []):
            if inst["status"] not in CHECK_STATUSES:
                raise ValueError(f"unknown check status {inst['status']!r}")
            problems = [p["message"] for p in inst.get("problems", [])]
            out.append(CheckResult(kind, inst["address"]["to_display"], inst["status"], problems))
    return out


RECONCILE_OUTCOMES = ("adopted", "dropped", "removed")


@dataclass
class Reconciled:
    """How a plan settles the intent an interrupted apply left for one instance.

    ``action`` is what the interrupted step was doing; ``outcome`` is ``adopted`` (an
    object exists under the planned id ``id``: the state takes it, tainted, since its
    create may be incomplete, so the plan replaces it), ``dropped`` (nothing to keep: the
    intent is cleared and the plan goes on from the state) or ``removed`` (the delete did
    happen: the instance leaves the state). ``apply_id`` names the apply that left it.
    """

    address: str
    type: str
    provider: str
    action: Action
    outcome: str
    apply_id: str
    id: str | None = None
    dependencies: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "provider_name": self.provider,
            "actions": self.action.actions,
            "outcome": self.outcome,
            "apply_id": self.apply_id,
            "id": self.id,
            "dependencies": self.dependencies,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reconciled:
        if data["outcome"] not in RECONCILE_OUTCOMES:
            raise ValueError(f"unknown reconcile outcome {data['outcome']!r}")
        return cls(
            address=data["address"],
            type=data["type"],
            provider=data.get("provider_name", ""),
            action=next(a for a in Action if a.actions == data["actions"]),
            outcome=data["outcome"],
            apply_id=data["apply_id"],
            id=data.get("id"),
            dependencies=list(data.get("dependencies", [])),
        )


def _diag_from_json(data: dict[str, Any]) -> Diagnostic:
    rng = data.get("range")
    return Diagnostic(
        severity=Severity(data["severity"]),
        summary=data["summary"],
        detail=data.get("detail", ""),
        range=SourceRange(**rng) if rng else None,
        address=data.get("address"),
        rule=data.get("rule"),
    )


@dataclass(frozen=True)
class Move:
    """An object a ``moved`` block gives a new address (``engine/refactor.py``)."""

    src: str
    dst: str


@dataclass(frozen=True)
class Imported:
    """An object an ``import`` block adopts (``engine/importblocks.py``): its address, the
    id it was read by, and its state record (as ``InstanceRecord``'s fields), written to
    the state before any change."""

    address: str
    id: str
    record: dict[str, Any]


@dataclass
class Plan:
    """A whole plan. ``mode`` is ``normal``, ``destroy`` or ``refresh-only``."""

    lineage: str | None
    serial: int | None
    mode: str = "normal"
    changes: list[Change] = field(default_factory=list)
    drift: list[Change] = field(default_factory=list)
    outputs: list[OutputChange] = field(default_factory=list)
    reconciled: list[Reconciled] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    config_hash: str = ""
    created_at: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    """Objects renamed by ``moved`` blocks, committed to the state before any change."""
    forget: list[str] = field(default_factory=list)
    """Instances a ``removed`` block with ``destroy = false`` drops from the state only."""
    imports: list[Imported] = field(default_factory=list)

    def outside_changes(self) -> list[Change]:
        """The drift a reader is told of: every object changed outside bcdr, but not one
        whose only changes are attributes its schema calls ``observed`` (recorded at the
        next apply all the same)."""
        return [c for c in self.drift if c.reason != OBSERVED]

    def failed_checks(self) -> list[CheckResult]:
        """The check blocks whose asserts failed (or could not be evaluated)."""
        return [c for c in self.checks if c.kind == "check" and c.status in ("fail", "error")]

    def resource_changes(self) -> list[Change]:
        """Changes that do something (not no-op)."""
        return [c for c in self.changes if c.action is not Action.NOOP]

    @property
    def has_changes(self) -> bool:
        if self.mode == "refresh-only":
            return bool(self.drift)
        return (
            bool(self.resource_changes())
            or bool(self.moves)
            or bool(self.forget)
            or bool(self.imports)
            or any(o.action is not Action.NOOP for o in self.outputs)
        )

    def counts(self) -> tuple[int, int, int]:
        """(to add, to change, to destroy) as Terraform counts them."""
        add = change = destroy = 0
        for c in self.changes:
            if c.action is Action.CREATE:
                add += 1
            elif c.action is Action.UPDATE:
                change += 1
            elif c.action is Action.DELETE:
                destroy += 1
            elif c.action.is_replace:
                add += 1
                destroy += 1
        return add, change, destroy

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "mode": self.mode,
            "created_at": self.created_at,
            "config_hash": self.config_hash,
            "variables": {k: {"value": v} for k, v in self.variables.items()},
            "targets": self.targets,
            "replace": self.replace,
            "resource_changes": [c.to_json() for c in self.changes],
            "resource_drift": [c.to_json() for c in self.drift],
            "output_changes": {o.name: o.to_json() for o in self.outputs},
            "resource_reconciled": [r.to_json() for r in self.reconciled],
            "warnings": [d.to_json() for d in self.warnings],
            "checks": checks_json(self.checks),
            "resource_moves": [{"from": m.src, "to": m.dst} for m in self.moves],
            "resource_forgets": list(self.forget),
            "resource_imports": [
                {"address": i.address, "id": i.id, "record": i.record} for i in self.imports
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        version = data.get("format_version")
        if version != PLAN_FORMAT_VERSION:
            raise ValueError(f"plan format version {version!r} is not {PLAN_FORMAT_VERSION!r}")
        return cls(
            lineage=data.get("lineage"),
            serial=data.get("serial"),
            mode=data.get("mode", "normal"),
            changes=[Change.from_json(c) for c in data.get("resource_changes", [])],
            drift=[Change.from_json(c) for c in data.get("resource_drift", [])],
            outputs=[OutputChange.from_json(o) for o in data.get("output_changes", {}).values()],
            reconciled=[Reconciled.from_json(r) for r in data.get("resource_reconciled", [])],
            variables={k: v["value"] for k, v in data.get("variables", {}).items()},
            targets=list(data.get("targets", [])),
            replace=list(data.get("replace", [])),
            warnings=[_diag_from_json(d) for d in data.get("warnings", [])],
            config_hash=data.get("config_hash", ""),
            created_at=data.get("created_at", ""),
            checks=checks_from_json(data.get("checks", [])),
            moves=[Move(m["from"], m["to"]) for m in data.get("resource_moves", [])],
            forget=list(data.get("resource_forgets", [])),
            imports=[
                Imported(i["address"], i["id"], i["record"])
                for i in data.get("resource_imports", [])
            ],
        )
