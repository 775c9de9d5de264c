"""The reference pages rendered from a schema: what each table row says, on a schema made
here with every kind of argument (no provider involved)."""

from __future__ import annotations

from engine.render.resource_docs import GENERATED, INDEX, literal, resource_pages, type_page
from sdk.schema import Attribute, Schema

RULE = Schema(
    {
        "days": Attribute(type="number", required=True, description="how many | which"),
        "mode": Attribute(optional=True, default="Keep", allowed=("Keep", "Drop")),
    },
    description="One retention rule.",
)
WIDGET = Schema(
    {
        "name": Attribute(required=True, force_new=True, description="the widget's name"),
        "color": Attribute(optional=True, allowed=tuple(f"c{i:02}" for i in range(12))),
        "size": Attribute(type="number", optional=True, default=3.0),
        "labels": Attribute(type="list(string)", optional=True, default=["a", "b"]),
        "zone": Attribute(optional=True, computed=True, force_new=True),
        "password": Attribute(required=True, sensitive=True),
        "rule": Attribute(block=RULE, nesting="list", required=True),
        "id": Attribute(computed=True, description="the id"),
        "echo": Attribute(type="any", computed=True, derived_from=("password",)),
    },
    description="A widget for tests.",
    version=2,
    rules=("WID-1", "WID-2"),
    example='resource "widget" "w" {\n  name = "w"\n}\n',
)


def _row(page: str, name: str) -> str:
    return next(line for line in page.splitlines() if line.startswith(f"| `{name}` |"))


def test_type_page_has_description_example_and_a_row_per_argument():
    page = type_page("widget", "acme/widgets", WIDGET)
    assert page.startswith(GENERATED + "\n\n# `widget`\n")
    assert "A widget for tests." in page
    assert "Provider: `acme/widgets`. Schema version: 2." in page
    assert '```hcl\nresource "widget" "w" {\n  name = "w"\n}\n```' in page
    assert _row(page, "name") == (
        "| `name` | `string` | required |  |  | forces replacement | the widget's name |"
    )
    assert _row(page, "size") == "| `size` | `number` | optional | `3` |  |  |  |"
    assert _row(page, "labels").startswith(
        '| `labels` | `list(string)` | optional | `["a", "b"]` |'
    )
    assert "| forces replacement, computed when not set |" in _row(page, "zone")
    assert "| sensitive |" in _row(page, "password")
    # required arguments come first, then the optional ones, each by name
    names = [
        ln.split("`")[1]
        for ln in page.split("## Arguments")[1].split("###")[0].splitlines()
        if ln.startswith("| `")
    ]
    assert names == ["name", "password", "rule", "color", "labels", "size", "zone"]


def test_nested_block_gets_its_own_table_and_a_link():
    page = type_page("widget", "acme/widgets", WIDGET)
    assert "| `rule` | blocks (at least one) | required |" in page
    assert "see [`rule`](#block-rule)" in page
    block = page.split("### Block `rule`\n")[1].split("## Attributes")[0]
    assert "One retention rule." in block
    assert "| `days` | `number` | required |  |  |  | how many \\| which |" in block
    assert '| `mode` | `string` | optional | `"Keep"` | `"Keep"`, `"Drop"` |' in block


def test_long_allowed_lists_go_below_the_tables():
    page = type_page("widget", "acme/widgets", WIDGET)
    assert "| [one of 12](#allowed-values) |" in _row(page, "color")
    tail = page.split("## Allowed values\n\n")[1]
    assert tail.startswith("`color` takes one of 12 values:")
    assert '`"c00"`' in tail and '`"c11"`' in tail


def test_computed_attributes_and_rules():
    page = type_page("widget", "acme/widgets", WIDGET)
    attributes = page.split("## Attributes")[1].split("## Rules")[0]
    assert "| `id` | `string` |  | the id |" in attributes
    assert "| `echo` | `any` | sensitive when `password` is |  |" in attributes
    assert "`name`" not in attributes  # arguments are not repeated
    assert "by their ids in the rule table: `WID-1`, `WID-2`." in page
    bare = type_page("thing", "acme/widgets", Schema({"name": Attribute(required=True)}))
    assert "This type enforces no platform rule of its own." in bare
    assert "None yet." in bare  # no example


def test_pages_and_index_are_one_per_type_and_stable():
    config = Schema({"home": Attribute(optional=True, description="where")}, description="Acme.")
    providers = {
        "acme/widgets": (config, {"widget": WIDGET}),
        "acme/plain": (None, {"thing": Schema({}, description="A thing.")}),
    }
    pages = resource_pages(providers)
    assert sorted(pages) == [INDEX, "thing.md", "widget.md"]
    assert pages == resource_pages(dict(reversed(list(providers.items()))))
    index = pages[INDEX]
    assert "| [`thing`](thing.md) | `acme/plain` | A thing. |  |" in index
    assert (
        "| [`widget`](widget.md) | `acme/widgets` | A widget for tests. | WID-1, WID-2 |" in index
    )
    assert index.index("[`thing`]") < index.index("[`widget`]")
    assert '### `provider "plain"` (`acme/plain`)\n\nTakes no arguments.' in index
    assert "Acme." in index and "| `home` | `string` | optional |  |  |  | where |" in index


def test_literals_are_written_as_hcl():
    assert literal(True) == "true"
    assert literal(3600.0) == "3600"
    assert literal(0.5) == "0.5"
    assert literal("Read") == '"Read"'
    assert literal('Zürich "HQ"') == '"Zürich \\"HQ\\""'
    assert literal({"b": 1, "a": "x"}) == '{ a = "x", b = 1 }'
    assert literal([]) == "[]"
