"""Apply: walk a Plan in dependency order with bounded parallelism, saving state per step.

One step per instance change: create, update, delete, or a replace (delete then create, or
create then delete, inside the one step). A step starts when every step it waits for is
done: creates and updates wait for those of the resources they depend on; deletes wait for
the deletes (and updates) of what depended on them, so deletes run in reverse dependency
order. Before applying, a step re-evaluates its body with the now-known upstream values and
asks the provider for the final plan; the resource's preconditions are judged before
and its postconditions after the provider applies (a failure fails the step), outputs'
preconditions before they are saved, and the check blocks when the walk ends (warnings).
The walk first saves what the plan reconciled of an
interrupted apply (``engine.reconcile``; an adopted object is read again through its
provider) and the drift the plan found. Always holds: provider calls run on worker
threads, every state write happens on the calling thread; before a step's provider is
called, the step's intent (address, action, planned id, this apply's id) is committed in
its own transaction, and the transaction that saves the step's result clears it, so a
crash at any point leaves either the result or the intent (which the next plan reconciles
with the platform instead of colliding with what the step made); each step's write is its
own transaction (so an interrupted apply leaves a state the next plan continues from), a
failed step skips only what depends on it, and the walk is linear in steps plus edges.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.checks import run_checks
from engine.conditions import ConditionJudge, with_self
from engine.evaluate import Evaluator, configure_providers
from engine.plan import Action, Change, Plan, Reconciled
from engine.planner import config_hash
from engine.reconcile import adopted_record
from engine.refactor import persist_refactoring
from engine.schemacheck import check_values, keep_ignored
from engine.sensitivity import hide_values, secret_ranges
from sdk import ApplyRequest, DeleteRequest, PlanRequest, ReadRequest
from sdk.addrs import InstanceAddr
from sdk.diagnostics import Diagnostic, Diagnostics, error
from sdk.values import is_wholly_known
from state import InstanceRecord, Intent, sensitive_paths

if TYPE_CHECKING:
    from engine.configmodel import Config
    from engine.registry import Registry
    from state import StateStore


@dataclass
class ApplyEvent:
    """One thing that happened in the walk. All kinds are emitted on the calling thread,
    except "progress", which a provider reports from its worker thread."""

    kind: str  # "start" | "progress" | "done" | "failed" | "skipped"
    address: str
    action: Action
    elapsed: float = 0.0
    message: str = ""
    id: str | None = None
    done: int = 0
    total: int = 0


class CancelToken:
    """First Ctrl-C: start nothing new, let running steps finish, save, return."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def request_stop(self) -> None:
        self._event.set()

    @property
    def stopping(self) -> bool:
        return self._event.is_set()


