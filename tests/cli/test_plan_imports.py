"""A warm no-change ``bcdr plan`` imports neither the HCL parser nor networkx (issue 9).

Not timed (the speed goal lives in bench/engine_scale.py): it checks which modules a real
``bcdr plan`` process imported when every spec file is in the parse cache and the graph
has no cycle. The parser is needed only for a file the cache does not hold, networkx only
to name the addresses on a cycle.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import run_in, write

HEAVY = ("lark", "hcl2", "networkx")

PROBE = (
    "import sys\n"
    "from engine.cli import main\n"
    "try:\n"
    "    main(['-chdir', sys.argv[1], 'plan', '-no-color', '-detailed-exitcode'],"
    " prog_name='bcdr')\n"
    "except SystemExit as exc:\n"
    "    print('exit', exc.code)\n"
    f"heavy = {HEAVY!r}\n"
    "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
)


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
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    lines = out.strip().splitlines()
    assert "No changes." in out
    assert lines[-2:] == ["exit 0", "[]"]
