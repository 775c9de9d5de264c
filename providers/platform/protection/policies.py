"""backup_policy_vm: when a vault backs its VMs up and how long it keeps the backups, as
Terraform's ``azurerm_backup_policy_vm`` says it (``core.protection.policy.BackupPolicy``).

Always holds: the id is ``{vault id}/backupPolicies/{name}``, known at plan time; the vault
must be planned in this run or exist; the policy passes ``policy_problems`` (POL-1 to
POL-17, every problem at once) at validate, each a plan error at its argument (a nested
argument at its block's line, ``backup { … }``) with the fix, and the core enforces the same
function at apply; a change of anything but ``name``, ``vault_id`` and ``policy_type`` is an
update in place that the protected VMs follow from their next scheduled backup; a policy a
protected VM uses is never deleted (destroy that VM's protection, or move it to another
policy, first). The inventory row holds the arguments as written, so a policy changed
outside bcdr is drift and one left alone reads back exactly as applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.platform.attributes import arguments, state_from
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.protection import examples
from providers.platform.protection.common import (
    POLICY_TYPE,
    VAULT_TYPE,
    count,
    missing,
    policy_facts,
    problem_errors,
    protection,
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
from sdk.diagnostics import error, warning
from sdk.values import is_wholly_known

if TYPE_CHECKING:
    from core.protection import BackupPolicy

DAYS = Attribute(type="list(string)", optional=True, description="day names (Monday…Sunday)")
WEEKS = Attribute(
    type="list(string)", optional=True, description="weeks of the month: First…Fourth, Last"
)
MONTH_DAYS = Attribute(
    type="list(number)", optional=True, description="days of the month, 1-28 (with weeks: no)"
)
LAST_DAY = Attribute(
    type="bool", optional=True, default=False, description="also keep the month's last day"
)


def _count(low: int, high: int) -> Attribute:
    return Attribute(type="number", required=True, description=f"how many to keep: {low}-{high}")


BACKUP = Schema(
    attributes={
        "frequency": Attribute(required=True, description="Hourly (V2 only), Daily or Weekly"),
        "time": Attribute(
            required=True, description='the local start time, "HH:00" or "HH:30" (e.g. "23:00")'
        ),
        "hour_interval": Attribute(
            type="number", optional=True, description="Hourly: every 4, 6, 8 or 12 hours"
        ),
        "hour_duration": Attribute(
            type="number",
            optional=True,
            description="Hourly: the window, 4-24 hours, a multiple of hour_interval",
        ),
        "weekdays": Attribute(
            type="list(string)", optional=True, description="Weekly: the days backups run on"
        ),
    }
)
RETENTION_DAILY = Schema(attributes={"count": _count(7, 9999)})
RETENTION_WEEKLY = Schema(attributes={"count": _count(1, 5163), "weekdays": DAYS})
RETENTION_MONTHLY = Schema(
    attributes={
        "count": _count(1, 9999),
        "weekdays": DAYS,
        "weeks": WEEKS,
        "days": MONTH_DAYS,
        "include_last_days": LAST_DAY,
    }
)
RETENTION_YEARLY = Schema(
    attributes={
        "count": _count(1, 99),
        "months": Attribute(type="list(string)", optional=True, description="month names"),
        "weekdays": DAYS,
        "weeks": WEEKS,
        "days": MONTH_DAYS,
        "include_last_days": LAST_DAY,
    }
)
BLOCKS = ("backup", "retention_daily", "retention_weekly", "retention_monthly", "retention_yearly")
_POLICY_ARGS = ("policy_type", "timezone", "instant_restore_retention_days", *BLOCKS)


def _int(value: Any) -> Any:
    """A whole number as an int (HCL numbers may arrive as 4.0); anything else as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _tuple(value: Any) -> tuple:
    return tuple(_int(v) for v in value or ())


