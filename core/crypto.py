"""Key vaults as real key stores: keys, secrets, access policies, soft delete, encryption sets.

Keys are generated with ``cryptography`` (RSA 2048/3072/4096, EC P-256/P-384, AES "oct") and
kept in ``fabric.db`` tables (``kv_*``) WRAPPED by the fabric's master key (AES-256-GCM, the
row's id and version bound as associated data); the master key lives with the fabric's
other secrets (``fabric.db``'s ``secrets`` table, mode 0600). Always holds: no key material
or secret value is stored in plaintext or put in a message; every use of a key (get,
wrapKey, unwrapKey, encrypt, decrypt, sign) or a secret (get, set, list, delete) names a
principal and is checked against the vault's access policies and the grants made to disk
encryption sets, and a principal without the permission gets ``Forbidden`` naming the
vault, the principal and the permission; a deleted vault, key or secret is soft-deleted and
recoverable for the vault's retention (7-90 days); purge protection, once on, stays on and
refuses purges before the retention ends. A key has versions (``create_key`` on an
existing key or ``rotate_key`` adds one): wraps use the latest unless told a version, and an
unwrap given the version that wrapped keeps working after rotations, for as long as the key
is enabled and not deleted. Management calls (create, rotate, delete, recover, enable) are
the platform's own and take no principal, like the Azure control plane.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from core.errors import AlreadyExists, CoreError, Forbidden, NotFound
from core.fabric import Fabric

KEY_SIZES = {"RSA": (2048, 3072, 4096), "EC": (256, 384), "oct": (128, 192, 256)}
CURVES = {256: ec.SECP256R1, 384: ec.SECP384R1}
KEY_PERMISSIONS = ("get", "list", "wrapKey", "unwrapKey", "encrypt", "decrypt", "sign")
SECRET_PERMISSIONS = ("get", "list", "set", "delete")
USER = "current user"
SERVICE = "bcdr restore service"
DAY = 86400.0
_NS = uuid.UUID("5d0f6c1e-8a4e-4f0b-9a57-3f2b1c0e7d11")

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_principals (
    object_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS kv_vaults (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE, region TEXT NOT NULL,
    subscription TEXT NOT NULL, retention_days INTEGER NOT NULL, purge_protection INTEGER NOT NULL,
    policies TEXT NOT NULL, deleted_at REAL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv_items (
    id TEXT PRIMARY KEY COLLATE NOCASE, vault_id TEXT NOT NULL COLLATE NOCASE,
    kind TEXT NOT NULL, name TEXT NOT NULL, enabled INTEGER NOT NULL, deleted_at REAL,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv_versions (
    item_id TEXT NOT NULL COLLATE NOCASE, version TEXT NOT NULL, key_type TEXT,
    key_size INTEGER, wrapped BLOB NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (item_id, version));
CREATE TABLE IF NOT EXISTS kv_grants (
    source TEXT NOT NULL COLLATE NOCASE, object_id TEXT NOT NULL, item_id TEXT NOT NULL
    COLLATE NOCASE, permissions TEXT NOT NULL, PRIMARY KEY (source, object_id, item_id));
CREATE TABLE IF NOT EXISTS kv_des (
    id TEXT PRIMARY KEY COLLATE NOCASE, key_id TEXT NOT NULL, principal_id TEXT NOT NULL,
    region TEXT NOT NULL, created_at REAL NOT NULL);
"""


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


def _new_version() -> str:
    return uuid.uuid4().hex


