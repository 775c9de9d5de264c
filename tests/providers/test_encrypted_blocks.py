"""Blocks of disks under a disk encryption set, through the real CLI (issue 4, "Disk
encryption sets"): nothing of their content is readable in the store files, restores are
byte-identical, equal disks under different keys share no block, a disabled or deleted key
refuses restores by name until it is enabled or recovered, the SAS endpoint and verify say
so, and a disk restored under a DES is encrypted in its next restore points.

SAS serving of an encrypted disk restore point whose key cannot be used answers the 403
AuthenticationFailed of every refusal of the endpoint (nothing about the key reaches the token
holder), and logs the key id and the reason on the server.
"""

from __future__ import annotations

import hashlib
import logging
import random
from pathlib import Path

from tests.providers.conftest import Workspace, http_get

BLOCK = 64 * 1024
SEED = 4242

SPEC = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "key_vault" "kv" {
  name             = "kv-blocks"
  resource_group   = resource_group.rg.name
  location         = "eastus"
  purge_protection = true
  access_policy {
    object_id       = "current-user"
    key_permissions = ["get", "wrapKey", "unwrapKey"]
  }
}

resource "key_vault_key" "kek" {
  name         = "kek"
  key_vault_id = key_vault.kv.id
}

resource "key_vault_key" "kek2" {
  name         = "kek2"
  key_vault_id = key_vault.kv.id
}

resource "disk_encryption_set" "des" {
  name             = "des"
  resource_group   = resource_group.rg.name
  location         = "eastus"
  key_vault_key_id = key_vault_key.kek.id
}

resource "disk_encryption_set" "des2" {
  name             = "des2"
  resource_group   = resource_group.rg.name
  location         = "eastus"
  key_vault_key_id = key_vault_key.kek2.id
}

resource "managed_disk" "enc" {
  name                   = "enc-os"
  resource_group         = resource_group.rg.name
  location               = "eastus"
  create_option          = "Import"
  source_uri             = "pattern.raw"
  disk_encryption_set_id = disk_encryption_set.des.id
}

resource "managed_disk" "twin" {
  name                   = "twin-data"
  resource_group         = resource_group.rg.name
  location               = "eastus"
  create_option          = "Import"
  source_uri             = "pattern.raw"
  disk_encryption_set_id = disk_encryption_set.des2.id
}

resource "virtual_machine" "app" {
  name           = "app"
  resource_group = resource_group.rg.name
  location       = "eastus"
  os_disk_id     = managed_disk.enc.id
  data_disk_ids  = [managed_disk.twin.id]
}

