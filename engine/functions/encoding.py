"""The encoding, conversion and file functions: jsonencode, csvdecode, urlencode,
textencodebase64, tobool, type, file, ….

Always holds: ``file`` and ``fileexists`` read relative to ``base`` (the spec directory,
given by ``engine/exprops.py`` as ``path.module``) and only read; a missing or unreadable file,
bad JSON, CSV or base64, or an unknown text encoding is a ``FunctionError`` saying which
and what to check; ``jsonencode`` prints as Terraform (Go) does: keys sorted, ``<>&``
escaped, numbers in their
shortest text (``engine/numbers.py``).
"""

from __future__ import annotations

import base64
import codecs
import io
import json
import urllib.parse
from pathlib import Path
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string, need
from engine.numbers import format_number, is_number, parse_number
from engine.typeconv import TypeConstraint, convert, type_name


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


def _json(value: Any) -> str:
    """Compact JSON with keys sorted and numbers in their shortest text (``2``, not
    ``2.0``; ``100000000000000000000``, not ``1e+20``), as Terraform writes it."""
    if is_number(value):
        return format_number(value)
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_json(str(k))}:{_json(v)}" for k, v in items) + "}"
    return json.dumps(value, ensure_ascii=False)


_GO_ESCAPE_TABLE = str.maketrans(
    {ch: f"\\u{ord(ch):04x}" for ch in ("<", ">", "&", "\u2028", "\u2029")}
)


def f_jsonencode(value: Any) -> str:
    return _json(value).translate(_GO_ESCAPE_TABLE)


def f_jsondecode(text: Any) -> Any:
    need(text, str, "a string")
    try:
        return json.loads(text, parse_float=parse_number)  # 2.0 is the number 2
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


def f_csvdecode(text: Any) -> list[dict[str, str]]:
    import csv  # only here: rare, and start-up stays light

    rows = list(csv.reader(io.StringIO(as_string(text)), strict=True))
    if not rows:
        raise FunctionError("the CSV has no header line", "its first line names the columns")
    header = rows[0]
    out: list[dict[str, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise FunctionError(
                f"the CSV's line {line} has {len(row)} fields, the header {len(header)}",
                "every line needs as many fields as the header names",
            )
        out.append(dict(zip(header, row, strict=True)))
    return out


def f_urlencode(text: Any) -> str:
    return urllib.parse.quote_plus(as_string(text), safe="")


def _codec_name(name: Any) -> str:
    name = as_string(name, "encoding")
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FunctionError(
            f'unknown text encoding "{name}"', "use an IANA name such as UTF-16LE or ISO-8859-1"
        ) from None


def f_textencodebase64(text: Any, encoding: Any) -> str:
    codec = _codec_name(encoding)
    try:
        data = as_string(text).encode(codec)
    except UnicodeEncodeError as err:
        raise FunctionError(f"the string has characters {encoding} cannot hold: {err}") from None
    return base64.b64encode(data).decode()


def f_textdecodebase64(text: Any, encoding: Any) -> str:
    codec = _codec_name(encoding)
    try:
        return base64.b64decode(as_string(text), validate=True).decode(codec)
    except ValueError as err:
        raise FunctionError(f"invalid base64 or {encoding} text: {err}") from None


def f_type(value: Any) -> str:
    """The type of ``value`` as Terraform's console writes it; a list is a tuple and a map
    an object, as bcdr values do not record which collection made them."""
    if isinstance(value, list):
        return f"tuple([{', '.join(f_type(v) for v in value)}])"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {f_type(value[k])}" for k in sorted(value))
        return f"object({{{inner}}})"
    if value is None:
        return "dynamic"
    return type_name(value)
