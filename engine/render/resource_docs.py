"""Resource schemas → Markdown reference pages: one page per resource type and an index.

``resource_pages`` takes what ``bcdr providers schema -json`` takes (by provider source
address: the provider block's schema and the resource types' schemas) and gives the pages
of ``docs/resources/``: ``<type>.md`` for each type (its description, example, arguments
with nested blocks as sub-tables, computed attributes, the platform rules it enforces) and
``README.md``, the index with each provider block's arguments. Always holds: the output is
a function of the schemas alone (sorted, no dates, no paths), so the checked-in pages can
be compared byte for byte with a fresh run; every page starts with ``GENERATED``, the line
by which ``bcdr providers docs`` knows a page it may replace or remove; nothing here knows a
resource type.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from sdk.schema import Attribute, Schema

INDEX = "README.md"
GENERATED = (
    "<!-- Generated from the providers' schemas by `bcdr providers docs` (`make docs`). "
    "Do not edit. -->"
)
#: an argument with more allowed values than this lists them below its table
INLINE_ALLOWED = 10
_ARG_HEAD = (
    "| argument | type | required | default | allowed values | notes | description |\n"
    "| --- | --- | --- | --- | --- | --- | --- |\n"
)
_ATTR_HEAD = "| attribute | type | notes | description |\n| --- | --- | --- | --- |\n"


def literal(value: Any) -> str:
    """A value as HCL writes it: ``"Read"``, ``3600``, ``true``, ``["a", "b"]``, ``{ k = 1 }``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {literal(v)}" for k, v in sorted(value.items())) + " }"
    return json.dumps(value, default=str)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, one line."""
    return " ".join(text.replace("|", "\\|").split())


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _is_argument(a: Attribute) -> bool:
    return a.required or a.optional or a.block is not None


def _notes(a: Attribute) -> str:
    notes = []
    if a.force_new:
        notes.append("forces replacement")
    if a.sensitive:
        notes.append("sensitive")
    if a.derived_from and not a.sensitive:
        notes.append("sensitive when " + " or ".join(_code(n) for n in a.derived_from) + " is")
    if a.computed and (a.required or a.optional):
        notes.append("computed when not set")
    return ", ".join(notes)


def _block_kind(a: Attribute) -> str:
    if a.nesting == "list":
        return "blocks (at least one)" if a.required else "blocks (any number)"
    return "block (required)" if a.required else "block (at most one)"


class _Page:
    """One page's Markdown, with the long lists of allowed values kept for its end."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.long_allowed: list[tuple[str, tuple[str, ...]]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(self) -> str:
        if self.long_allowed:
            self.add("## Allowed values\n")
            for path, values in self.long_allowed:
                words = ", ".join(_code(literal(v)) for v in values)
                wrapped = textwrap.fill(words, width=100, break_on_hyphens=False)
                self.add(f"`{path}` takes one of {len(values)} values:\n\n{wrapped}\n")
        return "\n".join(self.parts)

    def allowed(self, path: str, values: tuple[str, ...]) -> str:
        if not values:
            return ""
        if len(values) <= INLINE_ALLOWED:
            return ", ".join(_code(literal(v)) for v in values)
        self.long_allowed.append((path, values))
        return f"[one of {len(values)}](#allowed-values)"

    def arguments(
        self,
        schema: Schema,
        heading: str,
        level: int,
        prefix: str = "",
        *,
        describe: bool = True,
        none: str = "None.",
    ) -> None:
        """The table of a schema's arguments, required ones first (``none`` when it has
        none), after its description when ``describe``; then a sub-table per nested block."""
        order = sorted(schema.attributes.items(), key=lambda na: (not na[1].required, na[0]))
        args = {n: a for n, a in order if _is_argument(a)}
        self.add(f"{'#' * level} {heading}\n")
        if schema.description and describe:
            self.add(_cell(schema.description) + "\n")
        if not args:
            self.add(none + "\n")
            return
        rows = []
        for name, a in args.items():
            path = prefix + name
            if a.block is not None:
                kind, link = _block_kind(a), f"see [`{path}`](#{_anchor(path)})"
                desc = f"{_cell(a.description)} ({link})" if a.description else link
                rows.append(
                    f"| `{name}` | {kind} | {'required' if a.required else 'optional'} |  |  "
                    f"| {_notes(a)} | {desc} |"
                )
                continue
            default = _code(literal(a.default)) if a.default is not None else ""
            rows.append(
                f"| `{name}` | `{a.type}` | {'required' if a.required else 'optional'} "
                f"| {default} | {self.allowed(path, a.allowed)} | {_notes(a)} "
                f"| {_cell(a.description)} |"
            )
        self.add(_ARG_HEAD + "\n".join(rows) + "\n")
        for name, a in args.items():
            if a.block is not None:
                path = prefix + name
                self.arguments(a.block, f"Block `{path}`", min(level + 1, 6), path + ".")


