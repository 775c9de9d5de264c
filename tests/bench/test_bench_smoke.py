"""Smoke runs of the benchmarks at tiny sizes, so they cannot rot unnoticed.

Each bench runs as users run it (a subprocess of this interpreter) and its ``--json``
output is checked: every operation measured, restores verified, targets evaluated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from common import parse_size  # noqa: E402
from snapshot import BLOCK, changed_blocks, make_images  # noqa: E402


def _run(script: str, *args: str, tmp: Path) -> dict:
    out = tmp / "result.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--json", str(out), "--tmp", str(tmp)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_parse_size_reads_binary_and_decimal_units() -> None:
    assert parse_size("256MiB") == 256 << 20
    assert parse_size("4GiB") == 4 << 30
    assert parse_size("1GB") == 10**9
    with pytest.raises(ValueError, match="256MiB"):
        parse_size("lots")


def test_images_are_deterministic_and_day2_changes_one_percent(tmp_path: Path) -> None:
    size = 16 << 20
    a, a2, b, b2 = (tmp_path / n for n in ("a", "a2", "b", "b2"))
    stats = make_images(a, a2, size, seed=5)
    make_images(b, b2, size, seed=5)
    assert a.read_bytes() == b.read_bytes() and a2.read_bytes() == b2.read_bytes()
    day1, day2 = a.read_bytes(), a2.read_bytes()
    differ = [
        i
        for i in range(size // BLOCK)
        if day1[i * BLOCK : (i + 1) * BLOCK] != day2[i * BLOCK : (i + 1) * BLOCK]
    ]
    assert differ == changed_blocks(size, 5) and len(differ) == size // BLOCK // 100
    assert stats["random"] > 0 and stats["zero"] > 0 and stats["text"] > 0


def test_snapshot_bench_measures_every_operation(tmp_path: Path) -> None:
    peers = "restic" if shutil.which("restic") else "none"
    data = _run("snapshot.py", "--size", "1MiB", "--repeat", "1", "--peers", peers, tmp=tmp_path)
    assert data["problems"] == []
    names = {r["name"] for r in data["results"] if r["seconds"]}
    for name in (
        "cat image > /dev/null",
        "bcdr full restore point",
        "bcdr incremental (re-hash)",
        "bcdr incremental (CBT)",
        "bcdr restore to new disk",
        "bcdr cross-region copy (incr.)",
    ):
        assert name in names
    growth = {r["name"]: r["store_growth_bytes"] for r in data["results"]}
    assert growth["bcdr incremental (re-hash)"] >= data["changed_bytes"] // 2
    assert len(data["targets"]) == 9
    if peers == "restic":
        assert "restic second backup" in names
        assert any(t["pass"] is not None and "faster" in t["target"] for t in data["targets"])
    assert list(tmp_path.iterdir()) == [tmp_path / "result.json"]  # scratch cleaned up


def test_engine_scale_bench_measures_every_size(tmp_path: Path) -> None:
    data = _run("engine_scale.py", "--sizes", "5,15", "--repeat", "1", tmp=tmp_path)
    assert set(data["figures"]) == {"5", "15"}
    for figures in data["figures"].values():
        assert all(f["seconds"] > 0 and f["peak_rss_bytes"] > 0 for f in figures.values())
    assert data["growth"][0]["from"] == 5 and data["growth"][0]["to"] == 15
    assert data["targets"][0]["pass"] is None  # 10,000 was not measured


def test_blob_store_bench_runs_both_placements_and_checks_the_restore(tmp_path: Path) -> None:
    got = _run("blob_store.py", "--size", "4MiB", tmp=tmp_path)
    for placement in ("local", "blob"):
        assert {"full", "incremental", "restore"} <= set(got[placement])
    assert got["blob_calls"]["calls"]["put"] > 0 and got["blob_calls"]["calls"]["get"] > 0


def test_remote_state_bench_measures_both_states_and_the_parts(tmp_path: Path) -> None:
    data = _run("remote_state.py", "--quick", tmp=tmp_path)
    assert list(data["sizes"]) == ["10"]
    for figures in data["sizes"].values():
        assert figures["apply local s"] > 0 and figures["apply remote s"] > 0
        assert figures["refused plan s"] > 0
        assert figures["parts"]["image bytes"] > 0
    assert data["sdk import s"] > 0


def test_protection_bench_ticks_every_vm(tmp_path: Path) -> None:
    data = _run("protection.py", "--vms", "2", "--size", "1MiB", "--changed", "1,4", tmp=tmp_path)
    assert data["problems"] == []
    assert [r["name"] for r in data["results"]] == ["first (full)", "1% changed", "4% changed"]
    assert all(r["succeeded"] == 2 for r in data["results"])
    first, later = data["results"][0], data["results"][1]
    assert later["bytes_stored"] < first["bytes_stored"]  # incremental
    assert list(tmp_path.iterdir()) == [tmp_path / "result.json"]  # scratch cleaned up
