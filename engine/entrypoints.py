"""The entry points of bcdr's groups and bcdr's own version, without importlib.metadata when
nothing installed has changed.

Importing ``importlib.metadata`` costs a start-up about as much as click does (it imports
email, zipfile, csv...), and ``bcdr -help`` and ``bcdr version`` need a few lines of what it
reads. So the answer of one scan (each entry point of ``GROUPS`` with its distribution's
name and version, in install order, and the version of the ``bcdr`` distribution) is kept in
a file of the user's cache folder, beside a fingerprint of what importlib.metadata read it
from: each ``sys.path`` entry and, in each folder, every distribution folder
(``*.dist-info``, ``*.egg-info``) with its ``entry_points.txt`` and metadata file (device,
inode, size, modification and change time of each).

Always holds: a kept answer is used only when this process's fingerprint is the one it was
read under, so an install, an uninstall or an edit of a distribution is seen by the very next
command; otherwise, or when the file cannot be read, importlib.metadata answers and the file
is rewritten (a file that cannot be written is no error). A fingerprint holding a
modification time less than ``SETTLE_NS`` old is not kept (a change in the same clock tick
would not show; the change time, which nothing can set back, is in the fingerprint), and none
is taken when ``sys.meta_path`` holds a finder of distributions besides the standard one
(what it finds is not in the fingerprint). Within one process the answer is read once per
search path (``sys.path``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from functools import cache, reduce

TYPE_CHECKING = False  # typing, which costs a start more than this module (it imports re)
if TYPE_CHECKING:
    from typing import Any

#: the groups kept: the providers (``engine.registry``) and the commands they bring
#: (``engine.cli.mounting``)
GROUPS = ("bcdr.providers", "bcdr.commands")
#: the distribution whose version ``bcdr version`` prints
OWN = "bcdr"
#: a file's time this close to now may be followed by a change that keeps it (one tick)
SETTLE_NS = 5_000_000_000
_FORMAT = "bcdr entry points 1"


class Distribution:
    """What is kept of the distribution that brings an entry point."""

    __slots__ = ("name", "version")

    def __init__(self, name: str, version: str) -> None:
        self.name, self.version = name, version


class EntryPoint:
    """An entry point as ``importlib.metadata.EntryPoint`` gives it: ``name``, ``value``
    (``module:attr``), ``group``, ``dist`` and ``load()``."""

    __slots__ = ("name", "value", "group", "dist")

    def __init__(self, name: str, value: str, group: str, dist: Distribution | None) -> None:
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def load(self) -> Any:
        """The object ``value`` names, its module imported (extras ``[...]`` ignored)."""
        import importlib

        module, _, attrs = self.value.partition(":")
        found = importlib.import_module(module.split("[")[0].strip())
        return reduce(getattr, filter(None, attrs.split("[")[0].strip().split(".")), found)

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


def entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The installed entry points of ``group`` (one of ``GROUPS``), in install order."""
    return _table(tuple(sys.path))[0].get(group, ())


def own_version() -> str | None:
    """The version of the installed ``bcdr`` distribution; None when there is none."""
    return _table(tuple(sys.path))[1]


Table = tuple[dict[str, tuple[EntryPoint, ...]], str | None]


@cache
def _table(path: tuple[str, ...]) -> Table:
    taken = fingerprint(path)
    cache_file = _cache_file()
    if taken is not None and cache_file is not None:
        kept = _read(cache_file, taken[0])
        if kept is not None:
            return kept
    table = _scan()
    if taken is not None and cache_file is not None and taken[1]:
        _write(cache_file, taken[0], table)
    return table


def _scan() -> Table:
    """importlib.metadata's answer (the one place it is imported)."""
    from importlib.metadata import PackageNotFoundError, version
    from importlib.metadata import entry_points as read

    found: dict[str, tuple[EntryPoint, ...]] = {}
    for group in GROUPS:
        found[group] = tuple(
            EntryPoint(
                ep.name,
                ep.value,
                group,
                Distribution(ep.dist.name, ep.dist.version) if ep.dist is not None else None,
            )
            for ep in read(group=group)
        )
    try:
        own: str | None = version(OWN)
    except PackageNotFoundError:
        own = None
    return found, own