@dataclass
class ApplyResult:
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    imported: int = 0
    """Objects import blocks adopted into the state."""
    failed: list[tuple[str, Diagnostics]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    outputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    """Warnings from steps that succeeded (a soft-deleted vault, a fallback taken...)."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


def check_plan_applicable(
    plan: Plan, state: StateStore, config: Config, *, state_is_new: bool = False
) -> Diagnostics:
    """Refuse a saved plan made against another state, an older serial or other specs.

    A plan made when there was no state (lineage None) applies only to a state this very
    command created (``state_is_new``) and nothing has written to since.
    """
    diags = Diagnostics()
    if plan.lineage is None:
        if not (state_is_new and state.serial == 0):
            diags.append(
                error(
                    "Saved plan is for a different state",
                    "the plan was made when there was no state yet, and there is one now "
                    f"(lineage {state.lineage}, serial {state.serial}). Make a new plan "
                    "with: bcdr plan -out FILE",
                )
            )
    elif plan.lineage != state.lineage:
        diags.append(
            error(
                "Saved plan is for a different state",
                f"the plan was made against state lineage {plan.lineage}, but this state's "
                f"lineage is {state.lineage}. Make a new plan with: bcdr plan -out FILE",
            )
        )
    elif plan.serial != state.serial:
        diags.append(
            error(
                "Saved plan is stale",
                f"the state changed since the plan was made (serial {plan.serial} -> "
                f"{state.serial}). Make a new plan with: bcdr plan -out FILE",
            )
        )
    settled = {(r.address, r.apply_id) for r in plan.reconciled}
    left = [i.address for i in state.intents() if (i.address, i.apply_id) not in settled]
    if left:
        diags.append(
            error(
                "An apply was interrupted since the plan was made",
                f"it left {', '.join(left)} half-done, which this plan does not reconcile. "
                "Make a new plan with: bcdr plan -out FILE",
            )
        )
    if plan.config_hash and plan.config_hash != config_hash(config):
        diags.append(
            error(
                "Configuration changed since the plan was made",
                "the *.hcl files differ from those the plan was made from. "
                "Make a new plan with: bcdr plan -out FILE",
            )
        )
    return diags


@dataclass
class _Outcome:
    """What one step did, for the calling thread to save: never partial knowledge lost."""

    removed: bool = False
    new_state: dict[str, Any] | None = None
    tainted: bool = False
    marked: set[str] = field(default_factory=set)
    diags: Diagnostics = field(default_factory=Diagnostics)


class _Walk:
    def __init__(
        self,
        plan: Plan,
        config: Config,
        state: StateStore,
        registry: Registry,
        working_dir: Path,
    ) -> None:
        self.plan = plan
        self.config = config
        self.state = state
        self.registry = registry
        self.ev = Evaluator(config, plan.variables, working_dir, plan_time=plan.created_at)
        self.records = {r.address: r for r in state.instances()}
        self.conditions = ConditionJudge()
        self.apply_id = uuid.uuid4().hex
        self.intent_ids: dict[str, str | None] = {}  # the planned id each intent holds
        self.wake: Future[None] = Future()  # done when a step asks for an intent
        self._asks: list[tuple[Change, str, Future[None]]] = []
        self._closed = False
        self._expansions: dict[Any, dict[Any, Any]] = {}
        self._lock = threading.Lock()
        self.emit: Callable[[ApplyEvent], None] = lambda _e: None

    def progress(self, ch: Change) -> Callable[[str, int, int], None]:
        """A provider's progress callback for one step: "progress" events (worker thread)."""

        def report(what: str, done: int, total: int) -> None:
            self.emit(ApplyEvent("progress", ch.address, ch.action, 0.0, what, None, done, total))

        return report

    # ------------------------------------------------------------ worker side
    def each_value(self, res: Any, key: Any) -> Any:
        if res.for_each is None:
            return None
        with self._lock:
            known = self._expansions.get(res.addr)
            if known is None:
                expansion, _ = self.ev.expand(res)
                known = dict(expansion or [])
                self._expansions[res.addr] = known
        return known.get(key)

    def run(self, ch: Change) -> _Outcome:
        out = _Outcome()
        try:
            self._run(ch, out)
        except Exception as exc:  # a provider bug: report it on this step, go on with others
            out.diags.append(
                error(
                    f"Provider {ch.provider} crashed on {ch.address}",
                    f"{type(exc).__name__}: {exc}",
                    address=ch.address,
                )
            )
        return out

    def _run(self, ch: Change, out: _Outcome) -> None:
        provider = self.registry.provider_for(ch.type, ch.provider)
        if provider is None:
            out.diags.append(error(f"No provider serves {ch.type}", "", address=ch.address))
            return
        if ch.action is Action.DELETE:
            req = DeleteRequest(ch.type, ch.address, ch.before or {}, self.progress(ch))
            resp = provider.delete(req)
            out.diags.extend(resp.diagnostics)
            out.removed = not resp.diagnostics.has_errors
            return
        inst = InstanceAddr.parse(ch.address)
        res = self.config.resources.get(inst.resource)
        schema = self.registry.schema(ch.type)
        if res is None or schema is None:
            out.diags.append(
                error(f"{ch.address} is no longer in the configuration", "make a new plan")
            )
            return
        ctx = self.ev.instance_context(res, inst.key, self.each_value(res, inst.key))
        values, ranges, sub = self.ev.eval_body(res.body, schema, ctx, ch.address, out.marked)
        out.diags.extend(sub)
        values, sub = check_values(schema, values, ranges, ch.address, res.range)
        out.diags.extend(
            hide_values(sub, secret_ranges(ranges, schema.sensitive_attributes(out.marked)))
        )
        if out.diags.has_errors:
            return
        out.diags.extend(
            self.conditions.check(
                res.lifecycle.preconditions, ctx, ch.address, "resource", final=True
            )
        )
        if out.diags.has_errors:
            return
        prior = None if ch.action in (Action.CREATE,) or ch.action.is_replace else ch.before
        keep_ignored(res.lifecycle, schema, values, prior)
        if ch.action is Action.DELETE_THEN_CREATE and ch.before is not None:
            resp = provider.delete(DeleteRequest(ch.type, ch.address, ch.before))
            out.diags.extend(resp.diagnostics)
            if resp.diagnostics.has_errors:
                return
            out.removed = True
        final = provider.plan(
            PlanRequest(ch.type, ch.address, prior, values, ranges, res.range, ch.private)
        )
        out.diags.extend(final.diagnostics)
        if final.diagnostics.has_errors or final.planned_state is None:
            return
        self.planned_id_known(ch, _known_id(final.planned_state))
        applied = provider.apply(
            ApplyRequest(
                ch.type,
                ch.address,
                prior,
                final.planned_state,
                values,
                private={**ch.private, **final.private},
                progress=self.progress(ch),
            )
        )
        out.diags.extend(applied.diagnostics)
        new = applied.new_state
        if new is not None and not is_wholly_known(new):
            out.diags.append(
                error(
                    f"Provider {ch.provider} left unknown values in {ch.address}",
                    "this is a bug in the provider: apply must return known values",
                    address=ch.address,
                )
            )
            new = None
        out.new_state = new
        if applied.diagnostics.has_errors:
            out.tainted = ch.action is Action.CREATE or ch.action.is_replace
            return
        if ch.action is Action.CREATE_THEN_DELETE and ch.before is not None:
            resp = provider.delete(DeleteRequest(ch.type, ch.address, ch.before))
            out.diags.extend(resp.diagnostics)
        if new is not None and res.lifecycle.postconditions:
            # a failure keeps the new object in state and stops what depends on it
            own = with_self(ctx, new, _sensitive(schema, ch, out.marked))
            out.diags.extend(
                self.conditions.check(
                    res.lifecycle.postconditions, own, ch.address, "resource", final=True
                )
            )

    def read_adopted(self, r: Reconciled) -> dict[str, Any] | None:
        """The object the plan adopted, as the platform has it now (None: gone since)."""
        provider = self.registry.provider_for(r.type, r.provider)
        if provider is None or r.id is None:
            return None
        resp = provider.read(ReadRequest(r.type, r.address, r.id, {"id": r.id}))
        return None if resp.diagnostics.has_errors else resp.new_state

    def planned_id_known(self, ch: Change, planned_id: str | None) -> None:
        """The step's final plan names an id its intent lacks: have the calling thread
        record it, and wait until it is committed (before the provider makes the object)."""
        if planned_id is None or planned_id == self.intent_ids.get(ch.address):
            return
        done: Future[None] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the apply stopped before this step's intent was recorded")
            self._asks.append((ch, planned_id, done))
            if not self.wake.done():
                self.wake.set_result(None)
        done.result()

    # ------------------------------------------------------------ calling thread
    def record_intents(self, changes: list[tuple[Change, str | None]]) -> None:
        """Commit what steps are about to do (with the planned id when the step found one
        the plan did not know), before their providers are called: one transaction."""
        intents = []
        for ch, found_id in changes:
            planned_id = found_id or _known_id(ch.after)
            intents.append(
                Intent(
                    address=ch.address,
                    action=ch.action.value,
                    apply_id=self.apply_id,
                    type=ch.type,
                    provider=ch.provider,
                    planned_id=planned_id,
                    prior_id=_known_id(ch.before),
                    dependencies=list(ch.dependencies),
                )
            )
            self.intent_ids[ch.address] = planned_id
        if intents:
            self.state.record_intent(*intents)

    @contextlib.contextmanager
    def asking(self) -> Iterator[None]:
        """While the walk runs, steps may ask for their intents; when it stops (an
        exception included), none may wait any longer for a thread that no longer serves."""
        try:
            yield
        finally:
            with self._lock:
                self._closed = True
                asks, self._asks = self._asks, []
            for _ch, _id, done in asks:
                done.set_exception(RuntimeError("the apply stopped before this step's intent"))

    def serve_asks(self) -> None:
        """Record the intents steps asked for (``planned_id_known``), then let them go on."""
        with self._lock:
            if self.wake.done():
                self.wake = Future()
            asks, self._asks = self._asks, []
        try:
            self.record_intents([(ch, planned_id) for ch, planned_id, _ in asks])
        except BaseException as exc:
            for _ch, _id, done in asks:
                done.set_exception(exc)
            raise
        for _ch, _id, done in asks:
            done.set_result(None)

    def persist_reconciled(self, parallelism: int) -> None:
        """Save what the plan reconciled, each with its intent cleared in one transaction
        (adopted objects are read again first, on worker threads)."""
        chosen = [r for r in self.plan.reconciled if r.outcome == "adopted"]
        adopted: dict[str, dict[str, Any] | None] = {}
        if chosen:
            with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(chosen)))) as pool:
                reads = pool.map(self.read_adopted, chosen)
                adopted = dict(zip([r.address for r in chosen], reads, strict=True))
        for r in self.plan.reconciled:
            with self.state.transaction():
                attrs = adopted.get(r.address)
                if r.outcome == "adopted" and attrs is not None and is_wholly_known(attrs):
                    record = adopted_record(r, attrs, self.registry)
                    self.state.put(record)
                    self.records[r.address] = record
                elif r.outcome == "removed" and r.address in self.records:
                    self.state.remove(r.address)
                    del self.records[r.address]
                self.state.clear_intent(r.address, r.apply_id)

    def save(self, ch: Change, out: _Outcome) -> None:
        inst = InstanceAddr.parse(ch.address)
        with self.state.transaction():
            self.state.clear_intent(ch.address, self.apply_id)
            if out.removed and out.new_state is None and self.state.get(ch.address):
                self.state.remove(ch.address)
            if out.new_state is not None:
                schema = self.registry.schema(ch.type)
                self.state.put(
                    InstanceRecord(
                        address=ch.address,
                        type=ch.type,
                        name=inst.name,
                        index_key=inst.key,
                        provider=ch.provider,
                        id=_id(out.new_state),
                        attributes=out.new_state,
                        status="tainted" if out.tainted else "ready",
                        dependencies=list(ch.dependencies),
                        schema_version=schema.version if schema else 0,
                        sensitive=_sensitive(schema, ch, out.marked),
                    )
                )
        if out.new_state is not None:
            schema = self.registry.schema(ch.type)
            paths = _sensitive(schema, ch, out.marked)
            self.ev.set_instance(inst.resource, inst.key, out.new_state, paths)
        elif out.removed:
            self.ev.drop_instance(inst.resource, inst.key)

    def persist_drift(self) -> None:
        for d in self.plan.drift:
            rec = self.records.get(d.address)
            if rec is None:
                continue
            if d.action is Action.DELETE:
                self.state.remove(d.address)
                del self.records[d.address]
            elif d.after is not None:
                rec.attributes = d.after
                rec.id = _id(d.after) or rec.id
                self.state.put(rec)

    def load_values(self, deleting: set[str]) -> None:
        for address, rec in self.records.items():
            inst = InstanceAddr.parse(address)
            if inst.resource in self.config.resources and address not in deleting:
                self.ev.set_instance(inst.resource, inst.key, rec.attributes, rec.sensitive)


