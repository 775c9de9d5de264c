"""Value types of the state store, its errors, and the one place attribute JSON is coded.

Always holds: ``encode_attributes``/``decode_attributes`` are the only functions that turn
an instance's attributes into stored text and back, and with a ``Cipher`` they seal the
values at the instance's sensitive paths (``state.crypto``); a ``StateError`` message says
what is wrong and what to do; timestamps are UTC ISO 8601 strings ending in ``Z``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .crypto import Cipher

STATUSES = ("ready", "tainted")


class StateError(Exception):
    """A user-facing failure of the state store: the message says what to do."""


@dataclass(frozen=True)
class LockInfo:
    """Who holds the state lock, and whether that holder is known to be gone."""

    lock_id: str
    user: str
    pid: int
    host: str
    operation: str
    created_at: str
    info: str = ""
    stale: bool = False
    boot_id: str = ""
    """The holder's boot (``/proc/sys/kernel/random/boot_id``), "" where unknown."""
    pid_ns: str = ""
    """The holder's pid namespace, "" where unknown."""
    start_time: int | None = None
    """The holder process's start time (clock ticks since boot), to tell a reused pid."""


@dataclass(frozen=True)
class Intent:
    """What a running apply step is about to do to one instance, recorded before the
    provider is called and cleared with the step's result: one left behind marks a step a
    crash interrupted, for the next plan to reconcile with the platform.

    ``action`` is the plan's action (``create``, ``update``, ``delete``,
    ``delete-then-create``, ``create-then-delete``); ``planned_id`` the id the object will
    have when it was known at plan time; ``prior_id`` the id of the object it replaces,
    updates or deletes; ``apply_id`` names the apply that recorded it.
    """

    address: str
    action: str
    apply_id: str
    type: str
    provider: str
    planned_id: str | None = None
    prior_id: str | None = None
    dependencies: list[str] = field(default_factory=list)
    created_at: str = ""


class StateLocked(StateError):
    """The state is locked by someone else; raised at once, or when -lock-timeout ran out."""

    def __init__(self, path: str, holder: LockInfo, message: str = "") -> None:
        self.holder = holder
        self.lock_id = holder.lock_id
        self.user = holder.user
        self.pid = holder.pid
        self.host = holder.host
        self.operation = holder.operation
        self.created_at = holder.created_at
        self.stale = holder.stale
        super().__init__(message or locked_message(path, holder))


def locked_message(path: str, holder: LockInfo) -> str:
    """Terraform-style lock report: what holds the lock, and what the user can do."""
    lines = [
        f"Error acquiring the state lock: {path} is locked.",
        "Lock Info:",
        f"  ID:        {holder.lock_id}",
        f"  Operation: {holder.operation}",
        f"  Who:       {holder.user}@{holder.host}",
        f"  PID:       {holder.pid}",
        f"  Created:   {holder.created_at}",
    ]
    if holder.info:
        lines.append(f"  Info:      {holder.info}")
    if holder.stale:
        lines += [
            "",
            f"The lock is stale: process {holder.pid} on this host ({holder.host}) is no "
            "longer running. It was taken in another boot or container of this host name, "
            "so bcdr cannot prove its holder is gone and did not remove it itself.",
            "If no other bcdr process is using this state, clear the lock with:",
            f"  bcdr force-unlock {holder.lock_id}",
        ]
    else:
        lines += [
            "",
            "Another bcdr process is using this state. Wait for it to finish and try again.",
            "If you are sure the holder is gone, clear the lock with:",
            f"  bcdr force-unlock {holder.lock_id}",
        ]
    return "\n".join(lines)


def cleared_message(path: str, holder: LockInfo) -> str:
    """The note given when a lock whose holder is provably dead was removed."""
    return (
        f"Removed the stale lock on {path}: process {holder.pid} of {holder.user}@"
        f"{holder.host} ({holder.operation}, since {holder.created_at}, lock ID "
        f"{holder.lock_id}) is no longer running on this host."
    )


