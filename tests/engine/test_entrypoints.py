"""The kept entry points (``engine.entrypoints``) follow every install, uninstall and edit.

Real ``bcdr`` processes against a real distribution folder on a temporary ``sys.path``
entry and a cache folder of their own. The folders' modification times are set back a
minute, so each answer is kept (a fresh time is never trusted) and a change must be seen
through the fingerprint, not through a fresh time.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from importlib.metadata import entry_points as metadata_entry_points
from pathlib import Path

import pytest

from engine import entrypoints
from tests.probe import bcdr_modules

OLD = time.time() - 60


def _age(*paths: Path) -> None:
    for p in paths:
        os.utime(p, (OLD, OLD))


def _install(root: Path, command: str) -> Path:
    """A distribution bringing the command ``command`` (``gc``'s code under another name)."""
    info = root / "bcdr_rescue-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bcdr-rescue\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[bcdr.commands]\n{command} = providers.platform.cli.store:gc\n"
    )
    _age(info / "METADATA", info / "entry_points.txt", info, root)
    return info


@pytest.fixture
def run(tmp_path: Path):
    root = tmp_path / "site"
    root.mkdir()
    cache = tmp_path / "cache"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    # the distribution's folder only: the repository's changes whenever a tool writes a
    # cache there, and bcdr itself is found through its installed distribution
    env["PYTHONPATH"] = str(root)
    _age(root)

    def bcdr(*args: str) -> tuple[str, list[str]]:
        out, code, modules = bcdr_modules(*args, env=env, cwd=Path(sys.prefix))
        assert code == 0, out
        return out, modules

    bcdr.root, bcdr.cache = root, cache  # type: ignore[attr-defined]
    return bcdr


def _listed(out: str) -> set[str]:
    return {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}


def test_install_edit_and_uninstall_show_in_the_next_command(run) -> None:
    out, _ = run("--help")
    assert "rescue" not in _listed(out)
    assert len(list(run.cache.glob("bcdr/entry-points-*.txt"))) == 1  # kept
    out, modules = run("--help")
    assert "importlib.metadata" not in modules  # answered from the kept file

    info = _install(run.root, "rescue")
    out, modules = run("--help")
    assert "rescue" in _listed(out) and "importlib.metadata" in modules  # read again
    out, modules = run("--help")
    assert "rescue" in _listed(out) and "importlib.metadata" not in modules

    # edited in place, same size, its time set back: the change time still tells
    (info / "entry_points.txt").write_text(
        "[bcdr.commands]\nrescux = providers.platform.cli.store:gc\n"
    )
    _age(info / "entry_points.txt")
    out, _ = run("--help")
    assert "rescux" in _listed(out) and "rescue" not in _listed(out)

    shutil.rmtree(info)
    _age(run.root)
    out, _ = run("--help")
    assert {"rescue", "rescux"}.isdisjoint(_listed(out)) and "gc" in _listed(out)


def test_version_follows_a_reinstalled_provider(run) -> None:
    info = run.root / "bcdr_extra-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bcdr-extra\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[bcdr.providers]\nextra = providers.builtin.data:provider\n"
    )
    _age(info / "METADATA", info / "entry_points.txt", info, run.root)
    assert "+ provider extra v1.0" in run("version")[0].splitlines()
    assert "+ provider extra v1.0" in run("version")[0].splitlines()  # from the kept file
    info.rename(run.root / "bcdr_extra-2.0.dist-info")  # an upgrade: its metadata too
    info = run.root / "bcdr_extra-2.0.dist-info"
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bcdr-extra\nVersion: 2.0\n")
    _age(info / "METADATA", info, run.root)
    assert "+ provider extra v2.0" in run("version")[0].splitlines()


def test_the_kept_file_reads_back_what_importlib_metadata_answered(tmp_path: Path) -> None:
    table = entrypoints._scan()
    for group in entrypoints.GROUPS:
        assert [(ep.name, ep.value) for ep in table[0][group]] == [
            (ep.name, ep.value) for ep in metadata_entry_points(group=group)
        ]
    kept = tmp_path / "kept.txt"
    entrypoints._write(str(kept), "fingerprint\nof two lines", table)
    back = entrypoints._read(str(kept), "fingerprint\nof two lines")
    assert back is not None and back[1] == table[1]

    def rows(eps: tuple[entrypoints.EntryPoint, ...]) -> list[tuple[str, ...]]:
        return [(e.name, e.value, e.group, e.dist.name, e.dist.version) for e in eps if e.dist]

    for group in entrypoints.GROUPS:
        assert rows(back[0][group]) == rows(table[0][group]) != []
    assert back[0]["bcdr.commands"][0].load() is table[0]["bcdr.commands"][0].load()
    assert entrypoints._read(str(kept), "another fingerprint") is None
    kept.write_text(kept.read_text().removesuffix("end\n"))  # cut short
    assert entrypoints._read(str(kept), "fingerprint\nof two lines") is None


def test_a_fresh_change_is_not_kept(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    _, settled = entrypoints.fingerprint((str(fresh),))
    assert settled is False
    _age(fresh)
    text, settled = entrypoints.fingerprint((str(fresh),))
    assert settled is True and str(fresh) in text
