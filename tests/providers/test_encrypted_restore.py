"""Encrypted VMs and their restores through the real CLI: rules KV-1, KV-2, KV-3, DES-1 and
REP-7, and the plan checks of a VM's encryption."""

from __future__ import annotations

from tests.providers.conftest import Workspace
from tests.providers.fixtures_restore import RP1, disk_bytes, setup

OTHER_SUB = "00000000-0000-4000-8000-00000000abcd"

BASE = """
resource "resource_group" "prod" {
  name     = "prod"
  location = "eastus"
}

resource "resource_group" "dr" {
  name     = "dr"
  location = "westus"
}

resource "key_vault" "kv" {
  name             = "kv-prod"
  resource_group   = resource_group.prod.name
  location         = "eastus"
  purge_protection = true
  access_policy {
    object_id          = "current-user"
    key_permissions    = ["get", "wrapKey", "unwrapKey"]
    secret_permissions = ["get", "set", "delete"]
  }
}

resource "key_vault_key" "kek" {
  name         = "kek"
  key_vault_id = key_vault.kv.id
}

resource "disk_encryption_set" "des" {
  name             = "des"
  resource_group   = resource_group.prod.name
  location         = "eastus"
  key_vault_key_id = key_vault_key.kek.id
}

resource "disk_encryption_set" "des2" {
  name             = "des2"
  resource_group   = resource_group.prod.name
  location         = "eastus"
  key_vault_key_id = key_vault_key.kek.id
}

resource "managed_disk" "os" {
  name                   = "app-os"
  resource_group         = resource_group.prod.name
  location               = "eastus"
  create_option          = "Empty"
  size_gb                = 0.015625
  disk_encryption_set_id = disk_encryption_set.des.id
}

resource "virtual_machine" "app" {
  name           = "app"
  resource_group = resource_group.prod.name
  location       = "eastus"
  os_disk_id     = managed_disk.os.id
  VM_EXTRA
}

resource "restore_point_collection" "rpc" {
  name           = "rpc"
  resource_group = resource_group.prod.name
  location       = "eastus"
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "rp" {
  name          = "rp"
  collection_id = restore_point_collection.rpc.id
}
"""

ADE = """
  encryption {
    key_vault_id           = key_vault.kv.id
    key_id                 = key_vault_key.kek.id
    disk_encryption_set_id = disk_encryption_set.des.id
  }
"""

RESTORE = """
resource "vm_restore" "back" {
  restore_point_id      = restore_point.rp.id
  name                  = "app-back"
  target_resource_group = GROUP
  ARGS
}
"""


def spec(vm_extra: str = ADE, restore: str = "") -> str:
    return BASE.replace("VM_EXTRA", vm_extra) + restore


def restore(group: str = "resource_group.prod.name", args: str = "") -> str:
    return RESTORE.replace("GROUP", group).replace("ARGS", args)


def _go(ws: Workspace, text: str) -> None:
    ws.write(text)
    ws.ok("init")
    ws.apply()


def test_kv1_restore_into_another_subscription_is_a_plan_error(ws: Workspace) -> None:
    _go(ws, spec())
    with ws.fabric() as fab:
        fab.add_subscription(OTHER_SUB)
    other = f"""
resource "resource_group" "other" {{
  name         = "other"
  location     = "eastus"
  subscription = "{OTHER_SUB}"
}}
"""
    ws.write(
        spec(
            restore=other
            + restore("resource_group.other.name", f'target_subscription = "{OTHER_SUB}"')
        )
    )
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert "KV-1" in result.output and "another subscription" in result.output
    assert 'in resource "vm_restore" "back"' in result.output  # file:line of the argument
    assert "kv-prod" in result.output and "leave target_subscription out" in result.output


def test_kv1_is_named_even_when_the_other_subscription_is_also_unknown(ws: Workspace) -> None:
    """Issue 10.10: a plan reports every problem at once; an unknown target subscription
    no longer hides that KV-1 forbids the restore anyway."""
    _go(ws, spec())
    unknown = "0b0b0b0b-1111-2222-3333-444444444444"
    ws.write(spec(restore=restore(args=f'target_subscription = "{unknown}"')))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert f"Subscription '{unknown}' does not exist" in result.output
    assert "bcdr platform subscription create" in result.output  # what to do
    assert "(platform rule KV-1)" in result.output
    assert "a VM encrypted with a key vault cannot be restored into another subscription" in (
        result.output
    )


