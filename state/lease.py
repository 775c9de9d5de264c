"""The lock of a state kept in a blob: a finite lease, renewed while held, holder in metadata.

Always holds: the lease lasts ``LEASE_S`` (15 s, Azure's shortest) and a thread of the
holding process renews it every ``RENEW_S``, so a holder that dies (kill -9, a lost
machine) frees the state by itself within ``LEASE_S``, never hours as an infinite lease
does; the holder's ``LockInfo`` (who, host, pid, operation, since, lock id) is in the
blob's metadata under ``METADATA_KEY`` while bcdr holds the lease, and a lease that is not
held reads as unlocked whatever metadata a dead holder left; a held lease is refused at
once naming its holder, or retried until the timeout runs out; a lease without bcdr's
metadata is reported with what the blob tells (its state, fixed or infinite, Terraform's
lock info when it is there); once the lease is lost (broken, taken, or not renewed for
``LEASE_S``) ``HeldLease.check`` raises, and keeps raising, so nothing more is written
under it. Every failure of the service is a ``StateError`` saying what to do.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import replace

from azblob import BlobError, BlobExists, BlobInfo, BlobNotFound, Container, LeaseConflict

from .lock import decode_info, encode_info, new_holder
from .records import LockInfo, StateError, StateLocked, locked_message

LEASE_S = 15
RENEW_S = 5.0
_RETRY_AFTER_FAILURE_S = 1.0
_RETRY_FIRST_S, _RETRY_MAX_S = 0.1, 1.0
METADATA_KEY = "bcdrlock"
TERRAFORM_KEY = "terraformlockid"  # what Terraform's azurerm backend writes beside its lease
_LEASED = ("leased", "breaking")


def service_error(exc: BlobError, doing: str) -> StateError:
    """The StateError for a failure of the blob service while ``doing`` something."""
    return StateError(f"Could not {doing}: {exc}.")


def _encoded(holder: LockInfo) -> str:
    """The holder as a metadata value: ASCII, one line (base64 of the lock file's JSON)."""
    return base64.b64encode(encode_info(holder).encode("utf-8")).decode("ascii")


def _bcdr_holder(where: str, value: str) -> LockInfo | None:
    try:
        text = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
        return decode_info(where, text)  # type: ignore[arg-type]
    except (ValueError, StateError):
        return None


def _terraform_holder(value: str) -> LockInfo | None:
    """Terraform's lock info (base64 JSON: ID, Operation, Who, Created, Info), when readable."""
    try:
        data = json.loads(base64.b64decode(value.encode("ascii")).decode("utf-8"))
        who = str(data.get("Who") or "unknown")
        user, _, host = who.partition("@")
        return LockInfo(
            lock_id=str(data.get("ID") or ""),
            user=user,
            pid=0,
            host=host or "unknown",
            operation=f"{data.get('Operation') or 'unknown'} (Terraform)",
            created_at=str(data.get("Created") or "unknown"),
            info=str(data.get("Info") or ""),
        )
    except (ValueError, TypeError, AttributeError):
        return None


def lease_id_of(info: BlobInfo) -> str:
    """The id bcdr gives a lease without bcdr's holder info: it names the blob as it is now."""
    return "lease-" + info.etag.strip('"')


def holder_of(where: str, info: BlobInfo) -> tuple[LockInfo, str]:
    """Who holds the lease on the blob ``info`` describes, and the refusal to show."""
    ours = _bcdr_holder(where, info.metadata.get(METADATA_KEY, ""))
    if ours is not None:
        # a dead holder's lease runs out by itself: it is never marked stale nor broken
        note = (
            f"\n\nThe lock is a {LEASE_S} s lease on the blob that its holder renews while it "
            f"runs: a holder that is gone frees it by itself within {LEASE_S} s. Run again "
            f"then, or wait for it with -lock-timeout={LEASE_S + 5}s."
        )
        return ours, locked_message(where, ours) + note
    foreign = _terraform_holder(info.metadata.get(TERRAFORM_KEY, ""))
    kind = info.lease_duration or "unknown"
    how = {
        "infinite": "infinite: it stays until its holder releases it or someone breaks it",
        "fixed": "fixed (15-60 s): it expires unless its holder renews it",
    }.get(kind, kind)
    lock_id = lease_id_of(info)
    lines = [
        f"Error acquiring the state lock: {where} is locked.",
        "Lock Info:",
        f"  ID:        {lock_id}",
        f"  Lease:     {info.lease_state}, {how}",
    ]
    if foreign is not None:
        lines += [
            f"  Operation: {foreign.operation}",
            f"  Who:       {foreign.user}@{foreign.host}",
            f"  Created:   {foreign.created_at}",
            f"  Terraform: lock ID {foreign.lock_id}",
        ]
    else:
        lines += [
            "  Who:       unknown: the lease carries no holder information (it was not",
            "             taken by bcdr; Terraform, az or the portal take such leases)",
            f"  Blob last modified: {info.last_modified or 'unknown'} (when the lease was "
            "taken is not recorded)",
        ]
    lines += [
        "",
        "If you are sure its holder is gone, break the lease with:",
        f"  bcdr force-unlock {lock_id}",
    ]
    holder = foreign or LockInfo(
        lock_id=lock_id,
        user="unknown",
        pid=0,
        host="unknown",
        operation="unknown",
        created_at="unknown",
        info=f"a {kind} lease without holder information",
    )
    return replace(holder, lock_id=lock_id), "\n".join(lines)


class HeldLease:
    """A lease bcdr holds on a blob, renewed by a thread until ``stop``."""

    def __init__(self, container: Container, blob: str, where: str, lease_id: str) -> None:
        self.container, self.blob, self.where, self.lease_id = container, blob, where, lease_id
        self.holder: LockInfo | None = None
        self.metadata: dict[str, str] = {}
        """The blob's metadata while held (the holder's included): every write sets it whole."""
        self._last_ok = time.monotonic()
        self._lost = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="bcdr-state-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _renew(self) -> None:
        pause = RENEW_S
        while not self._stop.wait(pause):
            try:
                self.container.renew_lease(self.blob, self.lease_id)
            except LeaseConflict as exc:
                self.lose(f"its lease was broken or taken by another ({exc.code or exc})")
                return
            except BlobError:
                if time.monotonic() - self._last_ok >= LEASE_S:
                    self.lose(f"its lease could not be renewed for {LEASE_S} s and expired")
                    return
                pause = _RETRY_AFTER_FAILURE_S
                continue
            self._last_ok, pause = time.monotonic(), RENEW_S

    def lose(self, why: str) -> None:
        if not self._lost:
            self._lost = why

    @property
    def lost(self) -> str:
        """Why the lease is lost ("" while held)."""
        if not self._lost and time.monotonic() - self._last_ok >= LEASE_S:
            self.lose(f"its lease could not be renewed for {LEASE_S} s and expired")
        return self._lost

    def check(self) -> None:
        """StateError when the lease is lost: nothing may be written under it any more."""
        if self.lost:
            raise StateError(
                f"The state lock on {self.where} was lost: {self.lost}. Nothing more was "
                "written to the state. If someone ran force-unlock, another run may be using "
                "it now; run `bcdr plan` to see where it stands (the next apply continues "
                "from the last step saved)."
            )

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=RENEW_S + 1)


