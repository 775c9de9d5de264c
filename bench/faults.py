"""The fault harness: kill -9, flipped bytes, concurrent commands, hostile requests and names.

Run ``python bench/faults.py [--quick] [--only NAME,...] [--seed N] [--json FILE] [--tmp DIR]``.
Each family of ``bench/trials/`` runs its trials on its own temp folders against the real
CLI and core and counts what went wrong; this prints one line per family with its trial
count, every failure count (each must be 0) and its figures, then PASS or FAIL, and exits 1
when any family fails. ``--quick`` runs a few trials of each (what ``make test`` runs); the
full run is the reliability issue's: 200 kills of apply, 200 of restore point creation, 500
flipped bytes, 100 of each pair of concurrent commands, 10,000 hostile names.

Always holds: families run one after another (never two at once, so one's load cannot make
another's timing fail), a family that cannot set itself up is a FAIL with its error (never
zeros), and every figure printed is a count or time observed in this run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trials import apply_kills, concurrency, names, sas, sealed, store  # noqa: E402
from trials.cli import Outcome  # noqa: E402

Family = Callable[[int, int, Path], Outcome]

# name -> (trial function, full-run trials, quick trials)
FAMILIES: dict[str, tuple[Family, int, int]] = {
    "kill-apply": (apply_kills.run, 200, 3),
    "kill-capture": (store.kill_capture, 200, 2),  # (tests/bench/test_faults_store.py runs
    "flip": (store.flips, 500, 5),  # more of these two at small n)
    "concurrent": (concurrency.run, 100, 2),
    "sas": (sas.run, 1, 1),
    "names": (names.run, 10_000, 150),
    "sealed": (sealed.run, 1, 1),
}


def _line(out: Outcome, seconds: float) -> str:
    fails = ", ".join(f"{k} {v}" for k, v in sorted(out.failures.items())) or "no failure kinds"
    figs = ", ".join(f"{k} {v}" for k, v in out.figures.items())
    verdict = "PASS" if out.ok else "FAIL"
    text = f"{verdict}  {out.name}: {out.trials} trials in {seconds:.0f} s; {fails}"
    if figs:
        text += f"; {figs}"
    for example in out.examples:
        text += f"\n      {example}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few trials of each family")
    parser.add_argument("--only", help="comma-separated family names: " + ", ".join(FAMILIES))
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--tmp", type=Path, help="work under this folder (default: a temp one)")
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(FAMILIES)
    unknown = [c for c in chosen if c not in FAMILIES]
    if unknown:
        parser.error(f"unknown family {', '.join(unknown)}: choose from {', '.join(FAMILIES)}")

    root = Path(tempfile.mkdtemp(prefix="bcdr-faults-", dir=args.tmp))
    results, failed = [], False
    try:
        for name in chosen:
            fn, full, quick = FAMILIES[name]
            n = quick if args.quick else full
            started = time.perf_counter()
            try:
                out = fn(n, args.seed, root / name)
            except Exception as exc:  # a family that cannot run is a failure, with why
                out = Outcome(name, 0, {"could not run": 1}, examples=[traceback.format_exc()])
                out.examples.append(f"{type(exc).__name__}: {exc}")
            seconds = time.perf_counter() - started
            failed |= not out.ok
            results.append({**out.to_json(), "seconds": round(seconds, 1)})
            print(_line(out, seconds), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"quick": args.quick, "families": results}, indent=2))
    print("FAIL" if failed else "PASS: every family")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
