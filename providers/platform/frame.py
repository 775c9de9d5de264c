"""The frame every resource type of the embedded platform is written in.

A ``ResourceType`` is a schema plus create/read/update/delete/import against the core,
reached through a ``PlatformSession`` (the fabric, disks, restore points and access of one
platform home, opened on first use). ``EmbeddedProvider`` (providers/platform/provider.py) turns
these into the engine's Provider protocol. The frame also holds, once, the plan prologue of
a type placed by name in a subscription (``ResourceType.place``: the subscription filled and
checked, the group checked, the id made); the attributes every schema composes are in
``providers.platform.attributes``. Always holds: a core error (``CoreError``) never escapes
as an exception — the provider turns it into a diagnostic naming the resource; ids are
Azure-style and derived from the configuration, so they are known at plan time and other
resources can be checked against them before anything is applied; the core is imported on
first use, never at module load.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from providers.defaults import plan_from_schema
from providers.platform.registry import GROUP_ARM, Declaration, group_id
from sdk import (
    ApplyRequest,
    PlanRequest,
    PlanResponse,
    Progress,
    Schema,
    ValidateRequest,
)
from sdk.diagnostics import Diagnostic, Diagnostics, SourceRange, error, warning
from sdk.values import UNKNOWN

if TYPE_CHECKING:  # the core is imported on first use (below), not at module load
    from core.access import Access
    from core.disks import Disks
    from core.fabric import Fabric
    from core.fabric.placement import Placement
    from core.restorepoints import RestorePoints

DEFAULT_SERVE_URL = "http://127.0.0.1:8443"
# the subscription in an id made at validate when the configuration names none (the
# platform's default one is known only once the platform is opened, at plan)
UNNAMED_SUBSCRIPTION = "<default>"


class PlatformSession:
    """The platform one provider instance works on: opened lazily, shared by its types.

    ``planned`` remembers, for this run, the planned (or applied) attributes of every
    platform resource by id, so that a resource can be checked against the others it
    names (a restore point against its collection's VM and that VM's disks) at plan time,
    before any of them exists.
    """

    def __init__(
        self,
        home: Path,
        serve_url: str = DEFAULT_SERVE_URL,
        subscription: str = "",
        working_dir: Path | None = None,
        import_roots: tuple[Path, ...] = (),
        placement: Placement | None = None,
    ):
        self.home = Path(home)
        # where the fabric keeps its bytes (the provider block's blob_endpoint and
        # block_store); None: where the fabric recorded
        self.placement = placement
        # where the specs are: relative paths in arguments (source_uri) start here
        self.working_dir = Path(working_dir) if working_dir is not None else Path.cwd()
        # folders besides the specs' that source_uri may read images from (absolute)
        self.import_roots = tuple(import_roots)
        self.serve_url = serve_url.rstrip("/")
        self._subscription = subscription
        self._lock = threading.RLock()
        self._fabric: Fabric | None = None
        self._disks: Disks | None = None
        self._points: RestorePoints | None = None
        self._access: Access | None = None
        # lower-cased id -> planned (or applied) attributes (``remember``, ``lookup``)
        self.planned: dict[str, dict[str, Any]] = {}
        # lower-cased id -> configured values (with the id and the address), of every
        # resource validated in this run whose id is made of names: what validate knows of
        # the others
        self.validated: dict[str, dict[str, Any]] = {}
        # address -> prior state of every instance planned with one in this run: when the
        # planner then asks again without a prior state, it is for the new object of a
        # replace (changed arguments, -replace or a tainted object), and the type may want
        # to know (to keep its id unknown, or to say what the replace destroys)
        self.replacing: dict[str, dict[str, Any]] = {}

    # the core, opened on first use (the core is imported here only, not at module load)
    @property
    def fabric(self) -> Fabric:
        with self._lock:
            if self._fabric is None:
                from core.fabric import Fabric

                self._fabric = Fabric.open(self.home, self.placement)
            return self._fabric

    @property
    def disks(self) -> Disks:
        with self._lock:
            if self._disks is None:
                from core.disks import Disks

                self._disks = Disks(self.fabric)
            return self._disks

    @property
    def points(self) -> RestorePoints:
        with self._lock:
            if self._points is None:
                from core.restorepoints import RestorePoints

                self._points = RestorePoints(self.fabric, self.disks)
            return self._points

    @property
    def access(self) -> Access:
        with self._lock:
            if self._access is None:
                from core.access import Access

                self._access = Access(self.fabric, self.points, base_url=self.serve_url)
            return self._access

    @property
    def subscription(self) -> str:
        """The subscription used when a resource names none."""
        return self._subscription or self.fabric.default_subscription

    def validated_id(self, id_type: str, config: dict[str, Any]) -> str | None:
        """The id of ``id_type`` made of a configuration's subscription, resource_group and
        name, without opening the platform; None when a part is not known."""
        from core.fabric import ResourceId

        sub = config.get("subscription") or self._subscription or UNNAMED_SUBSCRIPTION
        parts = (sub, config.get("resource_group"), config.get("name"))
        if not all(isinstance(x, str) and x for x in parts):
            return None
        namespace, kind = id_type.split("/")
        return str(ResourceId(parts[0], parts[1], namespace, kind, parts[2]))

    def configured(self, id: Any) -> dict[str, Any] | None:
        """The configured values of the resource with this id validated in this run, else None."""
        return self.validated.get(id.lower()) if isinstance(id, str) else None

    def remember(self, id: Any, attributes: dict[str, Any] | None) -> None:
        if isinstance(id, str) and attributes is not None:
            self.planned[id.lower()] = attributes

    def lookup(self, id: Any) -> dict[str, Any] | None:
        """Planned attributes of the resource with this id in this run, else None (ids
        compare without case)."""
        return self.planned.get(id.lower()) if isinstance(id, str) else None

    def close(self) -> None:
        with self._lock:
            if self._points is not None:
                self._points.close()
            if self._fabric is not None:
                self._fabric.close()
            self._fabric = self._disks = self._points = self._access = None


def rule_error(
    rule: str, summary: str, detail: str, rng: SourceRange | None, address: str
) -> Diagnostic:
    """A plan error for a platform rule: the rule id leads the summary and is tagged."""
    return error(f"{rule}: {summary}", detail, rng, address=address, rule=rule)


def rule_warning(
    rule: str, summary: str, detail: str, rng: SourceRange | None, address: str
) -> Diagnostic:
    return warning(f"{rule}: {summary}", detail, rng, address=address, rule=rule)


def where(req: ValidateRequest | PlanRequest, attr: str) -> SourceRange | None:
    """The file:line of an argument, else of the resource block."""
    return req.ranges.get(attr) or req.range


def known(value: Any) -> bool:
    """A value that is set and known at plan time."""
    return value is not None and value is not UNKNOWN


# ------------------------------------------------------------------ the plan prologue
def plan_subscription(s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> bool:
    """Fill ``subscription`` and check it; False when it is wrong."""
    from core.errors import CoreError

    planned = resp.planned_state
    assert planned is not None
    ok = True
    if (req.proposed or {}).get("subscription") is None and not known(planned.get("subscription")):
        planned["subscription"] = s.subscription
    if known(planned["subscription"]):
        try:
            s.fabric.check_subscription(planned["subscription"])
        except CoreError as err:
            resp.diagnostics.append(
                error(
                    f"Subscription {planned['subscription']!r} does not exist",
                    f"{req.address}: {err}, or leave subscription out for the default",
                    where(req, "subscription"),
                    address=req.address,
                )
            )
            ok = False
    return ok  # the location is one of Azure's regions: its schema says so (allowed)


def check_group(s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> None:
    """The resource's group must be planned in this run or exist on the platform."""
    planned = resp.planned_state
    assert planned is not None
    name = planned.get("resource_group")
    if not known(name) or not known(planned.get("subscription")):
        return
    gid = group_id(planned["subscription"], name)
    if s.lookup(gid) is not None or s.fabric.get_resource(gid) is not None:
        return
    resp.diagnostics.append(
        error(
            f"Resource group {name!r} does not exist",
            f"{req.address}: no resource group {name!r} in subscription "
            f"{planned['subscription']} is planned or exists; declare it with a resource_group "
            "block and refer to it as resource_group.<label>.name",
            where(req, "resource_group"),
            address=req.address,
        )
    )


