"""A warm no-change ``bcdr plan`` imports neither the HCL parser nor networkx (issue 9).

Not timed (the speed goal lives in bench/engine_scale.py): it checks which modules a real
``bcdr plan`` process imported when every spec file is in the parse cache and the graph
has no cycle. The parser is needed only for a file the cache does not hold, networkx only
to name the addresses on a cycle.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import run_in, write
from tests.probe import bcdr_modules

HEAVY = ("lark", "hcl2", "networkx", "yaml", "bcrypt")


def test_warm_no_change_plan_imports_no_parser_and_no_networkx(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        resource "bcdr_data" "a" {
          input = "one"
        }
        resource "bcdr_data" "b" {
          input = [bcdr_data.a.id, "two"]
        }
        """,
    )
    assert run_in(tmp_path, "init", "-no-color").exit_code == 0
    assert run_in(tmp_path, "apply", "-auto-approve", "-no-color").exit_code == 0
    out, code, modules = bcdr_modules(
        "-chdir", str(tmp_path), "plan", "-no-color", "-detailed-exitcode"
    )
    assert "No changes." in out
    assert code == 0
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []
