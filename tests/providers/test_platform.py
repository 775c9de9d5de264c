"""The embedded platform's verbs (serve, verify, gc) against a real fabric in tmp_path."""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.access import Access
from core.disks import Disks
from core.fabric import Fabric, ResourceId
from core.restorepoints import RestorePoints, VmSource
from providers.platform.verbs import EmbeddedPlatform
from sdk.diagnostics import DiagnosticsError

BLOCK = 64 * 1024


def _image(seed: int = 3) -> bytes:
    rng = random.Random(seed)
    text = b"line of a guest's log\n" * 3000
    return rng.randbytes(3 * BLOCK) + bytes(2 * BLOCK) + text[:BLOCK] + rng.randbytes(100)


def _restore_point(home: Path, data: bytes, fault: str | None = None) -> str:
    """Make a disk holding ``data`` and a restore point of it; return the disk restore point."""
    fabric = Fabric.open(home)
    try:
        sub = fabric.default_subscription
        disks = Disks(fabric)
        rps = RestorePoints(fabric, disks)
        src = home.parent / "image.raw"
        src.write_bytes(data)
        disk = disks.import_image(
            subscription=sub, resource_group="rg", region="eastus", name="os", source=src
        )
        vm_id = str(ResourceId(sub, "rg", "Microsoft.Compute", "virtualMachines", "web"))
        cid = str(ResourceId(sub, "rg", "Microsoft.Compute", "restorePointCollections", "daily"))
        rps.collections.create(cid, region="eastus", source_vm_id=vm_id)
        vm = VmSource(
            vm_id=vm_id, name="web", region="eastus", subscription=sub, size="Standard_D2s_v5",
            os_type="linux", power_state="stopped", os_disk_id=disk.id, data_disk_ids=[],
        )  # fmt: skip
        if fault:

            def crash(step: str) -> None:
                if step == fault:
                    raise RuntimeError(f"crash at {step}")

            rps.fault_hook = crash
            with pytest.raises(RuntimeError, match="crash"):
                rps.create(cid, "rp1", vm, consistency_mode="CrashConsistent")
            return ""
        rp = rps.create(cid, "rp1", vm, consistency_mode="CrashConsistent")
        return rp.disk_restore_points[0].id
    finally:
        fabric.close()


def _grant(home: Path, drp_id: str) -> str:
    fabric = Fabric.open(home)
    try:
        access = Access(fabric, RestorePoints(fabric, Disks(fabric)))
        url = urlsplit(access.grant(drp_id, 600).url)
        return f"{url.path}?{url.query}"
    finally:
        fabric.close()


def _get(base: str, target: str, headers: dict | None = None) -> tuple[int, bytes]:
    where = urlsplit(base)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        conn.request("GET", target, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "fabric"


def test_rp12_serve_streams_a_granted_disk_and_refuses_without_token(home: Path) -> None:
    """Rule RP-12: a real GET through ``serve`` in a thread; stopped cleanly at the end."""
    data = _image()
    drp_id = _restore_point(home, data)
    target = _grant(home, drp_id)
    plat = EmbeddedPlatform()
    ready = threading.Event()
    urls: list[str] = []
    errors: list[BaseException] = []

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    def run() -> None:
        try:
            plat.serve(home, "127.0.0.1", 0, on_ready)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert ready.wait(10) and not errors, errors
        status, body = _get(urls[0], target)
        assert status == 200 and body == data
        status, body = _get(urls[0], target, {"Range": "bytes=10-19"})
        assert status == 206 and body == data[10:20]
        status, body = _get(urls[0], target.split("?")[0])
        assert status == 403 and b"<Code>AuthenticationFailed</Code>" in body
    finally:
        plat.stop()
        thread.join(10)
    assert not thread.is_alive() and not errors
    port = urlsplit(urls[0]).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_serve_refuses_a_port_in_use(home: Path) -> None:
    _restore_point(home, _image())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DiagnosticsError, match=f"port {port} on 127.0.0.1 is in use"):
            EmbeddedPlatform().serve(home, "127.0.0.1", port, lambda url: None)


def test_verify_checks_every_block_of_a_clean_fabric(home: Path) -> None:
    _restore_point(home, _image())
    seen: list[tuple[str, int, int]] = []
    report = EmbeddedPlatform().verify(
        home, 100.0, lambda what, done, total: seen.append((what, done, total))
    )
    assert report["problems"] == [] and report["ok"] is True
    assert report["blocks_checked"] == 5  # 3 random, 1 text, the tail; zeros not stored
    assert report["bytes_checked"] > 0


def test_verify_names_the_restore_point_of_a_flipped_byte(home: Path) -> None:
    drp_id = _restore_point(home, _image())
    packs = list(home.rglob("packs/*.pack"))
    assert packs, "expected a pack file holding the random blocks"
    with open(packs[0], "r+b") as f:
        f.seek(BLOCK)  # inside the first (incompressible, stored raw) block
        byte = f.read(1)
        f.seek(BLOCK)
        f.write(bytes([byte[0] ^ 0xFF]))
    report = EmbeddedPlatform().verify(home, 100.0, None)
    assert not report["ok"]
    problem = report["problems"][0]
    assert problem["problem"] == "corrupted"
    assert problem["disks"] == [drp_id]
    assert problem["restore_points"] == [drp_id.split("/diskRestorePoints/")[0]]
    assert drp_id in str(problem) and "corrupted" in str(problem)  # what `bcdr verify` prints
    assert json.loads(json.dumps(report))["problems"][0]["disks"] == [drp_id]


def test_verify_refuses_a_sample_out_of_range(home: Path) -> None:
    _restore_point(home, _image())
    for bad in (0, -5, 101):
        with pytest.raises(DiagnosticsError, match="out of range"):
            EmbeddedPlatform().verify(home, bad, None)


def test_rp13_gc_reclaims_blocks_of_a_crashed_capture(home: Path) -> None:
    """Rule RP-13: a capture that crashed before its manifest leaves blocks gc frees."""
    _restore_point(home, _image(), fault="manifests")
    report = EmbeddedPlatform().gc(home, None)
    assert report["blocks_deleted"] == 5 and report["bytes_freed"] > 3 * BLOCK
    again = EmbeddedPlatform().gc(home, None)
    assert again["blocks_deleted"] == 0 and again["bytes_freed"] == 0


def test_gc_keeps_what_a_restore_point_uses(home: Path) -> None:
    _restore_point(home, _image())
    assert EmbeddedPlatform().gc(home, None)["bytes_freed"] == 0
    assert EmbeddedPlatform().verify(home, 100.0, None)["blocks_checked"] == 5


def test_verbs_refuse_a_missing_fabric(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for call in (
        lambda: EmbeddedPlatform().verify(missing, 100.0, None),
        lambda: EmbeddedPlatform().gc(missing, None),
        lambda: EmbeddedPlatform().serve(missing, "127.0.0.1", 0, lambda url: None),
    ):
        with pytest.raises(DiagnosticsError, match="no embedded platform at") as info:
            call()
        assert "bcdr apply" in info.value.diagnostics[0].detail
    assert not missing.exists()


def test_serve_closes_its_socket_on_ctrl_c(home: Path) -> None:
    """Ctrl-C (here raised while the server is ready) closes the socket and propagates."""
    _restore_point(home, _image())
    urls: list[str] = []

    def interrupt(url: str) -> None:
        urls.append(url)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        EmbeddedPlatform().serve(home, "127.0.0.1", 0, interrupt)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", urlsplit(urls[0]).port), timeout=2).close()