def _ensure_blob(container: Container, blob: str, where: str) -> BlobInfo:
    """The blob's properties; an empty blob is made first when there is none (as Terraform)."""
    try:
        return container.info(blob)
    except BlobNotFound as exc:
        if not container.exists():
            raise missing_container(container, where) from None
        del exc
    except BlobError as exc:
        raise service_error(exc, f"lock the state {where}") from None
    try:
        container.put(blob, b"", create_only=True)
    except BlobExists:
        pass  # made meanwhile by another run
    except BlobError as exc:
        raise service_error(exc, f"create the state blob {where}") from None
    try:
        return container.info(blob)
    except BlobError as exc:
        raise service_error(exc, f"lock the state {where}") from None


def missing_container(container: Container, where: str) -> StateError:
    return StateError(
        f"The container {container.name!r} for the state {where} does not exist. Create "
        f"it first (az storage container create --name {container.name}), or name an "
        "existing one in container_name."
    )


def try_acquire(
    container: Container, blob: str, where: str, operation: str, info: str = ""
) -> HeldLease:
    """Take the lease in one attempt; StateLocked naming the holder when it is held."""
    before = _ensure_blob(container, blob, where)
    try:
        lease_id = container.acquire_lease(blob, LEASE_S)
    except LeaseConflict:
        try:
            now = container.info(blob)
        except BlobError as exc:
            raise service_error(exc, f"read who locks {where}") from None
        holder, message = holder_of(where, now)
        raise StateLocked(where, holder, message) from None
    except BlobError as exc:
        raise service_error(exc, f"lock the state {where}") from None
    held = HeldLease(container, blob, where, lease_id)
    held.holder = new_holder(operation, info)
    held.metadata = {k: v for k, v in before.metadata.items() if k != METADATA_KEY}
    held.metadata[METADATA_KEY] = _encoded(held.holder)
    try:
        container.set_metadata(blob, held.metadata, lease=lease_id)
    except BlobError as exc:
        _drop(held)
        raise service_error(exc, f"record the lock holder on {where}") from None
    held.start()
    return held


