"""recovery_services_vault: a backup vault (Azure's Recovery Services vault) of policies,
protected VMs and their recovery points (``core.protection.vaults``).

Always holds: the id is derived from the configuration, so it is known at plan time; the
settings pass ``vault_problems`` at validate (a new vault's rules: VLT-1, 2, 4, 7) and at
plan against the vault's present settings (VLT-3 cross-region restore stays on, VLT-5
Locked immutability stays, VLT-6 the storage mode stays once the vault holds points), each
a plan error at the argument's file:line with the fix; apply enforces the same function in
the core. Destroying a vault that still protects VMs or holds recovery points (kept after
their protection ended) is a plan warning, and the core refuses the delete until they are
gone. The inventory row holds the arguments, the core the settings. Beside the type, its
declaration for ``bcdr platform``.
"""

from __future__ import annotations

import re
from typing import Any

from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.frame import PlatformSession, ResourceType
from providers.platform.protection import examples
from providers.platform.protection.common import (
    VAULT_TYPE,
    count,
    problem_errors,
    protection,
    settings_of,
    vault_facts,
)
from providers.platform.registry import Core, Declaration, Listed
from sdk import (
    ApplyRequest,
    Attribute,
    Diagnostics,
    PlanRequest,
    PlanResponse,
    Progress,
    Schema,
    ValidateRequest,
)
from sdk.diagnostics import warning

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,49}$")
DEFAULTS = {
    "storage_mode_type": "GeoRedundant",
    "cross_region_restore_enabled": False,
    "soft_delete_enabled": True,
    "immutability": "Disabled",
}


def _vault_name(value: Any) -> str | None:
    if isinstance(value, str) and _NAME.match(value):
        return None
    return "use 2-50 letters, digits and '-', starting with a letter"


def _service(c: Core) -> Any:
    from core.protection import Protection

    return Protection(c.fabric, c.disks, c.points)


def _listed(c: Core) -> list[Listed]:
    p = _service(c)
    return [
        (v.id, v.region, {"settings": v.settings, "items": len(p.list_items(v.id))})
        for v in p.list_vaults()
    ]


def _summary(facts: dict[str, Any]) -> str:
    settings = facts.get("settings")
    if settings is None:
        return ""
    return f"{settings.storage_mode}, {count(facts['items'], 'protected VM')}"


def _show(c: Core, id: str) -> dict[str, Any]:
    import dataclasses

    p = _service(c)
    v = p.vaults.find(id)
    if v is None:
        return {}
    points = p.points.of_vault(v.id)
    return {
        "recovery_services_vault": {
            "region": v.region,
            "settings": dataclasses.asdict(v.settings),
            "protected_items": [i.id for i in p.list_items(v.id)],
            "recovery_points": sum(1 for r in points if r.deleted_at is None),
            "soft_deleted_points": sum(1 for r in points if r.deleted_at is not None),
        }
    }


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    _service(c).delete_vault(id)
    return [], 0


RECOVERY_SERVICES_VAULT = Declaration(
    "recovery_services_vault",
    VAULT_TYPE,
    ("recovery_vault",),
    facts=vault_facts,
    find=lambda c, id: _service(c).get_vault(id).id,
    listed=_listed,
    summary=_summary,
    show=_show,
    delete=_delete,
)


def _held(s: PlatformSession, id: str) -> tuple[int, int]:
    """(protected VMs, live recovery points) of the vault ``id``; (0, 0) when it is gone."""
    p = protection(s)
    if p.vaults.find(id) is None:
        return 0, 0
    points = [r for r in p.points.of_vault(id) if r.deleted_at is None]
    return len(p.list_items(id)), len(points)


