"""The key store (core/keystore/store.py) on a real fabric: wrapped key material, access policies,
soft delete and purge protection, encryption sets, and the wrap/unwrap calls block
encryption builds on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from core.errors import AlreadyExists, CoreError, Forbidden, NotFound
from core.fabric import Fabric
from core.keystore import DAY, KeyStore, des_principal, encryption_of

SUB = "00000000-0000-0000-0000-00000000000a"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"
KEY = VAULT + "/keys/kek"
SECRET = VAULT + "/secrets/bek"
ALL_KEYS = ["get", "wrapKey", "unwrapKey", "encrypt", "decrypt", "sign"]
ALL_SECRETS = ["get", "set", "list", "delete"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _store(fabric: Fabric, clock: Clock | None = None, **vault: object) -> KeyStore:
    ks = KeyStore(fabric, clock or Clock())
    me = ks.principals.user()
    policies = vault.pop(
        "policies",
        [{"object_id": me, "key_permissions": ALL_KEYS, "secret_permissions": ALL_SECRETS}],
    )
    ks.vaults.create(
        VAULT,
        name="kv1",
        region="eastus",
        subscription=SUB,
        policies=policies,  # type: ignore[arg-type]
        **vault,  # type: ignore[arg-type]
    )
    return ks


def test_key_material_and_secret_values_are_never_plaintext_in_fabric_db(
    fabric: Fabric, tmp_path: Path
) -> None:
    ks = _store(fabric)
    ks.keys.create(KEY, "RSA", 2048)
    ks.keys.create(VAULT + "/keys/ec", "EC", 256)
    ks.keys.create(VAULT + "/keys/aes", "oct", 256)
    value = "bek-value-" + os.urandom(16).hex()
    ks.secrets.set(SECRET, value, ks.principals.user())
    needles = [value.encode()]
    for key_id in (KEY, VAULT + "/keys/ec"):
        priv = ks.keys.material(key_id)
        der = priv.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pem = priv.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        needles += [der, pem, der[-64:]]
    needles.append(ks.keys.material(VAULT + "/keys/aes"))  # type: ignore[arg-type]
    raw = b""
    for name in ("fabric.db", "fabric.db-wal"):
        path = tmp_path / "fabric" / name
        if path.exists():
            raw += path.read_bytes()
    assert raw
    for needle in needles:
        assert raw.count(needle) == 0
    # and the material really is there, wrapped: a wrap/unwrap round trip works
    wrapped = ks.keys.wrap(KEY, b"k" * 32, ks.principals.user())
    assert ks.keys.unwrap(KEY, wrapped, ks.principals.user()) == b"k" * 32


def test_access_policy_is_enforced_on_every_use(fabric: Fabric) -> None:
    ks = _store(fabric)
    ks.keys.create(KEY, "RSA", 2048)
    me = ks.principals.user()
    other = ks.principals.service()
    with pytest.raises(Forbidden) as err:
        ks.keys.get(KEY, other)
    text = str(err.value)
    assert "kv1" in text and other in text and "'get'" in text
    for call in (
        lambda: ks.keys.wrap(KEY, b"x" * 32, other),
        lambda: ks.keys.sign(KEY, b"data", other),
        lambda: ks.secrets.set(SECRET, "v", other),
        lambda: ks.secrets.list(VAULT, other),
    ):
        with pytest.raises(Forbidden):
            call()
    # a policy with only wrapKey: get is refused, wrap works
    ks.vaults.update(
        VAULT,
        retention_days=90,
        purge_protection=False,
        policies=[{"object_id": "current-user", "key_permissions": ["wrapKey"]}],
    )
    assert ks.keys.wrap(KEY, b"x" * 32, me)
    with pytest.raises(Forbidden, match="'unwrapKey'"):
        ks.keys.unwrap(KEY, b"0" * 256, me)
    with pytest.raises(Forbidden, match="secret permission 'set'"):
        ks.secrets.set(SECRET, "v", me)


def test_rsa_ec_and_oct_keys_do_what_their_type_allows(fabric: Fabric) -> None:
    ks = _store(fabric)
    me = ks.principals.user()
    for size in (2048, 3072):
        info = ks.keys.create(VAULT + f"/keys/r{size}", "RSA", size)
        assert info.key_size == size and len(info.version) == 32
        assert ks.keys.decrypt(info.id, ks.keys.encrypt(info.id, b"hello", me), me) == b"hello"
    ec = ks.keys.create(VAULT + "/keys/ec", "EC", 384)
    assert ks.keys.sign(ec.id, b"data", me)
    assert "BEGIN PUBLIC KEY" in ks.keys.get(ec.id, me).public_pem
    with pytest.raises(CoreError, match="EC key"):
        ks.keys.wrap(ec.id, b"x" * 32, me)
    aes = ks.keys.create(VAULT + "/keys/aes", "oct", 256)
    assert ks.keys.unwrap(aes.id, ks.keys.wrap(aes.id, b"d" * 32, me), me) == b"d" * 32
    with pytest.raises(CoreError, match="use one of"):
        ks.keys.create(VAULT + "/keys/bad", "RSA", 1024)
    # a new version replaces the one used; data wrapped by the old one no longer unwraps
    old = ks.keys.wrap(aes.id, b"e" * 32, me)
    v2 = ks.keys.create(aes.id, "oct", 256)
    assert v2.version != aes.version
    with pytest.raises(CoreError, match="cannot unwrap"):
        ks.keys.unwrap(aes.id, old, me)


def test_wrap_key_names_the_key_when_disabled_or_deleted_and_works_once_recovered(
    fabric: Fabric,
) -> None:
    ks = _store(fabric)
    me = ks.principals.user()
    ks.keys.create(KEY, "RSA", 2048)
    wrapped = ks.keys.wrap(KEY, b"z" * 32, me)
    ks.keys.set_enabled(KEY, False)
    with pytest.raises(CoreError, match="kek.*disabled"):
        ks.keys.unwrap(KEY, wrapped, me)
    assert ks.items.state(KEY) == "disabled"
    ks.keys.set_enabled(KEY, True)
    ks.items.delete(KEY)
    assert ks.items.state(KEY) == "deleted"
    with pytest.raises(NotFound, match="kek.*deleted"):
        ks.keys.unwrap(KEY, wrapped, me)
    ks.items.recover(KEY)
    assert ks.keys.unwrap(KEY, wrapped, me) == b"z" * 32


def test_soft_deleted_vault_is_recoverable_and_purge_refused_while_protected(
    fabric: Fabric,
) -> None:
    clock = Clock()
    ks = _store(fabric, clock, retention_days=7, purge_protection=True)
    ks.keys.create(KEY, "RSA", 2048)
    ks.vaults.delete(VAULT)
    with pytest.raises(NotFound, match="recover"):
        ks.vaults.get(VAULT)
    assert ks.items.state(KEY) == "deleted"
    with pytest.raises(CoreError, match="protected from purge"):
        ks.vaults.purge(VAULT)
    with pytest.raises(AlreadyExists, match="soft-deleted"):
        ks.vaults.create(VAULT, name="kv1", region="eastus", subscription=SUB)
    ks.vaults.recover(VAULT)
    assert ks.keys.info(KEY).enabled  # the keys come back with it
    ks.vaults.delete(VAULT)
    clock.now += 7 * DAY + 1  # retention over: purged by itself
    assert ks.vaults.find(VAULT) is None
    assert ks.items.state(KEY) == "gone"


def test_purge_without_protection_and_retention_bounds(fabric: Fabric) -> None:
    ks = _store(fabric)
    ks.vaults.delete(VAULT)
    ks.vaults.purge(VAULT)
    assert ks.vaults.find(VAULT) is None
    for days in (6, 91):
        with pytest.raises(CoreError, match="7 to 90"):
            ks.vaults.create(
                VAULT, name="kv1", region="eastus", subscription=SUB, retention_days=days
            )


def test_purge_protection_cannot_be_turned_off(fabric: Fabric) -> None:
    ks = _store(fabric, purge_protection=True)
    with pytest.raises(CoreError, match="cannot be turned off"):
        ks.vaults.update(VAULT, retention_days=90, purge_protection=False, policies=[])


def test_des_identity_gets_wrap_unwrap_get_on_its_key_only(fabric: Fabric) -> None:
    des = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/d"
    ks = _store(fabric)
    ks.keys.create(KEY, "RSA", 2048)
    with pytest.raises(CoreError, match="purge protection"):
        ks.encryption_sets.create(des, KEY, "eastus")
    ks.vaults.update(VAULT, retention_days=90, purge_protection=True, policies=[])
    principal = ks.encryption_sets.create(des, KEY, "eastus")
    assert principal == des_principal(des) and ks.encryption_sets.key_of(des) == KEY
    wrapped = ks.keys.wrap(KEY, b"q" * 32, principal)
    assert ks.keys.unwrap(KEY, wrapped, principal) == b"q" * 32
    with pytest.raises(Forbidden, match="'sign'"):
        ks.keys.sign(KEY, b"x", principal)
    ks.encryption_sets.delete(des)
    with pytest.raises(Forbidden, match="managed identity|unknown principal"):
        ks.keys.wrap(KEY, b"q" * 32, principal)


def test_copy_into_another_vault_keeps_the_material(fabric: Fabric) -> None:
    ks = _store(fabric)
    me, svc = ks.principals.user(), ks.principals.service()
    ks.keys.create(KEY, "RSA", 2048)
    ks.secrets.set(SECRET, "bek", me)
    wrapped = ks.keys.wrap(KEY, b"w" * 32, me)
    target = VAULT.replace("kv1", "kv2")
    ks.vaults.create(
        target,
        name="kv2",
        region="westus",
        subscription=SUB,
        policies=[{"object_id": svc, "key_permissions": ALL_KEYS, "secret_permissions": ["get"]}],
    )
    new_key = ks.items.copy(KEY, target)
    new_secret = ks.items.copy(SECRET, target)
    assert ks.keys.unwrap(new_key, wrapped, svc) == b"w" * 32
    assert ks.secrets.get(new_secret, svc) == "bek"
    with pytest.raises(Forbidden):
        ks.keys.get(new_key, me)


def test_encryption_of_source_metadata() -> None:
    assert encryption_of({"disks": [{"id": "d"}]}) == []
    meta = {
        "disks": [{"id": "d", "disk_encryption_set_id": "/x/des"}],
        "metadata": {"encryption": {"key_vault_id": "/x/kv"}, "bitlocker_enabled": True},
    }
    found = encryption_of(meta)
    assert len(found) == 3 and "/x/kv" in found[0] and "/x/des" in found[1]


def test_a_key_in_a_deleted_vault_is_named_when_used(fabric: Fabric) -> None:
    ks = _store(fabric)
    ks.keys.create(KEY, "RSA", 2048)
    wrapped = ks.keys.wrap(KEY, b"n" * 32, ks.principals.user())
    ks.vaults.delete(VAULT)
    with pytest.raises(NotFound) as err:
        ks.keys.unwrap(KEY, wrapped, ks.principals.user())
    assert "key kek" in str(err.value) and "recover" in str(err.value)
    ks.vaults.recover(VAULT)
    assert ks.keys.unwrap(KEY, wrapped, ks.principals.user()) == b"n" * 32


def test_older_key_versions_unwrap_what_they_wrapped_after_a_rotation(fabric: Fabric) -> None:
    """Issue 4 (key versions): a data key wrapped by version 1 unwraps with version 1 after
    the key is rotated to version 2, while the key is enabled; new wraps use version 2."""
    ks = _store(fabric)
    me = ks.principals.user()
    for key_id, kt, size in ((KEY, "RSA", 2048), (VAULT + "/keys/aes", "oct", 256)):
        v1 = ks.keys.create(key_id, kt, size)
        old = ks.keys.wrap(key_id, b"1" * 32, me)
        assert ks.keys.wrap(key_id, b"1" * 32, me, v1.version)  # a named version wraps too
        v2 = ks.keys.rotate(key_id)
        assert (v2.key_type, v2.key_size) == (kt, size) and v2.version != v1.version
        assert ks.keys.info(key_id).version == v2.version
        assert ks.keys.versions(key_id) == [v1.version, v2.version]
        assert ks.keys.unwrap(key_id, old, me, v1.version) == b"1" * 32
        with pytest.raises(CoreError, match="latest version.*give the version"):
            ks.keys.unwrap(key_id, old, me)  # the latest version did not wrap it
        new = ks.keys.wrap(key_id, b"2" * 32, me)
        assert ks.keys.unwrap(key_id, new, me, v2.version) == b"2" * 32
        with pytest.raises(CoreError, match=f"version {v1.version}"):
            ks.keys.unwrap(key_id, new, me, v1.version)
        ks.keys.set_enabled(key_id, False)  # disabling the key covers its older versions
        with pytest.raises(CoreError, match="disabled"):
            ks.keys.unwrap(key_id, old, me, v1.version)
        ks.keys.set_enabled(key_id, True)
        assert ks.keys.unwrap(key_id, old, me, v1.version) == b"1" * 32
    with pytest.raises(NotFound, match="kek .*has no version nope"):
        ks.keys.unwrap(KEY, old, me, "nope")
    ks.items.delete(KEY)
    with pytest.raises(NotFound, match="deleted"):
        ks.keys.rotate(KEY)
