"""Fault trials of the block store: flipped bytes and kill -9 during restore point creation.

Run ``python bench/faults_store.py [--flips 500] [--kills 200] [--seed 1]``; the fault
harness calls ``flip_trials(n, seed)`` and ``kill_capture_trials(n, seed)``, each returning a
dict of counts.

- ``flip_trials``: a small store (two disks, three restore points, a few MiB) is made once;
  each trial copies it, XORs one random byte of one region chosen at random (a pack's
  payloads, a pack's footer, a manifest, ``index.db``), then runs verify and restores every
  disk restore point, comparing each with the bytes it must reproduce.
- ``kill_capture_trials``: each trial copies a fabric with two disks and one restore point,
  starts a child process that writes to a disk and creates a restore point, kills it with
  SIGKILL at a random moment of the creation, then checks the store (re-hashing every block)
  and every visible restore point, runs gc and counts what is left over.

What always holds: every trial works on its own copy in a temporary folder, removed after;
the counts that must be 0 are named in ``MUST_BE_ZERO``; an unexpected exception in a trial
is counted (``crashed``) with its message kept in ``errors``, never hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.blocks import nonzero_ids
from core.disks import BLOCK_SIZE, Disks
from core.errors import IntegrityError
from core.fabric import Fabric, ResourceId
from core.restorepoints import RestorePoints, VmSource

MiB = 1 << 20
MUST_BE_ZERO = {
    "flip": ("undetected_harmful", "detected_unnamed", "wrong_bytes", "crashed"),
    "kill": ("bad_blocks", "visible_with_missing_blocks", "wrong_restores", "leftovers", "crashed"),
}
_REGIONS = ("pack payloads", "pack footer", "manifest", "index")
_FOOTER_TRAILER = 20  # bytes of a format-2 pack trailer


# -- a fabric to work on --------------------------------------------------------------------
def image_bytes(size: int, rng: random.Random) -> bytes:
    """64 KiB blocks: random, text and zero mixed (compressible and not, some repeated)."""
    out = bytearray()
    for b in range(size // BLOCK_SIZE):
        kind = rng.random()
        if kind < 0.4:
            out += rng.randbytes(BLOCK_SIZE)
        elif kind < 0.75:
            out += (f"block {b % 7} of a guest's log\n" * 3000).encode()[:BLOCK_SIZE]
        else:
            out += bytes(BLOCK_SIZE)
    return bytes(out)


class _Site:
    """A fabric with a VM of two disks and a restore point collection."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.fabric = Fabric.open(home)
        self.sub = self.fabric.default_subscription
        self.disks = Disks(self.fabric)
        self.rps = RestorePoints(self.fabric, self.disks)
        self.vm_id = str(ResourceId(self.sub, "rg", "Microsoft.Compute", "virtualMachines", "vm"))
        self.coll = str(
            ResourceId(self.sub, "rg", "Microsoft.Compute", "restorePointCollections", "c")
        )

    def vm(self) -> VmSource:
        os_disk, data_disk = (self.disk_id(n) for n in ("os", "data"))
        return VmSource(
            vm_id=self.vm_id,
            name="vm",
            region="eastus",
            subscription=self.sub,
            size="Standard_D2s_v5",
            os_type="linux",
            power_state="stopped",
            os_disk_id=os_disk,
            data_disk_ids=[data_disk],
        )

    def disk_id(self, name: str) -> str:
        return str(ResourceId(self.sub, "rg", "Microsoft.Compute", "disks", name))

    def restore(self, drp_id: str, name: str) -> bytes:
        disk = self.rps.restore_disk(
            drp_id, subscription=self.sub, resource_group="rg", region="eastus", name=name
        )
        return disk.path.read_bytes()

    def store_dir(self) -> Path:
        return self.fabric.store_dir("eastus", self.sub)

    def close(self) -> None:
        self.rps.close()
        self.fabric.close()


