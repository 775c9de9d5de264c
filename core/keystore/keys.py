"""The key store's keys: their lifecycle (create, rotate, enable) and their operations
(get, wrap/unwrap, encrypt/decrypt, sign).

Always holds: every operation names a principal and is checked against the vault's access
policies and grants before the key material is unsealed; a disabled or deleted key is
refused for all its versions; an unwrap given the version that wrapped the data keeps
working after rotations; EC keys only sign. Lifecycle calls are the platform's own and take
no principal.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric
from core.keystore.access import Access
from core.keystore.items import Items
from core.keystore.model import KeyInfo, check_key_spec, generate, oaep, vault_of
from core.keystore.vaults import Sealer, Vaults


class Keys:
    """The keys of the vaults: lifecycle, and operations checked against access policies."""

    def __init__(
        self, fabric: Fabric, vaults: Vaults, items: Items, access: Access, sealer: Sealer
    ) -> None:
        self.fabric = fabric
        self.vaults = vaults
        self.items = items
        self.access = access
        self.sealer = sealer

    # -- lifecycle -----------------------------------------------------------------------
    def create(self, key_id: str, key_type: str = "RSA", key_size: int | None = None) -> KeyInfo:
        """A new key, or a new version of an existing one (the latest is the one used)."""
        kt, ks = check_key_spec(key_type, key_size)
        self.vaults.get(vault_of(key_id))
        if self.items.deleted_at(key_id) is not None:
            raise AlreadyExists(f"key {key_id} is soft-deleted: recover it instead")
        self.items.add_version(key_id, "key", generate(kt, ks), kt, ks)
        return self.info(key_id)

    def rotate(self, key_id: str) -> KeyInfo:
        """A new version of a live key, of the same type and size; it becomes the latest
        (new wraps use it) while the older versions keep unwrapping what they wrapped."""
        self.items.row(key_id, "key")
        latest = self.items.latest(key_id)
        kt, ks = latest["key_type"], latest["key_size"]
        self.items.add_version(key_id, "key", generate(kt, ks), kt, ks)
        return self.info(key_id)

    def versions(self, key_id: str) -> list[str]:
        """A live key's versions, oldest first."""
        self.items.row(key_id, "key")
        rows = self.fabric.db().execute(
            "SELECT version FROM kv_versions WHERE item_id = ? ORDER BY created_at, rowid",
            (key_id,),
        )
        return [r[0] for r in rows.fetchall()]

    def info(self, key_id: str) -> KeyInfo:
        """A key's facts (the platform's view, no principal); NotFound when deleted."""
        row = self.items.row(key_id, "key")
        ver = self.items.latest(key_id)
        return KeyInfo(
            row["id"],
            row["vault_id"],
            row["name"],
            ver["key_type"],
            ver["key_size"],
            ver["version"],
            bool(row["enabled"]),
        )

    def set_enabled(self, key_id: str, enabled: bool) -> KeyInfo:
        row = self.items.row(key_id, "key")
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET enabled = ? WHERE id = ?", (int(enabled), row["id"]))
        return self.info(key_id)

    # -- operations (checked against the access policies) ---------------------------------
    def _usable(
        self, key_id: str, principal: str, permission: str, version: str | None = None
    ) -> rsa.RSAPrivateKey | bytes:
        """The material of ``version`` (the latest when None) once the principal may use the
        key for ``permission`` and the key is enabled (which covers all its versions)."""
        row = self.items.row(key_id, "key")
        self.access.require(key_id, principal, "key", permission)
        if not row["enabled"]:
            raise CoreError(
                f"key {row['name']} ({key_id}) is disabled: enable it (bcdr platform key "
                "enable) to use it"
            )
        return self.material(key_id, version)

    def material(self, key_id: str, version: str | None = None) -> object:
        """The unsealed material of ``version`` of a key (the latest when None), unchecked:
        the operations call it once the principal is allowed."""
        ver = self.items.latest(key_id) if version is None else self.items.version(key_id, version)
        if ver is None:
            raise NotFound(
                f"key {key_id.rsplit('/', 1)[-1]} ({key_id}) has no version {version}: that "
                "version was purged or belongs to another key"
            )
        raw = self.sealer.open(key_id, ver["version"], ver["wrapped"])
        if ver["key_type"] == "oct":
            return raw
        return serialization.load_der_private_key(raw, password=None)

    def get(self, key_id: str, principal: str) -> KeyInfo:
        """The key's public part (permission ``get``)."""
        key = self._usable(key_id, principal, "get")
        info = self.info(key_id)
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

    def wrap(
        self, key_id: str, data_key: bytes, principal: str, version: str | None = None
    ) -> bytes:
        """``data_key`` wrapped by the vault key (RSA-OAEP-256, or AES key wrap for oct):
        by ``version`` of it, or by the latest version when None."""
        key = self._usable(key_id, principal, "wrapKey", version)
        if isinstance(key, bytes):
            return aes_key_wrap(key, data_key)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CoreError(f"key {key_id} is an EC key: it cannot wrap keys; use an RSA key")
        return key.public_key().encrypt(data_key, oaep())

    def unwrap(
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
            return key.decrypt(wrapped, oaep())
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
        return key.public_key().encrypt(plaintext, oaep())

    def decrypt(self, key_id: str, ciphertext: bytes, principal: str) -> bytes:
        key = self._usable(key_id, principal, "decrypt")
        try:
            if isinstance(key, bytes):
                return AESGCM(key).decrypt(ciphertext[:12], ciphertext[12:], None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise CoreError(f"key {key_id} is an EC key: it cannot decrypt")
            return key.decrypt(ciphertext, oaep())
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
