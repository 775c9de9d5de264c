"""A provider for engine tests, with pluggable behaviour (like OpenTofu's MockProvider).

``TestProvider`` serves ``test_thing`` (required, optional with default, force_new,
sensitive, computed attributes and a nested block) and keeps its objects in ``remote``, a
dict standing in for the platform, so tests can change an object behind bcdr's back and
see drift. It records every call in order, the largest number of concurrent applies, and
can be told to fail, raise or sleep, or to kill its own process (SIGKILL) inside a step;
with ``ids_from_name`` its ids are known at plan time, as the platform's are.
``Workspace`` ties a spec folder in ``tmp_path``, a real state file and a registry
(builtin + test provider) together for the tests.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.applier import ApplyResult, CancelToken, apply_plan
from engine.config import load_config
from engine.plan import Plan
from engine.planner import PlanOptions, make_plan
from engine.registry import Registry
from engine.varvalues import collect_variable_values
from providers.builtin.data import provider as builtin_provider
from providers.defaults import plan_from_schema
from sdk import (
    ApplyRequest,
    ApplyResponse,
    Attribute,
    DeleteRequest,
    DeleteResponse,
    ImportRequest,
    ImportResponse,
    PlanRequest,
    PlanResponse,
    ProviderContext,
    ReadRequest,
    ReadResponse,
    Schema,
    ValidateRequest,
    ValidateResponse,
)
from sdk.diagnostics import Diagnostics, error
from sdk.values import UNKNOWN
from state import StateStore

NETWORK = Schema(
    {
        "subnet": Attribute(type="string", required=True),
        "ip": Attribute(type="string", optional=True, default="10.0.0.1"),
    }
)
THING = Schema(
    {
        "name": Attribute(type="string", required=True, description="the thing's name"),
        "size": Attribute(type="number", optional=True, default=1),
        "zone": Attribute(type="string", optional=True, force_new=True),
        "secret": Attribute(type="string", optional=True, sensitive=True),
        "tags": Attribute(type="map(string)", optional=True),
        "ref": Attribute(type="string", optional=True),
        "kind": Attribute(
            type="string",
            optional=True,
            validators=(lambda v: None if v in ("a", "b") else "kind must be a or b",),
        ),
        "network": Attribute(block=NETWORK, nesting="single", optional=True),
        "id": Attribute(type="string", computed=True),
        "fingerprint": Attribute(type="string", computed=True),
    }
)


class TestProvider:
    """Provider "test". Hooks: ``on_apply(req) -> ApplyResponse | None`` and friends."""

    __test__ = False  # not a pytest test class
    name = "test"

    def __init__(self) -> None:
        self.remote: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_apply: set[str] = set()
        self.raise_apply: set[str] = set()
        self.sleep = 0.0
        self.max_active = 0
        self.on_apply: Callable[[ApplyRequest], None] | None = None
        self.configured: ProviderContext | None = None
        self.ids_from_name = False
        """Ids known at plan time (``thing-NAME``), and a create refused when its id is
        taken, as the platform's are; else ids are given at apply (``thing-N``)."""
        self.remote_file: Path | None = None
        """Where ``remote`` is kept between processes (loaded by the caller)."""
        self.kill_at: tuple[str, str, str] | None = None
        """(op, address, "before" | "after"): SIGKILL this process at that point of the
        call, before or after the object is changed in ``remote``."""
        self._active = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _fault(self, op: str, address: str, when: str) -> None:
        if self.kill_at == (op, address, when):
            os.kill(os.getpid(), signal.SIGKILL)

    def _save_remote(self) -> None:
        if self.remote_file is not None:
            tmp = self.remote_file.with_name(self.remote_file.name + ".tmp")
            tmp.write_text(json.dumps(self.remote))
            os.replace(tmp, self.remote_file)

    def _record(self, op: str, address: str) -> None:
        with self._lock:
            self.calls.append((op, address))

    def ops(self, op: str) -> list[str]:
        return [a for o, a in self.calls if o == op]

    def schemas(self) -> dict[str, Schema]:
        return {"test_thing": THING}

    def configure(self, ctx: ProviderContext) -> Diagnostics:
        self.configured = ctx
        return Diagnostics()

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        diags = Diagnostics()
        if req.config.get("name") == "forbidden":
            diags.append(error("name may not be forbidden", "", req.ranges.get("name")))
        return ValidateResponse(diags)

    def read(self, req: ReadRequest) -> ReadResponse:
        self._record("read", req.address)
        obj = self.remote.get(req.id or "")
        return ReadResponse(None if obj is None else dict(obj))

    def plan(self, req: PlanRequest) -> PlanResponse:
        resp = plan_from_schema(THING, req.prior_state, req.proposed)
        name = (req.proposed or {}).get("name")
        if self.ids_from_name and resp.planned_state is not None and isinstance(name, str):
            resp.planned_state["id"] = f"thing-{name}"
        if resp.planned_state is not None and req.prior_state is not None:
            renamed = resp.planned_state.get("name") != req.prior_state.get("name")
            if renamed and not resp.requires_replace:
                resp.planned_state["fingerprint"] = UNKNOWN
        resp.cost = {"bytes_to_snapshot": 7}
        resp.cost_words = {"bytes_to_snapshot": "{bytes} to snapshot"}
        resp.notes = ["a test note"]
        return resp

    def apply(self, req: ApplyRequest) -> ApplyResponse:
        self._record("apply", req.address)
        with self._lock:
            self._active += 1
            self.max_active = max(self.max_active, self._active)
        try:
            if self.sleep:
                time.sleep(self.sleep)
            if self.on_apply is not None:
                self.on_apply(req)
            if req.address in self.raise_apply:
                raise RuntimeError(f"boom in {req.address}")
            state = dict(req.planned_state)
            if self.ids_from_name:
                if req.prior_state is None and state["id"] in self.remote:
                    msg = f"{state['id']} exists already: delete it or choose another name"
                    return ApplyResponse(None, Diagnostics([error(msg)]))
            elif req.prior_state is None or not req.prior_state.get("id"):
                state["id"] = f"thing-{next(self._ids)}"
            else:
                state["id"] = req.prior_state["id"]
            state["fingerprint"] = f"fp-{state['name']}"
            self._fault("apply", req.address, "before")
            if req.address in self.fail_apply:
                self.remote[state["id"]] = state
                return ApplyResponse(state, Diagnostics([error(f"apply of {req.address} failed")]))
            self.remote[state["id"]] = dict(state)
            self._save_remote()
            self._fault("apply", req.address, "after")
            return ApplyResponse(state)
        finally:
            with self._lock:
                self._active -= 1

    def delete(self, req: DeleteRequest) -> DeleteResponse:
        self._record("delete", req.address)
        if self.sleep:
            time.sleep(self.sleep)
        self._fault("delete", req.address, "before")
        self.remote.pop(req.prior_state.get("id", ""), None)
        self._save_remote()
        self._fault("delete", req.address, "after")
        return DeleteResponse()

    def import_resource(self, req: ImportRequest) -> ImportResponse:
        obj = self.remote.get(req.id)
        if obj is None:
            return ImportResponse(None, Diagnostics([error(f"no object {req.id}")]))
        return ImportResponse(dict(obj))

    def close(self) -> None:
        return None