def _make_site(home: Path, rng: random.Random, points: int) -> tuple[dict[str, bytes], float]:
    """Two disks (3 and 2 MiB) and ``points`` restore points, a few blocks rewritten between
    them; returns the bytes each disk restore point must restore, and the last capture's
    seconds."""
    site = _Site(home)
    expect: dict[str, bytes] = {}
    took = 0.0
    try:
        for name, size in (("os", 3 * MiB), ("data", 2 * MiB)):
            src = home.parent / f"{name}.raw"
            src.write_bytes(image_bytes(size, rng))
            site.disks.import_image(
                subscription=site.sub, resource_group="rg", region="eastus", name=name, source=src
            )
            src.unlink()
        site.rps.collections.create(site.coll, region="eastus", source_vm_id=site.vm_id)
        for i in range(points):
            if i:
                _write_some(site, rng)
            start = time.perf_counter()
            rp = site.rps.create(site.coll, f"rp{i}", site.vm(), consistency_mode="CrashConsistent")
            took = time.perf_counter() - start
            for drp in rp.disk_restore_points:
                expect[drp.id] = site.disks.get(drp.disk_id).path.read_bytes()
    finally:
        site.close()
    return expect, took


def _write_some(site: _Site, rng: random.Random) -> None:
    for name in ("os", "data"):
        disk = site.disks.get(site.disk_id(name))
        for _ in range(3):
            block = rng.randrange(disk.size_bytes // BLOCK_SIZE)
            site.disks.write(disk.id, block * BLOCK_SIZE, rng.randbytes(BLOCK_SIZE))


# -- flipped bytes --------------------------------------------------------------------------
def _flip_target(store: Path, rng: random.Random) -> tuple[str, Path, int]:
    """(region, file, offset) of one random byte of a region chosen at random."""
    region = rng.choice(_REGIONS)
    packs = sorted((store / "objects" / "packs").iterdir())
    if region == "index":
        path = store / "index.db"
        return region, path, rng.randrange(path.stat().st_size)
    if region == "manifest":
        path = rng.choice(sorted((store / "objects" / "manifests").iterdir()))
        return region, path, rng.randrange(path.stat().st_size)
    path = rng.choice(packs)
    size = path.stat().st_size
    count = int.from_bytes(path.read_bytes()[-_FOOTER_TRAILER:][:4], "little")
    footer = count * 29 + _FOOTER_TRAILER
    if region == "pack footer":
        return region, path, size - 1 - rng.randrange(footer)
    return region, path, rng.randrange(size - footer)


def _flip(path: Path, offset: int, rng: random.Random) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ rng.randrange(1, 256)]))


def _index_rows(store: Path) -> list | None:
    """Every row of the index, or None if SQLite cannot read it."""
    try:
        db = sqlite3.connect(f"file:{store / 'index.db'}?mode=ro", uri=True)
        try:
            return sorted(db.execute("SELECT * FROM blocks").fetchall()) + sorted(
                db.execute("SELECT * FROM packs").fetchall()
            )
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return None


def flip_trials(n: int, seed: int) -> dict:
    """Flip one random byte of the store ``n`` times (each on a fresh copy); counts."""
    rng = random.Random(seed)
    counts = {
        "trials": n,
        "detected_named": 0,  # verify reported a problem naming a restore point
        "detected_unnamed": 0,  # verify reported problems, none naming a restore point
        "harmless": 0,  # verify clean, every restore byte-identical, the index rows the same
        "undetected_harmful": 0,  # verify clean although something differs
        "restore_refused": 0,  # trials in which a restore refused (IntegrityError)
        "named_restored_identical": 0,  # disk restore points named, yet restored identical
        "wrong_bytes": 0,  # restores that returned bytes other than the original's
        "crashed": 0,
        "by_region": {r: 0 for r in _REGIONS},
        "errors": [],
    }
    with tempfile.TemporaryDirectory(prefix="bcdr-flips-") as tmp:
        template = Path(tmp) / "template" / "fabric"
        template.parent.mkdir()
        expect, _ = _make_site(template, rng, points=3)
        store_rel = _store_rel(template)
        rows = _index_rows(template / store_rel)
        for i in range(n):
            home = Path(tmp) / f"t{i}" / "fabric"
            shutil.copytree(template, home)
            region, path, offset = _flip_target(home / store_rel, rng)
            counts["by_region"][region] += 1
            _flip(path, offset, rng)
            try:
                _flip_one(home, expect, rows, counts)
            except Exception as exc:  # noqa: BLE001 - a crash is a finding, counted and kept
                counts["crashed"] += 1
                counts["errors"].append(f"{region} {path.name}+{offset}: {exc!r}")
            shutil.rmtree(home.parent)
    return counts


