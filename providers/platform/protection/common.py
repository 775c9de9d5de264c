"""What the protection types share: the ARM types, the session's ``Protection`` service, the
typed facts of a vault and of a policy (planned in this run, else on the platform), and the
plan errors of the core's rule problems and of an id that names nothing.

Always holds: one ``core.protection.Protection`` per opened fabric and session
(``protection``); facts are frozen plain values, None where not known at plan time, and a
loader writes nothing; a problem about a nested argument (``backup.hour_interval``) points
at that argument when the engine knows its line, else at its block, else at the resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from providers.platform.frame import PlatformSession, known, where
from providers.platform.rules import problem_diagnostic
from sdk import PlanRequest, PlanResponse, ValidateRequest
from sdk.diagnostics import Diagnostic, error

if TYPE_CHECKING:
    from core.problems import Problem
    from core.protection import Protection, VaultSettings

VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
POLICY_TYPE = f"{VAULT_TYPE}/backupPolicies"
ITEM_TYPE = f"{VAULT_TYPE}/backupFabrics/protectionContainers/protectedItems"


def protection(s: PlatformSession) -> Protection:
    """The session's protection service (one per opened fabric)."""
    from core.protection import Protection

    cached = s.__dict__.get("_protection")
    if cached is None or cached.fabric is not s.fabric:
        cached = Protection(s.fabric, s.disks, s.points, serve_url=s.serve_url)
        s.__dict__["_protection"] = cached
    return cached


def attr_of(req: ValidateRequest | PlanRequest, about: str) -> str:
    """The argument a problem's ``about`` names, as far as the request has its line: the
    path itself (``backup.time``), else its block (``backup``)."""
    if about in req.ranges:
        return about
    return about.split(".", 1)[0]


def problem_errors(req: ValidateRequest | PlanRequest, problems: list[Problem]) -> list[Diagnostic]:
    """The plan errors of a rule function's problems, each at its argument."""
    return [problem_diagnostic(req, p, attr_of(req, p.about)) for p in problems]


def missing(req: PlanRequest, resp: PlanResponse, attr: str, what: str, id: str, fix: str) -> None:
    """A plan error: ``attr`` names a ``what`` ("Vault") that does not exist."""
    resp.diagnostics.append(
        error(
            f"{what} {id} does not exist",
            f"{req.address}: {attr} names no {what.lower()} planned in this run or on the "
            f"platform; {fix}",
            where(req, attr),
            address=req.address,
        )
    )


def settings_of(values: dict[str, Any]) -> VaultSettings | None:
    """A vault's settings from its arguments (configured, planned or in state); None while
    one of them is not known."""
    from core.protection import VaultSettings

    keys = (
        "storage_mode_type",
        "cross_region_restore_enabled",
        "soft_delete_enabled",
        "immutability",
    )
    if not all(known(values.get(k)) for k in keys):
        return None
    notify = values.get("notify_command")
    if notify is not None and not known(notify):
        return None
    return VaultSettings(
        storage_mode=values["storage_mode_type"],
        cross_region_restore=bool(values["cross_region_restore_enabled"]),
        soft_delete=bool(values["soft_delete_enabled"]),
        immutability=values["immutability"],
        notify_command=notify,
    )


@dataclass(frozen=True)
class VaultFacts:
    """A vault as its policies' and protected VMs' plans see it; None where not known yet."""

    id: str
    name: str | None
    location: str | None
    subscription: str | None
    settings: VaultSettings | None
    exists: bool  # on the platform (else planned in this run only)


def vault_facts(s: PlatformSession, id: str) -> VaultFacts | None:
    """A vault's facts: planned in this run, else on the platform; None when neither."""
    from providers.platform.registry import TypedId

    if TypedId.of(id, VAULT_TYPE) is None:
        return None
    live = protection(s).vaults.find(id)
    p = s.lookup(id)
    if p is not None:
        return VaultFacts(
            _known(p.get("id")) or id,
            _known(p.get("name")),
            _known(p.get("location")),
            _known(p.get("subscription")),
            settings_of(p),
            live is not None,
        )
    if live is None:
        return None
    return VaultFacts(live.id, live.name, live.region, live.subscription, live.settings, True)


@dataclass(frozen=True)
class PolicyFacts:
    """A backup policy as the protected VMs' plans see it."""

    id: str
    vault_id: str


def policy_facts(s: PlatformSession, id: str) -> PolicyFacts | None:
    """A policy's facts: planned in this run, else on the platform; None when neither."""
    from core.errors import NotFound
    from providers.platform.registry import TypedId

    typed = TypedId.of(id, POLICY_TYPE)
    if typed is None or typed.parent is None:
        return None
    if s.lookup(id) is not None:
        return PolicyFacts(id, typed.parent.text)
    try:
        return PolicyFacts(id, protection(s).policies.vault_of(id))
    except NotFound:
        return None


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _known(value: Any) -> Any:
    return value if known(value) else None
