"""The key store's plain data: its tables, the vault and key records, ids and key specs.

Used by ``core/keystore/store.py`` (``KeyStore``) and the collaborators it is made of.
Always holds: nothing here touches ``fabric.db`` or key material at rest; ids are derived
from their parts only (a key's id from its vault id and name, a disk encryption set's
principal from its id), so the same inputs always give the same ids.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from core.errors import CoreError

KEY_SIZES = {"RSA": (2048, 3072, 4096), "EC": (256, 384), "oct": (128, 192, 256)}
CURVES = {256: ec.SECP256R1, 384: ec.SECP384R1}
KEY_PERMISSIONS = ("get", "list", "wrapKey", "unwrapKey", "encrypt", "decrypt", "sign")
SECRET_PERMISSIONS = ("get", "list", "set", "delete")
USER = "current user"
SERVICE = "bcdr restore service"
DAY = 86400.0
_NS = uuid.UUID("5d0f6c1e-8a4e-4f0b-9a57-3f2b1c0e7d11")


@dataclass(frozen=True)
class Vault:
    id: str
    name: str
    region: str
    subscription: str
    retention_days: int
    purge_protection: bool
    policies: list[dict] = field(default_factory=list)
    deleted_at: float | None = None

    @property
    def uri(self) -> str:
        return vault_uri(self.name)


@dataclass(frozen=True)
class KeyInfo:
    """A key's public facts: never its private material."""

    id: str
    vault_id: str
    name: str
    key_type: str
    key_size: int
    version: str
    enabled: bool
    public_pem: str = ""


@dataclass(frozen=True)
class EncryptionSet:
    """A disk encryption set: the key it wraps data keys with and its managed identity."""

    id: str
    key_id: str
    principal_id: str
    region: str
    created_at: float


def vault_uri(name: str) -> str:
    return f"https://{name.lower()}.vault.azure.net/"


def item_id(vault_id: str, kind: str, name: str) -> str:
    """``{vault_id}/keys/{name}`` or ``{vault_id}/secrets/{name}``."""
    return f"{vault_id}/{kind}s/{name}"


def vault_of(item: str) -> str:
    """The vault id of a key or secret id."""
    for kind in ("/keys/", "/secrets/"):
        at = item.lower().rfind(kind)
        if at > 0:
            return item[:at]
    raise CoreError(f"{item!r} is not a key or secret id: expected <vault id>/keys/<name>")


def des_principal(des_id: str) -> str:
    """The object id of a disk encryption set's managed identity (fixed by its id)."""
    return str(uuid.uuid5(_NS, "des:" + des_id.lower()))


def new_version() -> str:
    return uuid.uuid4().hex


def check_retention(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int | float) or not 7 <= days <= 90:
        raise CoreError(f"soft delete retention {days!r} days is out of range: give 7 to 90")
    return int(days)


def check_key_spec(key_type: str, key_size: int | None) -> tuple[str, int]:
    kt = {"rsa": "RSA", "ec": "EC", "oct": "oct"}.get(str(key_type).lower())
    if kt is None:
        raise CoreError(f"key_type {key_type!r} is not supported: use RSA, EC or oct")
    sizes = KEY_SIZES[kt]
    size = sizes[0] if key_size is None else key_size
    if size not in sizes:
        raise CoreError(f"key_size {key_size} is not offered for {kt} keys: use one of {sizes}")
    return kt, int(size)


def generate(kt: str, size: int) -> bytes:
    if kt == "oct":
        return os.urandom(size // 8)
    key = (
        rsa.generate_private_key(65537, size)
        if kt == "RSA"
        else ec.generate_private_key(CURVES[size]())
    )
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def recoverable_until(v: Vault, deleted_at: float) -> str:
    when = time.gmtime(deleted_at + v.retention_days * DAY)
    return time.strftime("%Y-%m-%d %H:%M UTC", when)


def encryption_of(source_metadata: dict) -> list[str]:
    """What encrypts the VM a restore point captured, from its source metadata (RP-2):
    one phrase per kind (key vault, disk encryption sets, BitLocker); empty when none."""
    meta = source_metadata.get("metadata") or {}
    enc = meta.get("encryption") or {}
    out: list[str] = []
    if enc.get("key_vault_id"):
        out.append(f"Azure Disk Encryption with key vault {enc['key_vault_id']}")
    des = {d.get("disk_encryption_set_id") for d in source_metadata.get("disks", [])}
    des |= {enc.get("disk_encryption_set_id")}
    des.discard(None)
    des.discard("")
    if des:
        out.append("disks under disk encryption set " + ", ".join(sorted(des)))
    if meta.get("bitlocker_enabled"):
        out.append("BitLocker in the guest")
    return out