class RecoveryServicesVault(ResourceType):
    type_name = RECOVERY_SERVICES_VAULT.type_name
    declaration = RECOVERY_SERVICES_VAULT
    id_type = VAULT_TYPE
    schema = Schema(
        attributes={
            **common_attributes(
                Attribute(
                    required=True,
                    force_new=True,
                    validators=(_vault_name,),
                    description="the vault's name: 2-50 letters, digits and '-', starting "
                    "with a letter",
                )
            ),
            "storage_mode_type": Attribute(
                optional=True,
                default=DEFAULTS["storage_mode_type"],
                description="LocallyRedundant or GeoRedundant; fixed once the vault holds "
                "recovery points (VLT-6)",
            ),
            "cross_region_restore_enabled": Attribute(
                type="bool",
                optional=True,
                default=DEFAULTS["cross_region_restore_enabled"],
                description="restores into the paired region; needs GeoRedundant (VLT-2) and "
                "cannot be turned off once on (VLT-3)",
            ),
            "soft_delete_enabled": Attribute(
                type="bool",
                optional=True,
                default=DEFAULTS["soft_delete_enabled"],
                description="deleted recovery points stay recoverable for 14 days "
                "(`bcdr backup undelete`)",
            ),
            "immutability": Attribute(
                optional=True,
                default=DEFAULTS["immutability"],
                description="Disabled, Unlocked or Locked: an immutable vault refuses to "
                "delete recovery points before their retention ends; Locked cannot be undone "
                "(VLT-5)",
            ),
            "notify_command": Attribute(
                optional=True,
                description="a shell command run with a failed backup job as JSON on stdin",
            ),
            **tags_and_id(),
        },
        description="A Recovery Services vault: backup policies, protected VMs and their "
        "recovery points, in its own block store.",
        rules=("VLT-1", "VLT-2", "VLT-3", "VLT-4", "VLT-5", "VLT-6", "VLT-7"),
        example=examples.VAULT,
    )

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        from core.protection import vault_problems

        settings = settings_of(
            {**DEFAULTS, **{k: v for k, v in req.config.items() if v is not None}}
        )
        if settings is None:
            return Diagnostics()
        return Diagnostics(problem_errors(req, vault_problems(settings, None)))

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from core.protection import vault_problems

        prior = req.prior_state
        new = settings_of(planned)
        old = settings_of(prior) if prior is not None and not resp.requires_replace else None
        if new is not None and old is not None:
            holds = protection(s).vaults.holds_points(prior["id"])
            reported = set(vault_problems(new, None))  # at validate already
            found = [p for p in vault_problems(new, old, holds_points=holds) if p not in reported]
            resp.diagnostics.extend(problem_errors(req, found))
        if resp.requires_replace:
            self._warn_destroy(s, req, resp)

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        resp = super().plan(s, req)
        if req.proposed is None and req.prior_state is not None:
            self._warn_destroy(s, req, resp)
        return resp

    @staticmethod
    def _warn_destroy(s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> None:
        prior = req.prior_state or {}
        vms, points = _held(s, prior.get("id") or "")
        if not points and not vms:
            return
        held = " and ".join(
            x
            for x in (
                vms and count(vms, "protected VM"),
                points and count(points, "recovery point"),
            )
            if x
        )
        resp.diagnostics.append(
            warning(
                f"{req.address} holds {held}",
                f"vault {prior.get('name')} holds {held}: its delete is refused until they are "
                "gone. Destroy its backup_protected_vm resources first (with "
                "retain_data_on_destroy = false to delete their points), or delete the kept "
                "points with `bcdr backup delete`; soft-deleted points are purged 14 days later",
                address=req.address,
            )
        )

    def _put(self, s: PlatformSession, p: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(p["location"])
        s.fabric.put_resource(p["id"], VAULT_TYPE, region, arguments(self.schema, p))
        return self._state(s, p["id"])  # type: ignore[return-value]

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        settings = settings_of(p)
        assert settings is not None  # planned values are known at apply
        protection(s).create_vault(p["id"], p["location"], settings)
        return self._put(s, p)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        settings = settings_of(p)
        assert settings is not None
        protection(s).update_vault(p["id"], settings)
        return self._put(s, p)

    def _state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        v = protection(s).vaults.find(id)
        if v is None:
            return None
        row = s.fabric.get_resource(v.id)
        if row is not None and row["type"] == VAULT_TYPE:
            props = row["properties"]
        else:  # made outside bcdr: what the core knows of it
            props = {
                "name": v.name,
                "resource_group": v.resource_group,
                "location": v.region,
                "subscription": v.subscription,
            }
        return state_from(
            self.schema,
            props,
            id=v.id,
            storage_mode_type=v.settings.storage_mode,
            cross_region_restore_enabled=v.settings.cross_region_restore,
            soft_delete_enabled=v.settings.soft_delete,
            immutability=v.settings.immutability,
            notify_command=v.settings.notify_command,
        )

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        id = state.get("id")
        return self._state(s, id) if isinstance(id, str) else None

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        # the core first: it refuses a vault that protects VMs or holds points, and the row
        # stays with it; killed between the two, the row of a gone vault reads as gone
        p = protection(s)
        if p.vaults.find(state["id"]) is not None:
            p.delete_vault(state["id"])
        s.fabric.delete_resource(state["id"])


TYPES: list[ResourceType] = [RecoveryServicesVault()]
DECLARATIONS = [RECOVERY_SERVICES_VAULT]