resource "restore_point_collection" "rpc" {
  name           = "rpc"
  resource_group = resource_group.rg.name
  location       = "eastus"
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "rp1" {
  name          = "rp1"
  collection_id = restore_point_collection.rpc.id
}
"""

PLAIN = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "managed_disk" "plain" {
  name           = "plain-os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "pattern.raw"
}

resource "virtual_machine" "app" {
  name           = "app"
  resource_group = resource_group.rg.name
  location       = "eastus"
  os_disk_id     = managed_disk.plain.id
}

resource "restore_point_collection" "rpc" {
  name           = "rpc"
  resource_group = resource_group.rg.name
  location       = "eastus"
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "rp1" {
  name          = "rp1"
  collection_id = restore_point_collection.rpc.id
}
"""


def restored(name: str, drp: int = 0, extra: str = "") -> str:
    return f"""
resource "managed_disk" "{name}" {{
  name               = "{name}"
  resource_group     = resource_group.rg.name
  location           = "eastus"
  create_option      = "Restore"
  source_resource_id = restore_point.rp1.disk_restore_points[{drp}].id
  {extra}
}}
"""


def pattern(path: Path, blocks: int = 16) -> bytes:
    """Incompressible but known bytes (random from a fixed seed), every fourth block zero."""
    rng = random.Random(SEED)
    data = bytearray()
    for b in range(blocks):
        data += bytes(BLOCK) if b % 4 == 3 else rng.randbytes(BLOCK)
    path.write_bytes(data)
    return bytes(data)


def needles(data: bytes) -> list[bytes]:
    """A 64-byte slice of each non-zero block."""
    return [
        data[o + 777 : o + 841]
        for o in range(0, len(data), BLOCK)
        if data[o : o + BLOCK].count(0) != BLOCK
    ]


def store_hits(ws: Workspace, found: list[bytes]) -> int:
    """Occurrences of ``found`` in every file of every block store (packs, manifests, index
    and its WAL) of the workspace's fabric."""
    hits = 0
    for path in (ws.dir / ".bcdr" / "fabric" / "regions").rglob("*"):
        if path.is_file() and "store" in path.relative_to(ws.dir).parts:
            raw = path.read_bytes()
            hits += sum(n in raw for n in found)
    return hits


def disk_sha(ws: Workspace, address: str) -> str:
    from core.disks import Disks

    with ws.fabric() as fab:
        path = Disks(fab).get(ws.state(address)["id"]).path
        return hashlib.sha256(path.read_bytes()).hexdigest()


def go(ws: Workspace, text: str) -> bytes:
    data = pattern(ws.dir / "pattern.raw")
    ws.write(text)
    ws.ok("init")
    ws.apply()
    return data


def test_des_data_unreadable_in_store_restore_identical_and_no_cross_key_dedup(
    ws: Workspace, tmp_path: Path
) -> None:
    """Issue 4 (DES): no 64-byte slice of the disks' content is in any store file (control:
    the same image without a DES is found); a restore is byte-identical; the same content
    under two keys shares no block id; the disk's second restore point dedupes."""
    data = go(ws, SPEC)
    want = needles(data)
    assert store_hits(ws, want) == 0
    rp1 = ws.state("restore_point.rp1")
    enc, twin = rp1["disk_restore_points"]
    assert enc["bytes_stored"] > 0 and twin["bytes_stored"] > 0
    ws.write(SPEC + restored("back") + restored("back2", 1))
    ws.apply()
    sha = hashlib.sha256(data).hexdigest()
    assert disk_sha(ws, "managed_disk.back") == disk_sha(ws, "managed_disk.back2") == sha
    from core.disks import Disks
    from core.restorepoints import RestorePoints

    with ws.fabric() as fab:
        points = RestorePoints(fab, Disks(fab))
        try:
            rp = points.get(rp1["id"])
            store = points.stores.get(rp.region, rp.subscription)
            a, b = (store.get_manifest(d.manifest)[1] for d in rp.disk_restore_points)
            ids_a = {a[i : i + 16] for i in range(0, len(a), 16)} - {bytes(16)}
            ids_b = {b[i : i + 16] for i in range(0, len(b), 16)} - {bytes(16)}
            assert len(ids_a) == len(ids_b) == 12 and not ids_a & ids_b
            Disks(fab).write(ws.state("managed_disk.enc")["id"], 0, b"new boot sector" * 30)
        finally:
            points.close()
    ws.write(SPEC + restored("back") + restored("back2", 1) + RP2)
    ws.apply()
    rp2 = ws.state("restore_point.rp2")["disk_restore_points"]
    assert [d["bytes_stored"] > 0 for d in rp2] == [True, False]  # one block changed: deduped
    assert store_hits(ws, want) == 0
    # control: the same image on a disk without a DES, in its own platform, is found
    plain = Workspace(tmp_path / "plain")
    plain.dir.mkdir()
    go(plain, PLAIN)
    assert store_hits(plain, want) >= len(want)


RP2 = """
resource "restore_point" "rp2" {
  name          = "rp2"
  collection_id = restore_point_collection.rpc.id
  depends_on    = [restore_point.rp1]
}
"""


def test_disabled_and_deleted_key_refuse_restore_by_name_until_usable(ws: Workspace) -> None:
    """Issue 4 (DES): a disabled key refuses the restore naming the key, enabled it works;
    a deleted key likewise until recovered; verify says "cannot verify", not corrupt."""
    data = go(ws, SPEC)
    kek = ws.state("key_vault_key.kek")["id"]
    ws.ok("platform", "key", "disable", kek)
    ws.write(SPEC + restored("back"))
    # -refresh=false: the key stays as changed outside bcdr (a refresh would enable it again)
    result = ws.run("apply", "-auto-approve", "-no-color", "-refresh=false")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "key kek" in result.output and "disabled" in result.output
    assert ws.state("managed_disk.back") is None
    verify = ws.run("verify", "-no-color")
    assert verify.exit_code == 1, verify.output
    assert "cannot verify" in verify.output and "kek" in verify.output
    assert "corrupted" not in verify.output
    assert (
        "a key is not usable" in verify.output and "cannot be restored safely" not in verify.output
    )
    ws.ok("platform", "key", "enable", kek)
    ws.apply()
    assert disk_sha(ws, "managed_disk.back") == hashlib.sha256(data).hexdigest()
    ws.ok("verify", "-no-color")

    from core.keystore import KeyStore

    with ws.fabric() as fab:  # deleted outside bcdr, as a vault admin would
        KeyStore(fab).items.delete(kek)
    ws.write(SPEC + restored("back") + restored("back3"))
    result = ws.run("apply", "-auto-approve", "-no-color", "-refresh=false")
    assert result.exit_code == 1, result.output
    assert "key kek" in result.output and "deleted" in result.output
    assert "Traceback" not in result.output
    ws.ok("platform", "recover", kek)
    ws.apply()
    assert disk_sha(ws, "managed_disk.back3") == hashlib.sha256(data).hexdigest()


SECOND = """
resource "virtual_machine" "second" {
  name           = "second"
  resource_group = resource_group.rg.name
  location       = "eastus"
  os_disk_id     = managed_disk.moved.id
}

resource "restore_point_collection" "rpc2" {
  name           = "rpc2"
  resource_group = resource_group.rg.name
  location       = "eastus"
  source_vm_id   = virtual_machine.second.id
}

resource "restore_point" "next" {
  name          = "next"
  collection_id = restore_point_collection.rpc2.id
}
"""


def test_disk_restored_under_a_des_is_encrypted_in_its_next_restore_points(
    ws: Workspace,
) -> None:
    """Issue 4 (DES-1 and managed_disk Restore with disk_encryption_set_id): the restored
    disk is plain bytes for the guest, and its own restore points are sealed under the new
    set's key."""
    data = go(ws, SPEC)
    extra = "disk_encryption_set_id = disk_encryption_set.des2.id"
    ws.write(SPEC + restored("moved", 0, extra) + SECOND)
    ws.apply()
    assert disk_sha(ws, "managed_disk.moved") == hashlib.sha256(data).hexdigest()
    from core.keystore import Envelopes

    drp = ws.state("restore_point.next")["disk_restore_points"][0]
    with ws.fabric() as fab:
        record = Envelopes(fab).of(drp["id"])
    assert record is not None
    assert record.des_id == ws.state("disk_encryption_set.des2")["id"]
    assert record.key_id == ws.state("key_vault_key.kek2")["id"]
    assert store_hits(ws, needles(data)) == 0


ACCESS = """
resource "disk_access" "read" {
  disk_restore_point_id = restore_point.rp1.disk_restore_points[0].id
  duration_seconds      = 600
}
"""


def test_sas_serves_an_encrypted_disk_with_the_key_and_403_without(
    ws: Workspace, server: str, caplog
) -> None:
    """Issue 4 (DES) and RP-12: the SAS URL of an encrypted disk restore point serves its
    plain bytes while the key is usable; with the key disabled it answers the 403
    AuthenticationFailed of any refusal (nothing about the key leaks to the token holder) and
    the server logs the key id; enabled again, it serves."""
    provider = f'provider "platform" {{\n  serve_url = "{server}"\n}}\n'
    data = go(ws, provider + SPEC + ACCESS)
    url = ws.state("disk_access.read")["sas_url"]
    assert http_get(url) == (200, data)
    kek = ws.state("key_vault_key.kek")["id"]
    ws.ok("platform", "key", "disable", kek)
    caplog.set_level(logging.ERROR, logger="core.access.server")
    status, body = http_get(url)
    assert status == 403 and b"<Error><Code>AuthenticationFailed</Code>" in body
    assert len(body) == len(http_get(url + "x")[1])  # the answer of a forged token
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"encryption key {kek} cannot be used" in logged and "damaged" not in logged
    assert url.split("?", 1)[1] not in logged
    ws.ok("platform", "key", "enable", kek)
    assert http_get(url) == (200, data)


COPY = """
resource "resource_group" "dr" {
  name     = "dr"
  location = "westus"
}

resource "restore_point_collection" "dr" {
  name           = "dr"
  resource_group = resource_group.dr.name
  location       = "westus"
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "rp1_dr" {
  name                    = "rp1"
  collection_id           = restore_point_collection.dr.id
  source_restore_point_id = restore_point.rp1.id
}

resource "managed_disk" "dr_back" {
  name               = "dr-back"
  resource_group     = resource_group.dr.name
  location           = "westus"
  create_option      = "Restore"
  source_resource_id = restore_point.rp1_dr.disk_restore_points[0].id
}
"""


def test_cross_region_copy_moves_ciphertext_and_the_key_record(ws: Workspace) -> None:
    """Issue 4 (DES) and RP-10: a copy into the paired region sends the sealed blocks and
    the wrapped key record; no plaintext reaches the target store, and the copy restores
    byte-identical there (with the same vault key; refused by name when it is disabled)."""
    data = go(ws, SPEC)
    kek = ws.state("key_vault_key.kek")["id"]
    ws.ok("platform", "key", "disable", kek)
    ws.write(SPEC + COPY)
    result = ws.run("apply", "-auto-approve", "-no-color", "-refresh=false")
    assert result.exit_code == 1, result.output
    assert "cannot be copied" in result.output and "key kek" in result.output
    assert ws.state("restore_point.rp1_dr") is None
    ws.ok("platform", "key", "enable", kek)
    ws.apply()
    assert store_hits(ws, needles(data)) == 0
    assert disk_sha(ws, "managed_disk.dr_back") == hashlib.sha256(data).hexdigest()
    from core.keystore import Envelopes

    src = ws.state("restore_point.rp1")["disk_restore_points"]
    dst = ws.state("restore_point.rp1_dr")["disk_restore_points"]
    with ws.fabric() as fab:
        env = Envelopes(fab)
        for a, b in zip(src, dst, strict=True):
            assert env.of(b["id"]) == env.of(a["id"]) is not None


VM_RESTORE = """
resource "vm_restore" "back" {
  restore_point_id       = restore_point.rp1.id
  name                   = "app-back"
  target_resource_group  = resource_group.rg.name
  source_kind            = "streaming"
  disk_encryption_set_id = disk_encryption_set.des2.id
}

resource "restore_point_collection" "after" {
  name           = "after"
  resource_group = resource_group.rg.name
  location       = "eastus"
  source_vm_id   = vm_restore.back.id
}

resource "restore_point" "after" {
  name          = "after"
  collection_id = restore_point_collection.after.id
}
"""


def test_des1_vm_restore_with_a_des_seals_the_next_restore_points(ws: Workspace) -> None:
    """Rule DES-1: a streaming vm_restore that names disk_encryption_set_id gives the
    restored disks that set; they hold the guest's plain bytes, and the restored VM's
    restore points are sealed under the set's key (nothing readable in the store)."""
    data = go(ws, SPEC)
    ws.write(SPEC + VM_RESTORE)
    ws.apply()
    from core.disks import Disks
    from core.keystore import Envelopes

    state = ws.state("vm_restore.back")
    with ws.fabric() as fab:
        os_disk = Disks(fab).get(state["os_disk_id"])
        assert os_disk.path.read_bytes() == data
        env = Envelopes(fab)
        for drp in ws.state("restore_point.after")["disk_restore_points"]:
            record = env.of(drp["id"])
            assert record is not None
            assert record.des_id == ws.state("disk_encryption_set.des2")["id"]
    assert store_hits(ws, needles(data)) == 0
