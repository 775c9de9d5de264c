"""The blob service on Azure Blob Storage (or Azurite), through ``azblob``.

One endpoint is one real storage account, so the fabric's names are mapped into it: a
fabric storage account is a real container named as the account (an account name, 3-24
lowercase letters and digits, is a valid container name and has no hyphen, so it never
meets a container another part of bcdr names with one), and a fabric container is the name
prefix ``<container>/`` inside it, marked by the blob ``.containers/<container>`` (a
container name cannot start with a dot, so no blob of a container has that name). A blob's
real name is ``<container>/<blob>``; its URL is ``{endpoint}/{account}/{container}/{blob}``,
so the account's blob endpoint is ``{endpoint}/{account}/``.

What always holds: every ``azblob.BlobError`` becomes the core error of its kind
(``NotFound``, ``AlreadyExists``, ``LeaseConflict``, ``StorageUnreachable``, ``Forbidden``,
else ``CoreError``) naming the fabric's account, container and blob and the endpoint, never
the credential; a container's marker is written before its first blob can be and deleted
after its last blob, so a container killed half-way through its deletion still exists and
its deletion can be run again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from core.blobs.service import (
    BlobInfo,
    LeaseConflict,
    StorageUnreachable,
    check_account,
    check_blob,
    check_container,
    check_lease_seconds,
    check_metadata,
    where,
)
from core.errors import AlreadyExists, CoreError, Forbidden, NotFound

_MARKERS = ".containers/"


def core_error(exc: Exception, what: str, doing: str) -> CoreError:
    """The core error for an ``azblob.BlobError`` raised while ``doing`` something to ``what``."""
    import azblob

    kinds: list[tuple[type, type[CoreError], str]] = [
        (azblob.BlobNotFound, NotFound, "it does not exist"),
        (azblob.BlobExists, AlreadyExists, "it exists or changed meanwhile"),
        (azblob.LeaseConflict, LeaseConflict, "a lease refused it"),
        (azblob.BlobUnreachable, StorageUnreachable, "the endpoint does not answer"),
        (azblob.BlobAccessDenied, Forbidden, "the endpoint refused the credential"),
    ]
    for sdk_kind, kind, said in kinds:
        if isinstance(exc, sdk_kind):
            return kind(f"Cannot {doing} {what}: {said} ({exc})")
    return CoreError(f"Cannot {doing} {what}: {exc}")


class AzureBlobService:
    """The fabric's accounts as containers of the one real account at ``endpoint``."""

    def __init__(self, endpoint: str, credential: Any = None) -> None:
        import azblob

        try:
            self.endpoint = azblob.check_endpoint(endpoint)
            self.credential = credential or azblob.credential_from_env(self.endpoint)
        except azblob.BlobError as exc:
            raise CoreError(str(exc)) from None
        self._real: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"AzureBlobService({self.endpoint!r})"

    def real(self, account: str) -> Any:
        """The real container that holds ``account``."""
        import azblob

        found = self._real.get(account)
        if found is None:
            found = azblob.Container(self.endpoint, check_account(account), self.credential)
            self._real[account] = found
        return found

    def call(self, what: str, doing: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        import azblob

        try:
            return fn(*args, **kw)
        except azblob.BlobError as exc:
            raise core_error(exc, f"{what} at {self.endpoint}", doing) from None

    def create_account(self, account: str) -> None:
        self.call(where(account), "create", self.real(account).create)

    def delete_account(self, account: str) -> int:
        real = self.real(account)
        if not self.call(where(account), "look up", real.exists):
            return 0
        count = sum(
            1
            for info in self.call(where(account), "list", lambda: list(real.list()))
            if not info.name.startswith(_MARKERS)
        )
        self.call(where(account), "delete", real.delete)
        return count

    def containers(self, account: str) -> list[str]:
        real = self.real(account)
        try:
            found = self.call(where(account), "list", lambda: list(real.list(_MARKERS)))
        except NotFound:
            return []
        return sorted(info.name[len(_MARKERS) :] for info in found)

    def container(self, account: str, name: str) -> AzureContainer:
        return AzureContainer(self, check_account(account), check_container(name))

    def endpoint_of(self, account: str) -> str:
        return f"{self.endpoint}/{check_account(account)}/"


class AzureContainer:
    """One fabric container: the blobs under ``<name>/`` of its account's real container."""

    def __init__(self, service: AzureBlobService, account: str, name: str) -> None:
        self.service, self.account, self.name = service, account, name
        self.real = service.real(account)
        self.prefix = f"{name}/"
        self.marker = f"{_MARKERS}{name}"

    def __repr__(self) -> str:
        return f"AzureContainer({self.account!r}, {self.name!r})"

    def _call(self, blob: str, doing: str, fn: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        return self.service.call(where(self.account, self.name, blob), doing, fn, *a, **kw)

    def _info(self, props: Any) -> BlobInfo:
        return BlobInfo(
            name=props.name[len(self.prefix) :],
            size=props.size,
            etag=props.etag,
            metadata=dict(props.metadata),
            last_modified=props.last_modified,
            lease_state=props.lease_state or "available",
            lease_duration=props.lease_duration if props.leased else "",
        )

    # ----------------------------------------------------------------------- containers
    def create(self) -> bool:
        if self.exists():
            return False
        try:
            self._call("", "create", self.real.put, self.marker, b"", create_only=True)
        except NotFound:
            raise NotFound(f"No {where(self.account)} at {self.service.endpoint}") from None
        except AlreadyExists:
            return False
        return True

    def exists(self) -> bool:
        try:
            self._call("", "look up", self.real.info, self.marker)
        except NotFound:
            return False
        return True

    def _require(self) -> None:
        if not self.exists():
            raise NotFound(
                f"No {where(self.account, self.name)} at {self.service.endpoint}: create the "
                "container first"
            )

    def delete(self) -> int:
        self._require()
        count = 0
        for info in self._call("", "list", lambda: list(self.real.list(self.prefix))):
            try:
                self._call(info.name, "delete", self.real.break_lease, info.name)
            except (LeaseConflict, NotFound):
                pass  # not leased, or gone meanwhile
            try:
                self._call(info.name, "delete", self.real.delete_blob, info.name)
                count += 1
            except NotFound:
                pass
        self._call("", "delete", self.real.delete_blob, self.marker)
        return count

    # ---------------------------------------------------------------------------- blobs
    def _name(self, blob: str) -> str:
        return self.prefix + check_blob(blob)

    def put(
        self,
        blob: str,
        data: bytes | bytearray | memoryview,
        *,
        metadata: Mapping[str, str] | None = None,
        lease: str | None = None,
    ) -> BlobInfo:
        name, meta = self._name(blob), check_metadata(metadata)
        self._require()
        self._call(blob, "write", self.real.put, name, data, metadata=meta, lease=lease)
        return self.info(blob)

    def get(
        self, blob: str, offset: int = 0, length: int | None = None, *, lease: str | None = None
    ) -> bytes:
        name = self._name(blob)
        try:
            return self._call(blob, "read", self.real.get, name, offset, length, lease=lease)
        except NotFound:
            self._require()
            raise

    def info(self, blob: str) -> BlobInfo:
        name = self._name(blob)
        try:
            return self._info(self._call(blob, "read", self.real.info, name))
        except NotFound:
            self._require()
            raise

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        self._require()
        found = self._call("", "list", lambda: list(self.real.list(self.prefix + prefix)))
        for props in found:
            yield self._info(props)

    def delete_blob(self, blob: str, *, lease: str | None = None) -> None:
        name = self._name(blob)
        try:
            self._call(blob, "delete", self.real.delete_blob, name, lease=lease)
        except NotFound:
            self._require()
            raise

    def set_metadata(
        self, blob: str, metadata: Mapping[str, str], *, lease: str | None = None
    ) -> BlobInfo:
        name, meta = self._name(blob), check_metadata(metadata)
        self._call(blob, "set the metadata of", self.real.set_metadata, name, meta, lease=lease)
        return self.info(blob)

    # ---------------------------------------------------------------------------- leases
    def acquire_lease(self, blob: str, seconds: int, lease_id: str | None = None) -> str:
        name = self._name(blob)
        check_lease_seconds(seconds)
        return self._call(blob, "lease", self.real.acquire_lease, name, seconds, lease_id)

    def renew_lease(self, blob: str, lease_id: str) -> None:
        self._call(blob, "renew the lease on", self.real.renew_lease, self._name(blob), lease_id)

    def release_lease(self, blob: str, lease_id: str) -> None:
        name = self._name(blob)
        self._call(blob, "release the lease on", self.real.release_lease, name, lease_id)

    def break_lease(self, blob: str, period: int = 0) -> None:
        if not (isinstance(period, int) and 0 <= period <= 60):
            raise CoreError(f"a lease's break period is 0-60 seconds, not {period}")
        self._call(blob, "break the lease on", self.real.break_lease, self._name(blob), period)
