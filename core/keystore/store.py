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

The store is assembled here from its parts: ``core/keystore/vaults.py`` (principals, sealing,
vault lifecycle and purge), ``core/keystore/access.py`` (policy checks, grants, disk
encryption sets), ``core/keystore/items.py`` (key and secret records, versions, secrets) and
``core/keystore/keys.py`` (key operations); the data types, tables and id helpers are in
``core/keystore/model.py`` and are re-exported from here.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.fabric.home import Fabric
from core.keystore.access import AccessPart
from core.keystore.items import ItemPart
from core.keystore.keys import KeyPart
from core.keystore.model import (
    CURVES,
    DAY,
    KEY_PERMISSIONS,
    KEY_SIZES,
    SECRET_PERMISSIONS,
    SERVICE,
    USER,
    KeyInfo,
    Vault,
    check_key_spec,
    check_retention,
    des_principal,
    encryption_of,
    item_id,
    vault_of,
    vault_uri,
)
from core.keystore.vaults import VaultPart

__all__ = [
    "CURVES",
    "DAY",
    "KEY_PERMISSIONS",
    "KEY_SIZES",
    "SECRET_PERMISSIONS",
    "SERVICE",
    "USER",
    "KeyInfo",
    "KeyStore",
    "Vault",
    "check_key_spec",
    "check_retention",
    "des_principal",
    "encryption_of",
    "item_id",
    "vault_of",
    "vault_uri",
]


class KeyStore(VaultPart, AccessPart, ItemPart, KeyPart):
    """The key vaults of one fabric. ``clock`` gives the time (seconds) for soft delete."""

    def __init__(self, fabric: Fabric, clock: Callable[[], float] = time.time) -> None:
        self.fabric = fabric
        self.clock = clock
        with fabric.transaction() as conn:
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