def _anchor(path: str) -> str:
    """GitHub's anchor of the heading "Block `path`"."""
    return "block-" + "".join(c for c in path.lower() if c.isalnum() or c in "-_")


def _attributes(schema: Schema) -> str:
    attrs = {n: a for n, a in schema.attributes.items() if not _is_argument(a)}
    if not attrs:
        return "None.\n"
    rows = [
        f"| `{n}` | `{a.type}` | {_notes(a)} | {_cell(a.description)} |"
        for n, a in sorted(attrs.items())
    ]
    return _ATTR_HEAD + "\n".join(rows) + "\n"


def _rules(schema: Schema) -> str:
    if not schema.rules:
        return "This type enforces no platform rule of its own.\n"
    ids = ", ".join(_code(r) for r in schema.rules)
    return (
        f"The platform rules this type enforces, by their ids in the rule table: {ids}. "
        "Each is checked when the plan is made and again when the platform makes the change.\n"
    )


def type_page(type_name: str, source: str, schema: Schema) -> str:
    """The reference page of one resource type."""
    page = _Page()
    page.add(f"{GENERATED}\n\n# `{type_name}`\n")
    if schema.description:
        page.add(schema.description + "\n")
    page.add(f"Provider: `{source}`. Schema version: {schema.version}. [All types]({INDEX}).\n")
    page.add("## Example\n")
    page.add(f"```hcl\n{schema.example.strip()}\n```\n" if schema.example else "None yet.\n")
    page.arguments(schema, "Arguments", 2, describe=False)
    page.add("## Attributes\n\nComputed by the provider; other resources may refer to them.\n")
    page.add(_attributes(schema))
    page.add("## Rules\n")
    page.add(_rules(schema))
    return page.text()


def index_page(providers: dict[str, tuple[Schema | None, dict[str, Schema]]]) -> str:
    """The index: every resource type with its provider, description and rules; then each
    provider block's arguments."""
    page = _Page()
    page.add(f"{GENERATED}\n\n# Resource types\n")
    page.add(
        "One page per resource type, generated from its schema: run `make docs` after changing "
        "a schema, a type's `rules` or its `example` (a test fails while these pages are "
        "stale).\n"
    )
    types = sorted(
        (t, source, s) for source, (_, types) in providers.items() for t, s in types.items()
    )
    rows = [
        f"| [`{t}`]({t}.md) | `{source}` | {_cell(s.description)} | {', '.join(s.rules)} |"
        for t, source, s in types
    ]
    page.add(
        "| type | provider | description | rules |\n| --- | --- | --- | --- |\n"
        + "\n".join(rows)
        + "\n"
    )
    page.add("## Provider blocks\n")
    for source, (config, _) in sorted(providers.items()):
        name = source.rsplit("/", 1)[-1]
        page.arguments(
            config or Schema({}),
            f'`provider "{name}"` (`{source}`)',
            3,
            none="Takes no arguments.",
        )
    return page.text()


def resource_pages(
    providers: dict[str, tuple[Schema | None, dict[str, Schema]]],
) -> dict[str, str]:
    """File name → Markdown: ``<type>.md`` per resource type and the ``README.md`` index.
    ``providers``: by source address, the provider block's schema (None: it takes no
    arguments) and the resource types' schemas."""
    pages = {
        f"{t}.md": type_page(t, source, s)
        for source, (_, types) in sorted(providers.items())
        for t, s in sorted(types.items())
    }
    pages[INDEX] = index_page(providers)
    return pages
