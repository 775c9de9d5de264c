"""Engine scale benchmark: validate, plan and apply of 1,000 to 10,000 ``bcdr_data`` resources.

Run ``python bench/engine_scale.py [--sizes 1000,5000,10000] [--quick]``. For each size it
writes a configuration in a temp dir (resources spread over several files, each after the
first two referring to one or two earlier ones), then runs the ``bcdr`` CLI for: validate,
plan on empty state, apply (-auto-approve, -parallelism 10), and the no-change plan on full
state twice: with a cold parse cache, then warm. It prints time and peak RSS per size, the
growth between sizes beside N log N, and issue 2's targets.

Always holds: every figure is one whole CLI process (start-up included), timed from outside
and reaped with ``wait4`` for its own peak RSS; each run's exit code and output are checked
(the plans must say what they should), so a broken engine fails the bench, not its figures.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import (
    CommandFailed,
    fmt_ratio,
    fmt_seconds,
    format_table,
    human_bytes,
    run_measured,
    verdict,
)

PER_FILE = 500  # resources per .hcl file
OPS = ("validate", "plan (empty state)", "apply", "plan no-change, cold", "plan no-change, warm")
WARM_TARGET_N, WARM_TARGET_S = 10_000, 5.0
FAST_TARGET_S = 1.0  # issue 9: the same plan under 1 s


def bcdr_command() -> list[str]:
    """The CLI of the running interpreter's environment."""
    script = Path(sys.executable).parent / "bcdr"
    return [str(script)] if script.exists() else [sys.executable, "-m", "engine.cli"]