def _store_rel(home: Path) -> Path:
    (store,) = home.glob("regions/*/*/store")
    return store.relative_to(home)


def _flip_one(home: Path, expect: dict[str, bytes], rows: list | None, counts: dict) -> None:
    site = _Site(home)
    try:
        report = site.rps.maintenance.verify()
        named = {drp for p in report.problems for drp in p.disk_restore_point_ids}
        refused = False
        same = True
        for k, (drp_id, data) in enumerate(sorted(expect.items())):
            site.rps.close()
            try:
                got = site.restore(drp_id, f"r{k}")
            except IntegrityError:
                refused, same = True, False
                continue
            if got != data:
                counts["wrong_bytes"] += 1
                same = False
            elif drp_id in named:
                counts["named_restored_identical"] += 1
        counts["restore_refused"] += refused
        if named:
            counts["detected_named"] += 1
        elif report.problems:
            counts["detected_unnamed"] += 1
        elif same and _index_rows(site.store_dir()) == rows:
            counts["harmless"] += 1
        else:
            counts["undetected_harmful"] += 1
    finally:
        site.close()


# -- kill -9 during restore point creation ---------------------------------------------------
_CHILD = "capture"


def _child(home: Path, seed: int) -> None:
    """The child of a kill trial: write a few blocks, say "ready", create a restore point."""
    site = _Site(home)
    _write_some(site, random.Random(seed))
    print("ready", flush=True)
    site.rps.create(site.coll, "killed", site.vm(), consistency_mode="CrashConsistent")
    print("done", flush=True)
    site.close()


def kill_capture_trials(n: int, seed: int) -> dict:
    """Kill a child creating a restore point ``n`` times at random moments; counts."""
    rng = random.Random(seed)
    counts = {
        "trials": n,
        "killed_before_commit": 0,  # the restore point is not visible afterwards
        "killed_after_commit": 0,  # it is, and restores byte-identical
        "bad_blocks": 0,  # blocks whose content does not match their id
        "visible_with_missing_blocks": 0,
        "wrong_restores": 0,  # a visible restore point that restores other bytes
        "leftovers": 0,  # after gc: temp files, objects nothing names, unreferenced blocks
        "leftovers_before_gc": 0,
        "crashed": 0,
        "errors": [],
    }
    with tempfile.TemporaryDirectory(prefix="bcdr-kills-") as tmp:
        template = Path(tmp) / "template" / "fabric"
        template.parent.mkdir()
        _make_site(template, rng, points=1)
        window = _capture_seconds(Path(tmp), template)
        for i in range(n):
            home = Path(tmp) / f"k{i}" / "fabric"
            shutil.copytree(template, home)
            try:
                _kill_one(home, rng, window, counts)
            except Exception as exc:  # noqa: BLE001 - a crash is a finding, counted and kept
                counts["crashed"] += 1
                counts["errors"].append(repr(exc))
            shutil.rmtree(home.parent)
    counts["window_seconds"] = round(window, 3)
    return counts


