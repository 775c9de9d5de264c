"""The blob service's one interface: storage accounts holding containers holding block blobs.

``BlobService`` makes and drops accounts and hands out containers; ``BlobContainer`` is one
container's blobs: put (a block blob written whole), ranged get, list by prefix, delete,
metadata and leases. Two implementations: ``core.blobs.local`` (folders under the fabric's
regions, the embedded default) and ``core.blobs.azure`` (Azure Blob through ``azblob``); both
pass ``tests/core/blob_conformance.py``.

What always holds, in every implementation:
- a put is atomic: a reader sees the old blob (bytes and metadata), the new one, or none;
- names are checked here, once, the same for both: accounts 3-24 lowercase letters and
  digits, containers 3-63 lowercase letters, digits and single hyphens starting and ending
  with a letter or digit (Azure's rules), blobs 1-1024 characters of ``/``-separated parts
  of letters, digits and ``. _ - = + @ ,`` not starting with a dot; metadata keys are
  identifiers (kept lower-cased, as HTTP headers compare them) and values printable ASCII;
- a leased blob refuses a write, delete or metadata change without its lease id, and a
  lease lasts 15-60 seconds (or is infinite, -1) and expires by time;
- every failure is a ``CoreError`` naming the account, container and blob: ``NotFound``,
  ``AlreadyExists``, ``LeaseConflict``, ``StorageUnreachable``, ``Forbidden``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from core.errors import CoreError

#: a lease's length bounds (seconds); -1 is an infinite lease
LEASE_MIN, LEASE_MAX = 15, 60
#: the longest blob name Azure takes
MAX_BLOB_NAME = 1024

_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
_BLOB_PART = re.compile(r"^[A-Za-z0-9_=+@,-][A-Za-z0-9._=+@,-]*$")
_META_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class LeaseConflict(CoreError):
    """A lease refused the call: another holds it, it was lost or broken, or none was given."""


class StorageUnreachable(CoreError):
    """The blob endpoint did not answer."""


def account_problem(name: object) -> str | None:
    """What is wrong with a storage account name (Azure's rule), None when it is fine."""
    if isinstance(name, str) and _ACCOUNT.match(name):
        return None
    return "use 3-24 lowercase letters and digits"


def container_problem(name: object) -> str | None:
    """What is wrong with a container name (Azure's rule), None when it is fine."""
    if isinstance(name, str) and _CONTAINER.match(name):
        return None
    return (
        "use 3-63 lowercase letters, digits and single hyphens, starting and ending with a "
        "letter or digit"
    )


def check_account(name: str) -> str:
    problem = account_problem(name)
    if problem:
        raise CoreError(f"storage account name {name!r} is not allowed: {problem}")
    return name


def check_container(name: str) -> str:
    problem = container_problem(name)
    if problem:
        raise CoreError(f"container name {name!r} is not allowed: {problem}")
    return name


def check_blob(name: str) -> str:
    """``name`` if it is a blob name both implementations take, else CoreError naming it."""
    parts = name.split("/") if isinstance(name, str) else []
    ok = bool(parts) and len(name) <= MAX_BLOB_NAME and all(_BLOB_PART.match(p) for p in parts)
    if not ok:
        raise CoreError(
            f"blob name {name!r} is not allowed: use 1-{MAX_BLOB_NAME} characters of "
            "'/'-separated parts made of letters, digits and . _ - = + @ , (a part does not "
            "start with '.'; no empty part, no leading or trailing '/')"
        )
    return name


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """The metadata as stored: keys lower-cased; CoreError for a key or value Azure refuses."""
    out: dict[str, str] = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not _META_KEY.match(key):
            raise CoreError(
                f"metadata key {key!r} is not allowed: use a letter or '_' then letters, "
                "digits and '_'"
            )
        if not isinstance(value, str) or not all(" " <= ch <= "~" for ch in value):
            raise CoreError(f"metadata value of {key!r} is not allowed: use printable ASCII")
        out[key.lower()] = value
    return out


def check_lease_seconds(seconds: int) -> int:
    if seconds != -1 and not (isinstance(seconds, int) and LEASE_MIN <= seconds <= LEASE_MAX):
        raise CoreError(
            f"a lease lasts {LEASE_MIN}-{LEASE_MAX} seconds or is infinite (-1), not {seconds}"
        )
    return seconds


def where(account: str, container: str = "", blob: str = "") -> str:
    """How a message names a blob, a container or an account."""
    text = f"storage account {account!r}"
    if container:
        text = f"container {container!r} of {text}"
    if blob:
        text = f"blob {blob!r} in {text}"
    return text


@dataclass(frozen=True)
class BlobInfo:
    """A blob's properties: size, ETag, metadata, when it was written and its lease."""

    name: str
    size: int
    etag: str
    metadata: dict[str, str]
    last_modified: str  # ISO 8601
    lease_state: str  # available, leased, expired, breaking, broken
    lease_duration: str  # infinite, fixed, or "" when not leased

    @property
    def leased(self) -> bool:
        return self.lease_state in ("leased", "breaking")


class BlobContainer(Protocol):
    """One container's blobs. ``account`` and ``name`` say which."""

    account: str
    name: str

    def create(self) -> bool:
        """Make the container; False when it existed (NotFound when its account does not)."""
        ...

    def exists(self) -> bool: ...

    def delete(self) -> int:
        """Delete the container and every blob in it; the number of blobs deleted."""
        ...

    def put(
        self,
        blob: str,
        data: bytes | bytearray | memoryview,
        *,
        metadata: Mapping[str, str] | None = None,
        lease: str | None = None,
    ) -> BlobInfo:
        """Write ``blob`` whole with ``metadata`` (replacing both); its new properties."""
        ...

    def get(
        self, blob: str, offset: int = 0, length: int | None = None, *, lease: str | None = None
    ) -> bytes:
        """``length`` bytes from ``offset`` (to the end when None; short or empty past it)."""
        ...

    def info(self, blob: str) -> BlobInfo: ...

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """The blobs whose names start with ``prefix``, in name order."""
        ...

    def delete_blob(self, blob: str, *, lease: str | None = None) -> None: ...

    def set_metadata(
        self, blob: str, metadata: Mapping[str, str], *, lease: str | None = None
    ) -> BlobInfo: ...

    def acquire_lease(self, blob: str, seconds: int, lease_id: str | None = None) -> str:
        """Lease ``blob`` for ``seconds`` (15-60, or -1 for ever); the lease id.
        LeaseConflict when another lease holds it."""
        ...

    def renew_lease(self, blob: str, lease_id: str) -> None: ...

    def release_lease(self, blob: str, lease_id: str) -> None: ...

    def break_lease(self, blob: str, period: int = 0) -> None:
        """End the blob's lease, whoever holds it, ``period`` seconds from now (0-60)."""
        ...


class BlobService(Protocol):
    """Storage accounts and their containers, in one place (a folder or an endpoint)."""

    def create_account(self, account: str) -> None:
        """Make the account's space (a no-op when it exists)."""
        ...

    def delete_account(self, account: str) -> int:
        """Delete the account with every container and blob; the number of blobs deleted."""
        ...

    def containers(self, account: str) -> list[str]:
        """The account's containers, in name order (empty when the account has no space)."""
        ...

    def container(self, account: str, name: str) -> BlobContainer: ...

    def endpoint_of(self, account: str) -> str:
        """The account's blob endpoint: a blob's URL is it, the container and the blob name."""
        ...
