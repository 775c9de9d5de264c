"""Envelope encryption of the blocks of disks under a disk encryption set (DES).

Each such disk has one random 256-bit data key, wrapped by its DES's vault key (``wrapKey``
as the DES's managed identity, ``core/keystore/store.py``) and kept in ``fabric.db``'s
``envelope_keys`` table (disk id, DES id, key id, key version, wrapped key). Two keys are
derived from it with HKDF-SHA256: the block-id key and the sealing key.

- A block's id is HMAC-SHA256(block-id key, plaintext) truncated to 128 bits, so ids of
  disks under different data keys never coincide for equal content (no cross-key dedup, no
  equality leak), while one disk's restore points still dedupe against each other. (A
  secret-seeded xxh3 is ~20x faster but no PRF; HMAC-SHA256 runs at ~1.7 GB/s on one core
  with SHA extensions, AES-GCM at ~14 GB/s: an encrypted capture is bound by the disk, an
  encrypted restore runs at ~60% of a plain one.)
- A stored payload is ``nonce (12 bytes) || AES-256-GCM(zstd-1 block or raw block,
  aad = block id)``: reading decrypts, decompresses and re-checks the id. Random nonces
  under one key stay far below the 2^32 messages AES-GCM allows for any real disk.
- Every disk restore point of such a disk has a row in ``drp_envelopes`` holding the wrapped
  key its blocks use (a copy of the record, not a reference): a restore needs its own row
  and the vault key, nothing else.

What always holds: no data key or derived key is stored in the clear or put in a message;
a data key is unwrapped anew for each restore, read, copy or verify, so a disabled or
deleted vault key stops them at once with ``KeyUnavailable`` naming the key, and they work
again as soon as the key is enabled or recovered. Zero blocks are never stored (they keep
the all-zero manifest entry). Nothing here runs for disks without a DES.

``cryptography`` is imported on first use: the unencrypted paths never load it.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.blocks.packs import compress_blocks, decompress_block
from core.disks.fileio import BLOCK_SIZE
from core.errors import CoreError, IntegrityError

if TYPE_CHECKING:
    import sqlite3

    from core.disks.records import Disk
    from core.fabric.home import Fabric
    from core.keystore.store import KeyStore

NONCE = 12
TAG = 16
ID_INFO = b"bcdr envelope v1 block-id"
SEAL_INFO = b"bcdr envelope v1 block-seal"


class KeyUnavailable(IntegrityError):
    """The vault key that wraps a disk's data key cannot be used (disabled, deleted, its
    vault deleted, or access revoked): the blocks it protects cannot be read.

    ``key_id`` names the key and ``reason`` is the key store's own word on it."""

    def __init__(self, message: str, key_id: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.key_id, self.reason = key_id, reason or message


@dataclass(frozen=True)
class WrappedKey:
    """A data key as the fabric keeps it: wrapped by the DES's vault key."""

    des_id: str
    key_id: str
    key_version: str
    wrapped: bytes

    def describe(self) -> str:
        return (
            f"key {self.key_id.rsplit('/', 1)[-1]} ({self.key_id}) of disk encryption set "
            f"{self.des_id.rsplit('/', 1)[-1]}"
        )


def keyed_digest(data: bytes | bytearray | memoryview, seed: bytes) -> bytes:
    """The 16-byte id of a block under an id key: HMAC-SHA256 truncated to 128 bits.

    Shaped like ``xxhash.xxh3_128_digest(data, seed=...)`` so a capture loop calls either
    the same way, choosing once per disk.
    """
    return hmac.digest(seed, data, "sha256")[:16]


def _hkdf(data_key: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(data_key)


class BlockKey:
    """What one data key derives: the block-id key and the sealing cipher.

    ``seal_many`` has the shape of the pack writer's compressor and ``open_payload`` that
    of ``BlockStore.open_payload``, so the store reads and writes sealed blocks with them.
    """

    __slots__ = ("_aead", "_zero", "id_key", "label")

    def __init__(self, data_key: bytes, label: str = "") -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(data_key) != 32:
            raise ValueError("a data key is 32 bytes")
        self.id_key = _hkdf(data_key, ID_INFO)
        self._aead = AESGCM(_hkdf(data_key, SEAL_INFO))
        self._zero: dict[int, bytes] = {}
        self.label = label  # what the key protects, for messages (never key material)

    def __repr__(self) -> str:
        return f"BlockKey({self.label or 'data key'})"

    def digest(self, data: bytes | bytearray | memoryview) -> bytes:
        return keyed_digest(data, self.id_key)

    def zero_digest(self, size: int = BLOCK_SIZE) -> bytes:
        got = self._zero.get(size)
        if got is None:
            got = self._zero[size] = self.digest(bytes(size))
        return got

    def seal(self, digest: bytes, inner: bytes | memoryview) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, inner, bytes(digest))

    def seal_many(self, items: list[tuple[bytes, memoryview]]) -> list[tuple[bytes, bytes, int]]:
        """Compress (zstd level 1, raw when that does not shrink) and seal each block:
        (id, payload, raw flag), as the pack writer stores them."""
        return [(d, self.seal(d, payload), raw) for d, payload, raw in compress_blocks(items)]

    def open_payload(
        self, digest: bytes, payload: bytes | memoryview, raw: int, pack: str
    ) -> bytes:
        """Decrypt, decompress and re-check a sealed payload (``IntegrityError`` naming the
        block and pack when it was altered or does not match its id)."""
        from cryptography.exceptions import InvalidTag

        data = None
        if len(payload) >= NONCE + TAG:
            try:
                inner = self._aead.decrypt(payload[:NONCE], payload[NONCE:], bytes(digest))
                data = decompress_block(inner, raw)
            except InvalidTag:
                data = None
        if data is None or self.digest(data) != digest:
            raise IntegrityError(
                f"block {bytes(digest).hex()} in pack {pack} is corrupted (it does not decrypt "
                "or does not match its id); run verify to list the restore points affected"
            )
        return data


class Envelopes:
    """The data keys of one fabric's disks and the key record of each disk restore point."""

    def __init__(self, fabric: Fabric, keystore: KeyStore | None = None) -> None:
        self.fabric = fabric
        self._keystore = keystore

    @property
    def keystore(self) -> KeyStore:
        if self._keystore is None:
            from core.keystore.store import KeyStore

            self._keystore = KeyStore(self.fabric)
        return self._keystore

    # -- a disk's data key (captures) -------------------------------------------------------
    def for_disk(self, disk: Disk) -> tuple[WrappedKey, BlockKey] | None:
        """The data key a capture of ``disk`` seals with; None for a disk without a DES.

        Made (random, wrapped as the DES's identity) at the disk's first capture under its
        current DES and key, and kept: the disk's next restore points dedupe against it.
        ``KeyUnavailable`` when the vault key cannot wrap or unwrap.
        """
        des_id = disk.encryption_set_id
        if not des_id:
            return None
        from core.keystore.model import des_principal

        ks = self.keystore
        key_id = self._des_key(disk, des_id)
        what = f"disk {disk.id} cannot be captured"
        row = self._disk_row(disk.id)
        if row is not None and _same(row, des_id, key_id):
            wk = _wrapped(row)
            return wk, self.unwrap(wk, what)
        data_key = os.urandom(32)
        try:
            version = ks.keys.info(key_id).version
            wrapped = ks.keys.wrap(key_id, data_key, des_principal(des_id), version)
        except CoreError as err:
            raise _unavailable(what, des_id, key_id, err) from None
        with self.fabric.transaction() as conn:
            row = self._disk_row(disk.id, conn)
            if row is not None and _same(row, des_id, key_id):
                raced = _wrapped(row)  # another capture made the key meanwhile: use it
            else:
                raced = None
                conn.execute(
                    "INSERT OR REPLACE INTO envelope_keys VALUES (?, ?, ?, ?, ?, ?)",
                    (disk.id, des_id, key_id, version, wrapped, time.time()),
                )
        if raced is not None:
            return raced, self.unwrap(raced, what)
        return WrappedKey(des_id, key_id, version, wrapped), BlockKey(data_key, f"disk {disk.id}")

    def _disk_row(self, disk_id: str, conn: sqlite3.Connection | None = None) -> sqlite3.Row:
        db = conn if conn is not None else self.fabric.db()
        return db.execute("SELECT * FROM envelope_keys WHERE disk_id = ?", (disk_id,)).fetchone()

    def _des_key(self, disk: Disk, des_id: str) -> str:
        from core.errors import NotFound

        try:
            return self.keystore.encryption_sets.key_of(des_id)
        except NotFound:
            raise CoreError(
                f"disk {disk.id} is under disk encryption set {des_id}, which does not exist: "
                "its blocks cannot be encrypted; create the disk encryption set or clear the "
                "disk's disk_encryption_set_id"
            ) from None

    # -- key records of disk restore points -------------------------------------------------
    def of(self, disk_restore_point_id: str) -> WrappedKey | None:
        """The wrapped key a disk restore point's blocks use; None when they are plain."""
        row = (
            self.fabric.db()
            .execute(
                "SELECT * FROM drp_envelopes WHERE disk_restore_point_id = ?",
                (disk_restore_point_id,),
            )
            .fetchone()
        )
        return _wrapped(row) if row else None

    def of_many(self, disk_restore_point_ids: Iterable[str]) -> dict[str, WrappedKey]:
        """drp id (as given) -> wrapped key, for those that are encrypted."""
        ids = list(disk_restore_point_ids)
        out: dict[str, WrappedKey] = {}
        db = self.fabric.db()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows = db.execute(
                "SELECT * FROM drp_envelopes WHERE disk_restore_point_id IN "
                f"({','.join('?' * len(part))})",
                part,
            )
            found = {r["disk_restore_point_id"].lower(): _wrapped(r) for r in rows.fetchall()}
            out.update({d: found[d.lower()] for d in part if d.lower() in found})
        return out

    def unwrap(self, wk: WrappedKey, what: str) -> BlockKey:
        """The data key of ``wk``, unwrapped as its DES's identity; ``KeyUnavailable``
        (naming the key and ``what`` it protects) when the vault key cannot be used."""
        from core.keystore.model import des_principal

        try:
            data_key = self.keystore.keys.unwrap(
                wk.key_id, wk.wrapped, des_principal(wk.des_id), wk.key_version
            )
        except CoreError as err:
            raise _unavailable(what, wk.des_id, wk.key_id, err, wk.key_version) from None
        return BlockKey(data_key, f"a data key of {wk.des_id.rsplit('/', 1)[-1]}")

    def key_for(self, disk_restore_point_id: str) -> BlockKey | None:
        """The unwrapped data key of a disk restore point; None when its blocks are plain."""
        wk = self.of(disk_restore_point_id)
        if wk is None:
            return None
        return self.unwrap(wk, f"disk restore point {disk_restore_point_id} cannot be read")


def save_records(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, WrappedKey]]) -> None:
    """Record (disk restore point id, disk id, wrapped key) rows, inside the caller's
    transaction (the one that commits the restore point)."""
    conn.executemany(
        "INSERT OR REPLACE INTO drp_envelopes VALUES (?, ?, ?, ?, ?, ?)",
        [(d, disk, w.des_id, w.key_id, w.key_version, w.wrapped) for d, disk, w in rows],
    )


def forget_records(conn: sqlite3.Connection, restore_point_id: str) -> None:
    """Drop the key records of a restore point's disks (inside the deleting transaction)."""
    conn.execute(
        "DELETE FROM drp_envelopes WHERE disk_restore_point_id IN "
        "(SELECT id FROM disk_restore_points WHERE restore_point_id = ?)",
        (restore_point_id,),
    )


def _same(row: sqlite3.Row, des_id: str, key_id: str) -> bool:
    return (row["des_id"].lower(), row["key_id"].lower()) == (des_id.lower(), key_id.lower())


def _wrapped(row: sqlite3.Row) -> WrappedKey:
    return WrappedKey(row["des_id"], row["key_id"], row["key_version"], bytes(row["wrapped"]))


def _unavailable(
    what: str, des_id: str, key_id: str, err: CoreError, version: str | None = None
) -> KeyUnavailable:
    """``what`` says what cannot be done ("disk restore point X cannot be read")."""
    ver = f" (version {version})" if version else ""
    return KeyUnavailable(
        f"{what}: its blocks are encrypted under disk encryption set "
        f"{des_id.rsplit('/', 1)[-1]} with key {key_id.rsplit('/', 1)[-1]}{ver}, and {err}",
        key_id,
        str(err),
    )
