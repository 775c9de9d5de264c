"""Snapshot benchmark: bcdr's core against restic, borg and the read limit, side by side.

Run ``python bench/snapshot.py [--size 4GiB] [--repeat 3] [--json FILE]`` (``make bench``).
It builds a deterministic disk image and its day-2 version, then times, warm cache, the
read limit (``cat``, ``cp``), each bcdr operation through the core's Python API and the
peers' equivalent commands, and prints a table, ratios and issue 5's targets.

Always holds: every measured operation runs in its own child process, so its peak RSS is
its own; bcdr's operations are timed inside that child around the one API call (peers are
timed as whole commands, and their bare start-up time is shown beside them); every
restore is compared byte for byte with the image it must reproduce before its figure is
kept; a missing peer or a failing piece is reported and skipped, never faked.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import (
    CommandFailed,
    Result,
    dir_bytes,
    fmt_ratio,
    fmt_seconds,
    format_table,
    human_bytes,
    parse_size,
    run_measured,
    verdict,
)
from image import BLOCK, _check_same, _overwrite, changed_blocks, changed_data, make_images
from peers import PeerRuns

QUICK_SIZE = 256 << 20
DEFAULT_SIZE = 4 << 30
TARGET_RSS = 100_000_000  # bytes, for a 4 GiB disk
SUB_REGION, PAIR_REGION = "eastus", "westus"


# -- the worker: one bcdr operation in its own process -----------------------------------


def worker(step: str, home: Path, params: dict) -> dict:
    """Run one step against the fabric at ``home``; the timed part is the API call only."""
    from core.disks import Disks
    from core.errors import NotFound
    from core.fabric import Fabric, ResourceId
    from core.restorepoints import RestorePoints, VmSource, copy_restore_point

    fabric = Fabric.open(home)
    try:
        sub = fabric.default_subscription
        disks = Disks(fabric)
        rps = RestorePoints(fabric, disks)
        place = {"subscription": sub, "resource_group": "bench", "region": SUB_REGION}

        vm_id = str(ResourceId(sub, "bench", "Microsoft.Compute", "virtualMachines", "vm"))

        def collection(name: str, region: str) -> str:
            cid = str(
                ResourceId(sub, "bench", "Microsoft.Compute", "restorePointCollections", name)
            )
            try:
                rps.collections.get(cid)
            except NotFound:
                rps.collections.create(cid, region=region, source_vm_id=vm_id)
            return cid

        def store_dir(region: str = SUB_REGION) -> str:
            return str(fabric.store_dir(region, sub))

        t0 = time.perf_counter()
        out: dict = {}
        if step == "import":
            disk = disks.import_image(**place, name=params["name"], source=Path(params["image"]))
            out = {"disk_id": disk.id, "path": str(disk.path)}
        elif step == "empty":
            disk = disks.create_empty(**place, name=params["name"], size_bytes=params["size"])
            out = {"disk_id": disk.id, "path": str(disk.path)}
        elif step == "cbt_write":
            stride = params["stride"]
            for b in changed_blocks(params["size"], params["seed"]):
                disks.write(params["disk_id"], b * stride * BLOCK, changed_data(b, params["seed"]))
        elif step == "snapshot":
            disk = disks.get(params["disk_id"])
            cid = collection(params["collection"], SUB_REGION)
            cbt = disks.changed_blocks(disk.id)
            vm = VmSource(
                vm_id=vm_id, name="vm", region=SUB_REGION, subscription=sub, size="Standard_D2s_v5",
                os_type="linux", power_state="stopped", os_disk_id=disk.id, data_disk_ids=[],
            )  # fmt: skip
            t0 = time.perf_counter()
            rp = rps.create(cid, params["name"], vm, consistency_mode="CrashConsistent")
            drp = rp.disk_restore_points[0]
            out = {
                "restore_point_id": rp.id,
                "disk_restore_point_id": drp.id,
                "blocks_new": drp.blocks_new,
                "bytes_stored": drp.bytes_stored,
                "used_cbt": cbt is not None,
            }
        elif step == "restore":
            disk = rps.restore_disk(params["drp"], **place, name=params["name"])
            out = {"path": str(disk.path)}
        elif step == "copy":
            target = collection("rpc-dr", PAIR_REGION)
            t0 = time.perf_counter()
            res = copy_restore_point(
                fabric, rps, params["restore_point_id"], target, params["name"]
            )
            out = {"blocks_sent": res.blocks_sent, "bytes_sent": res.bytes_sent,
                   "blocks_skipped": res.blocks_skipped,
                   "target_store_dir": store_dir(PAIR_REGION)}  # fmt: skip
        else:
            raise SystemExit(f"unknown worker step {step!r}")
        out["seconds"] = time.perf_counter() - t0
        out["store_dir"] = store_dir()
        return out
    finally:
        fabric.close()


# -- the driver ---------------------------------------------------------------------------


class Bench(PeerRuns):
    """One run: the images, the results by name, problems met, and the scratch directory."""

    def __init__(self, tmp: Path, size: int, seed: int, repeat: int) -> None:
        self.tmp, self.size, self.seed, self.repeat = tmp, size, seed, repeat
        self.results: dict[str, Result] = {}
        self.problems: list[str] = []
        self.image, self.day2 = tmp / "image.raw", tmp / "day2.raw"
        self.changed_bytes = len(changed_blocks(size, seed)) * BLOCK

    def result(self, name: str, group: str, kind: str, data_bytes: int | None = None) -> Result:
        if name not in self.results:
            self.results[name] = Result(name, group, kind, data_bytes=data_bytes or self.size)
        return self.results[name]

    def measure_limits(self) -> None:
        cat = self.result("cat image > /dev/null", "limit", "read")
        cp = self.result("cp --reflink=never", "limit", "copy")
        run_measured(["cat", self.image], stdout_to_devnull=True)  # warm the cache
        for _ in range(self.repeat):
            run = run_measured(["cat", self.image], stdout_to_devnull=True)
            cat.add(run.seconds, run.peak_rss)
            dest = self.tmp / "cp.raw"
            run = run_measured(["cp", "--reflink=never", self.image, dest])
            cp.add(run.seconds, run.peak_rss)
            dest.unlink()

    def worker(self, step: str, home: Path, **params: object) -> dict:
        argv = [sys.executable, __file__, "--worker", step, home, json.dumps(params, default=str)]
        run = run_measured(argv)
        out = json.loads(run.stdout.strip().splitlines()[-1])
        out["peak_rss"] = run.peak_rss
        # Measured once the worker has exited, so its SQLite WAL files are checkpointed away.
        out["store_bytes"] = dir_bytes(Path(out["store_dir"]))
        if "target_store_dir" in out:
            out["target_store_bytes"] = dir_bytes(Path(out["target_store_dir"]))
        return out

    def record(self, name: str, kind: str, out: dict, data_bytes: int | None = None) -> Result:
        r = self.result(name, "bcdr", kind, data_bytes)
        r.add(out["seconds"], out["peak_rss"])
        r.store_bytes = out["store_bytes"]
        return r

    def measure_bcdr(self, rep: int) -> None:
        start = [
            sys.executable,
            "-c",
            "import core.restorepoints.copy, core.disks.managed, core.restorepoints.service",
        ]
        run = run_measured(start)
        self.result("bcdr (process start + import)", "bcdr", "start").add(run.seconds, run.peak_rss)
        home = self.tmp / f"bcdr-{rep}"
        out = self.worker("import", home, image=self.image, name="data")
        self.record("bcdr import image as disk", "copy", out)
        disk_id, disk_path = out["disk_id"], Path(out["path"])
        out = self.worker("snapshot", home, disk_id=disk_id, collection="rpc", name="full")
        self.record("bcdr full restore point", "first", out)
        full_rp, before = out["restore_point_id"], out["store_bytes"]
        # Day 2 arrives outside the core, so changed-block tracking cannot be used.
        _overwrite(disk_path, self.day2)
        out = self.worker("snapshot", home, disk_id=disk_id, collection="rpc", name="day2")
        if out["used_cbt"]:
            raise CommandFailed("the core trusted CBT after the disk file was changed outside it")
        r = self.record("bcdr incremental (re-hash)", "second", out)
        r.store_growth, r.note = out["store_bytes"] - before, f"{out['blocks_new']} new blocks"
        day2_rp = out["restore_point_id"]
        out = self.worker("restore", home, drp=out["disk_restore_point_id"], name=f"r{rep}")
        self.record("bcdr restore to new disk", "restore", out)
        _check_same(Path(out["path"]), self.day2, "bcdr restore", full=rep == 0)
        self.worker("copy", home, restore_point_id=full_rp, name="full")
        out = self.worker("copy", home, restore_point_id=day2_rp, name="day2")
        r = self.record("bcdr cross-region copy (incr.)", "copy-region", out)
        r.store_bytes = out["target_store_bytes"]
        r.note = f"{out['blocks_sent']} blocks sent, {out['blocks_skipped']} skipped"
        shutil.rmtree(home)

        # Changed-block tracking, in a fresh home so the day-2 blocks are new to its store.
        home = self.tmp / f"bcdr-cbt-{rep}"
        disk_id = self.worker("import", home, image=self.image, name="data")["disk_id"]
        before = self.worker("snapshot", home, disk_id=disk_id, collection="c", name="full")
        self.worker("cbt_write", home, disk_id=disk_id, size=self.size, seed=self.seed, stride=1)
        out = self.worker("snapshot", home, disk_id=disk_id, collection="c", name="cbt")
        if not out["used_cbt"]:
            raise CommandFailed("changed-block tracking was not usable after writes via the core")
        r = self.record("bcdr incremental (CBT)", "second", out)
        r.store_growth = out["store_bytes"] - before["store_bytes"]
        r.note = f"{out['blocks_new']} new blocks"
        shutil.rmtree(home)

        # The same changed bytes on a disk four times as large (sparse, empty elsewhere).
        for factor in (1, 4):
            home = self.tmp / f"bcdr-scale-{rep}-{factor}"
            disk_id = self.worker("empty", home, size=self.size * factor, name="d")["disk_id"]
            self.worker("snapshot", home, disk_id=disk_id, collection="c", name="base")
            self.worker(
                "cbt_write", home, disk_id=disk_id, size=self.size, seed=self.seed, stride=factor
            )
            out = self.worker("snapshot", home, disk_id=disk_id, collection="c", name="cbt")
            name = f"bcdr CBT incr., {human_bytes(self.size * factor)} disk"
            self.record(name, f"scale{factor}", out, self.size * factor).note = "same changes"
            shutil.rmtree(home)


# -- the report ---------------------------------------------------------------------------


def report(bench: Bench, stats: dict) -> dict:
    """Print the table and the targets; return everything as JSON-ready data."""
    res = bench.results
    peers = [r for r in res.values() if r.group not in ("limit", "bcdr")]
    best: dict[str, Result] = {}
    for r in peers:
        if r.kind in ("first", "second", "restore") and r.seconds:
            if r.kind not in best or r.median < best[r.kind].median:
                best[r.kind] = r
    cat, cp = res.get("cat image > /dev/null"), res.get("cp --reflink=never")

    def ratio(r: Result, base: Result | None) -> float | None:
        return r.median / base.median if base and base.seconds and r.seconds else None

    rows = []
    for r in res.values():
        if not r.seconds:
            continue
        rate = r.data_bytes / r.median / 1e9 if r.kind != "start" and r.median > 0 else None
        rows.append([
            r.name, fmt_seconds(r.median), f"{rate:.2f}" if rate else "-",
            human_bytes(r.peak_rss), human_bytes(r.store_bytes), human_bytes(r.store_growth),
            fmt_ratio(ratio(r, best.get(r.kind))), fmt_ratio(ratio(r, cat)),
            fmt_ratio(ratio(r, cp)), r.note,
        ])  # fmt: skip
    headers = ["operation", "median", "GB/s", "peak RSS", "store", "growth",
               "x best peer", "x cat", "x cp", "note"]  # fmt: skip
    print()
    print(format_table(headers, rows))
    print(
        "bcdr times are the API call inside its own process; peer times are whole commands "
        "(their bare start-up is the '(process start)' row). 'x best peer' compares with the "
        "fastest peer's same operation (first/second backup, restore)."
    )

    targets: list[dict] = []

    def target(text: str, value: float | None, limit: float, figure: str, low: bool = True):
        ok = None if value is None else (value <= limit if low else value >= limit)
        targets.append({"target": text, "pass": ok, "value": value, "limit": limit,
                        "figure": figure if value is not None else "not measured"})  # fmt: skip

    def vs_best(name: str, kind: str) -> tuple[float | None, str]:
        r, b = res.get(name), best.get(kind)
        if not (r and r.seconds and b):
            return None, ""
        return b.median / r.median, f"{fmt_seconds(r.median)} vs {b.name} {fmt_seconds(b.median)}"

    x, fig = vs_best("bcdr incremental (re-hash)", "second")
    target("incremental by re-hash >= 10x faster than the best peer's second backup", x, 10,
           f"{x or 0:.1f}x faster ({fig})", low=False)  # fmt: skip
    x = ratio(res["bcdr incremental (re-hash)"], cat) if rehash_ok(res) else None
    target("incremental by re-hash within 3x of cat", x, 3, f"{x or 0:.2f}x cat")
    x, fig = vs_best("bcdr incremental (CBT)", "second")
    target("CBT incremental >= 50x faster than the best peer's second backup", x, 50,
           f"{x or 0:.1f}x faster ({fig})", low=False)  # fmt: skip
    x, fig = vs_best("bcdr full restore point", "first")
    x = 1 / x if x else None
    target("full restore point <= 0.5x the best peer's first backup", x, 0.5,
           f"{x or 0:.2f}x ({fig})")  # fmt: skip
    r = res.get("bcdr restore to new disk")
    x = ratio(r, cp) if r else None
    target("restore <= 3x cp", x, 3, f"{x or 0:.2f}x cp")
    for name in ("bcdr incremental (re-hash)", "bcdr incremental (CBT)"):
        r = res.get(name)
        g = r.store_growth / bench.changed_bytes if r and r.store_growth is not None else None
        fig = f"{g or 0:.3f}x ({human_bytes(r and r.store_growth)} for "
        target(f"store growth of the {name[5:]} <= 1.05x the changed bytes", g, 1.05,
               fig + f"{human_bytes(bench.changed_bytes)} changed)")  # fmt: skip
    rss = max((r.peak_rss or 0 for r in res.values() if r.group == "bcdr"), default=0)
    at = "" if bench.size == 4 << 30 else f" at {human_bytes(bench.size)}; the target is at 4 GiB"
    target("peak memory <= 100 MB for a 4 GiB disk", rss / 1e6 or None, TARGET_RSS / 1e6,
           f"{rss / 1e6:.0f} MB{at}")  # fmt: skip
    small = [r for r in res.values() if r.kind == "scale1" and r.seconds]
    large = [r for r in res.values() if r.kind == "scale4" and r.seconds]
    x = large[0].median / small[0].median if small and large else None
    target("CBT incremental grows with changed bytes, not disk size: 4x the disk <= 2x the time",
           x, 2, f"{x or 0:.2f}x the time for 4x the disk")  # fmt: skip
    print("\nTargets (issue 5):")
    for t in targets:
        mark = "n/a " if t["pass"] is None else verdict(t["pass"])
        print(f"  {mark}  {t['target']}: {t['figure']}")
    for problem in bench.problems:
        print(f"  note: {problem}")
    return {
        "size_bytes": bench.size, "seed": bench.seed, "repeat": bench.repeat,
        "changed_bytes": bench.changed_bytes, "image": stats, "cache": "warm",
        "results": [r.to_json() for r in res.values()], "targets": targets,
        "problems": bench.problems,
    }  # fmt: skip


def rehash_ok(res: dict[str, Result]) -> bool:
    r = res.get("bcdr incremental (re-hash)")
    return bool(r and r.seconds)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        print(json.dumps(worker(argv[1], Path(argv[2]), json.loads(argv[3]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", help="image size, e.g. 256MiB or 4GiB (default 4GiB)")
    p.add_argument("--quick", action="store_true", help="256 MiB image (also when $CI is set)")
    p.add_argument("--repeat", type=int, default=3, help="runs per operation; median shown")
    p.add_argument("--seed", type=int, default=20261121, help="seed of the image generator")
    p.add_argument("--peers", default="restic,borg,borg-fixed", help="peers to run, or none")
    p.add_argument("--json", type=Path, help="write the results as JSON to this file")
    p.add_argument("--tmp", type=Path, help="scratch directory (default: the system's)")
    args = p.parse_args(argv)
    try:
        size = parse_size(args.size) if args.size else DEFAULT_SIZE
    except ValueError as exc:
        p.error(str(exc))
    if not args.size and (args.quick or os.environ.get("CI")):
        size = QUICK_SIZE
    if size < 4 * BLOCK or size % BLOCK:
        p.error(f"--size must be a multiple of 64KiB and at least 256KiB, not {args.size}")
    peers = [] if args.peers == "none" else [n.strip() for n in args.peers.split(",") if n]
    for name in peers:
        if name not in ("restic", "borg", "borg-fixed"):
            p.error(f"unknown peer {name!r}: choose from restic, borg, borg-fixed, or none")

    with tempfile.TemporaryDirectory(prefix="bcdr-bench-", dir=args.tmp) as tmp_name:
        bench = Bench(Path(tmp_name), size, args.seed, max(1, args.repeat))
        stats = make_images(bench.image, bench.day2, size, args.seed)
        print(
            f"bcdr snapshot benchmark: image {human_bytes(size)} ({stats['random']:.0%} random, "
            f"{stats['zero']:.0%} zeros, {stats['text']:.0%} text in 1 MiB regions, seed "
            f"{args.seed}); day 2 rewrites {stats['changed_blocks']} of {size // BLOCK} 64 KiB "
            f"blocks ({human_bytes(bench.changed_bytes)}).\nWarm cache (the page cache cannot "
            f"be dropped here); median of {bench.repeat} run(s); {os.cpu_count()} CPUs.",
            flush=True,
        )
        bench.measure_limits()
        for rep in range(bench.repeat):
            try:
                bench.measure_bcdr(rep)
            except (CommandFailed, ValueError, KeyError) as exc:
                bench.problems.append(f"bcdr not (fully) measured: {exc}")
                break
        for rep in range(bench.repeat):
            for name in peers:
                try:
                    bench.measure_peer(name, rep)
                except (CommandFailed, StopIteration) as exc:
                    bench.problems.append(f"{name} not (fully) measured: {exc!r}")
        data = report(bench, stats)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