def write_config(directory: Path, n: int, seed: int = 7) -> int:
    """Write ``n`` resources; return the number of references between them.

    References name upstream ids (as real specs do), so each resource's data stays the same
    size whatever N is: referencing whole ``output`` values instead nests them, and the
    state then grows faster than N (2.4x from 5,000 to 10,000), which hides the engine's
    own growth behind the data's."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    refs = 0
    files = max(1, math.ceil(n / PER_FILE))
    (directory / "main.hcl").write_text(
        'variable "prefix" {\n  type    = string\n  default = "bench"\n}\n\n'
        'locals {\n  suffix = "v1"\n}\n\noutput "last" {\n'
        f"  value = bcdr_data.r{n - 1}.output\n}}\n"
    )
    for f in range(files):
        blocks = []
        for i in range(f * PER_FILE, min(n, (f + 1) * PER_FILE)):
            if i < 2 or rng.random() < 0.1:
                value = f'"${{var.prefix}}-{i}-${{local.suffix}}"'
            elif rng.random() < 0.5:
                value = f"bcdr_data.r{rng.randrange(i)}.id"
                refs += 1
            else:
                a, b = rng.randrange(i), rng.randrange(i)
                value = f"[bcdr_data.r{a}.id, bcdr_data.r{b}.id, {i}]"
                refs += 2
            blocks.append(f'resource "bcdr_data" "r{i}" {{\n  input = {value}\n}}\n')
        (directory / f"part{f:03d}.hcl").write_text("\n".join(blocks))
    return refs


def run_cli(args: list[str], cwd: Path, expect: tuple[int, ...] = (0,), want: str = ""):
    """Run one CLI command; refuse an unexpected exit code or output."""
    run = run_measured([*bcdr_command(), *args], cwd=cwd, check=False)
    if run.returncode not in expect or want not in run.stdout:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-12:])
        raise CommandFailed(
            f"bcdr {' '.join(args)} exited {run.returncode} (expected {expect}"
            + (f" and {want!r} in the output" if want else "")
            + f") in {cwd}:\n{tail}"
        )
    return run


def measure(n: int, tmp: Path, repeat: int) -> dict[str, tuple[float, int]]:
    """(seconds, peak RSS) of each operation at size ``n``."""
    work = tmp / f"n{n}"
    write_config(work, n)
    out: dict[str, tuple[float, int]] = {}
    run_cli(["init", "-no-color"], work)
    run = run_cli(["validate", "-no-color"], work)
    out["validate"] = (run.seconds, run.peak_rss)
    run = run_cli(["plan", "-no-color"], work, want=f"{n} to add")
    out["plan (empty state)"] = (run.seconds, run.peak_rss)
    run = run_cli(["apply", "-auto-approve", "-parallelism", "10", "-no-color"], work)
    out["apply"] = (run.seconds, run.peak_rss)
    shutil.rmtree(work / ".bcdr" / "cache", ignore_errors=True)
    no_change = ["plan", "-detailed-exitcode", "-no-color"]
    run = run_cli(no_change, work, want="No changes")
    out["plan no-change, cold"] = (run.seconds, run.peak_rss)
    runs = [run_cli(no_change, work, want="No changes") for _ in range(repeat)]
    out["plan no-change, warm"] = (
        statistics.median(r.seconds for r in runs),
        max(r.peak_rss for r in runs),
    )
    shutil.rmtree(work)
    return out


def report(figures: dict[int, dict[str, tuple[float, int]]]) -> dict:
    """Print the tables and targets; return them as JSON-ready data."""
    sizes = sorted(figures)
    headers = ["resources", *OPS, "peak RSS"]
    rows = [
        [f"{n:,}", *(fmt_seconds(figures[n][op][0]) for op in OPS),
         human_bytes(max(rss for _, rss in figures[n].values()))]
        for n in sizes
    ]  # fmt: skip
    print(format_table(headers, rows))
    growth = []
    for a, b in zip(sizes, sizes[1:], strict=False):
        nlogn = (b * math.log(b)) / (a * math.log(a))
        ratios = {op: figures[b][op][0] / figures[a][op][0] for op in OPS}
        growth.append({"from": a, "to": b, "n_log_n": nlogn, "time": ratios})
    if growth:
        print("\nGrowth of the time between sizes, beside N log N:")
        rows = [
            [f"{g['from']:,} -> {g['to']:,}", fmt_ratio(g["n_log_n"]),
             *(fmt_ratio(g["time"][op]) for op in OPS)]
            for g in growth
        ]  # fmt: skip
        print(format_table(["sizes", "N log N", *OPS], rows))
    targets = []
    if WARM_TARGET_N in figures:
        s = figures[WARM_TARGET_N]["plan no-change, warm"][0]
        targets.append((f"no-change plan of {WARM_TARGET_N:,} resources, warm cache, < 5 s",
                        s < WARM_TARGET_S, fmt_seconds(s)))  # fmt: skip
    else:
        targets.append((f"no-change plan of {WARM_TARGET_N:,} resources, warm cache, < 5 s",
                        None, f"not measured (largest size {sizes[-1]:,})"))  # fmt: skip
    if growth:
        g = growth[-1]
        for op in ("plan no-change, warm", "apply", "plan (empty state)"):
            targets.append((f"{op}: time grows no faster than N log N "
                            f"({g['from']:,} -> {g['to']:,})",
                            g["time"][op] <= g["n_log_n"],
                            f"{g['time'][op]:.2f}x vs {g['n_log_n']:.2f}x"))  # fmt: skip
    if WARM_TARGET_N in figures:
        s = figures[WARM_TARGET_N]["plan no-change, warm"][0]
        targets.append((f"no-change plan of {WARM_TARGET_N:,} resources, warm cache, < 1 s "
                        "(issue 9)", s < FAST_TARGET_S, fmt_seconds(s)))  # fmt: skip
    print("\nTargets (issue 2, and issue 9 where it says so):")
    for text, ok, figure in targets:
        print(f"  {'n/a ' if ok is None else verdict(ok)}  {text}: {figure}")
    return {
        "figures": {str(n): {op: {"seconds": s, "peak_rss_bytes": r}
                             for op, (s, r) in figures[n].items()} for n in sizes},
        "growth": growth,
        "targets": [{"target": t, "pass": ok, "figure": f} for t, ok, f in targets],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="1000,5000,10000", help="comma-separated resource counts")
    p.add_argument("--quick", action="store_true", help="sizes 200,1000")
    p.add_argument("--repeat", type=int, default=3, help="runs of the warm plan; median shown")
    p.add_argument("--json", type=Path, help="write the results as JSON to this file")
    p.add_argument("--tmp", type=Path, help="scratch directory (default: the system's)")
    args = p.parse_args(argv)
    try:
        sizes = [int(s) for s in ("200,1000" if args.quick else args.sizes).split(",")]
    except ValueError:
        p.error(f"--sizes must be comma-separated whole numbers, not {args.sizes!r}")
    if any(n < 2 for n in sizes):
        p.error("each size must be at least 2 resources")
    if args.tmp and not args.tmp.is_dir():
        p.error(f"--tmp {args.tmp} is not a directory: create it or leave the flag out")
    print(
        f"bcdr engine scale benchmark: bcdr_data resources with 1-2 references each, "
        f"{PER_FILE} per file; CLI: {' '.join(bcdr_command())}; times include process start.",
        flush=True,
    )
    figures: dict[int, dict[str, tuple[float, int]]] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="bcdr-scale-", dir=args.tmp) as tmp:
        for n in sorted(set(sizes)):
            try:
                figures[n] = measure(n, Path(tmp), max(1, args.repeat))
            except CommandFailed as exc:
                print(f"\nsize {n:,} not measured: {exc}", file=sys.stderr)
                failed = True
                break
            print(f"  measured {n:,} resources", flush=True)
    if not figures:
        return 1
    print()
    data = report(figures)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
