"""disk_access: read access to a disk restore point as a SAS URL for a duration (rule RP-12).

Granting goes through the core (``core.access.grants.Access.grant``): while a grant is active, a new
grant extends it and returns the same URL. ``bcdr serve`` serves the URL: its host and port
are the platform provider's ``serve_url`` (default ``http://127.0.0.1:8443``, what ``bcdr
serve`` listens on by default); start ``bcdr serve`` and fetch the URL with any HTTP client
or Azure Storage SDK (it is a blob URL: ``BlobClient.from_blob_url(url).download_blob()``).
Always holds: the id is ``{disk restore point id}/access``, known at plan time; ``sas_url`` is
sensitive (stored, printed only by ``bcdr output -raw``); a duration over
``core.access.rules.MAX_DURATION_SECONDS`` is a plan error (the core's RP-12 function, which
``Access.grant`` enforces at apply); destroying the resource revokes access at once
(every grant of that disk restore point stops working); a grant that expired or was revoked
outside bcdr reads as gone, so the next plan grants again, and drift says which
(``gone_reason``: expired or revoked, not deleted).
"""

from __future__ import annotations

from typing import Any

from core.access import MAX_DURATION_SECONDS, GrantFacts, grant_problems
from providers.platform.compute import examples
from providers.platform.compute.restore_points import iso
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.rules import problem_diagnostic
from sdk import (
    ApplyRequest,
    Attribute,
    PlanRequest,
    PlanResponse,
    Progress,
    Schema,
    ValidateRequest,
)
from sdk.diagnostics import Diagnostics, error
from sdk.values import UNKNOWN

DEFAULT_DURATION_SECONDS = 3600


def _read_only(value: Any) -> str | None:
    return None if value == "Read" else 'only "Read" access can be granted'


class DiskAccess(ResourceType):
    type_name = "disk_access"
    schema = Schema(
        attributes={
            "disk_restore_point_id": Attribute(required=True, force_new=True),
            "access": Attribute(
                optional=True, force_new=True, default="Read", validators=(_read_only,)
            ),
            "duration_seconds": Attribute(
                type="number",
                optional=True,
                default=DEFAULT_DURATION_SECONDS,
                description=f"how long the URL works (at most {MAX_DURATION_SECONDS} s); a "
                "change extends the active grant (same URL)",
            ),
            "id": Attribute(computed=True, description="{disk restore point id}/access"),
            "sas_url": Attribute(
                computed=True, sensitive=True, description="served by `bcdr serve`"
            ),
            "expires_at": Attribute(computed=True, description="RFC 3339 UTC"),
        },
        description="Read access to a disk restore point: a SAS URL served by `bcdr serve`.",
        rules=("RP-12",),
        example=examples.DISK_ACCESS,
    )

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        diags = Diagnostics()
        duration = req.config.get("duration_seconds")
        if not known(duration):
            return diags
        if isinstance(duration, bool) or not isinstance(duration, int | float):
            return diags
        for p in grant_problems(GrantFacts(duration)):  # RP-12, the core's own function
            diags.append(problem_diagnostic(req, p, "duration_seconds"))
        return diags

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from core.errors import CoreError, NotFound

        drp_id = planned.get("disk_restore_point_id")
        if not known(drp_id):
            return
        planned["id"] = f"{drp_id}/access"
        prior = req.prior_state
        if prior is not None and not resp.requires_replace:
            if planned.get("duration_seconds") != prior.get("duration_seconds"):
                planned["expires_at"] = UNKNOWN
                resp.notes.append("extends the active grant; the URL stays the same")
            return
        rp_id, sep, _ = drp_id.rpartition("/diskRestorePoints/")
        problem = None
        if not sep:
            problem = (
                f"{drp_id!r} is not a disk restore point id: use an id from a restore point's "
                "disk_restore_points ({restore point id}/diskRestorePoints/{disk name})"
            )
        else:
            try:
                s.points.get_disk_restore_point(drp_id)
            except NotFound:
                try:  # a restore point that exists has all its disk restore points
                    s.points.get(rp_id)
                    planned_only = False
                except NotFound:
                    planned_only = s.lookup(rp_id) is not None
                if not planned_only:
                    problem = (
                        f"disk restore point {drp_id} does not exist: check the id (the disk "
                        "name after /diskRestorePoints/), or create the restore point first"
                    )
            except CoreError as err:
                problem = str(err)
        if problem:
            resp.diagnostics.append(
                error(
                    f"Invalid disk_restore_point_id for {req.address}",
                    problem,
                    where(req, "disk_restore_point_id"),
                    address=req.address,
                )
            )

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._grant(s, dict(req.planned_state))

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._grant(s, dict(req.planned_state))

    def _grant(self, s: PlatformSession, p: dict[str, Any]) -> dict[str, Any]:
        duration = p.get("duration_seconds")
        if duration is None:
            duration = DEFAULT_DURATION_SECONDS
        grant = s.access.grant(p["disk_restore_point_id"], duration)  # enforces RP-12
        return self._state(p, grant)

    @staticmethod
    def _state(p: dict[str, Any], grant: Any) -> dict[str, Any]:
        return {
            "disk_restore_point_id": grant.disk_restore_point_id,
            "access": p.get("access") or "Read",
            "duration_seconds": p.get("duration_seconds"),
            "id": f"{grant.disk_restore_point_id}/access",
            "sas_url": grant.url,
            "expires_at": iso(grant.expires_at),
        }

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        drp_id = state.get("disk_restore_point_id")
        if not isinstance(drp_id, str):
            id = state.get("id")
            if not isinstance(id, str) or not id.endswith("/access"):
                return None
            drp_id = id[: -len("/access")]
        grant = s.access.active_grant(drp_id)
        if grant is None:  # expired or revoked: gone, the next plan grants again
            return None
        if state.get("duration_seconds") is None:
            state = dict(state, duration_seconds=DEFAULT_DURATION_SECONDS)
        return self._state(state, grant)

    def gone_reason(self, s: PlatformSession, state: dict[str, Any]) -> str | None:
        drp_id = state.get("disk_restore_point_id")
        return s.access.ended(drp_id) if isinstance(drp_id, str) else None

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        s.access.revoke(state["disk_restore_point_id"])  # ends access at once (RP-12, in the core)

    def import_state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        return self.read(s, {"id": id})


TYPES: list[ResourceType] = [DiskAccess()]