class Workspace:
    """A spec folder, its real state file and a registry with builtin + test providers."""

    def __init__(self, root: Path) -> None:
        self.dir = root
        self.provider = TestProvider()
        self.registry = Registry([builtin_provider(), self.provider])
        self.state = StateStore.open(root / ".bcdr" / "state.db")
        self.variables: dict[str, Any] = {}

    def write(self, text: str, name: str = "main.hcl") -> None:
        for old in self.dir.glob("*.hcl"):
            old.unlink()
        (self.dir / name).write_text(text)

    def config(self) -> Any:
        cfg, diags = load_config(self.dir)
        assert not diags.has_errors, [str(d) for d in diags]
        return cfg

    def values(self, config: Any) -> dict[str, Any]:
        cli = [f"{k}={json.dumps(v)}" for k, v in self.variables.items()]
        values, diags = collect_variable_values(config, cli_vars=cli, var_files=[], environ={})
        assert not diags.has_errors, [d.summary for d in diags]
        return values

    def plan(self, **options: Any) -> tuple[Plan, Diagnostics]:
        config = self.config()
        return make_plan(
            config,
            self.state,
            self.registry,
            self.values(config),
            PlanOptions(**options),
            working_dir=self.dir,
        )

    def ok_plan(self, **options: Any) -> Plan:
        plan, diags = self.plan(**options)
        assert not diags.has_errors, [f"{d.summary}: {d.detail}" for d in diags]
        return plan

    def apply(
        self,
        plan: Plan,
        parallelism: int = 10,
        cancel: CancelToken | None = None,
        on_event: Callable[[Any], None] | None = None,
    ) -> ApplyResult:
        return apply_plan(
            plan,
            self.config(),
            self.state,
            self.registry,
            working_dir=self.dir,
            parallelism=parallelism,
            on_event=on_event,
            cancel=cancel,
        )

    def converge(self, **options: Any) -> ApplyResult:
        result = self.apply(self.ok_plan(**options))
        assert result.ok, result.failed
        return result

    def actions(self, plan: Plan) -> dict[str, str]:
        return {c.address: c.action.value for c in plan.changes}
