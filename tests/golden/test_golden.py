"""Golden plans: each folder here is a case; ``bcdr plan -no-color`` must print its text.

A case folder holds ``main.hcl``, ``prior_state.json`` (instances loaded into a fresh
state before planning: a list of InstanceRecord fields, possibly ``[]``) and
``expected_plan.txt`` (everything the command prints, errors included). An optional
``args`` file adds command-line flags, one per line. Set ``BCDR_UPDATE_GOLDEN=1`` to
rewrite the expected files from what the code prints now.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from state import InstanceRecord, StateStore
from tests.cli.conftest import run_in

HERE = Path(__file__).parent
CASES = sorted(p for p in HERE.iterdir() if (p / "main.hcl").is_file())


def load_prior(case: Path, workdir: Path) -> None:
    records = json.loads((case / "prior_state.json").read_text(encoding="utf-8"))
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        with store.transaction():
            for fields in records:
                store.put(InstanceRecord(**fields))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_plan(case: Path, tmp_path: Path) -> None:
    shutil.copy(case / "main.hcl", tmp_path / "main.hcl")
    load_prior(case, tmp_path)
    args_file = case / "args"
    args = args_file.read_text(encoding="utf-8").split() if args_file.exists() else []
    result = run_in(tmp_path, "plan", "-no-color", *args)
    got = result.output
    expected = case / "expected_plan.txt"
    if os.environ.get("BCDR_UPDATE_GOLDEN") == "1":
        expected.write_text(got, encoding="utf-8")
        return
    want = expected.read_text(encoding="utf-8")
    if got != want:
        pytest.fail(f"{case.name}: plan output differs\ngot:\n{got}\nwant:\n{want}", False)
    wants_error = "Error:" in want
    assert result.exit_code == (1 if wants_error else 0), result.output
    assert "Traceback" not in got


def test_there_are_golden_cases() -> None:
    names = {c.name for c in CASES}
    assert {"create", "update_in_place", "replace_force_new", "destroy_orphan"} <= names
    assert {"no_changes", "count_and_for_each", "sensitive", "error_bad_input"} <= names