def _sensitive(schema: Any, ch: Change, marked: set[str]) -> list[str]:
    """What the state seals: the schema's sensitive paths, what the plan marked and what
    was set from (or derived from) a sensitive value at apply."""
    if schema is None:
        return sorted(ch.sensitive_attrs)
    now = schema.sensitive_attributes(marked)
    return sorted(set(sensitive_paths(schema)) | set(ch.sensitive_attrs) | set(now))


def _known_id(attrs: dict[str, Any] | None) -> str | None:
    value = (attrs or {}).get("id")
    return value if isinstance(value, str) and value else None


def _id(attrs: dict[str, Any]) -> str | None:
    value = attrs.get("id")
    return None if value is None else str(value)


def _step_edges(changes: list[Change], records: dict[str, Any]) -> list[list[int]]:
    """For each step, the steps that wait for it (see the module docstring)."""
    creates: dict[str, list[int]] = {}
    deletes: dict[str, list[int]] = {}
    for i, ch in enumerate(changes):
        res = str(InstanceAddr.parse(ch.address).resource)
        (deletes if ch.action is Action.DELETE else creates).setdefault(res, []).append(i)
    after: list[list[int]] = [[] for _ in changes]
    for i, ch in enumerate(changes):
        if ch.action is Action.DELETE:
            # what this instance needed is deleted after it
            for dep in ch.dependencies:
                for j in deletes.get(dep, ()):
                    if j != i:
                        after[i].append(j)
            continue
        for dep in ch.dependencies:
            for j in creates.get(dep, ()):
                if j != i:
                    after[j].append(i)
        rec = records.get(ch.address)
        for dep in rec.dependencies if rec is not None else ():
            for j in deletes.get(dep, ()):
                after[i].append(j)  # stop referring to it before it goes
    return after


