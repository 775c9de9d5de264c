"""Protection benchmark: a tick for many protected VMs, its time per VM and peak RSS, and
how the time grows with the bytes changed between ticks (issue 13).

Run ``python bench/protection.py [--vms 200] [--size 64MiB] [--changed 1,2,4] [--json FILE]``.
It builds a fabric with ``--vms`` VMs of two disks each (a quarter of each disk written
with random data, the rest zero), protected by one vault with a daily policy, and runs one
tick per day: the first (full backups), then one per ``--changed`` percentage, with that
share of each disk's 64 KiB blocks rewritten through ``Disks.write`` before it (so
changed-block tracking is used). The policy keeps points 5 days in the snapshot tier, so no
tick measured moves points into the vault's store. Every tick runs in its own child
process, so its peak RSS is its own; it is timed inside the child around ``Protection.tick``.

Always holds: each tick's report is checked (one succeeded job per VM, no problem) before
its figure is kept; the scratch folder is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import fmt_seconds, format_table, human_bytes, parse_size, run_measured

BLOCK = 64 * 1024
START = datetime(2025, 1, 1, tzinfo=UTC)


def _open(home: Path):
    from core.disks import Disks
    from core.fabric import Fabric
    from core.protection import Protection
    from core.restorepoints import RestorePoints

    fabric = Fabric.open(home)
    disks = Disks(fabric)
    rps = RestorePoints(fabric, disks)
    return fabric, disks, rps, Protection(fabric, disks, rps)


def setup(home: Path, vms: int, size: int, seed: int) -> list[str]:
    """The fabric with ``vms`` protected VMs; their disk ids."""
    from core.fabric import ResourceId
    from core.protection import Backup, BackupPolicy, RetentionDaily, VaultSettings

    fabric, disks, rps, p = _open(home)
    rng = random.Random(seed)
    sub = fabric.default_subscription
    vault = str(ResourceId(sub, "bk", "Microsoft.RecoveryServices", "vaults", "bench"))
    p.create_vault(vault, "eastus", VaultSettings("LocallyRedundant"))
    policy_id = f"{vault}/backupPolicies/daily"
    policy = BackupPolicy(  # 5 instant days: the ticks measured tier nothing
        backup=Backup("Daily", "02:00"),
        retention_daily=RetentionDaily(7),
        instant_restore_retention_days=5,
    )
    p.put_policy(policy_id, vault, policy)
    disk_ids = []
    for n in range(vms):
        ids = []
        for kind in ("os", "data"):
            disk = disks.create_empty(
                subscription=sub,
                resource_group="rg",
                region="eastus",
                name=f"vm{n}-{kind}",
                size_bytes=size,
            )
            for b in range(0, size // BLOCK, 4):  # a quarter of the blocks hold data
                disks.write(disk.id, b * BLOCK, rng.randbytes(BLOCK))
            ids.append(disk.id)
        vm_id = str(ResourceId(sub, "rg", "Microsoft.Compute", "virtualMachines", f"vm{n}"))
        fabric.put_resource(
            vm_id,
            "Microsoft.Compute/virtualMachines",
            "eastus",
            {
                "name": f"vm{n}",
                "subscription": sub,
                "resource_group": "rg",
                "os_disk_id": ids[0],
                "data_disk_ids": ids[1:],
                "power_state": "running",
            },
        )
        p.protect(vault, vm_id, policy_id, at=START - timedelta(hours=1))
        disk_ids += ids
    rps.close()
    fabric.close()
    return disk_ids


def change(home: Path, disk_ids: list[str], size: int, percent: float, seed: int) -> int:
    """Rewrite ``percent`` of each disk's blocks; the bytes changed."""
    fabric, disks, rps, _p = _open(home)
    rng = random.Random(seed)
    blocks = size // BLOCK
    count = max(1, round(blocks * percent / 100))
    for disk_id in disk_ids:
        for b in rng.sample(range(blocks), count):
            disks.write(disk_id, b * BLOCK, rng.randbytes(BLOCK))
    rps.close()
    fabric.close()
    return count * BLOCK * len(disk_ids)


def worker(home: Path, at: str) -> dict:
    fabric, _disks, rps, p = _open(home)
    start = time.perf_counter()
    report = p.tick(datetime.fromisoformat(at))
    seconds = time.perf_counter() - start
    rps.close()
    fabric.close()
    return {
        "seconds": seconds,
        "jobs": len(report.jobs),
        "succeeded": sum(j.status == "Succeeded" for j in report.jobs),
        "bytes_stored": sum(j.bytes_stored for j in report.jobs),
        "tiered": len(report.tiered),
        "problems": list(report.problems),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=200)
    ap.add_argument("--size", default="64MiB")
    ap.add_argument("--changed", default="1,2,4", help="percentages of blocks changed")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json")
    ap.add_argument("--tmp")
    ap.add_argument("--worker", nargs=2, metavar=("HOME", "AT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(Path(args.worker[0]), args.worker[1])))
        return 0
    size = parse_size(args.size)
    scratch = Path(tempfile.mkdtemp(prefix="bcdr-protection-", dir=args.tmp))
    try:
        home = scratch / "fabric"
        disk_ids = setup(home, args.vms, size, args.seed)
        rows, results, problems = [], [], []
        steps = [("first (full)", 0.0)] + [
            (f"{pct:g}% changed", pct) for pct in map(float, args.changed.split(","))
        ]
        for day, (name, pct) in enumerate(steps):
            changed = change(home, disk_ids, size, pct, args.seed + day) if pct else 0
            at = (START + timedelta(days=day, hours=2)).isoformat()
            run = run_measured([sys.executable, __file__, "--worker", str(home), at])
            out = json.loads(run.stdout)
            if out["succeeded"] != args.vms or out["problems"]:
                problems.append(f"{name}: {out['succeeded']}/{args.vms} jobs, {out['problems']}")
            per_vm = out["seconds"] / args.vms
            results.append(
                {"name": name, "changed_bytes": changed, **out, "peak_rss_bytes": run.peak_rss}
            )
            rows.append(
                [
                    name,
                    human_bytes(changed),
                    fmt_seconds(out["seconds"]),
                    f"{per_vm * 1000:.1f} ms",
                    human_bytes(out["bytes_stored"]),
                    human_bytes(run.peak_rss),
                ]
            )
        print(
            f"tick for {args.vms} VMs, two {human_bytes(size)} disks each "
            f"(a quarter written), one tick a day:"
        )
        print(format_table(["tick", "changed", "tick time", "per VM", "stored", "peak RSS"], rows))
        for problem in problems:
            print("PROBLEM:", problem)
        if args.json:
            Path(args.json).write_text(json.dumps({"results": results, "problems": problems}))
        return 1 if problems else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