class ResourceType:
    """One resource type. Subclasses set ``type_name`` and ``schema`` (its attributes from
    ``common_attributes``) and ``declaration`` (its entry in the type registry, for ``bcdr
    platform``), and override ``create``/``read``/``delete`` (and ``update``, ``check``,
    ``complete_plan``, ``import_state`` where they differ from the defaults)."""

    type_name: ClassVar[str]
    schema: ClassVar[Schema]
    # its entry in the type registry (``providers.platform.registry``): its ARM type, ids and
    # what ``bcdr platform`` does with it; None for a type without an ARM type of its own (a
    # VM restore makes virtual machines)
    declaration: ClassVar[Declaration | None] = None
    # the Azure type of an id made of subscription, resource_group and name, so known from
    # the configuration alone (None: the id has another form)
    id_type: ClassVar[str | None] = None

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        """Rule checks on this resource's own values, and on what the configuration alone
        shows of the resources it names (``PlatformSession.configured``); reads no platform."""
        return Diagnostics()

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        """The plan every type shares: the schema's (defaults, replacements), ``revise_plan``,
        the type's place (``place``), then the type's own ``complete_plan``; and, for the new
        object of a replace, what the old one's deletion loses."""
        resp = plan_from_schema(self.schema, req.prior_state, req.proposed)
        if resp.planned_state is not None:
            replaced = self.replaced_prior(s, req)
            if self.revise_plan(s, req, resp) and self.place(s, req, resp):
                self.complete_plan(s, req, resp, resp.planned_state)
            if replaced is not None:  # the new object of a replace: say what goes with the old
                s.replacing.pop(req.address, None)
                lost = self.destroys(s, replaced)
                if lost:
                    resp.notes.append(f"replacing {req.address} destroys {lost}")
            if req.prior_state is not None:
                s.replacing[req.address] = req.prior_state
        return resp

    def revise_plan(self, s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> bool:
        """Revise what the schema planned before the type is placed (a disk adopts the
        arguments an import could not know); False stops the plan (a diagnostic says why)."""
        return True

    def place(self, s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> bool:
        """The plan prologue of a type placed by name in a subscription (its schema has
        ``subscription``; see ``common_attributes``): ``subscription`` filled and checked, the
        resource group checked when the schema has one, and the id made from the names
        (``Declaration.make_id``) once they are known. False when the subscription is wrong:
        the plan goes no further. Other types are left as they are."""
        planned = resp.planned_state
        decl = self.declaration
        if planned is None or decl is None or "subscription" not in self.schema.attributes:
            return True
        if not plan_subscription(s, req, resp):
            return False
        sub, name = planned["subscription"], planned.get("name")
        if decl.arm_type == GROUP_ARM:
            parent = f"/subscriptions/{sub}"
        else:
            check_group(s, req, resp)
            parent = group_id(sub, planned.get("resource_group"))
        if all(known(x) for x in (sub, planned.get("resource_group", ""), name)):
            planned["id"] = decl.make_id(parent, name)
        return True

    @staticmethod
    def replaced_prior(s: PlatformSession, req: PlanRequest) -> dict[str, Any] | None:
        """The prior state when the planner asks for the new object of a replace it just
        planned, else None."""
        if req.prior_state is not None:
            return None
        return s.replacing.get(req.address)

    def destroys(self, s: PlatformSession, prior: dict[str, Any]) -> str | None:
        """What deleting the object ``prior`` loses that a new one will not have (its data,
        its restore points), said in a plan that replaces it; None when nothing is lost."""
        return None

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        """Fill computed values known at plan time (ids), cross-resource rule checks, cost;
        ``planned`` is ``resp.planned_state``, placed already (``place``)."""

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        raise NotImplementedError

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        """In-place update; the default accepts only what the planner let through."""
        return dict(req.planned_state)

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        """The object as the platform has it now (None: gone). Drift comes from here."""
        raise NotImplementedError

    def gone_reason(self, s: PlatformSession, state: dict[str, Any]) -> str | None:
        """Why ``read`` found the object gone when it was not deleted (``"expired"``,
        ``"revoked"``); None for a deletion."""
        return None

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        raise NotImplementedError

    def import_state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        """State for an existing object (``bcdr import``); None when there is none."""
        return self.read(s, {"id": id})
