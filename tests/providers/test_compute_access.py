"""disk_access through the real CLI and real HTTP (rule RP-12): the SAS URL is printed only by
``bcdr output -raw``, downloads the disk restore point's bytes, a tampered token gets 403,
a re-grant keeps the URL, destroying the resource ends access at once, and a grant revoked
outside bcdr is drift that the next apply grants again."""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.providers.conftest import Workspace, http_get
from tests.providers.fixtures_restore import RP1, setup

ACCESS = """
resource "disk_access" "read" {
  disk_restore_point_id = restore_point.rp1.disk_restore_points[1].id
  duration_seconds      = DURATION
}

output "url" {
  value     = disk_access.read.sas_url
  sensitive = true
}
"""


def _setup(ws: Workspace, base_url: str, duration: int = 600) -> bytes:
    provider = f'provider "platform" {{\n  serve_url = "{base_url}"\n}}\n'
    _, data_img = setup(ws, RP1 + ACCESS.replace("DURATION", str(duration)))
    path = ws.dir / "main.hcl"
    path.write_text(provider + path.read_text())
    ws.ok("init")
    return data_img


def test_rp12_sas_url_downloads_the_disk_and_only_with_a_valid_token(
    ws: Workspace, server: str
) -> None:
    data_img = _setup(ws, server)
    out = ws.apply()
    state = ws.state("disk_access.read")
    url = state["sas_url"]
    assert url.startswith(server + "/disks/")
    assert url not in out and "sig=" not in ws.ok("output", "-no-color")
    assert ws.ok("output", "-raw", "url") == url
    ws.plan_is_clean()

    status, body = http_get(url)
    assert status == 200
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data_img).hexdigest()

    base, _, sig = url.rpartition("sig=")
    tampered = base + "sig=" + ("A" if sig[0] != "A" else "B") + sig[1:]
    assert http_get(tampered)[0] == 403
    assert http_get(url.split("?")[0])[0] == 403

    # a longer duration extends the active grant: same URL
    path = ws.dir / "main.hcl"
    path.write_text(
        path.read_text().replace("duration_seconds      = 600", "duration_seconds = 1200")
    )
    plan = ws.ok("plan", "-no-color")
    assert "1 to change" in plan and "extends the active grant" in plan
    ws.apply()
    again = ws.state("disk_access.read")
    assert again["sas_url"] == url and again["expires_at"] > state["expires_at"]

    # destroying the resource ends access at once
    path.write_text(path.read_text().split('resource "disk_access"')[0])
    ws.apply()
    assert ws.state("disk_access.read") is None
    assert http_get(url)[0] == 403


def test_rp12_grant_revoked_outside_is_drift_and_apply_grants_again(
    ws: Workspace, server: str
) -> None:
    _setup(ws, server)
    ws.apply()
    state = ws.state("disk_access.read")
    with ws.fabric() as fab:  # ended outside bcdr
        from core.access import Access

        Access(fab, None).revoke(state["disk_restore_point_id"])  # type: ignore[arg-type]
    assert http_get(state["sas_url"])[0] == 403
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2 and "disk_access.read has been revoked" in drift.output
    assert "1 to add" in ws.ok("plan", "-no-color")
    ws.apply()
    new_url = ws.state("disk_access.read")["sas_url"]
    assert new_url != state["sas_url"]
    assert http_get(new_url)[0] == 200
    ws.plan_is_clean()


def test_rp12_an_expired_grant_is_drift_that_says_expired(ws: Workspace, server: str) -> None:
    """Issue 10.12: drift said an expired grant "has been deleted"; it says it expired, and
    the next apply grants again."""
    _setup(ws, server, duration=1)
    ws.apply()
    url = ws.state("disk_access.read")["sas_url"]
    time.sleep(1.2)
    assert http_get(url)[0] == 403
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2, drift.output
    assert "disk_access.read has expired" in drift.output
    assert "has been deleted" not in drift.output
    ws.apply()
    assert http_get(ws.state("disk_access.read")["sas_url"])[0] == 200


def test_ext4_sas_url_is_not_in_the_state_file_when_a_state_key_is_set(
    ws: Workspace, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EXT-4 with the real disk_access: the SAS URL's signature is in no byte of state.db or
    its -wal while a state key is set, yet `output -raw` still prints the URL."""
    monkeypatch.setenv("BCDR_STATE_KEY", "11" * 32)
    _setup(ws, server)
    ws.apply()
    url = ws.ok("output", "-raw", "url")
    sig = url.split("sig=", 1)[1].split("&", 1)[0]
    assert len(sig) > 20
    raw = b"".join(p.read_bytes() for p in (ws.dir / ".bcdr").glob("state.db*") if p.is_file())
    assert raw and sig.encode() not in raw and url.encode() not in raw
    status, _ = http_get(url)
    assert status == 200
