"""The path and file functions: abspath, basename, dirname, pathexpand, fileset, filebase64.

Always holds: paths are read relative to ``base`` (the folder of the specs, given by
``engine/exprops.py`` as ``path.cwd``/``path.module``), as ``file()`` reads them; the
functions only read; ``basename`` and ``dirname`` work on the text of the path as Go's
``filepath`` does (no file needs to exist); ``fileset`` returns the files (never folders)
under a folder whose relative path, with ``/`` separators, matches the pattern, as a set.
"""

from __future__ import annotations

import base64
import os
import posixpath
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.functions.args import FunctionError, as_string
from engine.typeconv import as_set


def _go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` (on ``/`` paths): no ``.``, ``..`` resolved, ``.`` if empty."""
    cleaned = posixpath.normpath(path) if path else "."
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def f_abspath(path: Any, *, base: str = ".") -> str:
    return _go_clean(os.path.abspath(os.path.join(base, as_string(path, "path"))))


def f_basename(path: Any) -> str:
    path = as_string(path, "path")
    if path == "":
        return "."
    stripped = path.rstrip("/")
    if stripped == "":
        return "/"
    return stripped.rsplit("/", 1)[-1]


def f_dirname(path: Any) -> str:
    path = as_string(path, "path")
    return _go_clean(path[: path.rfind("/") + 1])


def f_pathexpand(path: Any) -> str:
    path = as_string(path, "path")
    if path != "~" and not path.startswith("~/"):
        return path
    home = os.environ.get("HOME") or str(Path.home())
    return home + path[1:]


def read_bytes(path: Any, base: str) -> bytes:
    """The bytes of the file at ``path`` under ``base``; FunctionError naming it if not."""
    path = as_string(path, "path")
    full = Path(base) / path
    try:
        return full.read_bytes()
    except FileNotFoundError:
        raise FunctionError(f'no file "{path}"', f"looked for {full}; check the path") from None
    except OSError as err:
        raise FunctionError(f'cannot read "{path}": {err}') from None


def f_filebase64(path: Any, *, base: str = ".") -> str:
    return base64.b64encode(read_bytes(path, base)).decode()


@lru_cache(maxsize=64)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A fileset pattern (``*``, ``**``, ``?``, ``[…]``, ``{a,b}``, ``\\``) as a regex."""
    out: list[str] = []
    i, n, depth = 0, len(pattern), 0
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise FunctionError(f"the pattern {pattern!r} has a [ without its ]")
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
            i = end + 1
        elif ch == "{":
            out.append("(?:")
            depth += 1
            i += 1
        elif ch == "}" and depth:
            out.append(")")
            depth -= 1
            i += 1
        elif ch == "," and depth:
            out.append("|")
            i += 1
        elif ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    if depth:
        raise FunctionError(f"the pattern {pattern!r} has a {{ without its }}")
    try:
        return re.compile("".join(out))
    except re.error as err:
        raise FunctionError(f"invalid pattern {pattern!r}: {err}") from None


def f_fileset(path: Any, pattern: Any, *, base: str = ".") -> list[str]:
    root = Path(base) / as_string(path, "path")
    regex = _glob_regex(as_string(pattern, "pattern"))
    found: list[str] = []
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel_folder = Path(folder).relative_to(root).as_posix()
        for name in files:
            rel = name if rel_folder == "." else f"{rel_folder}/{name}"
            if regex.fullmatch(rel):
                found.append(rel)
    return as_set(found)