def acquire(
    container: Container,
    blob: str,
    where: str,
    operation: str,
    info: str = "",
    *,
    timeout: float = 0.0,
) -> HeldLease:
    """Take the lease; with ``timeout`` > 0, retry a held one for that many seconds first."""
    deadline = time.monotonic() + max(0.0, timeout)
    pause = _RETRY_FIRST_S
    while True:
        try:
            return try_acquire(container, blob, where, operation, info)
        except StateLocked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(pause, left))
            pause = min(pause * 2, _RETRY_MAX_S)


def _drop(held: HeldLease) -> None:
    try:
        held.container.release_lease(held.blob, held.lease_id)
    except BlobError:
        pass  # it expires by itself within LEASE_S


def release(held: HeldLease) -> None:
    """Stop renewing, clear the holder's metadata and release the lease (best effort: a
    lease that cannot be released expires by itself within ``LEASE_S``)."""
    held.stop()
    if held.lost:
        return
    metadata = {k: v for k, v in held.metadata.items() if k != METADATA_KEY}
    try:
        held.container.set_metadata(held.blob, metadata, lease=held.lease_id)
    except BlobError:
        pass
    _drop(held)


def current(container: Container, blob: str, where: str) -> LockInfo | None:
    """Who holds the lease now, or None when it is not held."""
    try:
        info = container.info(blob)
    except BlobNotFound:
        return None
    except BlobError as exc:
        raise service_error(exc, f"read the lock of {where}") from None
    if info.lease_state not in _LEASED:
        return None
    return holder_of(where, info)[0]


def force_unlock(container: Container, blob: str, where: str, lock_id: str) -> LockInfo:
    """Break the lease whose lock id is ``lock_id``; StateError if none is held or ids differ."""
    try:
        info = container.info(blob)
    except BlobNotFound:
        info = None
    except BlobError as exc:
        raise service_error(exc, f"read the lock of {where}") from None
    if info is None or info.lease_state not in _LEASED:
        raise StateError(f"{where} is not locked; there is nothing to unlock.")
    holder, _ = holder_of(where, info)
    if holder.lock_id != lock_id.strip():
        raise StateError(
            f"Lock id {lock_id!r} does not match the lock on {where}, which is "
            f"{holder.lock_id} (operation {holder.operation}, {holder.user}@{holder.host}, "
            f"pid {holder.pid}, since {holder.created_at}). Pass that id to force-unlock."
        )
    try:
        container.break_lease(blob, 0)
        metadata = {k: v for k, v in info.metadata.items() if k != METADATA_KEY}
        container.set_metadata(blob, metadata)
    except BlobError as exc:
        raise service_error(exc, f"break the lease on {where}") from None
    return holder
