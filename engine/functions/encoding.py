"""The encoding, conversion and file functions: jsonencode, base64decode, tobool, file, ….

Always holds: ``file`` and ``fileexists`` read relative to ``base`` (the spec directory,
given by ``engine/exprops.py`` as ``path.module``) and only read; a missing or unreadable file,
bad JSON or bad base64 is a ``FunctionError`` saying which and what to check.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string, need
from engine.typeconv import TypeConstraint, convert


def f_file(path: Any, *, base: str = ".") -> str:
    path = as_string(path, "path")
    full = Path(base) / path
    try:
        return full.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FunctionError(f'no file "{path}"', f"looked for {full}; check the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise FunctionError(f'cannot read "{path}": {err}') from None


def f_fileexists(path: Any, *, base: str = ".") -> bool:
    return (Path(base) / as_string(path, "path")).is_file()


def f_jsonencode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def f_jsondecode(text: Any) -> Any:
    need(text, str, "a string")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise FunctionError(f"invalid JSON: {err}") from None


def f_tonumber(value: Any) -> Any:
    if value is None:
        return None
    return as_number(value)


def f_tobool(value: Any) -> Any:
    try:
        return convert(value, TypeConstraint("bool"))
    except ValueError as err:
        raise FunctionError(str(err)) from None


def f_base64decode(text: Any) -> str:
    try:
        return base64.b64decode(as_string(text), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as err:
        raise FunctionError(f"invalid base64: {err}") from None