def fingerprint(path: tuple[str, ...]) -> tuple[str, bool] | None:
    """What importlib.metadata reads the distributions of ``path`` from, as text, and whether
    every modification time in it is older than ``SETTLE_NS``; None when it cannot be taken
    (a finder of distributions of its own on ``sys.meta_path``, a tab or newline in a path)."""
    from importlib.machinery import PathFinder

    if any(
        hasattr(finder, "find_distributions") and finder is not PathFinder
        for finder in sys.meta_path
    ):
        return None
    if "\n" in sys.executable:
        return None
    lines = [_FORMAT, f"{sys.hexversion:x}", sys.executable]
    newest = 0

    def add(label: str, where: str) -> None:
        nonlocal newest
        try:
            st = os.stat(where)
        except OSError:
            lines.append(f"{label}\t-")
            return
        newest = max(newest, st.st_mtime_ns)
        lines.append(
            f"{label}\t{st.st_dev}\t{st.st_ino}\t{st.st_size}\t{st.st_mtime_ns}\t{st.st_ctime_ns}"
        )

    for entry in path:
        root = entry or os.getcwd()  # "" is the current folder, as importlib.metadata reads it
        if "\n" in root or "\t" in root:
            return None
        add(root, root)
        try:
            children = os.listdir(root)
        except OSError:  # a zip file (its stat covers it), or nothing there
            continue
        for child in sorted(children):
            low = child.lower()
            if not (low.endswith((".dist-info", ".egg-info")) or low == "egg-info"):
                continue
            if "\n" in child or "\t" in child:
                return None
            folder = f"{root}{os.sep}{child}"
            add(f" {child}", folder)
            add("  entry_points.txt", f"{folder}{os.sep}entry_points.txt")
            meta = "METADATA" if low.endswith(".dist-info") else "PKG-INFO"
            add(f"  {meta}", f"{folder}{os.sep}{meta}")
    import time

    return "\n".join(lines), newest < time.time_ns() - SETTLE_NS


def _cache_file() -> str | None:
    """This environment's file in the user's cache folder (``$XDG_CACHE_HOME/bcdr``, else
    ``~/.cache/bcdr``); None when there is no home to put it in."""
    import zlib

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    env = zlib.crc32(f"{sys.prefix}\0{sys.executable}".encode("utf-8", "surrogatepass"))
    return os.path.join(base, "bcdr", f"entry-points-{env:08x}.txt")


def _read(cache_file: str, taken: str) -> Table | None:
    """The answer kept in ``cache_file`` under the fingerprint ``taken``; None when the file is
    missing, unreadable or was written under another fingerprint."""
    try:
        with open(cache_file, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    kept, sep, body = text.partition("\n\n")
    if not sep or kept != taken:
        return None
    found: dict[str, list[EntryPoint]] = {group: [] for group in GROUPS}
    own: str | None = None
    dists: dict[tuple[str, str], Distribution] = {}
    for line in body.splitlines():
        kind, *fields = line.split("\t")
        if kind == "own" and len(fields) == 1:
            own = fields[0]
        elif kind == "ep" and len(fields) == 5 and fields[0] in found:
            group, name, value, dist_name, dist_version = fields
            dist = None
            if dist_name:
                dist = dists.setdefault(
                    (dist_name, dist_version), Distribution(dist_name, dist_version)
                )
            found[group].append(EntryPoint(name, value, group, dist))
        elif kind != "end":
            return None
    if not body.endswith("end\n"):  # cut short: not all of it was written
        return None
    return {group: tuple(eps) for group, eps in found.items()}, own


def _write(cache_file: str, taken: str, table: Table) -> None:
    """Keep ``table`` under ``taken``: written whole to a temporary file renamed over the old
    one, so a reader sees the old answer or the new one; an answer with a tab or a newline in
    a field is not kept (it would not read back the same)."""
    found, own = table
    rows = [("own", own)] if own is not None else []
    for group, eps in found.items():
        for ep in eps:
            dist = ep.dist or Distribution("", "")
            rows.append(("ep", group, ep.name, ep.value, dist.name, dist.version))
    if any("\t" in field or "\n" in field for row in rows for field in row):
        return
    text = "\n".join([taken, "", *("\t".join(row) for row in rows), "end", ""])
    tmp = f"{cache_file}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, cache_file)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