def policy_of(values: dict[str, Any]) -> BackupPolicy | None:
    """The core's policy of a configuration (its defaults filled); None while a part of it is
    not known."""
    from core.protection import (
        Backup,
        BackupPolicy,
        RetentionDaily,
        RetentionMonthly,
        RetentionWeekly,
        RetentionYearly,
    )

    if not all(is_wholly_known(values.get(k)) for k in _POLICY_ARGS):
        return None
    b = values.get("backup")
    if not isinstance(b, dict):
        return None

    def block(name: str, cls: Any, lists: tuple[str, ...]) -> Any:
        v = values.get(name)
        if not isinstance(v, dict):
            return None
        extra = {k: _tuple(v.get(k)) for k in lists}
        if "include_last_days" in cls.__dataclass_fields__:
            extra["include_last_days"] = bool(v.get("include_last_days"))
        return cls(count=_int(v.get("count")), **extra)

    return BackupPolicy(
        backup=Backup(
            frequency=b.get("frequency"),
            time=b.get("time"),
            hour_interval=_int(b.get("hour_interval")),
            hour_duration=_int(b.get("hour_duration")),
            weekdays=_tuple(b.get("weekdays")),
        ),
        policy_type=values.get("policy_type") or "V1",
        timezone=values.get("timezone") or "UTC",
        instant_restore_retention_days=_int(values.get("instant_restore_retention_days")),
        retention_daily=block("retention_daily", RetentionDaily, ()),
        retention_weekly=block("retention_weekly", RetentionWeekly, ("weekdays",)),
        retention_monthly=block(
            "retention_monthly", RetentionMonthly, ("weekdays", "weeks", "days")
        ),
        retention_yearly=block(
            "retention_yearly", RetentionYearly, ("months", "weekdays", "weeks", "days")
        ),
    )


def _args_of(policy: BackupPolicy) -> dict[str, Any]:
    """A stored policy as arguments (lists where the configuration has lists; an empty list
    as unset)."""
    import dataclasses

    def plain(d: Any) -> Any:
        if d is None:
            return None
        return {k: (list(v) or None) if isinstance(v, tuple) else v for k, v in d.items()}

    data = dataclasses.asdict(policy)
    return {k: plain(data[k]) if k in BLOCKS else data[k] for k in _POLICY_ARGS}


def _service(c: Core) -> Any:
    from core.protection import Protection

    return Protection(c.fabric, c.disks, c.points)


def _listed(c: Core) -> list[Listed]:
    rows = c.fabric.db().execute(
        "SELECT p.id, v.region, p.policy FROM bk_policies p JOIN bk_vaults v ON v.id = p.vault_id "
        "ORDER BY p.id"
    )
    used = c.fabric.db().execute("SELECT policy_id, COUNT(*) FROM bk_items GROUP BY policy_id")
    users = {r[0].lower(): r[1] for r in used}
    return [(r[0], r[1], {"items": users.get(r[0].lower(), 0)}) for r in rows]


def _show(c: Core, id: str) -> dict[str, Any]:
    import dataclasses

    p = _service(c)
    return {
        "backup_policy": dataclasses.asdict(p.get_policy(id)),
        "protected_items": [i.id for i in p.list_items() if i.policy_id.lower() == id.lower()],
    }


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    _service(c).delete_policy(id)
    return [], 0


def _find(c: Core, id: str) -> str:
    _service(c).get_policy(id)
    return id


BACKUP_POLICY_VM = Declaration(
    "backup_policy_vm",
    POLICY_TYPE,
    ("backup_policy",),
    facts=policy_facts,
    find=_find,
    listed=_listed,
    summary=lambda facts: count(facts["items"], "protected VM") if "items" in facts else "",
    show=_show,
    delete=_delete,
)