class KeyStore:
    """The key vaults of one fabric. ``clock`` gives the time (seconds) for soft delete."""

    def __init__(self, fabric: Fabric, clock: Callable[[], float] = time.time) -> None:
        self.fabric = fabric
        self.clock = clock
        with fabric.transaction() as conn:
            for statement in SCHEMA.strip().split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO secrets VALUES ('kv_master_key', ?)",
                (secrets.token_hex(32),),
            )
            for kind, name in (("user", USER), ("service", SERVICE)):
                conn.execute(
                    "INSERT OR IGNORE INTO kv_principals VALUES (?, ?, ?)",
                    (str(uuid.uuid4()), kind, name),
                )
            row = conn.execute("SELECT value FROM secrets WHERE key = 'kv_master_key'").fetchone()
        self._master = AESGCM(bytes.fromhex(row[0]))

    # -- principals ------------------------------------------------------------------------
    def principal(self, name: str) -> str:
        row = self._db.execute("SELECT object_id FROM kv_principals WHERE name = ?", (name,))
        found = row.fetchone()
        if found is None:
            raise NotFound(f"no principal named {name!r}")
        return found[0]

    def user_principal(self) -> str:
        """The object id of the fabric's current user (the subscription user)."""
        return self.principal(USER)

    def service_principal(self) -> str:
        """The object id of the backup/restore service's principal."""
        return self.principal(SERVICE)

    def principal_name(self, object_id: str) -> str:
        row = self._db.execute(
            "SELECT name FROM kv_principals WHERE object_id = ?", (object_id,)
        ).fetchone()
        if row is not None:
            return row[0]
        des = self._db.execute("SELECT id FROM kv_des WHERE principal_id = ?", (object_id,))
        hit = des.fetchone()
        return f"managed identity of {hit[0]}" if hit else "unknown principal"

    def resolve(self, object_id: str) -> str:
        """An access policy's object id: ``current-user`` stands for the fabric's user."""
        if isinstance(object_id, str) and object_id.lower() in ("current-user", "current_user"):
            return self.user_principal()
        return object_id

    @property
    def _db(self) -> sqlite3.Connection:
        return self.fabric.db()

    # -- master-key wrapping -----------------------------------------------------------------
    def _seal(self, item: str, version: str, plain: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._master.encrypt(nonce, plain, f"{item.lower()}|{version}".encode())

    def _open(self, item: str, version: str, sealed: bytes) -> bytes:
        aad = f"{item.lower()}|{version}".encode()
        return self._master.decrypt(sealed[:12], sealed[12:], aad)

    # -- vaults ------------------------------------------------------------------------------
    def _purge_expired(self) -> None:
        """Purge what was deleted longer ago than its vault's retention."""
        now = self.clock()
        pending = self._db.execute(
            "SELECT 1 FROM kv_vaults WHERE deleted_at IS NOT NULL UNION ALL "
            "SELECT 1 FROM kv_items WHERE deleted_at IS NOT NULL LIMIT 1"
        ).fetchone()
        if pending is None:
            return
        with self.fabric.transaction() as conn:
            for v in conn.execute("SELECT * FROM kv_vaults WHERE deleted_at IS NOT NULL"):
                if v["deleted_at"] + v["retention_days"] * DAY <= now:
                    self._drop_vault(conn, v["id"])
            rows = conn.execute(
                "SELECT i.id, i.deleted_at, v.retention_days FROM kv_items i JOIN kv_vaults v "
                "ON v.id = i.vault_id WHERE i.deleted_at IS NOT NULL"
            ).fetchall()
            for r in rows:
                if r["deleted_at"] + r["retention_days"] * DAY <= now:
                    self._drop_item(conn, r["id"])

    def create_vault(
        self,
        vault_id: str,
        *,
        name: str,
        region: str,
        subscription: str,
        retention_days: int = 90,
        purge_protection: bool = False,
        policies: list[dict] | None = None,
    ) -> Vault:
        check_retention(retention_days)
        self._purge_expired()
        with self.fabric.transaction() as conn:
            old = conn.execute("SELECT * FROM kv_vaults WHERE id = ?", (vault_id,)).fetchone()
            if old is not None:
                what = "a soft-deleted" if old["deleted_at"] is not None else "a"
                raise AlreadyExists(
                    f"{what} key vault {vault_id} exists already: recover it "
                    "(bcdr platform recover ID) or, without purge protection, purge it"
                )
            twin = conn.execute(
                "SELECT id FROM kv_vaults WHERE name = ? AND id != ?", (name, vault_id)
            ).fetchone()
            if twin is not None:
                raise AlreadyExists(
                    f"key vault name {name!r} is taken by {twin[0]} (vault names are unique, "
                    "deleted ones included until purged): choose another name"
                )
            conn.execute(
                "INSERT INTO kv_vaults VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    vault_id,
                    name,
                    region,
                    subscription,
                    int(retention_days),
                    int(bool(purge_protection)),
                    json.dumps(policies or []),
                    self.clock(),
                ),
            )
        return self.get_vault(vault_id)

    def update_vault(
        self, vault_id: str, *, retention_days: int, purge_protection: bool, policies: list[dict]
    ) -> Vault:
        check_retention(retention_days)
        v = self.get_vault(vault_id)
        if v.purge_protection and not purge_protection:
            raise CoreError(
                f"key vault {v.name}: purge protection cannot be turned off once on; keep "
                "purge_protection = true"
            )
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE kv_vaults SET retention_days = ?, purge_protection = ?, policies = ? "
                "WHERE id = ?",
                (int(retention_days), int(bool(purge_protection)), json.dumps(policies), v.id),
            )
        return self.get_vault(vault_id)

    def find_vault(self, vault_id: str) -> Vault | None:
        """The vault, deleted or not; None when there is none (or it was purged)."""
        self._purge_expired()
        row = self._db.execute("SELECT * FROM kv_vaults WHERE id = ?", (vault_id,)).fetchone()
        if row is None:
            return None
        return Vault(
            row["id"],
            row["name"],
            row["region"],
            row["subscription"],
            row["retention_days"],
            bool(row["purge_protection"]),
            json.loads(row["policies"]),
            row["deleted_at"],
        )

    def vault_named(self, name: str) -> Vault | None:
        """The vault (deleted or not) that holds ``name``: vault names are unique."""
        self._purge_expired()
        row = self._db.execute("SELECT id FROM kv_vaults WHERE name = ?", (name,)).fetchone()
        return self.find_vault(row[0]) if row else None

    def get_vault(self, vault_id: str) -> Vault:
        """A live vault; NotFound (saying it can be recovered) when it is soft-deleted."""
        v = self.find_vault(vault_id)
        if v is None:
            raise NotFound(f"key vault {vault_id} does not exist")
        if v.deleted_at is not None:
            raise NotFound(
                f"key vault {v.name} is deleted (recoverable until {_day(v, v.deleted_at)}): "
                f"recover it with `bcdr platform recover {v.id}`"
            )
        return v

    def list_vaults(self, deleted: bool = False) -> list[Vault]:
        self._purge_expired()
        cond = "IS NOT NULL" if deleted else "IS NULL"
        rows = self._db.execute(f"SELECT id FROM kv_vaults WHERE deleted_at {cond} ORDER BY id")
        return [v for r in rows.fetchall() if (v := self.find_vault(r[0])) is not None]

    def delete_vault(self, vault_id: str) -> Vault:
        """Soft-delete: recoverable for the vault's retention days."""
        v = self.get_vault(vault_id)
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_vaults SET deleted_at = ? WHERE id = ?", (self.clock(), v.id))
        return self.find_vault(vault_id) or v

    def recover_vault(self, vault_id: str) -> Vault:
        v = self.find_vault(vault_id)
        if v is None:
            raise NotFound(f"key vault {vault_id} does not exist and cannot be recovered")
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_vaults SET deleted_at = NULL WHERE id = ?", (v.id,))
        return self.get_vault(vault_id)

    def purge_vault(self, vault_id: str) -> None:
        """Delete a soft-deleted vault for good; refused while purge protection holds it."""
        v = self.find_vault(vault_id)
        if v is None:
            raise NotFound(f"key vault {vault_id} does not exist")
        if v.deleted_at is None:
            raise CoreError(f"key vault {v.name} is not deleted: delete it before purging it")
        self._check_purge(v, v.deleted_at, f"key vault {v.name}")
        with self.fabric.transaction() as conn:
            self._drop_vault(conn, v.id)

    def _check_purge(self, v: Vault, deleted_at: float, what: str) -> None:
        if v.purge_protection and self.clock() < deleted_at + v.retention_days * DAY:
            raise CoreError(
                f"{what} is protected from purge (purge protection) until {_day(v, deleted_at)}: "
                "it is purged then by itself; until then it can only be recovered"
            )

    def _drop_vault(self, conn: sqlite3.Connection, vault_id: str) -> None:
        for r in conn.execute("SELECT id FROM kv_items WHERE vault_id = ?", (vault_id,)).fetchall():
            self._drop_item(conn, r[0])
        conn.execute("DELETE FROM kv_grants WHERE item_id = ?", (vault_id,))
        conn.execute("DELETE FROM kv_vaults WHERE id = ?", (vault_id,))

    def _drop_item(self, conn: sqlite3.Connection, item: str) -> None:
        conn.execute("DELETE FROM kv_versions WHERE item_id = ?", (item,))
        conn.execute("DELETE FROM kv_grants WHERE item_id = ?", (item,))
        conn.execute("DELETE FROM kv_items WHERE id = ?", (item,))

    # -- access ------------------------------------------------------------------------------
    def allowed(self, item: str, principal: str, kind: str, permission: str) -> bool:
        v = self.get_vault(vault_of(item))
        want = permission.lower()
        field_name = f"{kind}_permissions"
        for policy in v.policies:
            if self.resolve(str(policy.get("object_id") or "")) != principal:
                continue
            granted = {str(p).lower() for p in policy.get(field_name) or []}
            if want in granted or "all" in granted:
                return True
        rows = self._db.execute(
            "SELECT permissions FROM kv_grants WHERE object_id = ? AND item_id IN (?, ?)",
            (principal, item, v.id),
        )
        return any(want in {p.lower() for p in json.loads(r[0])} for r in rows.fetchall())

    def _require(self, item: str, principal: str, kind: str, permission: str) -> None:
        if not self.allowed(item, principal, kind, permission):
            v = self.get_vault(vault_of(item))
            raise Forbidden(
                f"key vault {v.name}: principal {principal} ({self.principal_name(principal)}) "
                f"lacks {kind} permission {permission!r} for {item.rsplit('/', 1)[-1]}; an "
                f"access_policy of the vault for object_id {principal} must list "
                f"{permission!r} in {kind}_permissions"
            )

    def grant(self, source: str, object_id: str, item: str, permissions: list[str]) -> None:
        """Give ``object_id`` ``permissions`` on a key (or a whole vault), on behalf of
        ``source`` (a disk encryption set), outside the vault's access policies."""
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO kv_grants VALUES (?, ?, ?, ?)",
                (source, object_id, item, json.dumps(permissions)),
            )

    def revoke(self, source: str) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM kv_grants WHERE source = ?", (source,))

    # -- keys and secrets: lifecycle ---------------------------------------------------------
    def _item_row(self, item: str, kind: str, deleted_ok: bool = False) -> sqlite3.Row:
        try:
            self.get_vault(vault_of(item))
        except NotFound as err:  # name the key or secret, not only its vault
            raise NotFound(f"{kind} {item.rsplit('/', 1)[-1]} ({item}): {err}") from None
        row = self._db.execute(
            "SELECT * FROM kv_items WHERE id = ? AND kind = ?", (item, kind)
        ).fetchone()
        if row is None:
            raise NotFound(f"{kind} {item} does not exist")
        if row["deleted_at"] is not None and not deleted_ok:
            raise NotFound(
                f"{kind} {row['name']} ({item}) is deleted: recover it with "
                f"`bcdr platform recover {item}`"
            )
        return row

    def _latest(self, item: str) -> sqlite3.Row:
        return self._db.execute(
            "SELECT * FROM kv_versions WHERE item_id = ? ORDER BY created_at DESC, rowid DESC "
            "LIMIT 1",
            (item,),
        ).fetchone()

    def _add_version(self, item: str, kind: str, material: bytes, kt: str | None, ks: int | None):
        name = item.rsplit("/", 1)[-1]
        version = _new_version()
        sealed = self._seal(item, version, material)
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO kv_items VALUES (?, ?, ?, ?, 1, NULL, ?)",
                (item, vault_of(item), kind, name, self.clock()),
            )
            conn.execute(
                "INSERT INTO kv_versions VALUES (?, ?, ?, ?, ?, ?)",
                (item, version, kt, ks, sealed, self.clock()),
            )
        return version

    def create_key(
        self, key_id: str, key_type: str = "RSA", key_size: int | None = None
    ) -> KeyInfo:
        """A new key, or a new version of an existing one (the latest is the one used)."""
        kt, ks = check_key_spec(key_type, key_size)
        self.get_vault(vault_of(key_id))
        old = self._db.execute("SELECT deleted_at FROM kv_items WHERE id = ?", (key_id,)).fetchone()
        if old is not None and old["deleted_at"] is not None:
            raise AlreadyExists(f"key {key_id} is soft-deleted: recover it instead")
        self._add_version(key_id, "key", _generate(kt, ks), kt, ks)
        return self.key_info(key_id)

    def rotate_key(self, key_id: str) -> KeyInfo:
        """A new version of a live key, of the same type and size; it becomes the latest
        (new wraps use it) while the older versions keep unwrapping what they wrapped."""
        self._item_row(key_id, "key")
        latest = self._latest(key_id)
        kt, ks = latest["key_type"], latest["key_size"]
        self._add_version(key_id, "key", _generate(kt, ks), kt, ks)
        return self.key_info(key_id)

    def key_versions(self, key_id: str) -> list[str]:
        """A live key's versions, oldest first."""
        self._item_row(key_id, "key")
        rows = self._db.execute(
            "SELECT version FROM kv_versions WHERE item_id = ? ORDER BY created_at, rowid",
            (key_id,),
        )
        return [r[0] for r in rows.fetchall()]

    def key_info(self, key_id: str) -> KeyInfo:
        """A key's facts (the platform's view, no principal); NotFound when deleted."""
        row = self._item_row(key_id, "key")
        ver = self._latest(key_id)
        return KeyInfo(
            row["id"],
            row["vault_id"],
            row["name"],
            ver["key_type"],
            ver["key_size"],
            ver["version"],
            bool(row["enabled"]),
        )

    def set_key_enabled(self, key_id: str, enabled: bool) -> KeyInfo:
        row = self._item_row(key_id, "key")
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET enabled = ? WHERE id = ?", (int(enabled), row["id"]))
        return self.key_info(key_id)

    def delete_item(self, item: str) -> None:
        """Soft-delete a key or secret (recoverable for the vault's retention)."""
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind)
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET deleted_at = ? WHERE id = ?", (self.clock(), row[0]))

    def recover_item(self, item: str) -> None:
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind, deleted_ok=True)
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET deleted_at = NULL WHERE id = ?", (row[0],))

    def purge_item(self, item: str) -> None:
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind, deleted_ok=True)
        if row["deleted_at"] is None:
            raise CoreError(f"{kind} {item} is not deleted: delete it before purging it")
        self._check_purge(self.get_vault(vault_of(item)), row["deleted_at"], f"{kind} {item}")
        with self.fabric.transaction() as conn:
            self._drop_item(conn, row["id"])

    def item_state(self, item: str) -> str:
        """``live``, ``disabled``, ``deleted`` (soft) or ``gone`` (also when its vault is)."""
        v = self.find_vault(vault_of(item))
        row = self._db.execute("SELECT * FROM kv_items WHERE id = ?", (item,)).fetchone()
        if v is None or row is None:
            return "gone"
        if v.deleted_at is not None or row["deleted_at"] is not None:
            return "deleted"
        return "live" if row["enabled"] else "disabled"

    def list_items(self, vault_id: str, kind: str) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM kv_items WHERE vault_id = ? AND kind = ? AND deleted_at IS NULL "
            "ORDER BY id",
            (vault_id, kind),
        )
        return [r[0] for r in rows.fetchall()]

    # -- key operations (checked against the access policies) ---------------------------------
    def _usable(
        self, key_id: str, principal: str, permission: str, version: str | None = None
    ) -> rsa.RSAPrivateKey | bytes:
        """The material of ``version`` (the latest when None) once the principal may use the
        key for ``permission`` and the key is enabled (which covers all its versions)."""
        row = self._item_row(key_id, "key")
        self._require(key_id, principal, "key", permission)
        if not row["enabled"]:
            raise CoreError(
                f"key {row['name']} ({key_id}) is disabled: enable it (bcdr platform key "
                "enable) to use it"
            )
        return self._material(key_id, version)

    def _material(self, key_id: str, version: str | None = None) -> object:
        ver = (
            self._latest(key_id)
            if version is None
            else self._db.execute(
                "SELECT * FROM kv_versions WHERE item_id = ? AND version = ?", (key_id, version)
            ).fetchone()
        )
        if ver is None:
            raise NotFound(
                f"key {key_id.rsplit('/', 1)[-1]} ({key_id}) has no version {version}: that "
                "version was purged or belongs to another key"
            )
        raw = self._open(key_id, ver["version"], ver["wrapped"])
        if ver["key_type"] == "oct":
            return raw
        return serialization.load_der_private_key(raw, password=None)

    def get_key(self, key_id: str, principal: str) -> KeyInfo:
        """The key's public part (permission ``get``)."""
        key = self._usable(key_id, principal, "get")
        info = self.key_info(key_id)
        pem = ""
        if not isinstance(key, bytes):
            pem = (
                key.public_key()  # type: ignore[attr-defined]
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                .decode()
            )
        return KeyInfo(**{**info.__dict__, "public_pem": pem})

    def wrap_key(
        self, key_id: str, data_key: bytes, principal: str, version: str | None = None
    ) -> bytes:
        """``data_key`` wrapped by the vault key (RSA-OAEP-256, or AES key wrap for oct):
        by ``version`` of it, or by the latest version when None."""
        key = self._usable(key_id, principal, "wrapKey", version)
        if isinstance(key, bytes):
            return aes_key_wrap(key, data_key)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CoreError(f"key {key_id} is an EC key: it cannot wrap keys; use an RSA key")
        return key.public_key().encrypt(data_key, _oaep())

    def unwrap_key(
        self, key_id: str, wrapped: bytes, principal: str, version: str | None = None
    ) -> bytes:
        """The data key ``wrapped`` holds, unwrapped by ``version`` of the vault key (the
        one that wrapped it; the latest when None). Older versions stay usable for unwrap
        for as long as the key is enabled and not deleted."""
        key = self._usable(key_id, principal, "unwrapKey", version)
        try:
            if isinstance(key, bytes):
                return aes_key_unwrap(key, wrapped)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise CoreError(f"key {key_id} is an EC key: it cannot unwrap keys")
            return key.decrypt(wrapped, _oaep())
        except (ValueError, InvalidUnwrap):
            which = f"version {version}" if version else "its latest version"
            raise CoreError(
                f"key {key_id} ({which}) cannot unwrap this data: it was wrapped by another "
                "key or another version; give the version that wrapped it"
            ) from None

    def encrypt(self, key_id: str, plaintext: bytes, principal: str) -> bytes:
        key = self._usable(key_id, principal, "encrypt")
        if isinstance(key, bytes):
            nonce = os.urandom(12)
            return nonce + AESGCM(key).encrypt(nonce, plaintext, None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CoreError(f"key {key_id} is an EC key: it cannot encrypt; use an RSA key")
        return key.public_key().encrypt(plaintext, _oaep())

    def decrypt(self, key_id: str, ciphertext: bytes, principal: str) -> bytes:
        key = self._usable(key_id, principal, "decrypt")
        try:
            if isinstance(key, bytes):
                return AESGCM(key).decrypt(ciphertext[:12], ciphertext[12:], None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise CoreError(f"key {key_id} is an EC key: it cannot decrypt")
            return key.decrypt(ciphertext, _oaep())
        except Exception as exc:
            if isinstance(exc, CoreError):
                raise
            raise CoreError(f"key {key_id} cannot decrypt this data") from None

    def sign(self, key_id: str, digest_input: bytes, principal: str) -> bytes:
        key = self._usable(key_id, principal, "sign")
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(digest_input, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(digest_input, ec.ECDSA(hashes.SHA256()))
        raise CoreError(f"key {key_id} is an oct key: it cannot sign; use an RSA or EC key")

    # -- secrets -----------------------------------------------------------------------------
    def set_secret(self, secret_id: str, value: str, principal: str) -> str:
        """Store a new version of the secret (permission ``set``); its version."""
        self.get_vault(vault_of(secret_id))
        self._require(secret_id, principal, "secret", "set")
        old = self._db.execute(
            "SELECT deleted_at FROM kv_items WHERE id = ?", (secret_id,)
        ).fetchone()
        if old is not None and old["deleted_at"] is not None:
            raise AlreadyExists(f"secret {secret_id} is soft-deleted: recover it instead")
        return self._add_version(secret_id, "secret", value.encode(), None, None)

    def get_secret(self, secret_id: str, principal: str) -> str:
        self._item_row(secret_id, "secret")
        self._require(secret_id, principal, "secret", "get")
        ver = self._latest(secret_id)
        return self._open(secret_id, ver["version"], ver["wrapped"]).decode()

    def secret_version(self, secret_id: str) -> str:
        self._item_row(secret_id, "secret")
        return self._latest(secret_id)["version"]

    def list_secrets(self, vault_id: str, principal: str) -> list[str]:
        self._require(vault_id + "/secrets/*", principal, "secret", "list")
        return self.list_items(vault_id, "secret")

    def delete_secret(self, secret_id: str, principal: str) -> None:
        self._require(secret_id, principal, "secret", "delete")
        self.delete_item(secret_id)

    def copy_item(self, item: str, target_vault_id: str) -> str:
        """Copy a key or secret with all its versions into another vault (a restore of its
        backup, done by the platform); the new item's id."""
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind)
        self.get_vault(target_vault_id)
        new = item_id(target_vault_id, kind, row["name"])
        versions = self._db.execute(
            "SELECT * FROM kv_versions WHERE item_id = ? ORDER BY created_at, rowid", (item,)
        ).fetchall()
        with self.fabric.transaction() as conn:
            if conn.execute("SELECT 1 FROM kv_items WHERE id = ?", (new,)).fetchone():
                raise AlreadyExists(f"{kind} {new} exists already")
            conn.execute(
                "INSERT INTO kv_items VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (new, target_vault_id, kind, row["name"], row["enabled"], self.clock()),
            )
            for ver in versions:
                plain = self._open(item, ver["version"], ver["wrapped"])
                conn.execute(
                    "INSERT INTO kv_versions VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        new,
                        ver["version"],
                        ver["key_type"],
                        ver["key_size"],
                        self._seal(new, ver["version"], plain),
                        ver["created_at"],
                    ),
                )
        return new

    # -- disk encryption sets ----------------------------------------------------------------
    def create_des(self, des_id: str, key_id: str, region: str) -> str:
        """Record a disk encryption set on ``key_id`` and grant its identity wrapKey,
        unwrapKey and get on the key; its principal id."""
        info = self.key_info(key_id)
        v = self.get_vault(info.vault_id)
        if not v.purge_protection:
            raise CoreError(
                f"key vault {v.name} has no purge protection: a disk encryption set needs a "
                "vault with soft delete and purge protection; set purge_protection = true"
            )
        principal = des_principal(des_id)
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO kv_des VALUES (?, ?, ?, ?, ?)",
                (des_id, key_id, principal, region, self.clock()),
            )
        self.revoke(des_id)
        self.grant(des_id, principal, key_id, ["get", "wrapKey", "unwrapKey"])
        return principal

    def des_key(self, des_id: str) -> str:
        """The key id a disk encryption set uses."""
        row = self._db.execute("SELECT key_id FROM kv_des WHERE id = ?", (des_id,)).fetchone()
        if row is None:
            raise NotFound(f"disk encryption set {des_id} does not exist")
        return row[0]

    def get_des(self, des_id: str) -> dict | None:
        row = self._db.execute("SELECT * FROM kv_des WHERE id = ?", (des_id,)).fetchone()
        return dict(row) if row else None

    def delete_des(self, des_id: str) -> None:
        self.revoke(des_id)
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM kv_des WHERE id = ?", (des_id,))


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


def _generate(kt: str, size: int) -> bytes:
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


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _day(v: Vault, deleted_at: float) -> str:
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