def apply_plan(
    plan: Plan,
    config: Config,
    state: StateStore,
    registry: Registry,
    *,
    working_dir: Path,
    parallelism: int = 10,
    on_event: Callable[[ApplyEvent], None] | None = None,
    cancel: CancelToken | None = None,
) -> ApplyResult:
    """Make the plan so. The caller holds the state lock and has checked the plan."""
    result = ApplyResult()
    emit = on_event or (lambda _e: None)
    cancel = cancel or CancelToken()
    diags = configure_providers(config, registry, plan.variables, working_dir)
    if diags.has_errors:
        result.failed.append(("provider configuration", diags))
        return result
    # moved, removed and import blocks, before any record is read
    result.imported = persist_refactoring(plan, state)
    walk = _Walk(plan, config, state, registry, working_dir)
    walk.emit = emit
    walk.persist_reconciled(parallelism)
    walk.persist_drift()
    steps = [c for c in plan.changes if c.action is not Action.NOOP]
    if plan.mode == "refresh-only":
        steps = []
    walk.load_values({c.address for c in steps if c.action is Action.DELETE})
    after = _step_edges(steps, walk.records)
    waiting = [0] * len(steps)
    for outs in after:
        for j in outs:
            waiting[j] += 1
    status = ["pending"] * len(steps)
    ready = deque(i for i in range(len(steps)) if waiting[i] == 0)
    running: dict[Any, tuple[int, float]] = {}
    total, done = len(steps), 0
    parallelism = max(1, parallelism)

    def skip_from(i: int) -> None:
        stack = list(after[i])
        while stack:
            j = stack.pop()
            if status[j] != "pending":
                continue
            status[j] = "skipped"
            result.skipped.append(steps[j].address)
            emit(
                ApplyEvent(
                    "skipped",
                    steps[j].address,
                    steps[j].action,
                    message=f"skipped: {steps[i].address} did not complete",
                    done=done,
                    total=total,
                )
            )
            stack.extend(after[j])

    with ThreadPoolExecutor(max_workers=parallelism) as pool, walk.asking():
        while True:
            starting = []
            while ready and len(running) + len(starting) < parallelism and not cancel.stopping:
                starting.append(ready.popleft())
            walk.record_intents([(steps[i], None) for i in starting])
            for i in starting:
                status[i] = "running"
                emit(ApplyEvent("start", steps[i].address, steps[i].action, done=done, total=total))
                running[pool.submit(walk.run, steps[i])] = (i, time.monotonic())
            if not running:
                break
            finished, _ = wait([*running, walk.wake], return_when=FIRST_COMPLETED)
            walk.serve_asks()
            for fut in finished:
                if fut not in running:
                    continue  # the wake-up of a step asking for its intent
                i, started = running.pop(fut)
                ch, out = steps[i], fut.result()
                walk.save(ch, out)
                elapsed = time.monotonic() - started
                if out.diags.has_errors:
                    status[i] = "failed"
                    result.failed.append((ch.address, out.diags))
                    msg = out.diags.errors()[0].summary
                    event = ApplyEvent("failed", ch.address, ch.action, elapsed, msg, None, done)
                    emit(event)
                    skip_from(i)
                    continue
                status[i] = "done"
                done += 1
                result.warnings.extend(out.diags.warnings())
                _count(result, ch.action)
                new_id = _id(out.new_state) if out.new_state else None
                emit(ApplyEvent("done", ch.address, ch.action, elapsed, "", new_id, done, total))
                for j in after[i]:
                    waiting[j] -= 1
                    if waiting[j] == 0 and status[j] == "pending":
                        ready.append(j)
    left = [i for i in range(len(steps)) if status[i] == "pending"]
    if cancel.stopping and left:
        result.interrupted = True
    elif left:  # only a dependency cycle stored in state can leave steps waiting
        for i in left:
            result.failed.append(
                (
                    steps[i].address,
                    Diagnostics([error("Dependency cycle in state", "", address=steps[i].address)]),
                )
            )
    result.outputs = _save_outputs(walk, plan, result)
    if plan.mode != "destroy":  # the check blocks, against the new objects: warnings
        _, warnings = run_checks(config, walk.ev)
        result.warnings.extend(warnings)
    return result


