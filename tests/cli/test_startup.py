"""``bcdr --help`` imports only what listing the commands needs (issue 9, start-up).

Not timed (the speed goal lives in bench/startup.py): it checks which modules a real
``bcdr --help`` process imported, since each heavy library left at a module's top is what
made start-up 8x the bare interpreter's.
"""

from __future__ import annotations

import subprocess
import sys

# importlib.metadata is not on the list: -help lists the commands providers bring, which
# only their entry points name
HEAVY = ("rich", "sqlite3", "sqlite_utils", "lark", "hcl2", "state", "core")


def test_help_imports_no_rendering_state_parser_or_provider_library() -> None:
    probe = (
        "import sys\n"
        "from engine.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='bcdr')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "Usage: bcdr" in out
    assert out.strip().splitlines()[-1] == "[]"


def test_a_command_loads_only_its_own_module() -> None:
    probe = (
        "import sys\n"
        "from engine.cli import main\n"
        "try:\n"
        "    main(['version'], prog_name='bcdr')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('engine.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "['engine.cli.app', 'engine.cli.tools']"
