"""The ``platform`` provider: the embedded platform's resource types behind the Provider protocol.

Configured by ``provider "platform" { home, serve_url, subscription, import_roots,
blob_endpoint, block_store }`` (all optional: ``home`` defaults to ``.bcdr/fabric`` beside
the specs; ``import_roots`` lists the folders besides the specs' that ``source_uri`` may
read; ``blob_endpoint`` puts the storage accounts on Azure Blob, and ``block_store = "blob"``
the block stores too, with the credential from the environment). The resource types come from the
one list of their modules, ``providers.platform.types``.
Always holds: no exception from the core reaches the engine — a ``CoreError`` becomes an
error diagnostic that names the resource and says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from providers.platform.frame import DEFAULT_SERVE_URL, PlatformSession, ResourceType
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
from sdk.diagnostics import Diagnostics, error, warning
from sdk.values import is_wholly_known

_ARGS = {
    "home": "the platform's home folder (default .bcdr/fabric beside the specs)",
    "serve_url": f"base URL of `bcdr serve` used in SAS URLs (default {DEFAULT_SERVE_URL})",
    "subscription": "the subscription used when a resource names none (default: the "
    "platform's default subscription)",
    "import_roots": "folders besides the specs' folder that source_uri may import images from "
    "(a list; relative to the specs)",
    "blob_endpoint": "an Azure Blob endpoint for the platform's storage (for Azurite "
    "http://127.0.0.1:10000/devstoreaccount1); the credential comes from "
    "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY",
    "block_store": '"local" (default: in the home folder) or "blob" (on blob_endpoint): '
    "where restore points' blocks are kept",
}

# how each cost key of a plan reads (the engine renders these words, it knows no key)
COST_WORDS = {
    "bytes_to_snapshot": "{bytes} to snapshot",
    "bytes_to_copy": "{bytes} to copy across regions",
    "blocks_to_restore": "{count} blocks to restore",
}


def all_types() -> list[ResourceType]:
    """The platform's resource types, from the one list of them (``providers.platform.types``)."""
    from providers.platform.types import resource_types

    return resource_types()


