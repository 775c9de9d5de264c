"""``bcdr version`` and ``bcdr -help`` answered from the output they printed last (issue 9,
start-up): the same text, without importing click, and never once what it came from changed.

Not timed (the speed goal lives in bench/startup.py): the tests check what a real process
printed and imported, and what the launcher keeps and refuses to keep.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.cli import launch
from engine.entrypoints import fingerprint as distributions

_RUN = (
    "import sys\n"
    "from engine.cli.launch import run\n"
    "try:\n"
    "    run()\n"
    "finally:\n"
    "    print('\\n--click--', 'click' in sys.modules)\n"
)


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    """A child's environment with a cache folder of its own, once nothing installed is so
    new that a fingerprint of it would not be kept (``SETTLE_NS``)."""
    taken = distributions(tuple(sys.path))
    if taken is not None and not taken[1]:
        time.sleep(launch.SETTLE_NS / 1e9)
    return dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), COLUMNS="100")


def _bcdr(env: dict[str, str], *args: str) -> tuple[str, bool]:
    """``bcdr ARGS`` through the console script's entry: what it printed, and whether it
    imported click."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=sys.prefix,
    )
    printed, _, imported = done.stdout.rpartition("\n--click--")
    return printed, imported.strip() == "True"


@pytest.mark.parametrize("args", [("--help",), ("-help",), ("version",), ("-version",)])
def test_the_second_run_prints_the_same_text_without_importing_click(child_env, args) -> None:
    first, first_click = _bcdr(child_env, *args)
    second, second_click = _bcdr(child_env, *args)
    assert first_click and not second_click
    assert second == first
    assert "Usage: bcdr" in first or "+ provider platform v" in first


def test_another_width_is_another_answer(child_env) -> None:
    _bcdr(child_env, "--help")
    narrow, imported = _bcdr(dict(child_env, COLUMNS="60"), "--help")
    assert imported  # not the 100-column text kept before
    assert max(len(line) for line in narrow.splitlines()) <= 60


def test_other_commands_are_never_kept(child_env, tmp_path: Path) -> None:
    _bcdr(child_env, "providers")
    _, imported = _bcdr(child_env, "providers")
    assert imported
    assert not list((tmp_path / "cache" / "bcdr").glob("output-*"))


def _kept(tmp_path: Path, source: Path) -> tuple[str, str]:
    """Output kept for a key under the fingerprint of ``source`` (made old enough to keep)."""
    old = time.time() - 60
    os.utime(source, (old, old))
    cache_file, key = str(tmp_path / "kept"), "a key"
    launch._write(cache_file, key, [str(source)], "Usage: bcdr\n")
    return cache_file, key


def test_an_edit_of_a_module_it_imported_is_seen_by_the_next_run(tmp_path: Path) -> None:
    source = tmp_path / "commands.py"
    source.write_text("HELP = 'old'\n")
    cache_file, key = _kept(tmp_path, source)
    assert launch._read(cache_file, key) == "Usage: bcdr\n"
    source.write_text("HELP = 'new'\n")
    assert launch._read(cache_file, key) is None
    assert launch._read(cache_file, "another key") is None


def test_a_module_changed_moments_ago_is_not_kept(tmp_path: Path) -> None:
    source = tmp_path / "commands.py"
    source.write_text("HELP = 'new'\n")  # modified now: a change in this tick would not show
    launch._write(str(tmp_path / "kept"), "a key", [str(source)], "Usage: bcdr\n")
    assert not (tmp_path / "kept").exists()


def test_a_cache_file_cut_short_is_not_used(tmp_path: Path) -> None:
    source = tmp_path / "commands.py"
    source.write_text("HELP = 'old'\n")
    cache_file, key = _kept(tmp_path, source)
    text = Path(cache_file).read_text()
    Path(cache_file).write_text(text[: len(text) - 3])
    assert launch._read(cache_file, key) is None


def test_output_that_bypassed_the_text_stream_is_not_keepable() -> None:
    real = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    tee = launch._Tee(real)
    tee.write("Usage: bcdr\n")
    assert tee.keepable and hasattr(tee, "color") is False and tee.keepable
    tee.buffer.write(b"written past the tee\n")
    assert not tee.keepable
