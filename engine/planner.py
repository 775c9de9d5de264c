"""Refresh and diff: the desired configuration against the state, through provider.plan.

``validate`` checks all that can be checked without state; ``make_plan`` configures the
providers, refreshes every instance in state (``provider.read``, bounded threads, batched;
with ``-target`` only the targets and what they depend on, so drift elsewhere stays
unrecorded and ``drift`` keeps reporting it), expands ``count``/``for_each``, evaluates
each instance in graph order with the planned values of upstream resources (``UNKNOWN``
where not known), asks the provider for the planned state and decides the action; a
change's sensitive attributes are the schema's, those set from a sensitive value and those
the schema derives from one, and an output computed from a sensitive value must say
``sensitive = true``; a delete is planned by its provider too (``proposed`` None), for what it
warns of. A resource's preconditions are judged before its provider plans it, its
postconditions (with ``self``) on the planned object, its ``replace_triggered_by`` against
the changes planned before it, and the check blocks at the end, also of a refresh-only
plan (``engine.conditions``, ``engine.checks``, ``engine.triggers``).
Always holds: intents an interrupted apply left are reconciled with
the platform first (``engine.reconcile``), so the plan starts from what exists, never
collides with it; planning writes nothing (not to state, not to disk), every user mistake
becomes a diagnostic (all of them together) and the work is linear in resources plus
references (N log N with the sorts).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.checks import run_checks
from engine.conditions import ConditionJudge, with_self
from engine.evaluate import Evaluator, configure_providers
from engine.graph import Graph
from engine.importblocks import plan_imports
from engine.plan import OBSERVED, Action, Change, OutputChange, Plan
from engine.reconcile import reconcile
from engine.refactor import apply_moves, forgotten
from engine.schemacheck import (
    ConfigChecks,
    check_config,
    check_values,
    keep_ignored,
    static_checks,
)
from engine.sensitivity import check_output_marks, hide_values, newly_sensitive, secret_ranges
from engine.triggers import triggered
from sdk import PlanRequest, ReadRequest, ValidateRequest
from sdk.addrs import InstanceAddr, ResourceAddr
from sdk.diagnostics import Diagnostics, error, warning
from sdk.values import UNKNOWN
from state import sensitive_paths

if TYPE_CHECKING:
    from engine.configmodel import Config
    from engine.registry import Registry
    from state import StateStore


@dataclass
class PlanOptions:
    mode: str = "normal"  # "normal" | "destroy" | "refresh-only"
    refresh: bool = True
    targets: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    parallelism: int = 10


def validate(
    config: Config,
    registry: Registry,
    variables: dict[str, Any],
    checks: ConfigChecks | None = None,
) -> Diagnostics:
    """Everything that can be checked without state, all reported together.

    The providers are configured (their blocks checked; configuring reads and writes
    nothing) and the resources checked in graph order: the configured values of a resource
    without count or for_each, plus what its provider knows from them
    (``ValidateResponse.known``), stand for it in the resources that refer to it, everything
    else ``UNKNOWN``, with its sensitive marks; so a provider can check one resource against
    another the configuration alone shows (a restore point of a VM with a shared disk).
    ``checks``: the configuration's static checks when the caller made them already (to
    hand the same to ``make_plan``).
    """
    graph, diags = static_checks(_checks_of(config, registry, checks), [])
    in_order = list(config.resources) if diags.has_errors else graph.order()
    diags.extend(configure_providers(config, registry, variables, config.dir))
    ev = Evaluator(config, variables, config.dir, planning=True)
    for addr, res in config.resources.items():
        if res.count is not None or res.for_each is not None:
            expansion, sub = ev.expand(res, unknown_ok=True)  # count = -1, a for_each list
            diags.extend(sub)
            if expansion == []:
                ev.expanded(addr)  # known to have no instances: r[0] is an invalid index
    plain: dict[str, list[str]] = {}
    for addr in in_order:
        res = config.resources[addr]
        schema = registry.schema(addr.type)
        provider = registry.provider_for(addr.type, res.provider)
        if schema is None or provider is None:
            continue
        if res.count is not None:
            ctx = ev.context(count_index=UNKNOWN)
        elif res.for_each is not None:
            ctx = ev.context(each=(UNKNOWN, UNKNOWN))
        else:
            ctx = ev.context()
        marked: set[str] = set()
        address = str(addr)
        values, ranges, sub = ev.eval_body(res.body, schema, ctx, address, marked)
        diags.extend(sub)
        single = res.count is None and res.for_each is None
        if marked:
            sensitive = schema.sensitive_attributes(marked)
        else:  # the schema's own, asked once a type
            if addr.type not in plain:
                plain[addr.type] = schema.sensitive_attributes()
            sensitive = list(plain[addr.type])
        seen: dict[str, Any] = dict.fromkeys(schema.attributes, UNKNOWN)
        if single:  # unknown values, known marks
            ev.set_instance(addr, None, dict(seen), sensitive)
        values, sub = check_values(schema, values, ranges, address, res.range)
        secret = secret_ranges(ranges, sensitive)
        diags.extend(hide_values(sub, secret))
        if not sub.has_errors:
            req = ValidateRequest(addr.type, address, values, ranges, res.range)
            resp = provider.validate(req)
            diags.extend(hide_values(resp.diagnostics, secret))
            if single:  # what the configuration alone shows of it
                seen.update({k: v for k, v in values.items() if v is not None and k in seen})
                seen.update(resp.known)
                ev.set_instance(addr, None, seen, sensitive)
    for name, output in sorted(config.outputs.items()):
        _, marked, _ = ev.eval_expr(output.expr, f"output.{name}")
        diags.extend(check_output_marks(name, output, marked))
    return _dedupe(diags)


def _checks_of(config: Config, registry: Registry, checks: ConfigChecks | None) -> ConfigChecks:
    """``checks`` when they are this configuration's against this registry; else made now."""
    if checks is None:
        return check_config(config, registry)
    if checks.config is not config or checks.registry is not registry:
        raise ValueError("the static checks given are of another configuration or registry")
    return checks