class BackupPolicyVm(ResourceType):
    type_name = BACKUP_POLICY_VM.type_name
    declaration = BACKUP_POLICY_VM
    schema = Schema(
        attributes={
            "name": Attribute(
                required=True, force_new=True, description="the policy's name in its vault"
            ),
            "vault_id": Attribute(
                required=True, force_new=True, description="the recovery_services_vault's id"
            ),
            "policy_type": Attribute(
                optional=True,
                force_new=True,
                default="V1",
                description="V1 (standard) or V2 (enhanced: hourly backups, up to 30 days of "
                "instant restore)",
            ),
            "timezone": Attribute(
                optional=True,
                default="UTC",
                description="the zone backup.time and the retention calendar are in: an IANA "
                'name ("Europe/Berlin") or a Windows one ("W. Europe Standard Time")',
            ),
            "backup": Attribute(block=BACKUP, nesting="single", required=True),
            "instant_restore_retention_days": Attribute(
                type="number",
                optional=True,
                description="days a backup stays in the snapshot tier: 1-5 on V1, 1-30 on V2 "
                "(default 2 on V1, 7 on V2, 5 for weekly backups)",
            ),
            "retention_daily": Attribute(block=RETENTION_DAILY, nesting="single", optional=True),
            "retention_weekly": Attribute(block=RETENTION_WEEKLY, nesting="single", optional=True),
            "retention_monthly": Attribute(
                block=RETENTION_MONTHLY, nesting="single", optional=True
            ),
            "retention_yearly": Attribute(block=RETENTION_YEARLY, nesting="single", optional=True),
            "id": Attribute(computed=True, description="{vault id}/backupPolicies/{name}"),
        },
        description="A VM backup policy of a vault: the schedule in a time zone and the daily, "
        "weekly, monthly and yearly retention.",
        rules=tuple(f"POL-{n}" for n in range(1, 18)),
        example=examples.POLICY,
    )

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        from core.protection import policy_problems

        policy = policy_of(req.config)
        if policy is None:
            return Diagnostics()
        return Diagnostics(problem_errors(req, policy_problems(policy)))

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        resp = super().plan(s, req)
        prior = req.prior_state
        if req.proposed is None and prior is not None and prior.get("id"):
            users = [i for i in protection(s).list_items() if i.policy_id == prior["id"]]
            if users:
                resp.diagnostics.append(
                    warning(
                        f"{req.address} is used by {count(len(users), 'protected VM')}",
                        f"backup policy {prior.get('name')} protects "
                        f"{', '.join(i.vm_id.rsplit('/', 1)[-1] for i in users)}: its delete is "
                        "refused while a protected VM uses it; destroy their protection or "
                        "give them another backup_policy_id in the same run",
                        address=req.address,
                    )
                )
        return resp

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from providers.platform.registry import TypedId

        vid, name = planned.get("vault_id"), planned.get("name")
        if not known(vid):
            return
        if TypedId.of(vid, VAULT_TYPE) is None:
            resp.diagnostics.append(
                error(
                    "vault_id is not a vault's id",
                    f"{req.address}: {vid!r} is no id of a Recovery Services vault; refer to "
                    "one as recovery_services_vault.<label>.id",
                    where(req, "vault_id"),
                    address=req.address,
                )
            )
            return
        if vault_facts(s, vid) is None:
            fix = "declare it (recovery_services_vault) and refer to its id"
            missing(req, resp, "vault_id", "Vault", vid, fix)
        if known(name):
            planned["id"] = BACKUP_POLICY_VM.make_id(vid, name)

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def _put(self, s: PlatformSession, p: dict[str, Any]) -> dict[str, Any]:
        policy = policy_of(p)
        assert policy is not None  # planned values are known at apply
        service = protection(s)
        vault = service.get_vault(p["vault_id"])
        service.put_policy(p["id"], vault.id, policy)
        s.fabric.put_resource(p["id"], POLICY_TYPE, vault.region, arguments(self.schema, p))
        return self._state(s, p["id"])  # type: ignore[return-value]

    def _state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        from core.errors import NotFound

        service = protection(s)
        try:
            policy = service.get_policy(id)
            vault_id = service.policies.vault_of(id)
        except NotFound:
            return None
        row = s.fabric.get_resource(id)
        props = row["properties"] if row is not None and row["type"] == POLICY_TYPE else {}
        if not props or policy_of(props) != policy:  # changed (or made) outside bcdr
            props = {**props, "name": id.rsplit("/", 1)[-1], **_args_of(policy)}
        return state_from(self.schema, props, id=id, vault_id=vault_id)

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        id = state.get("id")
        return self._state(s, id) if isinstance(id, str) else None

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        try:  # the core first: it refuses a policy a protected VM uses, and the row stays
            protection(s).delete_policy(state["id"])
        except NotFound:
            pass
        s.fabric.delete_resource(state["id"])


TYPES: list[ResourceType] = [BackupPolicyVm()]
DECLARATIONS = [BACKUP_POLICY_VM]