def _count(result: ApplyResult, action: Action) -> None:
    if action is Action.CREATE:
        result.added += 1
    elif action is Action.UPDATE:
        result.changed += 1
    elif action is Action.DELETE:
        result.destroyed += 1
    elif action.is_replace:
        result.added += 1
        result.destroyed += 1


def _save_outputs(walk: _Walk, plan: Plan, result: ApplyResult) -> dict[str, tuple[Any, bool]]:
    """Evaluate outputs with the final values; keep the prior value of those that cannot be
    or whose precondition fails (a failure of the apply)."""
    prior = walk.state.outputs()
    if plan.mode == "destroy":
        outputs: dict[str, tuple[Any, bool]] = {}
    else:
        outputs = {}
        walk.ev.forget_locals()
        for name, output in walk.config.outputs.items():
            address = f"output.{name}"
            # a value still unknown (what it reads failed to apply) keeps the prior output
            failed = walk.conditions.check(
                output.preconditions, walk.ev.context(), address, "output_value"
            )
            if failed.has_errors:
                result.failed.append((address, failed))
            value, marked, diags = walk.ev.eval_expr(output.expr, f"output.{name}")
            if not failed.has_errors and not diags.has_errors and is_wholly_known(value):
                outputs[name] = (value, output.sensitive or marked)
            elif name in prior:
                outputs[name] = (prior[name][0], output.sensitive or prior[name][1])
    if outputs != prior:
        walk.state.set_outputs(outputs)
    return outputs
