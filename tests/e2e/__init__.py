"""End-to-end tests: the examples run as their READMEs say, with the real ``bcdr`` CLI.

``Work`` runs ``bcdr -chdir=DIR ...`` in-process (click's ``CliRunner``) with a fixed
environment; ``bcdr serve`` runs as a real subprocess on a free port (``demo.serving``).
``demo`` is ``examples/run_demo.py`` (what ``make demo`` runs), whose helpers the tests share.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from engine.cli.app import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _load_demo() -> Any:
    spec = importlib.util.spec_from_file_location("bcdr_run_demo", EXAMPLES / "run_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


class Work:
    """A working directory and the environment every ``bcdr`` command there gets."""

    def __init__(self, dir: Path, env: dict[str, str] | None = None) -> None:
        self.dir = dir
        self.env = {"BCDR_FABRIC_HOME": None, **(env or {})}

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-chdir", str(self.dir), *args], env=self.env)

    def code(self, *args: str) -> tuple[int, str]:
        result = self.run(*args, "-no-color")
        assert "Traceback" not in result.output, result.output
        return result.exit_code, result.output

    def ok(self, *args: str) -> str:
        code, out = self.code(*args)
        assert code == 0, out
        return out

    def output(self, name: str) -> Any:
        return json.loads(self.ok("output", "-json", name))

    def apply(self) -> str:
        out = self.ok("apply", "-auto-approve")
        assert "Apply complete!" in out, out
        return out

    def plan_is_clean(self) -> None:
        code, out = self.code("plan", "-detailed-exitcode")
        assert code == 0 and "No changes." in out, out

    def drift(self) -> tuple[int, str]:
        code, out = self.code("drift")
        assert code in (0, 2), out
        return code, out
