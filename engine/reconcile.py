"""Reconcile the intents an interrupted apply left in the state with the platform.

An apply records each step's intent before the step calls its provider and clears it with
the step's result (``engine.applier``), so an intent found by a plan marks a step a crash
cut short: its object may exist on the platform while the state does not know it. Each is
settled by reading the platform through the provider: an object that exists under the
planned id is adopted (kept as tainted, since its create may be incomplete, so the plan
replaces it instead of colliding with it); a create that made nothing, or an update, is
dropped (the plan goes on from the state and the refresh); a delete whose object is gone
removes the instance from the state. Always holds: reconciling writes nothing — the plan
says what it reconciled and the apply saves it; a few provider reads per intent (the
planned object; for a replace under a new id, the old one too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.plan import Action, Reconciled
from sdk import ReadRequest
from sdk.addrs import InstanceAddr
from sdk.diagnostics import Diagnostics, warning
from state import InstanceRecord, Intent, sensitive_paths

if TYPE_CHECKING:
    from engine.registry import Registry

_MAKES = (Action.CREATE, Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)


def reconcile(
    intents: list[Intent], records: list[Any], registry: Registry
) -> tuple[list[Reconciled], list[Any], Diagnostics]:
    """Settle each intent: (what was reconciled, the records to plan from, diagnostics).

    The records returned are those of the state with adopted objects in place (tainted)
    and deleted ones left out; an intent whose object cannot be read is left for later.
    """
    diags = Diagnostics()
    by_address = {r.address: r for r in records}
    out: list[Reconciled] = []
    for intent in intents:
        if registry.provider_for(intent.type, intent.provider) is None:
            continue  # the refresh reports a type no provider serves
        settled = _Settle(intent, by_address.get(intent.address), registry, diags).run()
        if settled is None:
            continue
        r, record = settled
        out.append(r)
        if r.outcome == "removed":
            del by_address[r.address]
        elif record is not None:
            by_address[r.address] = record
    return out, sorted(by_address.values(), key=lambda r: r.address), diags


class _Settle:
    """One intent against the platform: what became of it, and the record to plan from."""

    def __init__(self, intent: Intent, rec: Any, registry: Registry, diags: Diagnostics):
        self.intent, self.rec, self.registry, self.diags = intent, rec, registry, diags
        self.action = Action(intent.action)

    def settled(self, outcome: str, id: str | None) -> Reconciled:
        i = self.intent
        deps = list(i.dependencies or (self.rec.dependencies if self.rec else []))
        return Reconciled(i.address, i.type, i.provider, self.action, outcome, i.apply_id, id, deps)

    def read(self, id: str, prior: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
        provider = self.registry.provider_for(self.intent.type, self.intent.provider)
        assert provider is not None
        resp = provider.read(ReadRequest(self.intent.type, self.intent.address, id, prior))
        self.diags.extend(resp.diagnostics)
        return resp.new_state, not resp.diagnostics.has_errors

    def run(self) -> tuple[Reconciled, Any] | None:
        intent, rec = self.intent, self.rec
        if self.action is Action.DELETE:
            if rec is not None:
                obj, ok = self.read(rec.id or "", dict(rec.attributes))
                if not ok:
                    return None
                if obj is None:
                    return self.settled("removed", rec.id), None
            return self.settled("dropped", intent.prior_id), None
        if self.action not in _MAKES:
            return self.settled("dropped", intent.prior_id), None
        if self.action is Action.CREATE and rec is not None:
            return self.settled("dropped", rec.id), None  # in the state since (imported)
        if not intent.planned_id:
            self.diags.append(unknown_id_warning(intent))
            return self.settled("dropped", intent.prior_id), None
        obj, ok = self.read(intent.planned_id, {"id": intent.planned_id})
        if not ok:
            return None
        if obj is None:
            return self.settled("dropped", intent.planned_id), None
        r = self.settled("adopted", intent.planned_id)
        if rec is not None and rec.id and rec.id != intent.planned_id:
            old, _ = self.read(rec.id, dict(rec.attributes))
            if old is not None:
                self.diags.append(untracked_warning(intent, rec.id))
        return r, adopted_record(r, obj, self.registry)


def adopted_record(r: Reconciled, attributes: dict[str, Any], registry: Registry) -> Any:
    """The state record of an adopted object: tainted, so that the plan replaces it."""
    inst = InstanceAddr.parse(r.address)
    schema = registry.schema(r.type)
    return InstanceRecord(
        address=r.address,
        type=r.type,
        name=inst.name,
        index_key=inst.key,
        provider=r.provider,
        id=str(attributes.get("id") or r.id),
        attributes=attributes,
        status="tainted",
        dependencies=list(r.dependencies),
        schema_version=schema.version if schema else 0,
        sensitive=sensitive_paths(schema) if schema else [],
    )


def unknown_id_warning(intent: Intent) -> Any:
    return warning(
        f"{intent.address}: an interrupted apply may have left an object",
        f"its {intent.action} was cut short, and the object's id was not known before it "
        "was made, so bcdr cannot look it up. Check the platform: if the object exists, "
        f"delete it or bring it under management with: bcdr import {intent.address} ID",
        address=intent.address,
    )


def untracked_warning(intent: Intent, old_id: str) -> Any:
    return warning(
        f"{intent.address}: the object it was replacing is no longer tracked",
        f"an interrupted apply made {intent.planned_id} to replace {old_id}; bcdr adopts the "
        f"new object, so {old_id} is left on the platform: delete it there if it is not needed",
        address=intent.address,
    )
