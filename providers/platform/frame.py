"""The frame every resource type of the embedded platform is written in.

A ``ResourceType`` is a schema plus create/read/update/delete/import against the core,
reached through a ``PlatformSession`` (the fabric, disks, restore points and access of one
platform home, opened on first use). ``EmbeddedProvider`` (providers/platform/provider.py) turns
these into the engine's Provider protocol. Always holds: a core error (``CoreError``)
never escapes as an exception — the provider turns it into a diagnostic naming the
resource; ids are Azure-style and derived from the configuration, so they are known at
plan time and other resources can be checked against them before anything is applied.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from providers.defaults import plan_from_schema
from sdk import (
    ApplyRequest,
    PlanRequest,
    PlanResponse,
    Progress,
    Schema,
    ValidateRequest,
)
from sdk.diagnostics import Diagnostic, Diagnostics, SourceRange, error, warning

if TYPE_CHECKING:  # the core is imported on first use (below), not at module load
    from core.access import Access
    from core.disks import Disks
    from core.fabric import Fabric
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
    ):
        self.home = Path(home)
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

                self._fabric = Fabric.open(self.home)
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
            self.planned[id] = attributes

    def lookup(self, id: Any) -> dict[str, Any] | None:
        """Planned attributes of the resource with this id in this run, else None."""
        return self.planned.get(id) if isinstance(id, str) else None

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


class ResourceType:
    """One resource type. Subclasses set ``type_name`` and ``schema`` and override
    ``create``/``read``/``delete`` (and ``update``, ``check``, ``complete_plan``,
    ``import_state`` where they differ from the defaults)."""

    type_name: ClassVar[str]
    schema: ClassVar[Schema]
    # the Azure type of an id made of subscription, resource_group and name, so known from
    # the configuration alone (None: the id has another form)
    id_type: ClassVar[str | None] = None

    def check(self, s: PlatformSession, req: ValidateRequest) -> Diagnostics:
        """Rule checks on this resource's own values, and on what the configuration alone
        shows of the resources it names (``PlatformSession.configured``); reads no platform."""
        return Diagnostics()

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        resp = plan_from_schema(self.schema, req.prior_state, req.proposed)
        if resp.planned_state is not None:
            replaced = self.replaced_prior(s, req)
            self.complete_plan(s, req, resp)
            if replaced is not None:  # the new object of a replace: say what goes with the old
                s.replacing.pop(req.address, None)
                lost = self.destroys(s, replaced)
                if lost:
                    resp.notes.append(f"replacing {req.address} destroys {lost}")
            if req.prior_state is not None:
                s.replacing[req.address] = req.prior_state
        return resp

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

    def complete_plan(self, s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> None:
        """Fill computed values known at plan time (ids), cross-resource rule checks, cost."""

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
