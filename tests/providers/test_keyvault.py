"""key_vault, key_vault_key, key_vault_secret and disk_encryption_set through the real CLI:
apply and a clean second plan, no plaintext key material or secret in fabric.db, access
policies enforced, soft delete and recovery, purge protection, drift; and the encrypted-vm
example validates, plans and applies."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.providers.conftest import Workspace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "encrypted-vm"
SECRET = "s3cret-value-7f1c2a9e44d0b6"

SPEC = """
resource "resource_group" "rg" {
  name     = "sec"
  location = "eastus"
}

resource "key_vault" "kv" {
  name                       = "kv-prod"
  resource_group             = resource_group.rg.name
  location                   = "eastus"
  soft_delete_retention_days = RETENTION
  purge_protection           = PURGE
  access_policy {
    object_id          = "current-user"
    key_permissions    = ["get", "wrapKey", "unwrapKey"]
    secret_permissions = [SECRET_PERMS]
  }
}

resource "key_vault_key" "kek" {
  name         = "kek"
  key_vault_id = key_vault.kv.id
}

resource "key_vault_secret" "pw" {
  name         = "db-password"
  key_vault_id = key_vault.kv.id
  value        = "SECRET"
}
"""

DES = """
resource "disk_encryption_set" "des" {
  name             = "des"
  resource_group   = resource_group.rg.name
  location         = "eastus"
  key_vault_key_id = key_vault_key.kek.id
}
"""


def spec(
    purge: str = "true",
    retention: int = 30,
    perms: str = '"get", "set", "delete"',
    extra: str = "",
) -> str:
    text = (
        SPEC.replace("PURGE", purge)
        .replace("RETENTION", str(retention))
        .replace("SECRET_PERMS", perms)
        .replace("SECRET", SECRET)
    )
    return text + extra


def _id(ws: Workspace, address: str) -> str:
    state = ws.state(address)
    assert state is not None, address
    return state["id"]


def test_vault_key_secret_and_des_apply_then_plan_is_clean(ws: Workspace) -> None:
    from core.keystore import KeyStore, des_principal

    ws.write(spec(extra=DES))
    ws.ok("init")
    plan = ws.ok("plan", "-no-color")
    assert "soft-deletes it: recoverable for 30 days" in plan
    ws.apply()
    ws.plan_is_clean()
    key = ws.state("key_vault_key.kek")
    assert key["key_size"] == 2048 and len(key["version"]) == 32
    des = ws.state("disk_encryption_set.des")
    assert des["principal_id"] == des_principal(des["id"])
    with ws.fabric() as fab:
        ks = KeyStore(fab)
        assert ks.encryption_sets.key_of(des["id"]) == key["id"]
        wrapped = ks.keys.wrap(key["id"], b"d" * 32, des["principal_id"])  # granted by the DES
        assert ks.keys.unwrap(key["id"], wrapped, des["principal_id"]) == b"d" * 32
        assert ks.secrets.get(_id(ws, "key_vault_secret.pw"), ks.principals.user()) == SECRET


def test_secret_value_and_key_material_are_not_plaintext_in_fabric_db(ws: Workspace) -> None:
    from cryptography.hazmat.primitives import serialization

    from core.keystore import KeyStore

    ws.write(spec())
    ws.ok("init")
    ws.apply()
    with ws.fabric() as fab:
        priv = KeyStore(fab).keys.material(_id(ws, "key_vault_key.kek"))
        der = priv.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    home = ws.dir / ".bcdr" / "fabric"
    raw = b"".join(p.read_bytes() for p in home.glob("fabric.db*"))
    assert raw.count(SECRET.encode()) == 0
    assert raw.count(der) == 0 and raw.count(der[-48:]) == 0


def test_an_unknown_permission_gets_did_you_mean_and_case_is_ignored(ws: Workspace) -> None:
    ws.write(spec(perms='"GET", "Set", "delte"'))
    result = ws.run("validate", "-no-color")
    assert result.exit_code == 1
    assert 'Invalid value for "secret_permissions"' in result.output
    assert '"delte" is not an allowed value. Did you mean "delete"?' in result.output
    ws.write(spec(perms='"GET", "Set", "Delete"'))
    assert ws.run("validate", "-no-color").exit_code == 0


def test_purge_protection_cannot_be_turned_off(ws: Workspace) -> None:
    ws.write(spec(purge="true"))
    ws.ok("init")
    ws.apply()
    ws.write(spec(purge="false"))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert "Purge protection cannot be turned off" in result.output
    assert "main.hcl line 11" in result.output and "purge_protection = true" in result.output


def test_retention_outside_7_to_90_days_is_a_plan_error(ws: Workspace) -> None:
    ws.write(spec(retention=6))
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1 and "give 7 to 90" in result.output
    assert "main.hcl line 10" in result.output


def test_des_on_a_vault_without_purge_protection_is_a_plan_error(ws: Workspace) -> None:
    ws.write(spec(purge="false", extra=DES))
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert "Key vault kv-prod has no purge protection" in result.output
    assert "set purge_protection = true" in result.output and "main.hcl line 34" in result.output


def test_access_policy_without_set_refuses_the_secret(ws: Workspace) -> None:
    from core.keystore import KeyStore

    ws.write(spec(perms='"get"'))
    ws.ok("init")
    result = ws.run("apply", "-auto-approve", "-no-color")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "key vault kv-prod" in result.output and "lacks secret permission 'set'" in result.output
    with ws.fabric() as fab:
        assert KeyStore(fab).principals.user() in result.output


def test_destroyed_vault_is_soft_deleted_recoverable_and_purge_refused(ws: Workspace) -> None:
    ws.write(spec(purge="true"))
    ws.ok("init")
    ws.apply()
    vault, key = _id(ws, "key_vault.kv"), ws.state("key_vault_key.kek")
    ws.ok("destroy", "-auto-approve", "-no-color")
    purge = ws.run("platform", "purge", vault, "-no-color")
    assert purge.exit_code == 1 and "protected from purge" in purge.output
    assert "recovered" in ws.ok("platform", "recover", vault, "-no-color")
    # applying again takes the recovered vault and recovers the key: same material, same version
    ws.apply()
    assert ws.state("key_vault_key.kek")["version"] == key["version"]
    ws.plan_is_clean()


def test_key_disabled_or_deleted_outside_bcdr_is_drift_that_apply_puts_back(
    ws: Workspace,
) -> None:
    ws.write(spec())
    ws.ok("init")
    ws.apply()
    key = ws.state("key_vault_key.kek")
    ws.ok("platform", "key", "disable", key["id"])
    plan = ws.ok("plan", "-no-color")
    assert "enabled = false -> true" in plan
    ws.apply()
    ws.plan_is_clean()
    ws.ok("platform", "delete", key["id"])
    plan = ws.ok("plan", "-no-color")
    assert "key_vault_key.kek will be created" in plan
    ws.apply()
    assert ws.state("key_vault_key.kek")["version"] == key["version"]  # recovered, not new
    ws.plan_is_clean()


def test_whoami_prints_the_current_user_object_id(ws: Workspace) -> None:
    from core.keystore import KeyStore

    ws.write(spec())
    ws.ok("init")
    ws.apply()
    out = ws.ok("platform", "whoami", "-no-color")
    with ws.fabric() as fab:
        assert KeyStore(fab).principals.user() in out


def test_encrypted_vm_example_validates_plans_and_applies(tmp_path: Path) -> None:
    """KV-2 in the example: the restore into westus makes a vault there with 1 key, 1 secret."""
    from core.keystore import KeyStore

    ws = Workspace(tmp_path / "encrypted-vm")
    shutil.copytree(EXAMPLE, ws.dir)
    ws.ok("init")
    assert "The configuration is valid." in ws.ok("validate", "-no-color")
    result = ws.run("plan", "-detailed-exitcode", "-no-color")
    assert result.exit_code == 2, result.output
    assert "Error" not in result.output and "14 to add" in result.output
    assert "in westus with 1 key, 1 secret" in result.output
    ws.apply()
    ws.plan_is_clean()
    kv = ws.state("vm_restore.app_dr")["key_vault_id"]
    with ws.fabric() as fab:
        ks = KeyStore(fab)
        assert ks.vaults.get(kv).region == "westus"
        assert len(ks.items.list(kv, "key")) == 1 and len(ks.items.list(kv, "secret")) == 1


def test_deleting_a_vault_through_the_provider_warns_that_it_is_only_soft_deleted(
    ws: Workspace,
) -> None:
    from providers.platform.provider import EmbeddedProvider
    from sdk import DeleteRequest, ProviderContext

    ws.write(spec(purge="true"))
    ws.ok("init")
    ws.apply()
    vault = ws.state("key_vault.kv")
    provider = EmbeddedProvider()
    try:
        provider.configure(ProviderContext(ws.dir, ws.dir / ".bcdr"))
        resp = provider.delete(DeleteRequest("key_vault", "key_vault.kv", vault))
    finally:
        provider.close()
    assert not resp.diagnostics.has_errors
    notes = [d.detail for d in resp.diagnostics.warnings()]
    assert len(notes) == 1 and "kv-prod is soft-deleted: recoverable until" in notes[0]
    assert "purge protection refuses a purge" in notes[0]
    assert "recovered" in ws.ok("platform", "recover", vault["id"], "-no-color")


def test_a_vault_name_taken_by_another_vault_is_a_plan_error(ws: Workspace) -> None:
    ws.write(spec())
    ws.ok("init")
    ws.apply()
    listed = ws.ok("platform", "list", "--type", "key_vault", "-no-color")
    assert "/vaults/kv-prod" in listed and "1 object." in listed
    other = (
        spec()
        + """
resource "resource_group" "rg2" {
  name     = "sec2"
  location = "eastus"
}

resource "key_vault" "twin" {
  name           = "kv-prod"
  resource_group = resource_group.rg2.name
  location       = "eastus"
}
"""
    )
    ws.write(other)
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1 and "Key vault name 'kv-prod' is taken" in result.output
    assert "choose another name" in result.output


def test_destroy_prints_that_a_vault_is_only_soft_deleted(ws: Workspace) -> None:
    ws.write(spec(purge="true"))
    ws.ok("init")
    ws.apply()
    result = ws.run("destroy", "-auto-approve", "-no-color")
    assert result.exit_code == 0, result.output
    assert "Warning:" in result.output
    assert "kv-prod is soft-deleted: recoverable until" in result.output