@dataclass
class InstanceRecord:
    """One resource instance as stored: its address, provider id and attributes.

    ``dependencies`` holds only the instance's direct dependencies (addresses), never the
    transitive closure. ``created_at``/``updated_at`` are set by the store. ``sensitive``
    holds the dotted paths of sensitive values (``secret``, ``network.password``,
    ``members.*.token``); the store keeps every path it was ever given for an address.
    """

    address: str
    type: str
    name: str
    index_key: int | str | None
    provider: str
    id: str | None
    attributes: dict[str, Any]
    status: str = "ready"
    dependencies: list[str] = field(default_factory=list)
    schema_version: int = 0
    sensitive: list[str] = field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None


def utc_now() -> str:
    """The current time as stored in the state: ``2026-01-31T12:00:00.123Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def encode_attributes(
    attributes: dict[str, Any],
    sensitive: list[str] | tuple[str, ...] = (),
    cipher: Cipher | None = None,
    address: str = "",
) -> str:
    """Attributes → stored text. The single place where attributes are written.

    With a cipher, each non-null value at a ``sensitive`` path is sealed, bound to this
    state, ``address`` and its path; without one, values are stored as they are.
    """
    if cipher is not None and sensitive:
        from .crypto import transform_paths

        # sensitive attributes are sealed by state.crypto when a key is set (EXT-4)
        attributes = transform_paths(
            attributes, list(sensitive), lambda value, path: cipher.seal(value, address, path)
        )
    return json.dumps(attributes, sort_keys=True, separators=(",", ":"), allow_nan=False)


def decode_attributes(text: str, cipher: Cipher | None = None, address: str = "") -> dict[str, Any]:
    """Stored text → attributes. The single place where attributes are read.

    Sealed values are opened with ``cipher``; StateError when there is none to open them.
    """
    data = decode_json(text)
    from .crypto import SEALED, open_all

    if SEALED not in text:
        return data
    return open_all(data, lambda envelope, path: open_sealed(envelope, cipher, address, path))


_SCAN = json.JSONDecoder().scan_once


def decode_json(text: str) -> Any:
    """``json.loads(text)``, the same value and the same errors, for text as the store
    writes it (no surrounding space): read with the decoder's scanner directly, as a plan
    decodes the columns of every instance; any other text goes through ``json.loads``."""
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def open_sealed(envelope: Any, cipher: Cipher | None, address: str, path: str) -> Any:
    """One sealed value's plaintext; StateError saying which key to set without a cipher."""
    from .crypto import ENV_KEY, ENV_PASSPHRASE

    if cipher is None:
        where = f"{address}.{path}" if address else path
        raise StateError(
            f"{where} is encrypted in the state, and no state key is configured. Set "
            f"{ENV_KEY} (or {ENV_PASSPHRASE}) to the key it was encrypted with."
        )
    return cipher.open(envelope, address, path)


def encode_json(value: Any) -> str:
    """Any other stored JSON value (outputs, keys, dependency lists, summaries)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def check_record(record: InstanceRecord) -> None:
    """Raise ValueError when a record is malformed: a bug in the caller, not a user error."""
    from sdk.addrs import InstanceAddr, ResourceAddr

    key = record.index_key
    if isinstance(key, bool) or not (key is None or isinstance(key, int | str)):
        raise ValueError(f"{record.address}: index_key must be null, an int or a string")
    expected = str(InstanceAddr(ResourceAddr(record.type, record.name), key))
    if record.address != expected:
        raise ValueError(
            f"{record.address!r} does not match its type/name/index_key, which give {expected!r}"
        )
    if record.status not in STATUSES:
        raise ValueError(f"{record.address}: status must be one of {STATUSES}")
    if not isinstance(record.attributes, dict):
        raise ValueError(f"{record.address}: attributes must be a dict")
    if not isinstance(record.dependencies, list | tuple) or not all(
        isinstance(d, str) for d in record.dependencies
    ):
        raise ValueError(f"{record.address}: dependencies must be a list of addresses")
    if record.address in record.dependencies:
        raise ValueError(f"{record.address}: an instance cannot depend on itself")
