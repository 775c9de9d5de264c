"""Start-up benchmark: ``bcdr --help`` and ``bcdr version`` against the bare interpreter.

Run ``python bench/startup.py [--repeat 20]``. Each command runs ``--repeat`` times in its
own child process, interleaved (pass, help, version, pass, ...) so a busy machine slows all
three alike; the median wall time of each is printed with its ratio to ``python -c pass``
of the same interpreter, measured in the same run. Target (issue 9): both within 3x.

Both commands print what they printed last while nothing it came from has changed (the kept
output of ``engine.cli.launch``); the ``(nothing kept)`` rows run each time with an empty
cache folder, as the first command after an install does (no target: shown for the cost of
importing click and the command modules).

Always holds: every figure is one whole process timed from outside (``common.run_measured``);
a command that exits non-zero fails the bench, not its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import fmt_ratio, format_table, run_measured, verdict
from engine_scale import bcdr_command

TARGET_RATIO = 3.0


def measure(repeat: int) -> dict[str, list[float]]:
    """Wall seconds of each command, ``repeat`` samples each."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "bcdr --help": [*bcdr_command(), "--help"],
        "bcdr version": [*bcdr_command(), "version"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    cold = {f"{name} (nothing kept)": argv for name, argv in commands.items() if "bcdr" in name}
    samples.update({name: [] for name in cold})
    for argv in commands.values():  # warm the file cache and the .pyc files first
        run_measured(argv, stdout_to_devnull=True)
    for _ in range(repeat):
        for name, argv in commands.items():
            samples[name].append(run_measured(argv, stdout_to_devnull=True).seconds)
        for name, argv in cold.items():
            with tempfile.TemporaryDirectory() as empty:
                env = dict(os.environ, XDG_CACHE_HOME=empty)
                run = run_measured(argv, env=env, stdout_to_devnull=True)
                samples[name].append(run.seconds)
    return samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=20, help="runs of each command; median shown")
    p.add_argument("--json", type=Path, help="write the results as JSON to this file")
    args = p.parse_args(argv)
    samples = measure(max(1, args.repeat))
    medians = {name: statistics.median(xs) for name, xs in samples.items()}
    bare = medians["python -c pass"]
    rows = [[name, f"{s * 1000:.1f} ms", fmt_ratio(s / bare)] for name, s in medians.items()]
    print(format_table(["command", "median", "x bare"], rows))
    print("\nTargets (issue 9):")
    ok = True
    for name in ("bcdr --help", "bcdr version"):
        passed = medians[name] <= TARGET_RATIO * bare
        ok = ok and passed
        print(f"  {verdict(passed)}  {name} within {TARGET_RATIO:g}x python -c pass: "
              f"{medians[name] / bare:.2f}x")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"samples": samples, "medians": medians}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
