"""The quickstart, step by step as examples/quickstart/README.md says, with the real CLI.

Images of 4 MiB instead of the README's 16-32 MiB keep it quick; everything else is what a
user types: the spec files copied in, ``bcdr platform disk write``/``disk export``, and the
SAS URL downloaded over HTTP from a ``bcdr serve`` subprocess.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from tests.e2e import EXAMPLES, Work, demo

MiB = 1 << 20
BLOCK = 64 * 1024


@pytest.fixture
def quickstart(tmp_path: Path) -> Work:
    work = Work(tmp_path / "quickstart")
    demo.prepare(work.dir, size_mib=4)
    port = demo.free_port()
    work.env["BCDR_VAR_serve_url"] = f"http://127.0.0.1:{port}"
    work.port = port  # type: ignore[attr-defined]
    return work


def _export(work: Work, disk_id: str, name: str) -> bytes:
    out = work.ok("platform", "disk", "export", disk_id, "--output", name)
    data = (work.dir / name).read_bytes()
    assert f"sha256 {hashlib.sha256(data).hexdigest()}" in out
    return data


def _step(work: Work, name: str) -> None:
    shutil.copy(work.dir / "steps" / name, work.dir)


def test_quickstart_end_to_end(quickstart: Work) -> None:
    work = quickstart
    work.ok("init")
    plan = work.ok("plan")
    assert "Plan: 7 to add, 0 to change, 0 to destroy." in plan
    assert "to snapshot" in plan
    work.apply()
    work.plan_is_clean()

    # a guest write shows as drift of the disk
    data1 = work.output("data1_disk_id")
    note = b"an order placed after the first restore point\n" * 100
    (work.dir / "note.txt").write_bytes(note)
    out = work.ok("platform", "disk", "write", data1, "--offset", "1MiB", "--input", "note.txt")
    assert "(1 block of 64 KiB changed)" in out
    code, out = work.drift()
    assert code == 2 and "managed_disk.data1 has changed" in out
    assert re.search(r"~ modified_at\s+=", out)
    at_second = _export(work, data1, "data1-at-second.img")
    assert at_second[MiB : MiB + len(note)] == note

    # the second restore point: the plan says what it costs; only the written block is stored
    _step(work, "02-second-restore-point.hcl")
    plan = work.ok("plan")
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan
    assert "Cost: 64.0 KiB to snapshot." in plan
    work.apply()
    stored = {
        disk_id.rsplit("/", 1)[-1]: drp["bytes_stored"]
        for disk_id, drp in work.output("second_disk_restore_points").items()
    }
    assert stored["web-os"] == 0 and stored["web-data2"] == 0
    assert 0 < stored["web-data1"] <= BLOCK

    # the guest writes again: the disk moves on, the restore point does not
    (work.dir / "later.txt").write_bytes(b"written after the second restore point\n" * 50)
    work.ok("platform", "disk", "write", data1, "--offset", "2MiB", "--input", "later.txt")

    # a disk restored from "second" holds the bytes of web-data1 at "second"
    _step(work, "03-restore-and-read.hcl")
    work.apply()
    work.plan_is_clean()
    restored = _export(work, work.output("restored_disk_id"), "restored.img")
    assert restored == at_second
    assert _export(work, data1, "data1-now.img") != at_second

    # the SAS URL serves the same bytes over HTTP; a tampered token is refused
    url = work.output("sas_url")
    assert "sas_url = <sensitive>" in work.ok("output")
    assert url.startswith(f"http://127.0.0.1:{work.port}/")  # type: ignore[attr-defined]
    with demo.serving(work.dir, work.port, demo.cli_env(work.port)):  # type: ignore[attr-defined]
        served = demo.download(url, work.dir / "served.img")
        with pytest.raises(urllib.error.HTTPError) as refused:
            demo.download(demo.tampered(url), work.dir / "refused.img")
        refused.value.close()
    assert served == hashlib.sha256(at_second).hexdigest()
    assert refused.value.code == 403


def test_the_readme_names_the_step_files_that_exist() -> None:
    readme = (EXAMPLES / "quickstart" / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"steps/[\w.-]+\.hcl", readme))
    shipped = {f"steps/{p.name}" for p in (EXAMPLES / "quickstart" / "steps").glob("*.hcl")}
    assert named == shipped
    for command in ("platform disk write", "platform disk export", "drift", "serve"):
        assert f"bcdr {command}" in readme


@pytest.mark.slow
def test_make_demo_runs_the_quickstart_and_prints_the_checksum_match() -> None:
    """What `make demo` runs: examples/run_demo.py, with the real `bcdr` as subprocesses."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "BCDR_FABRIC_HOME"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "checksums match" in proc.stdout
    assert "$ bcdr platform disk write" in proc.stdout
    assert "a tampered SAS token gets HTTP 403" in proc.stdout
    assert "Traceback" not in proc.stderr
