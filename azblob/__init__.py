"""Azure Blob Storage for bcdr: the only module that imports ``azure-storage-blob``.

The core's blob service and block store, and the state's remote backend, reach Azure Blob
(or Azurite) through ``Container``; nothing else imports the SDK. It imports nothing of
bcdr, so every layer may use it.

What always holds:
- Every SDK failure leaves as a ``BlobError`` (``BlobNotFound``, ``BlobExists``,
  ``LeaseConflict``, ``BlobUnreachable``, ``BlobAccessDenied``) whose message names the
  account, the container and the blob, and says what to do. No message, ``repr`` or
  exception carries the account key or a SAS token.
- ``put`` writes a block blob whole: readers see the old blob, the new one, or none (a
  single Put Blob up to the SDK's single-put size, staged blocks committed at once above it).
- The credential comes from the environment as the Azure tools read it
  (``credential_from_env``) and is held only in memory.
- Calls fail fast when the endpoint does not answer: few retries and short connection
  timeouts, so an unreachable endpoint is an error in seconds, not minutes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

#: the environment variables read for a credential, in the order they are tried
CREDENTIAL_VARIABLES = (
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_KEY",
    "ARM_ACCESS_KEY",
)

#: a lease's length bounds as Azure allows them (seconds; -1 is infinite)
LEASE_MIN, LEASE_MAX = 15, 60

_LEASE_CODES = {
    "LeaseAlreadyPresent",
    "LeaseIdMismatchWithBlobOperation",
    "LeaseIdMismatchWithLeaseOperation",
    "LeaseIdMissing",
    "LeaseLost",
    "LeaseNotPresentWithBlobOperation",
    "LeaseNotPresentWithLeaseOperation",
    "LeaseIsBrokenAndCannotBeRenewed",
    "LeaseIsBreakingAndCannotBeAcquired",
    "LeaseIsBreakingAndCannotBeChanged",
    "LeaseAlreadyBroken",
}


class BlobError(Exception):
    """A failure of Azure Blob Storage, naming what it happened to and what to do."""

    def __init__(
        self,
        message: str,
        *,
        account: str = "",
        container: str = "",
        blob: str = "",
        code: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.account, self.container, self.blob = account, container, blob
        self.code, self.status = code, status


class BlobNotFound(BlobError):
    """The container or blob does not exist."""


class BlobExists(BlobError):
    """The container or blob exists (a create-only write, or a changed ETag)."""


class LeaseConflict(BlobError):
    """A lease refused the call: held by another, lost, broken or not given."""


class BlobUnreachable(BlobError):
    """The endpoint did not answer (wrong address, service down, connection lost)."""


class BlobAccessDenied(BlobError):
    """The endpoint refused the credential."""


@dataclass(frozen=True)
class Credential:
    """An account name with its key or a SAS token; ``repr`` shows only the account."""

    account: str
    key: str = field(default="", repr=False)
    sas: str = field(default="", repr=False)
    source: str = ""
    """Which environment variable(s) it came from, for messages."""

    def for_sdk(self) -> Any:
        if self.key:
            return {"account_name": self.account, "account_key": self.key}
        return self.sas or None


def _connection_string(text: str) -> dict[str, str]:
    """``Key=Value;Key=Value`` pairs of a storage connection string (values may hold '=')."""
    pairs: dict[str, str] = {}
    for part in text.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            pairs[k.strip().lower()] = v.strip()
    return pairs


def account_of(endpoint: str) -> str:
    """The account an endpoint URL names: the path's first part for a path-style URL
    (Azurite's ``http://127.0.0.1:10000/devstoreaccount1``), else the host's first label."""
    url = urlparse(endpoint)
    path = url.path.strip("/")
    if path:
        return path.split("/")[0]
    return (url.hostname or "").split(".")[0]


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` without a trailing slash; BlobError when it is not an http(s) URL."""
    url = urlparse(str(endpoint))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise BlobError(
            f"{endpoint!r} is not a blob endpoint: write an http(s) URL such as "
            "https://ACCOUNT.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1"
        )
    return str(endpoint).rstrip("/")


def credential_from_env(endpoint: str, env: Mapping[str, str] | None = None) -> Credential:
    """The credential for ``endpoint`` from the environment, as the Azure tools read it.

    ``AZURE_STORAGE_CONNECTION_STRING`` (its ``AccountKey`` or ``SharedAccessSignature``),
    else ``AZURE_STORAGE_ACCOUNT`` with ``AZURE_STORAGE_KEY``, else ``ARM_ACCESS_KEY`` (as
    Terraform's azurerm backend reads it) for the endpoint's account. BlobError saying what
    to set when none is there.
    """
    env = os.environ if env is None else env
    account = account_of(endpoint)
    text = env.get("AZURE_STORAGE_CONNECTION_STRING", "")
    if text:
        pairs = _connection_string(text)
        name = pairs.get("accountname", account)
        key, sas = pairs.get("accountkey", ""), pairs.get("sharedaccesssignature", "")
        if key or sas:
            return Credential(name, key, sas, "AZURE_STORAGE_CONNECTION_STRING")
    if env.get("AZURE_STORAGE_KEY"):
        name = env.get("AZURE_STORAGE_ACCOUNT") or account
        return Credential(name, env["AZURE_STORAGE_KEY"], "", "AZURE_STORAGE_KEY")
    if env.get("ARM_ACCESS_KEY"):
        return Credential(account, env["ARM_ACCESS_KEY"], "", "ARM_ACCESS_KEY")
    raise BlobError(
        f"No credential for the blob endpoint {endpoint}: set AZURE_STORAGE_CONNECTION_STRING, "
        "or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, or ARM_ACCESS_KEY",
        account=account,
    )


@dataclass(frozen=True)
class BlobInfo:
    """What a blob's properties say: size, ETag, metadata and its lease."""

    name: str
    size: int
    etag: str
    metadata: dict[str, str]
    lease_state: str  # available, leased, expired, breaking, broken
    lease_duration: str  # infinite, fixed or ""
    last_modified: str

    @property
    def leased(self) -> bool:
        return self.lease_state in ("leased", "breaking")


class Container:
    """One blob container of one account, at ``endpoint`` with ``credential``."""

    def __init__(self, endpoint: str, name: str, credential: Credential | None = None) -> None:
        self.endpoint = check_endpoint(endpoint)
        self.name = name
        self.credential = credential or credential_from_env(self.endpoint)
        self.account = self.credential.account or account_of(self.endpoint)
        self._client: Any = None

    def __repr__(self) -> str:
        return f"Container({self.endpoint!r}, {self.name!r})"

    # ------------------------------------------------------------ the SDK
    @property
    def client(self) -> Any:
        if self._client is None:
            from azure.storage.blob import ContainerClient, LinearRetry

            self._client = ContainerClient(
                self.endpoint,
                self.name,
                credential=self.credential.for_sdk(),
                retry_policy=LinearRetry(backoff=0.5, random_jitter_range=0.2, retry_total=2),
                connection_timeout=5,
                read_timeout=60,
            )
        return self._client

    def where(self, blob: str = "") -> str:
        where = f"container {self.name!r} of account {self.account!r} at {self.endpoint}"
        return f"blob {blob!r} in {where}" if blob else where

    def _error(self, exc: Exception, blob: str = "", doing: str = "") -> BlobError:
        """The BlobError for an SDK exception raised while ``doing`` something to ``blob``."""
        from azure.core import exceptions as e

        code = str(getattr(exc, "error_code", "") or "")
        status = getattr(exc, "status_code", None)
        what = self.where(blob)
        ctx = {"account": self.account, "container": self.name, "blob": blob}
        doing = f" ({doing})" if doing else ""
        if isinstance(exc, e.ServiceRequestError | e.ServiceResponseError):
            target = (
                f"blob {blob!r} in container {self.name!r}" if blob else f"container {self.name!r}"
            )
            return BlobUnreachable(
                f"Cannot reach the blob endpoint {self.endpoint}{doing} for {target}: check "
                "the endpoint and that the storage service is running",
                code=code,
                status=status,
                **ctx,
            )
        if code in _LEASE_CODES or (status == 412 and "lease" in str(exc).lower()):
            return LeaseConflict(
                f"The lease on {what} refused the call{doing}: {code or status}",
                code=code,
                status=status,
                **ctx,
            )
        if isinstance(exc, e.ClientAuthenticationError) or status == 403:
            source = self.credential.source or "the environment"
            return BlobAccessDenied(
                f"{self.endpoint} refused the credential from {source}{doing} for {what}: "
                "check the account name and key",
                code=code,
                status=status,
                **ctx,
            )
        if isinstance(exc, e.ResourceNotFoundError) or status == 404:
            gone = " (the container does not exist)" if blob and code == "ContainerNotFound" else ""
            return BlobNotFound(f"No {what}{gone}", code=code, status=status, **ctx)
        if isinstance(exc, e.ResourceExistsError | e.ResourceModifiedError) or status in (
            409,
            412,
        ):
            return BlobExists(
                f"{what[0].upper()}{what[1:]} exists or changed meanwhile{doing}: {code or status}",
                code=code,
                status=status,
                **ctx,
            )
        return BlobError(
            f"Azure Blob failed{doing} on {what}: {code or status or type(exc).__name__}",
            code=code,
            status=status,
            **ctx,
        )

    def _call(self, blob: str, doing: str, fn: Any, *args: Any, **kw: Any) -> Any:
        from azure.core.exceptions import AzureError

        try:
            return fn(*args, **kw)
        except AzureError as exc:
            raise self._error(exc, blob, doing) from None

    # ---------------------------------------------------------- containers
    def create(self, exist_ok: bool = True) -> bool:
        """Create the container; False when it existed (and ``exist_ok``)."""
        try:
            self._call("", "create container", self.client.create_container)
        except BlobExists:
            if not exist_ok:
                raise
            return False
        return True

    def exists(self) -> bool:
        return bool(self._call("", "look up container", self.client.exists))

    def delete(self) -> None:
        self._call("", "delete container", self.client.delete_container)

    # --------------------------------------------------------------- blobs
    def put(
        self,
        blob: str,
        data: bytes | bytearray | memoryview,
        *,
        metadata: Mapping[str, str] | None = None,
        lease: str | None = None,
        if_match: str | None = None,
        create_only: bool = False,
    ) -> str:
        """Write ``blob`` whole (a block blob); its new ETag.

        ``lease``: the lease id the blob holds; ``if_match``: only over that ETag;
        ``create_only``: only when no such blob exists (BlobExists otherwise).
        """
        from azure.core import MatchConditions

        kw: dict[str, Any] = {"overwrite": not create_only, "metadata": dict(metadata or {})}
        if lease:
            kw["lease"] = lease
        if if_match:
            kw["etag"], kw["match_condition"] = if_match, MatchConditions.IfNotModified
        client = self.client.get_blob_client(blob)
        body = data if isinstance(data, bytes) else bytes(data)  # one copy at most
        result = self._call(blob, "write", client.upload_blob, body, length=len(body), **kw)
        return str(result.get("etag", ""))

    def get(
        self, blob: str, offset: int = 0, length: int | None = None, *, lease: str | None = None
    ) -> bytes:
        """The bytes of ``blob`` (``length`` from ``offset``; to the end when None)."""
        if length == 0:
            return b""
        kw: dict[str, Any] = {}
        if offset or length is not None:
            kw["offset"] = offset
        if length is not None:
            kw["length"] = length
        if lease:
            kw["lease"] = lease
        try:
            stream = self._call(blob, "read", self.client.download_blob, blob, **kw)
            return bytes(self._call(blob, "read", stream.readall))
        except BlobError as exc:
            if exc.code == "InvalidRange" or exc.status == 416:
                return b""  # reading past the end, as a file read does
            raise

    def info(self, blob: str) -> BlobInfo:
        """The blob's properties (BlobNotFound when it does not exist)."""
        props = self._call(
            blob, "read properties", self.client.get_blob_client(blob).get_blob_properties
        )
        return _info(props)

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """The blobs whose names start with ``prefix``, in name order, with their metadata."""
        pages = self._call(
            "",
            "list",
            self.client.list_blobs,
            name_starts_with=prefix or None,
            include=["metadata"],
        )
        from azure.core.exceptions import AzureError

        try:
            for props in pages:
                yield _info(props)
        except AzureError as exc:
            raise self._error(exc, "", "list") from None

    def delete_blob(self, blob: str, *, lease: str | None = None) -> None:
        kw = {"lease": lease} if lease else {}
        self._call(blob, "delete", self.client.delete_blob, blob, delete_snapshots="include", **kw)

    def set_metadata(
        self, blob: str, metadata: Mapping[str, str], *, lease: str | None = None
    ) -> None:
        kw = {"lease": lease} if lease else {}
        client = self.client.get_blob_client(blob)
        self._call(blob, "set metadata", client.set_blob_metadata, dict(metadata), **kw)

    # -------------------------------------------------------------- leases
    def _lease(self, blob: str, lease_id: str | None = None) -> Any:
        from azure.storage.blob import BlobLeaseClient

        return BlobLeaseClient(self.client.get_blob_client(blob), lease_id=lease_id)

    def acquire_lease(self, blob: str, seconds: int, lease_id: str | None = None) -> str:
        """Lease ``blob`` for ``seconds`` (15–60, or -1 for ever); the lease id.

        LeaseConflict when another holds it."""
        if seconds != -1 and not LEASE_MIN <= seconds <= LEASE_MAX:
            raise ValueError(f"a lease lasts {LEASE_MIN}-{LEASE_MAX} s or -1, not {seconds}")
        lease = self._lease(blob, lease_id)
        self._call(blob, "acquire lease", lease.acquire, lease_duration=seconds)
        return str(lease.id)

    def renew_lease(self, blob: str, lease_id: str) -> None:
        self._call(blob, "renew lease", self._lease(blob, lease_id).renew)

    def release_lease(self, blob: str, lease_id: str) -> None:
        self._call(blob, "release lease", self._lease(blob, lease_id).release)

    def break_lease(self, blob: str, period: int = 0) -> None:
        """Break the blob's lease, whoever holds it (``period`` seconds from now)."""
        self._call(blob, "break lease", self._lease(blob).break_lease, lease_break_period=period)


def _info(props: Any) -> BlobInfo:
    lease = getattr(props, "lease", None)
    modified = getattr(props, "last_modified", None)
    return BlobInfo(
        name=str(props.name),
        size=int(props.size or 0),
        etag=str(props.etag or ""),
        metadata=dict(props.metadata or {}),
        lease_state=str(getattr(lease, "state", "") or ""),
        lease_duration=str(getattr(lease, "duration", "") or ""),
        last_modified=modified.isoformat() if modified is not None else "",
    )
