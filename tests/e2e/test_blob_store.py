"""The quickstart with ``block_store = "blob"``: restore points' blocks on a real Azurite.

The same steps as tests/e2e/test_quickstart.py with the provider block pointing the block
stores at Azurite: no pack is written locally, a restored disk is byte-identical, a lost
local index is rebuilt from the packs on the endpoint, a pack tampered in the container is
named by ``bcdr verify``, and Azurite stopped in the middle of a restore point leaves no
restore point with missing blocks and the next apply converges.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from azblob import Container, Credential
from core.blocks.remote import CONTAINER
from tests.azurite import ACCOUNT, KEY, Azurite
from tests.e2e import Work, demo

MiB = 1 << 20


def blob_quickstart(tmp_path: Path, azurite: Azurite, size_mib: int = 4) -> Work:
    work = Work(tmp_path / "quickstart", env=azurite.env)
    demo.prepare(work.dir, size_mib=size_mib)
    main = work.dir / "main.hcl"
    text = main.read_text(encoding="utf-8")
    block = 'provider "platform" {\n  serve_url = var.serve_url\n'
    assert block in text
    main.write_text(
        text.replace(
            block,
            f'{block}  blob_endpoint = "{azurite.endpoint}"\n  block_store   = "blob"\n',
        ),
        encoding="utf-8",
    )
    work.env["BCDR_VAR_serve_url"] = f"http://127.0.0.1:{demo.free_port()}"
    return work


def blocks(azurite: Azurite) -> Container:
    return Container(azurite.endpoint, CONTAINER, Credential(ACCOUNT, KEY))


def packs_of(azurite: Azurite, work: Work) -> list[str]:
    tenant = _tenant(work)
    return [i.name for i in blocks(azurite).list(f"{tenant}/") if "/packs/" in i.name]


def _tenant(work: Work) -> str:
    import sqlite3

    db = sqlite3.connect(work.dir / ".bcdr" / "fabric" / "fabric.db")
    try:
        return db.execute("SELECT value FROM meta WHERE key = 'tenant_id'").fetchone()[0]
    finally:
        db.close()


def _export(work: Work, disk_id: str, name: str) -> bytes:
    work.ok("platform", "disk", "export", disk_id, "--output", name)
    return (work.dir / name).read_bytes()


def test_quickstart_keeps_its_blocks_on_azurite_and_restores_byte_identical(
    tmp_path, azurite
) -> None:
    work = blob_quickstart(tmp_path, azurite)
    work.ok("init")
    work.apply()
    work.plan_is_clean()
    assert not list((work.dir / ".bcdr").rglob("*.pack"))  # no pack on the local disk
    assert packs_of(azurite, work)

    data1 = work.output("data1_disk_id")
    (work.dir / "note.txt").write_bytes(b"an order placed after the first restore point\n" * 99)
    work.ok("platform", "disk", "write", data1, "--offset", "1MiB", "--input", "note.txt")
    at_second = _export(work, data1, "data1-at-second.img")
    shutil.copy(work.dir / "steps" / "02-second-restore-point.hcl", work.dir)
    work.apply()
    (work.dir / "later.txt").write_bytes(b"written after the second restore point\n" * 50)
    work.ok("platform", "disk", "write", data1, "--offset", "2MiB", "--input", "later.txt")
    shutil.copy(work.dir / "steps" / "03-restore-and-read.hcl", work.dir)
    work.apply()
    assert _export(work, work.output("restored_disk_id"), "restored.img") == at_second

    # the local index lost: the packs on the endpoint hold everything to make it again
    for index in (work.dir / ".bcdr" / "fabric" / "regions").glob("*/*/store/index.db*"):
        index.unlink()
    code, out = work.code("verify")
    assert code == 1 and "packs it does not list" in out and "rebuild-index" in out
    assert "take new ones" not in out  # nothing is lost: the packs hold every block
    assert "Rebuilt the block index" in work.ok("verify", "--rebuild-index")
    assert "No problems found." in work.ok("verify")


def test_verify_names_the_restore_point_of_a_pack_tampered_in_the_container(
    tmp_path, azurite
) -> None:
    work = blob_quickstart(tmp_path, azurite)
    work.ok("init")
    work.apply()
    box = blocks(azurite)
    pack = packs_of(azurite, work)[0]
    body = bytearray(box.get(pack))
    body[100] ^= 0xFF  # inside the first block's payload
    box.put(pack, bytes(body))
    code, out = work.code("verify")
    assert code != 0
    assert "restorePoints/first" in out


def test_azurite_stopped_in_the_middle_of_a_restore_point(tmp_path, azurite_own) -> None:
    """The packs of a 3-disk restore point are being written when the service dies: the
    apply stops with a clear error, no restore point is visible, and once the service is
    back the next apply converges and verifies."""
    work = blob_quickstart(tmp_path, azurite_own, size_mib=24)
    work.ok("init")
    first = work.dir / "main.hcl"
    text = first.read_text(encoding="utf-8")
    stopped = threading.Event()

    def stop_at_first_pack() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if any("/packs/" in i.name for i in blocks(azurite_own).list()):
                    azurite_own.stop()
                    stopped.set()
                    return
            except Exception:  # the container does not exist yet
                pass
            time.sleep(0.005)

    watcher = threading.Thread(target=stop_at_first_pack)
    watcher.start()
    code, out = work.code("apply", "-auto-approve")
    watcher.join()
    assert stopped.is_set(), "the restore point finished before the service could be stopped"
    assert code == 1
    assert "Cannot reach the blob endpoint" in out and "restore_point.first" in out
    listed = work.run("state", "list")
    assert listed.exit_code == 0 and "restore_point.first" not in listed.output
    assert "restorePoints/first" not in work.ok("platform", "list")

    azurite_own.start()
    assert first.read_text(encoding="utf-8") == text
    work.apply()
    work.plan_is_clean()
    assert "No problems found." in work.ok("verify")


@pytest.mark.parametrize("setting", ['block_store = "blob"', 'block_store = "tape"'])
def test_bad_storage_settings_are_plan_errors(tmp_path, setting) -> None:
    work = Work(tmp_path / "w")
    work.dir.mkdir()
    (work.dir / "main.hcl").write_text(
        f'provider "platform" {{\n  {setting}\n}}\n\n'
        'resource "resource_group" "g" {\n  name     = "g"\n  location = "eastus"\n}\n',
        encoding="utf-8",
    )
    code, out = work.code("plan")
    assert code == 1
    assert "Invalid storage settings of the platform provider" in out
    assert "main.hcl" in out


def _with_backend(work: Work, azurite: Azurite, container: str) -> None:
    (work.dir / "backend.hcl").write_text(
        "bcdr {\n"
        '  backend "azurerm" {\n'
        f'    endpoint       = "{azurite.endpoint}"\n'
        f'    container_name = "{container}"\n'
        '    key            = "quickstart.bcdr"\n'
        "  }\n"
        "}\n",
        encoding="utf-8",
    )


def test_quickstart_on_azurite_with_a_remote_state_shared_by_two_folders(
    tmp_path, azurite, container_name
) -> None:
    """Issue 11's end to end: blocks and state on Azurite, a disk restored byte-identical,
    and a second folder with the same backend that sees the same state and is refused,
    naming the holder, while the first holds the lock."""
    blocks(azurite)  # the same account
    Container(azurite.endpoint, container_name, Credential(ACCOUNT, KEY)).create()
    work = blob_quickstart(tmp_path, azurite)
    _with_backend(work, azurite, container_name)
    work.ok("init")
    work.apply()
    assert not (work.dir / ".bcdr" / "state.db").exists()  # the state is the blob
    data1 = work.output("data1_disk_id")
    at_first = _export(work, data1, "data1-at-first.img")
    shutil.copy(work.dir / "steps" / "02-second-restore-point.hcl", work.dir)
    shutil.copy(work.dir / "steps" / "03-restore-and-read.hcl", work.dir)
    work.apply()
    assert _export(work, work.output("restored_disk_id"), "restored.img") == at_first

    second = Work(tmp_path / "second", env=dict(work.env))
    second.dir.mkdir()
    for spec in work.dir.glob("*.hcl"):
        shutil.copy(spec, second.dir)
    second.ok("init")
    listed = second.run("state", "list")
    assert listed.exit_code == 0 and "restore_point.second" in listed.output
    assert listed.output == work.run("state", "list").output

    # the first folder's apply waits at its question, holding the lock
    (work.dir / "extra.hcl").write_text(
        'resource "resource_group" "extra" {\n  name     = "extra"\n  location = "eastus"\n}\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "BCDR_FABRIC_HOME"}
    env.update({k: v for k, v in work.env.items() if v is not None})
    holder = subprocess.Popen(
        [sys.executable, "-c", "from engine.cli.app import main; main()", "-chdir",
         str(work.dir), "apply", "-no-color"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdin is not None
        seen = b""
        while b"Enter a value" not in seen:
            chunk = holder.stdout.read1(4096)
            assert chunk, seen.decode() + holder.stderr.read().decode()
            seen += chunk
        t0 = time.monotonic()
        code, out = second.code("apply", "-auto-approve")
        refused_after = time.monotonic() - t0
        assert code == 1 and "is locked" in out
        assert f"PID:       {holder.pid}" in out and "Operation: apply" in out
        assert refused_after < 1.0, f"refused after {refused_after:.2f} s"
        holder.stdin.write(b"no\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 1
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert "Apply complete!" in work.ok("apply", "-auto-approve")  # the lock was released
