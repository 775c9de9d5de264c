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
refuses purges before the retention ends. A key has versions (``keys.create`` on an
existing key or ``keys.rotate`` adds one): wraps use the latest unless told a version, and an
unwrap given the version that wrapped keeps working after rotations, for as long as the key
is enabled and not deleted. Management calls (create, rotate, delete, recover, enable) are
the platform's own and take no principal, like the Azure control plane.

``KeyStore`` holds explicit collaborators, each a plain class over one shared context (the
fabric, the clock and the master-key ``Sealer``), called through it: ``principals``,
``vaults`` (``core/keystore/vaults.py``: lifecycle and purge), ``access`` and
``encryption_sets`` (``core/keystore/access.py``: policy checks, grants, disk encryption
sets), ``items`` and ``secrets`` (``core/keystore/items.py``: key and secret records,
versions, secret values) and ``keys`` (``core/keystore/keys.py``: key lifecycle and
operations). The data types, tables and id helpers are in ``core/keystore/model.py``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable

from core.fabric.home import Fabric
from core.keystore.access import Access, EncryptionSets
from core.keystore.items import Items, Secrets
from core.keystore.keys import Keys
from core.keystore.model import SERVICE, USER
from core.keystore.vaults import Principals, Sealer, Vaults


class KeyStore:
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
        sealer = Sealer(bytes.fromhex(row[0]))
        self.principals = Principals(fabric)
        self.vaults = Vaults(fabric, clock)
        self.access = Access(fabric, self.vaults, self.principals)
        self.items = Items(fabric, clock, self.vaults, sealer)
        self.secrets = Secrets(self.vaults, self.items, self.access, sealer)
        self.keys = Keys(fabric, self.vaults, self.items, self.access, sealer)
        self.encryption_sets = EncryptionSets(fabric, clock, self.vaults, self.access, self.keys)