class EmbeddedProvider:
    name = "platform"
    # the provider block's arguments, as `bcdr providers schema -json` and the docs show them
    config_schema = Schema(
        {
            key: Attribute(
                type="list(string)" if key == "import_roots" else "string",
                optional=True,
                description=text,
            )
            for key, text in _ARGS.items()
        },
        description="The embedded platform: where it keeps its data and how it serves SAS URLs.",
    )

    def __init__(self) -> None:
        self._types = {t.type_name: t for t in all_types()}
        self._session: PlatformSession | None = None

    # ---------------------------------------------------------------- set-up
    def schemas(self) -> dict[str, Schema]:
        return {name: t.schema for name, t in self._types.items()}

    def configure(self, ctx: ProviderContext) -> Diagnostics:
        diags = Diagnostics()
        cfg = dict(ctx.config)
        for key in cfg:
            if key not in _ARGS:
                diags.append(
                    error(
                        f'The platform provider has no argument "{key}"',
                        "its arguments are: " + "; ".join(f"{k} ({v})" for k, v in _ARGS.items()),
                        ctx.config_range,
                    )
                )
        # validate configures with values that may not be known yet: those count as unset
        cfg = {k: v for k, v in cfg.items() if is_wholly_known(v)}
        home = Path(cfg.get("home") or ctx.data_dir / "fabric")
        if not home.is_absolute():
            home = ctx.working_dir / home
        roots = cfg.get("import_roots") or []
        if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
            diags.append(
                error(
                    "Invalid import_roots of the platform provider",
                    "import_roots is a list of folders, for example import_roots = "
                    '["/data/images"]',
                    ctx.config_range,
                )
            )
            roots = []
        placement = self._placement(cfg, ctx, diags)
        if self._session is not None:
            self._session.close()
        self._session = PlatformSession(
            home,
            str(cfg.get("serve_url") or DEFAULT_SERVE_URL),
            str(cfg.get("subscription") or ""),
            ctx.working_dir,
            tuple(ctx.working_dir / r for r in roots),
            placement,
        )
        return diags

    @staticmethod
    def _placement(cfg: dict[str, Any], ctx: ProviderContext, diags: Diagnostics) -> Any:
        """The fabric's ``Placement`` from blob_endpoint and block_store; None (the one
        recorded) when they are wrong, with an error saying why."""
        from core.errors import CoreError
        from core.fabric.placement import Placement

        try:
            return Placement(
                str(cfg.get("blob_endpoint") or ""), str(cfg.get("block_store") or "local")
            )
        except CoreError as exc:
            summary = "Invalid storage settings of the platform provider"
            diags.append(error(summary, str(exc), ctx.config_range))
            return None

    @property
    def session(self) -> PlatformSession:
        if self._session is None:  # used without a provider block: the defaults
            self._session = PlatformSession(Path(".bcdr") / "fabric")
        return self._session

    def _guard(self, address: str, fn: Callable[[], Any], diags: Diagnostics) -> Any:
        from core.errors import CoreError

        try:
            return fn()
        except CoreError as err:
            diags.append(error(f"{address}: {err}", "", address=address))
        return None

    # ---------------------------------------------------------------- protocol
    def validate(self, req: ValidateRequest) -> ValidateResponse:
        t, s = self._types[req.type_name], self.session
        diags = t.check(s, req)
        id = s.validated_id(t.id_type, req.config) if t.id_type else None
        if id is None:
            return ValidateResponse(diags)
        s.validated[id.lower()] = dict(req.config, id=id, address=req.address)
        return ValidateResponse(diags, known={"id": id})

    def read(self, req: ReadRequest) -> ReadResponse:
        diags = Diagnostics()
        t = self._types[req.type_name]
        state = req.prior_state
        new = self._guard(req.address, lambda: t.read(self.session, state), diags)
        if diags.has_errors:
            new = state
        gone = None
        if new is None:
            gone = self._guard(req.address, lambda: t.gone_reason(self.session, state), diags)
        self.session.remember((new or {}).get("id"), new)
        return ReadResponse(new_state=new, diagnostics=diags, gone=gone)

    def plan(self, req: PlanRequest) -> PlanResponse:
        diags = Diagnostics()
        t = self._types[req.type_name]
        resp = self._guard(req.address, lambda: t.plan(self.session, req), diags)
        if resp is None:
            return PlanResponse(planned_state=None, diagnostics=diags)
        resp.diagnostics.extend(diags)
        if resp.planned_state is not None:
            self.session.remember(resp.planned_state.get("id"), resp.planned_state)
        resp.cost_words = {k: COST_WORDS[k] for k in resp.cost if k in COST_WORDS}
        return resp

    def apply(self, req: ApplyRequest) -> ApplyResponse:
        diags = Diagnostics()
        t = self._types[req.type_name]
        s = self.session
        if req.prior_state is None:
            new = self._guard(req.address, lambda: t.create(s, req), diags)
            if new is None and diags.has_errors:
                new = self._leftover(t, req)
        else:
            new = self._guard(req.address, lambda: t.update(s, req), diags)
        if new is not None:
            s.remember(new.get("id"), new)
        return ApplyResponse(new_state=new, diagnostics=diags)

    def _leftover(self, t: ResourceType, req: ApplyRequest) -> dict[str, Any] | None:
        """What a create that failed half-way left on the platform, if anything.

        Ids are known at plan time, so the object can be looked up; returned with the error,
        the engine saves it as tainted and the next plan replaces it (Terraform's way),
        instead of a later create failing on an object that exists already.
        """
        from core.errors import CoreError

        id = req.planned_state.get("id")
        if not isinstance(id, str):
            return None
        try:
            return t.read(self.session, {"id": id})
        except CoreError:
            return None

    def delete(self, req: DeleteRequest) -> DeleteResponse:
        diags = Diagnostics()
        t = self._types[req.type_name]
        note = self._guard(
            req.address, lambda: t.delete(self.session, req.prior_state, req.progress), diags
        )
        if isinstance(note, str) and note:  # what the delete left behind (a soft delete)
            diags.append(warning(f"{req.address}: {note.split(':')[0]}", note, address=req.address))
        return DeleteResponse(diagnostics=diags)

    def import_resource(self, req: ImportRequest) -> ImportResponse:
        diags = Diagnostics()
        t = self._types[req.type_name]
        state = self._guard(req.address, lambda: t.import_state(self.session, req.id), diags)
        if state is None and not diags.has_errors:
            diags.append(self._not_importable(req))
        return ImportResponse(state=state, diagnostics=diags)

    def _not_importable(self, req: ImportRequest) -> Any:
        """Why no object of the type has the id: what the id is instead, if anything is."""
        others = [
            name
            for name, t in self._types.items()
            if name != req.type_name
            and self._guard(
                req.address, lambda t=t: t.read(self.session, {"id": req.id}), Diagnostics()
            )
            is not None
        ]
        if not others:
            return error(
                f"Cannot import {req.address}: nothing has the id {req.id}",
                "check the id with `bcdr platform list`",
                address=req.address,
            )
        name = req.address.rsplit(".", 1)[-1]
        return error(
            f"Cannot import {req.address}: {req.id} is {_a(others[0])}, not {_a(req.type_name)}",
            f"give the id of {_a(req.type_name)} (`bcdr platform list` shows the ids), or import "
            "the object as what it is: "
            + "; ".join(f"bcdr import {o}.{name} {req.id}" for o in others),
            address=req.address,
        )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _a(type_name: str) -> str:
    """``managed_disk`` as a reader says it: "a managed disk" (the type's name in words)."""
    words = type_name.replace("_", " ")
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words} ({type_name})"


def provider() -> EmbeddedProvider:
    """Entry point ``bcdr.providers: platform``."""
    return EmbeddedProvider()
