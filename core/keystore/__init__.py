"""Key vaults, keys, secrets, disk encryption sets and envelope encryption of blocks.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
    from core.keystore.envelope import (
        BlockKey,
        Envelopes,
        KeyUnavailable,
        WrappedKey,
        forget_records,
        keyed_digest,
        save_records,
    )
    from core.keystore.model import (
        DAY,
        KEY_SIZES,
        EncryptionSet,
        KeyInfo,
        Vault,
        check_key_spec,
        des_principal,
        encryption_of,
        item_id,
        vault_of,
        vault_uri,
    )
    from core.keystore.store import KeyStore

_WHERE = {
    "BlockKey": "core.keystore.envelope",
    "DAY": "core.keystore.model",
    "EncryptionSet": "core.keystore.model",
    "Envelopes": "core.keystore.envelope",
    "KEY_SIZES": "core.keystore.model",
    "KeyInfo": "core.keystore.model",
    "KeyStore": "core.keystore.store",
    "KeyUnavailable": "core.keystore.envelope",
    "Vault": "core.keystore.model",
    "WrappedKey": "core.keystore.envelope",
    "check_key_spec": "core.keystore.model",
    "des_principal": "core.keystore.model",
    "encryption_of": "core.keystore.model",
    "forget_records": "core.keystore.envelope",
    "item_id": "core.keystore.model",
    "keyed_digest": "core.keystore.envelope",
    "save_records": "core.keystore.envelope",
    "vault_of": "core.keystore.model",
    "vault_uri": "core.keystore.model",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "BlockKey",
    "DAY",
    "EncryptionSet",
    "Envelopes",
    "KEY_SIZES",
    "KeyInfo",
    "KeyStore",
    "KeyUnavailable",
    "Vault",
    "WrappedKey",
    "check_key_spec",
    "des_principal",
    "encryption_of",
    "forget_records",
    "item_id",
    "keyed_digest",
    "save_records",
    "vault_of",
    "vault_uri",
]
