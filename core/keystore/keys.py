"""The key store's key operations: get, wrap/unwrap, encrypt/decrypt, sign.

A part of ``KeyStore`` (``core/keystore/store.py``). Always holds: every operation names a principal
and is checked against the vault's access policies and grants before the key material is
unsealed; a disabled or deleted key is refused for all its versions; an unwrap given the
version that wrapped the data keeps working after rotations; EC keys only sign.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from core.errors import CoreError, NotFound
from core.fabric.home import Fabric
from core.keystore.model import KeyInfo, oaep


class KeyPart:
    """Key operations of ``KeyStore``, each checked against the access policies."""

    fabric: Fabric

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
        return key.public_key().encrypt(data_key, oaep())

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