def _spawn(home: Path, seed: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, __file__, _CHILD, str(home), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    if proc.stdout.readline().strip() != "ready":
        _, err = proc.communicate()
        raise RuntimeError(f"the capture child failed: {err[-400:]}")
    return proc


def _capture_seconds(tmp: Path, template: Path) -> float:
    """How long a child takes from "ready" to "done": the creation (the longer of two runs
    on copies, so the kills also reach the commit on a busy machine)."""
    took = 0.0
    for _ in range(2):
        home = tmp / "calibrate" / "fabric"
        shutil.copytree(template, home)
        proc = _spawn(home, 0)
        start = time.perf_counter()
        if proc.stdout.readline().strip() != "done":
            _, err = proc.communicate()
            raise RuntimeError(f"the capture child failed: {err[-400:]}")
        took = max(took, time.perf_counter() - start)
        proc.communicate()
        shutil.rmtree(home.parent)
    return took


def _kill_one(home: Path, rng: random.Random, window: float, counts: dict) -> None:
    proc = _spawn(home, rng.randrange(1 << 30))
    time.sleep(rng.uniform(0, window))
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    site = _Site(home)
    try:
        report = site.rps.maintenance.verify()
        counts["bad_blocks"] += sum(
            1 for p in report.problems if p.what in ("block", "pack") and p.reason != "missing"
        )
        visible = [rp for rp in site.rps.list() if rp.name == "killed"]
        counts["killed_after_commit" if visible else "killed_before_commit"] += 1
        store = site.rps.stores.get("eastus", site.sub)
        for rp in site.rps.list():
            for k, drp in enumerate(rp.disk_restore_points):
                _, ids = store.get_manifest(drp.manifest, drp.size_bytes)
                if store.lacking(ids)[0]:
                    counts["visible_with_missing_blocks"] += 1
                elif rp.name == "killed":
                    site.rps.close()
                    got = site.restore(drp.id, f"r{k}")
                    disk = site.disks.get(drp.disk_id).path.read_bytes()
                    counts["wrong_restores"] += got != disk
                    store = site.rps.stores.get("eastus", site.sub)
        counts["leftovers_before_gc"] += _leftovers(site) > 0
        site.rps.maintenance.gc()
        counts["leftovers"] += _leftovers(site)
    finally:
        site.close()


def _leftovers(site: _Site) -> int:
    """Temp files, packs no index row names, manifests no disk restore point names, and
    indexed blocks no manifest uses."""
    objects = site.store_dir() / "objects"
    store = site.rps.stores.get("eastus", site.sub)
    temps = sum(1 for p in objects.rglob("*") if p.name.startswith(".tmp-"))
    indexed = {r[0] for r in store.db.execute("SELECT name FROM packs")}
    orphan_packs = sum(1 for name in store.backend.list("packs/") if name not in indexed)
    manifests = {d.manifest: d for rp in site.rps.list() for d in rp.disk_restore_points}
    orphan_manifests = sum(1 for m in store.backend.list("manifests/") if m not in manifests)
    live: set[bytes] = set()
    for d in manifests.values():
        _, ids = store.get_manifest(d.manifest)
        live.update(bytes(v) for _, v in nonzero_ids(ids))
    garbage = sum(1 for (d,) in store.db.execute("SELECT id FROM blocks") if d not in live)
    return temps + orphan_packs + orphan_manifests + garbage


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == _CHILD:
        _child(Path(sys.argv[2]), int(sys.argv[3]))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--flips", type=int, default=500, help="flipped-byte trials")
    p.add_argument("--kills", type=int, default=200, help="kill -9 trials")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, help="write the counts as JSON to this file")
    args = p.parse_args()
    result = {}
    for kind, run, n in (
        ("flip", flip_trials, args.flips),
        ("kill", kill_capture_trials, args.kills),
    ):
        start = time.perf_counter()
        counts = run(n, args.seed)
        counts["seconds"] = round(time.perf_counter() - start, 1)
        result[kind] = counts
        bad = {k: counts[k] for k in MUST_BE_ZERO[kind] if counts[k]}
        print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "errors"))
        print(f"{kind}: {'OK' if not bad else f'FAILED {bad}'}")
        for err in counts["errors"][:5]:
            print(f"  {err}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