def _dedupe(diags: Diagnostics) -> Diagnostics:
    seen: set[tuple] = set()
    out = Diagnostics()
    for d in diags:
        key = (d.severity, d.summary, d.detail, d.range)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


# ------------------------------------------------------------------ refresh


def refresh(
    records: list[Any], registry: Registry, parallelism: int
) -> tuple[dict[str, dict[str, Any] | None], list[Change], Diagnostics]:
    """Read every instance: (refreshed attributes by address, drift, diagnostics)."""
    diags = Diagnostics()
    work = []
    for rec in records:
        if registry.provider_for(rec.type) is None:
            diags.append(
                error(
                    f'State holds "{rec.address}" of unknown type "{rec.type}"',
                    f"no installed provider serves {rec.type}; install it, or drop the "
                    f"record with: bcdr state rm {rec.address}",
                    address=rec.address,
                )
            )
        elif registry.provider_for(rec.type, rec.provider) is None:  # its alias is gone
            diags.append(
                error(
                    "Provider configuration not present",
                    f"To work with {rec.address}, its provider configuration "
                    f"{rec.provider} is required, but no provider block declares it. Add the "
                    f'provider block back (alias = "{rec.provider.partition(".")[2]}"), '
                    f"at least until {rec.address} is destroyed.",
                    address=rec.address,
                )
            )
        else:
            work.append(rec)

    def read_batch(batch: list[Any]) -> list[tuple[Any, Any]]:
        out = []
        for rec in batch:
            p = registry.provider_for(rec.type, rec.provider)
            req = ReadRequest(rec.type, rec.address, rec.id, dict(rec.attributes))
            out.append((rec, p.read(req)))  # type: ignore[union-attr]
        return out

    n = max(1, min(parallelism, len(work)))
    size = max(1, -(-len(work) // n))
    batches = [work[i : i + size] for i in range(0, len(work), size)]
    if len(batches) <= 1:
        results = [read_batch(b) for b in batches]
    else:
        with ThreadPoolExecutor(max_workers=n) as pool:
            results = list(pool.map(read_batch, batches))
    refreshed: dict[str, dict[str, Any] | None] = {}
    drift: list[Change] = []
    for batch in results:
        for rec, resp in batch:
            diags.extend(resp.diagnostics)
            new = resp.new_state
            refreshed[rec.address] = new
            if new == rec.attributes:
                continue
            inst = InstanceAddr.parse(rec.address)
            observed = new is not None and _observed_only(
                registry.schema(rec.type), rec.attributes, new
            )
            drift.append(
                Change(
                    address=rec.address,
                    type=rec.type,
                    name=inst.name,
                    index=inst.key,
                    provider=rec.provider,
                    action=Action.DELETE if new is None else Action.UPDATE,
                    reason=resp.gone if new is None else (OBSERVED if observed else None),
                    before=rec.attributes,
                    after=new,
                    dependencies=list(rec.dependencies),
                )
            )
    return refreshed, drift, diags


def _observed_only(schema: Any, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether only attributes the schema marks ``observed`` differ (not drift)."""
    if schema is None:
        return False
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    attrs = schema.attributes
    return bool(changed) and all(k in attrs and attrs[k].observed for k in changed)


# ------------------------------------------------------------------ plan


def config_hash(config: Config) -> str:
    h = hashlib.sha256()
    for name in sorted(config.files):
        path = Path(config.dir) / name
        h.update(str(name).encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()


def make_plan(
    config: Config,
    state: StateStore,
    registry: Registry,
    variables: dict[str, Any],
    options: PlanOptions,
    *,
    working_dir: Path,
    checks: ConfigChecks | None = None,
) -> tuple[Plan, Diagnostics]:
    """Refresh, then diff configuration against state. Writes nothing.

    ``checks``: the configuration's static checks, when ``validate`` was given them (the
    command checks its configuration once); made here otherwise."""
    plan = Plan(
        lineage=state.lineage,
        serial=state.serial,
        mode=options.mode,
        variables=dict(variables),
        targets=list(options.targets),
        replace=list(options.replace),
        config_hash=config_hash(config),
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    records = state.instances()
    diags = configure_providers(config, registry, variables, working_dir)
    intents = state.intents()
    if intents and not diags.has_errors:
        plan.reconciled, records, sub = reconcile(intents, records, registry)
        diags.extend(sub)
    if options.mode != "refresh-only":  # moved and removed blocks: before anything is read
        records, plan.moves, sub = apply_moves(config, records)
        diags.extend(sub)
        if options.mode == "normal":
            plan.forget = forgotten(config, records)
            dropped = set(plan.forget)
            records = [r for r in records if r.address not in dropped]
            if config.imports and not diags.has_errors:
                records, plan.imports, sub = plan_imports(
                    config, records, registry, variables, working_dir
                )
                diags.extend(sub)
    graph, sub = static_checks(_checks_of(config, registry, checks), records)
    diags.extend(sub)
    targets = _parse_addrs(options.targets, "-target", diags)
    replace = _parse_addrs(options.replace, "-replace", diags)
    in_state = {InstanceAddr.parse(r.address).resource for r in records}
    for flag, addrs in (("-target", targets), ("-replace", replace)):
        for a in addrs:
            if a.resource not in config.resources and a.resource not in in_state:
                diags.append(
                    warning(
                        f"{flag} {a} matches nothing",
                        f"no resource {a.resource} is in the configuration or the state; "
                        "check the address (bcdr state list shows what the state holds)",
                    )
                )
    if diags.has_errors:
        return plan, _dedupe(diags)
    if options.refresh:
        scope = refresh_scope(graph, targets, options.mode)
        in_scope = [r for r in records if scope is None or _resource_of(r) in scope]
        refreshed, plan.drift, sub = refresh(in_scope, registry, options.parallelism)
        diags.extend(sub)
        for rec in records:  # outside the targets: as the state has it, not read
            refreshed.setdefault(rec.address, rec.attributes)
    else:
        refreshed = {r.address: r.attributes for r in records}
    walk = PlanWalk(
        config, registry, variables, working_dir, graph, records, refreshed, plan.created_at
    )
    if options.mode == "refresh-only" or diags.has_errors:
        if not diags.has_errors:  # the check blocks, against the refreshed objects
            for addr in graph.order():
                walk.known_from_state(addr)
            plan.checks, sub = run_checks(config, walk.ev)
            diags.extend(sub)
        _mark_sensitive(plan, records, registry)
        plan.warnings = diags.warnings()
        return plan, _dedupe(diags)
    walk.targets = targets
    walk.replace = set(replace)
    if options.mode == "destroy":
        walk.plan_destroy()
    else:
        walk.plan_normal()
        plan.outputs = walk.plan_outputs(state.outputs())
        checks, sub = run_checks(config, walk.ev)
        plan.checks = [*walk.conditions.results.values(), *checks]
        walk.diags.extend(sub)
    diags.extend(walk.diags)
    plan.changes = sorted(walk.changes, key=lambda c: InstanceAddr.parse(c.address).sort_key())
    if options.mode == "destroy":
        plan.outputs = [
            OutputChange(n, Action.DELETE, v, None, s) for n, (v, s) in state.outputs().items()
        ]
    _mark_sensitive(plan, records, registry)
    diags = _dedupe(diags)
    plan.warnings = diags.warnings()
    return plan, diags


def refresh_scope(graph: Graph, targets: list[InstanceAddr], mode: str) -> set[ResourceAddr] | None:
    """The resources a plan refreshes: all (None) without ``-target``; else, as Terraform
    does, the targets and what they depend on (for a destroy, and what depends on them)."""
    if not targets:
        return None
    chosen = {t.resource for t in targets}
    if mode == "destroy":
        chosen = graph.descendants(chosen) | chosen
    return graph.ancestors(chosen) | chosen


def _resource_of(rec: Any) -> ResourceAddr:
    return InstanceAddr.parse(rec.address).resource


def _mark_sensitive(plan: Plan, records: list[Any], registry: Registry) -> None:
    """Give every change and drift entry the sensitive attributes of its instance (the
    schema's, the state's and the plan's), so deletes and drift are masked like creates."""
    stored = {r.address: getattr(r, "sensitive", []) for r in records}
    planned = {c.address: c.sensitive_attrs for c in plan.changes}
    by_type: dict[str, list[str]] = {}
    for ch in [*plan.changes, *plan.drift]:
        of_type = by_type.get(ch.type)
        if of_type is None:
            schema = registry.schema(ch.type)
            of_type = by_type[ch.type] = schema.sensitive_attributes() if schema else []
        kept, given = stored.get(ch.address), planned.get(ch.address)
        if not (of_type or kept or given or ch.sensitive_attrs):
            ch.sensitive_attrs = []  # nothing of it is sensitive (most instances)
            continue
        keys = set(of_type)
        keys |= {p.split(".")[0] for p in kept or []}
        ch.sensitive_attrs = sorted(keys | set(ch.sensitive_attrs) | set(given or []))


def _parse_addrs(texts: list[str], flag: str, diags: Diagnostics) -> list[InstanceAddr]:
    out = []
    for text in texts:
        try:
            out.append(InstanceAddr.parse(text))
        except ValueError as err:
            diags.append(error(f"Invalid {flag} address", str(err)))
    return out


class PlanWalk:
    """One plan's walk over the graph, resource by resource in dependency order."""

    def __init__(
        self,
        config: Config,
        registry: Registry,
        variables: dict[str, Any],
        working_dir: Path,
        graph: Graph,
        records: list[Any],
        refreshed: dict[str, dict[str, Any] | None],
        plan_time: str = "",
    ) -> None:
        self.config = config
        self.registry = registry
        self.graph = graph
        self.ev = Evaluator(config, variables, working_dir, plan_time=plan_time, planning=True)
        self.refreshed = refreshed
        self.by_resource: dict[ResourceAddr, dict[Any, Any]] = {}
        for rec in records:
            inst = InstanceAddr.parse(rec.address)
            self.by_resource.setdefault(inst.resource, {})[inst.key] = rec
        self.targets: list[InstanceAddr] = []
        self.replace: set[InstanceAddr] = set()
        self.changes: list[Change] = []
        self.planned: dict[str, Change] = {}  # the changes, by address
        self.planned_of: dict[ResourceAddr, list[str]] = {}  # their addresses, by resource
        self.conditions = ConditionJudge()
        self.diags = Diagnostics()
        self._sealed: dict[str, list[str]] = {}
        self._plain: dict[str, list[str]] = {}

    def sealed_paths(self, type_name: str) -> list[str]:
        """The sensitive paths of a type's schema (``state.sensitive_paths``), once a type."""
        paths = self._sealed.get(type_name)
        if paths is None:
            schema = self.registry.schema(type_name)
            paths = self._sealed[type_name] = sensitive_paths(schema) if schema else []
        return paths

    def plain_sensitive(self, type_name: str, schema: Any) -> list[str]:
        """``schema.sensitive_attributes()`` (nothing marked), once a type; a new list."""
        names = self._plain.get(type_name)
        if names is None:
            names = self._plain[type_name] = schema.sensitive_attributes()
        return list(names)

    def prior(self, addr: ResourceAddr) -> dict[Any, Any]:
        return self.by_resource.get(addr, {})

    def known_from_state(self, addr: ResourceAddr) -> None:
        for key, rec in self.prior(addr).items():
            self.known_instance(addr, key, rec)

    def known_instance(self, addr: ResourceAddr, key: Any, rec: Any) -> None:
        """An instance this plan leaves alone, known by its refreshed value and marks."""
        attrs = self.refreshed.get(rec.address)
        if attrs is not None:
            paths = set(getattr(rec, "sensitive", [])) | set(self.sealed_paths(addr.type))
            self.ev.set_instance(addr, key, attrs, paths)

    def plan_normal(self) -> None:
        scope: dict[ResourceAddr, set[Any] | None] | None = None
        if self.targets:
            scope = {}
            for t in self.targets:
                if t.key is None:
                    scope[t.resource] = None
                elif scope.get(t.resource, set()) is not None:
                    scope.setdefault(t.resource, set()).add(t.key)  # type: ignore[union-attr]
            for anc in self.graph.ancestors(scope):
                if anc not in scope:
                    scope[anc] = None
        for addr in self.graph.order():
            if scope is not None and addr not in scope:
                self.known_from_state(addr)
                continue
            keys = None if scope is None else scope[addr]
            self.plan_resource(addr, keys)

    def plan_resource(self, addr: ResourceAddr, only: set[Any] | None) -> None:
        """Plan every instance of one resource (or only the keys in ``only``)."""
        res = self.config.resources.get(addr)
        prior = self.prior(addr)
        if res is None:  # an orphan: every instance goes
            for key, rec in prior.items():
                if only is not None and key not in only:
                    continue
                before = self.refreshed.get(rec.address)
                if before is not None:
                    reason = "delete_because_no_resource_config"
                    self.changes.append(self.deleting(rec, before, reason))
            return
        schema = self.registry.schema(addr.type)
        provider = self.registry.provider_for(addr.type, res.provider)
        if schema is None or provider is None:
            return
        expansion, sub = self.ev.expand(res)
        self.diags.extend(sub)
        if expansion is None:
            return
        self.ev.expanded(addr)
        deps = [str(d) for d in self.graph.dependencies(addr)]
        wanted = set()
        for key, each_value in expansion:
            wanted.add(key)
            inst = addr.instance(key)
            rec = prior.get(key)
            if only is not None and key not in only:
                if rec is not None:
                    self.known_instance(addr, key, rec)
                continue
            change = self._plan_instance(res, inst, each_value, rec, schema, provider)
            if change is None:
                self.ev.set_instance(addr, key, UNKNOWN)
                continue
            change.dependencies = deps
            self.changes.append(change)
            self.planned[change.address] = change
            self.planned_of.setdefault(addr, []).append(change.address)
            paths = [*change.sensitive_attrs, *self.sealed_paths(addr.type)]
            self.ev.set_instance(addr, key, change.after, paths)
        for key, rec in prior.items():
            if key in wanted or (only is not None and key not in only):
                continue
            before = self.refreshed.get(rec.address)
            if before is None:
                continue
            if res.lifecycle.prevent_destroy:
                self.diags.append(prevent_destroy_error(rec.address, res))
            if isinstance(key, int) and res.count is not None:
                reason = "delete_because_count_index"
            elif isinstance(key, str) and res.for_each is not None:
                reason = "delete_because_each_key"
            else:
                reason = "delete_because_wrong_repetition"
            self.changes.append(self.deleting(rec, before, reason))

    def _plan_instance(
        self, res: Any, inst: InstanceAddr, each_value: Any, rec: Any, schema: Any, provider: Any
    ) -> Change | None:
        address = str(inst)
        ctx = self.ev.instance_context(res, inst.key, each_value)
        marked: set[str] = set()
        values, ranges, sub = self.ev.eval_body(res.body, schema, ctx, address, marked)
        self.diags.extend(sub)
        values, sub2 = check_values(schema, values, ranges, address, res.range)
        sensitive = (
            schema.sensitive_attributes(marked)
            if marked
            else self.plain_sensitive(inst.type, schema)
        )
        secret = secret_ranges(ranges, sensitive)
        self.diags.extend(hide_values(sub2, secret))
        if sub.has_errors or sub2.has_errors:
            return None
        vresp = provider.validate(ValidateRequest(inst.type, address, values, ranges, res.range))
        self.diags.extend(hide_values(vresp.diagnostics, secret))
        if vresp.diagnostics.has_errors:
            return None
        if res.lifecycle.preconditions:
            pre = self.conditions.check(res.lifecycle.preconditions, ctx, address, "resource")
            self.diags.extend(pre)
            if pre.has_errors:
                return None
        before = self.refreshed.get(rec.address) if rec is not None else None
        keep_ignored(res.lifecycle, schema, values, before)

        def ask(prior: dict[str, Any] | None) -> Any:
            req = PlanRequest(inst.type, address, prior, values, ranges, res.range)
            resp = provider.plan(req)
            self.diags.extend(resp.diagnostics)
            return None if resp.diagnostics.has_errors else resp

        resp = ask(before)
        if resp is None:
            return None
        reason = None
        replace_paths: list[str] = []
        changed_marks: list[str] = []
        if before is None:
            action = Action.CREATE
        else:
            if rec.status == "tainted":
                reason = "tainted"
            elif self.replace and (
                inst in self.replace or inst.resource.instance() in self.replace
            ):
                reason = "replace_by_request"
            elif res.lifecycle.replace_triggered_by and self.trigger_fired(res, ctx):
                reason = "replace_by_triggers"
            elif resp.requires_replace:
                reason = "replace_because_cannot_update"
                replace_paths = list(resp.requires_replace)
            if reason is not None:
                action = (
                    Action.CREATE_THEN_DELETE
                    if res.lifecycle.create_before_destroy
                    else Action.DELETE_THEN_CREATE
                )
                if res.lifecycle.prevent_destroy:
                    self.diags.append(prevent_destroy_error(address, res))
                fresh = ask(None)
                if fresh is None:
                    return None
                resp = fresh
            elif resp.planned_state == before and not newly_sensitive(rec, before, sensitive):
                action = Action.NOOP
            else:
                action = Action.UPDATE
                newly = newly_sensitive(rec, before, sensitive)
                if newly and resp.planned_state == before:
                    changed_marks.append(f"sensitivity changed: {', '.join(newly)} will be sealed")
        if res.lifecycle.postconditions:
            paths = [*sensitive, *self.sealed_paths(inst.type)]
            own = with_self(ctx, resp.planned_state, paths)
            post = self.conditions.check(res.lifecycle.postconditions, own, address, "resource")
            self.diags.extend(post)
            if post.has_errors:
                return None
        return Change(
            address=address,
            type=inst.type,
            name=inst.name,
            index=inst.key,
            provider=res.provider or provider.name,
            action=action,
            before=before,
            after=resp.planned_state,
            replace_paths=replace_paths,
            sensitive_attrs=sensitive,
            reason=reason,
            notes=[*resp.notes, *changed_marks],
            cost=dict(resp.cost),
            cost_words=dict(resp.cost_words),
            private=dict(resp.private),
        )

    def trigger_fired(self, res: Any, ctx: Any) -> bool:
        """Whether an entry of the resource's replace_triggered_by fires (``engine.triggers``)."""
        fired, problems = triggered(
            res.lifecycle.replace_triggered_by,
            ctx,
            self.planned,
            lambda addr: self.planned_of.get(addr, []),
        )
        self.diags.extend(problems)
        return fired

    def deleting(self, rec: Any, before: dict[str, Any], reason: str | None) -> Change:
        """The delete of ``rec``, after asking its provider to plan it (``proposed`` None, as
        Terraform asks): what the provider warns of a delete (the data that goes with it)
        joins the plan's diagnostics."""
        provider = self.registry.provider_for(rec.type, rec.provider)
        if provider is not None:
            req = PlanRequest(rec.type, rec.address, before, None)
            self.diags.extend(provider.plan(req).diagnostics)
        return delete_change(rec, before, reason)

    def plan_destroy(self) -> None:
        chosen: set[ResourceAddr] | None = None
        if self.targets:
            chosen = self.graph.descendants({t.resource for t in self.targets})
        for addr in self.graph.reverse_order():
            if chosen is not None and addr not in chosen:
                continue
            res = self.config.resources.get(addr)
            for _key, rec in sorted(self.prior(addr).items(), key=lambda kv: str(kv[0])):
                before = self.refreshed.get(rec.address)
                if before is None:
                    continue
                if res is not None and res.lifecycle.prevent_destroy:
                    self.diags.append(prevent_destroy_error(rec.address, res))
                self.changes.append(self.deleting(rec, before, None))

    def plan_outputs(self, prior: dict[str, tuple[Any, bool]]) -> list[OutputChange]:
        out: list[OutputChange] = []
        for name, output in sorted(self.config.outputs.items()):
            if output.preconditions:
                ctx, address = self.ev.context(), f"output.{name}"
                pre = self.conditions.check(output.preconditions, ctx, address, "output_value")
                self.diags.extend(pre)
            value, marked, sub = self.ev.eval_expr(output.expr, f"output.{name}")
            self.diags.extend(sub)
            self.diags.extend(check_output_marks(name, output, marked))
            old = prior.get(name)
            if old is None:
                action = Action.CREATE
            elif old[0] == value and value is not UNKNOWN:
                action = Action.NOOP
            else:
                action = Action.UPDATE
            before = old[0] if old else None
            out.append(OutputChange(name, action, before, value, output.sensitive))
        for name, (value, sensitive) in sorted(prior.items()):
            if name not in self.config.outputs:
                out.append(OutputChange(name, Action.DELETE, value, None, sensitive))
        return out


def prevent_destroy_error(address: str, res: Any) -> Any:
    rng = res.lifecycle.range or res.range
    return error(
        "Instance cannot be destroyed",
        f"{rng}: {address} has lifecycle.prevent_destroy = true, but this plan would "
        "destroy it. Remove prevent_destroy to allow it, or change the plan (for example "
        "with -target) so that it keeps the resource",
        rng,
        address=address,
    )


def delete_change(rec: Any, before: dict[str, Any], reason: str | None) -> Change:
    inst = InstanceAddr.parse(rec.address)
    return Change(
        address=rec.address,
        type=rec.type,
        name=inst.name,
        index=inst.key,
        provider=rec.provider,
        action=Action.DELETE,
        before=before,
        after=None,
        reason=reason,
        dependencies=list(rec.dependencies),
    )
