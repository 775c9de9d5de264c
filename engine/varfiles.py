"""JSON variable files (``-var-file=x.json``, ``*.auto.hcl.json``): one object of NAME: VALUE.

As Terraform reads ``*.tfvars.json``: the document is one JSON object; each member sets
the variable of its name to its value, taken literally (a string is a string, never an
expression or a template). Always holds: every entry returned carries the line and column
of its name in the file; a document that is not JSON, or not one object, is one error
naming the file, line and column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sdk.diagnostics import Diagnostics, SourceRange, error

JSON_SUFFIX = ".json"

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


def is_json_var_file(path: Path | str) -> bool:
    """A variable file read as JSON: its name ends in ``.json``, as in Terraform."""
    return str(path).lower().endswith(JSON_SUFFIX)


def _where(text: str, index: int, filename: str) -> SourceRange:
    line = text.count("\n", 0, index) + 1
    return SourceRange(filename, line, index - (text.rfind("\n", 0, index) + 1) + 1)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _bad(text: str, filename: str, index: int, what: str) -> Diagnostics:
    return Diagnostics(
        [
            error(
                f"Invalid JSON variable file {filename}",
                f"{what}; a JSON variable file is one object of names and values, "
                'for example {"region": "westeurope", "vm_count": 3}',
                _where(text, index, filename),
            )
        ]
    )


def read_json_var_file(
    path: Path, filename: str
) -> tuple[list[tuple[str, Any, SourceRange]], Diagnostics]:
    """``(name, value, range of the name)`` for each member, in file order."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return [], Diagnostics(
            [error(f"Variable file {filename} does not exist", "check the -var-file path")]
        )
    except (OSError, UnicodeDecodeError) as err:
        return [], Diagnostics([error(f"Cannot read variable file {filename}: {err}", "")])
    entries: list[tuple[str, Any, SourceRange]] = []
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        return [], _bad(text, filename, i, "the document does not start with {")
    i = _skip(text, i + 1)
    if i < len(text) and text[i] == "}":
        i += 1
    else:
        while True:
            if i >= len(text) or text[i] != '"':
                return [], _bad(text, filename, i, "a variable name in double quotes is expected")
            try:
                name, after = _DECODER.raw_decode(text, i)
                after = _skip(text, after)
                if after >= len(text) or text[after] != ":":
                    return [], _bad(text, filename, after, f'a ":" is expected after "{name}"')
                value_at = _skip(text, after + 1)
                value, end = _DECODER.raw_decode(text, value_at)
            except json.JSONDecodeError as err:
                return [], _bad(text, filename, err.pos, err.msg)
            entries.append((name, value, _where(text, i, filename)))
            i = _skip(text, end)
            if i < len(text) and text[i] == ",":
                i = _skip(text, i + 1)
                continue
            if i < len(text) and text[i] == "}":
                i += 1
                break
            return [], _bad(text, filename, i, 'a "," or "}" is expected')
    i = _skip(text, i)
    if i < len(text):
        return [], _bad(text, filename, i, "there is more after the object")
    return entries, Diagnostics()