def test_kv2_restore_in_the_paired_region_creates_a_vault_with_the_keys(ws: Workspace) -> None:
    from core.keystore import KeyStore

    _go(ws, spec())
    ws.write(
        spec(
            restore=restore(
                "resource_group.dr.name",
                'target_location = "westus"\n  disk_encryption_set_id = null',
            )
        )
    )
    plan = ws.ok("plan", "-no-color")
    assert "creates key vault kv-app-back-" in plan and "in westus with 1 key, 1 secret" in plan
    assert "Warning" in plan and "does not reach westus" in plan  # the DES stays in eastus
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("vm_restore.back")
    kv = state["key_vault_id"]
    assert kv.startswith(state["id"].split("/providers/")[0]) and "/vaults/kv-app-back-" in kv
    source_key = ws.state("key_vault_key.kek")["id"]
    with ws.fabric() as fab:
        ks = KeyStore(fab)
        vault = ks.vaults.get(kv)
        assert vault.region == "westus" and vault.purge_protection
        keys, secrets = ks.items.list(kv, "key"), ks.items.list(kv, "secret")
        assert len(keys) == 1 and len(secrets) == 1
        # the same key material: what the source key wrapped, the copy unwraps
        svc, me = ks.principals.service(), ks.principals.user()
        wrapped = ks.keys.wrap(source_key, b"v" * 32, me)
        assert ks.keys.unwrap(keys[0], wrapped, svc) == b"v" * 32
        row = fab.get_resource(state["id"])["properties"]
        assert row["encryption"]["key_vault_id"] == kv and row["encryption"]["key_id"] == keys[0]
        assert row["encryption_secret_id"] == secrets[0]
        from core.disks import Disks

        assert Disks(fab).get(state["os_disk_id"]).encryption_set_id is None
    # destroying the restore soft-deletes the vault it made
    ws.write(spec())
    ws.apply()
    with ws.fabric() as fab:
        assert KeyStore(fab).vaults.find(kv).deleted_at is not None


def test_kv3_restored_vault_refuses_the_subscription_user(ws: Workspace) -> None:
    import pytest

    from core.errors import Forbidden
    from core.keystore import KeyStore

    _go(ws, spec(restore=restore("resource_group.dr.name", 'target_location = "westus"')))
    kv = ws.state("vm_restore.back")["key_vault_id"]
    with ws.fabric() as fab:
        ks = KeyStore(fab)
        me, svc = ks.principals.user(), ks.principals.service()
        assert [p["object_id"] for p in ks.vaults.get(kv).policies] == [svc]
        key, secret = ks.items.list(kv, "key")[0], ks.items.list(kv, "secret")[0]
        with pytest.raises(Forbidden) as err:
            ks.keys.get(key, me)
        assert me in str(err.value) and "'get'" in str(err.value)
        with pytest.raises(Forbidden):
            ks.secrets.get(secret, me)
        assert ks.keys.get(key, svc).key_type == "RSA" and ks.secrets.get(secret, svc)


def test_des1_streaming_restore_warns_and_applies_the_given_des(ws: Workspace) -> None:
    from core.disks import Disks

    _go(ws, spec(vm_extra=""))
    des2 = ws.state("disk_encryption_set.des2")["id"]
    args = 'source_kind = "streaming"\n  disk_encryption_set_id = disk_encryption_set.des2.id'
    ws.write(spec(vm_extra="", restore=restore(args=args)))
    plan = ws.ok("plan", "-no-color")
    assert "DES-1" in plan and "does not apply the disk encryption set" in plan
    assert "the restore applies disk_encryption_set_id des2" in plan
    ws.apply()
    state = ws.state("vm_restore.back")
    with ws.fabric() as fab:
        assert Disks(fab).get(state["os_disk_id"]).encryption_set_id == des2
        row = fab.get_resource(state["os_disk_id"])["properties"]
        assert row["disk_encryption_set_id"] == des2
    ws.plan_is_clean()


def test_des1_streaming_without_des_warns_and_snapshot_carries_the_source_des(
    ws: Workspace,
) -> None:
    from core.disks import Disks

    _go(ws, spec(vm_extra=""))
    des = ws.state("disk_encryption_set.des")["id"]
    streaming = restore(args='source_kind = "streaming"')
    snap = restore(args="").replace('"back"', '"snap"').replace("app-back", "app-snap")
    ws.write(spec(vm_extra="", restore=streaming + snap))
    plan = ws.ok("plan", "-no-color")
    assert "DES-1" in plan and "platform-managed keys" in plan
    ws.apply()
    with ws.fabric() as fab:
        disks = Disks(fab)
        assert disks.get(ws.state("vm_restore.back")["os_disk_id"]).encryption_set_id is None
        assert disks.get(ws.state("vm_restore.snap")["os_disk_id"]).encryption_set_id == des


