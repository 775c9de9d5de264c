"""The fault harness's quick run: every family passes with a few trials.

This is what ``make test`` runs of ``bench/faults.py`` (the full run, ``make faults``, is the
reliability figures). It runs as users run it, a subprocess of this interpreter, and reads
its ``--json`` output: each family must have run trials and counted no failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_quick_fault_harness_counts_no_failure(tmp_path: Path) -> None:
    out = tmp_path / "faults.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "faults.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    families = json.loads(out.read_text())["families"]
    report = proc.stdout + proc.stderr
    assert len(families) == 7, report
    for family in families:
        assert family["trials"] > 0, report
        assert not any(family["failures"].values()), report
    assert proc.returncode == 0, report