def test_rep7_file_recovery_of_an_encrypted_vm_is_refused(ws: Workspace) -> None:
    _go(ws, spec())
    rp = ws.state("restore_point.rp")["id"]
    result = ws.run("platform", "recover-files", rp, "--output", "files", "-no-color")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "REP-7" in result.output and "encrypted VM" in result.output
    assert "vm_restore" in result.output  # what to do instead
    assert not (ws.dir / "files").exists()


def test_rep7_file_recovery_of_an_unencrypted_vm_exports_its_disks(ws: Workspace) -> None:
    os_img, data_img = setup(ws, RP1)
    ws.apply()
    rp = ws.state("restore_point.rp1")["id"]
    out = ws.ok("platform", "recover-files", rp, "--output", "files", "-no-color")
    assert "Recovered 2 disk images" in out
    assert (ws.dir / "files" / "web-os.img").read_bytes() == os_img
    assert (ws.dir / "files" / "web-data.img").read_bytes() == data_img
    again = ws.run("platform", "recover-files", rp, "--output", "files", "-no-color")
    assert again.exit_code == 1 and "exists already" in again.output


def test_encrypted_vm_records_its_disk_encryption_secret_in_the_vault(ws: Workspace) -> None:
    import base64

    from core.keystore import KeyStore

    _go(ws, spec())
    vm = ws.state("virtual_machine.app")
    key = ws.state("key_vault_key.kek")["id"]
    with ws.fabric() as fab:
        ks = KeyStore(fab)
        row = fab.get_resource(vm["id"])["properties"]
        secret = row["encryption_secret_id"]
        assert secret.endswith(f"/secrets/bek-{vm['vm_guid']}")
        wrapped = base64.b64decode(ks.secrets.get(secret, ks.principals.user()))
        assert len(ks.keys.unwrap(key, wrapped, ks.principals.user())) == 32
        rp = ws.state("restore_point.rp")["id"]
        from core.disks import Disks
        from core.restorepoints import RestorePoints

        points = RestorePoints(fab, Disks(fab))
        try:
            meta = points.get(rp).source_metadata
        finally:
            points.close()
    assert meta["metadata"]["encryption"]["key_vault_id"] == ws.state("key_vault.kv")["id"]
    assert meta["disks"][0]["disk_encryption_set_id"] == ws.state("disk_encryption_set.des")["id"]
    assert disk_bytes(ws, vm["os_disk_id"]) == bytes(16 << 20)


def test_vm_encryption_problems_are_plan_errors(ws: Workspace) -> None:
    wrong_des = """
  bitlocker_enabled = true
  encryption {
    disk_encryption_set_id = disk_encryption_set.des2.id
  }
"""
    ws.write(spec(vm_extra=wrong_des))
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert "BitLocker on Linux VM 'app'" in result.output
    assert "Disk app-os is not under disk encryption set" in result.output
    assert 'in resource "virtual_machine" "app"' in result.output


def test_kv2_restore_from_a_copy_in_the_paired_region_also_creates_a_vault(
    ws: Workspace,
) -> None:
    """The copy is in westus, but the VM and its vault are in eastus: KV-2 applies."""
    copy = """
resource "restore_point_collection" "west" {
  name           = "west"
  resource_group = resource_group.dr.name
  location       = "westus"
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "copy" {
  name                    = "copy"
  collection_id           = restore_point_collection.west.id
  source_restore_point_id = restore_point.rp.id
}

resource "vm_restore" "west" {
  restore_point_id      = restore_point.copy.id
  name                  = "app-west"
  target_resource_group = resource_group.dr.name
}
"""
    ws.write(spec(restore=copy))
    ws.ok("init")
    plan = ws.ok("plan", "-no-color")
    assert "creates key vault kv-app-west-" in plan and "in westus with 1 key" in plan
    ws.apply()
    state = ws.state("vm_restore.west")
    assert state["target_location"] == "westus" and "/vaults/kv-app-west-" in state["key_vault_id"]
    ws.plan_is_clean()
