"""``docs/resources/`` through the real CLI: current with the schemas, examples that validate,
rule ids that the code carries, and ``bcdr providers docs`` replacing only its own pages.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from engine.registry import load_registry
from engine.render.resource_docs import GENERATED, INDEX
from tests.cli.conftest import REPO, write

DOCS = REPO / "docs" / "resources"
SOURCE_PACKAGES = ("sdk", "engine", "state", "providers", "core")
RULE_ID = re.compile(r"^[A-Z]+-\d+$")
# a rule's tag in a comment: "# rule RP-10: ..." (or "# rule RP-3, EXT-1")
RULE_TAG = re.compile(r"#\s*rule\s+([A-Z]+-\d+(?:\s*,\s*[A-Z]+-\d+)*)")


def _schemas() -> dict:
    registry = load_registry()
    try:
        return {t: registry.schema(t) for t in registry.types()}
    finally:
        registry.close()


SCHEMAS = _schemas()


def test_checked_in_reference_docs_match_the_schemas(bcdr, tmp_path):
    fresh = tmp_path / "fresh"
    result = bcdr("providers", "docs", "-out", str(fresh))
    assert result.exit_code == 0, result.output
    want = {p.name: p.read_bytes() for p in fresh.iterdir()}
    have = {p.name: p.read_bytes() for p in DOCS.glob("*.md")} if DOCS.is_dir() else {}
    stale = sorted(n for n in want.keys() | have.keys() if want.get(n) != have.get(n))
    assert not stale, f"docs/resources is stale ({', '.join(stale)}): run make docs"
    assert set(want) == {f"{t}.md" for t in SCHEMAS} | {INDEX}


def test_every_type_has_a_description_and_an_example():
    for type_name, schema in SCHEMAS.items():
        assert schema.description.strip(), f"{type_name} has no description"
        assert f'resource "{type_name}"' in schema.example, f"{type_name}'s example lacks it"


@pytest.mark.parametrize("type_name", sorted(SCHEMAS))
def test_every_types_example_validates_and_is_formatted(bcdr, workdir, type_name):
    write(workdir, SCHEMAS[type_name].example)
    result = bcdr("validate", "-no-color")
    assert result.exit_code == 0, result.output
    assert "Success! The configuration is valid." in result.output
    assert "Warning" not in result.output, result.output
    fmt = bcdr("fmt", "-check", "-diff", "-no-color")
    assert fmt.exit_code == 0, f"{type_name}'s example is not formatted:\n{fmt.output}"


def _rule_tags() -> set[str]:
    """Every rule id tagged ``# rule ID`` in a comment of the source (tests excluded)."""
    tags: set[str] = set()
    for package in SOURCE_PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type == tokenize.COMMENT and (m := RULE_TAG.match(tok.string)):
                    tags.update(r.strip() for r in m.group(1).split(","))
    return tags


def test_every_rule_a_type_lists_is_tagged_in_the_source():
    tags = _rule_tags()
    assert "RP-12" in tags  # the scan finds the tags it is meant to
    listed = 0
    for type_name, schema in SCHEMAS.items():
        assert len(set(schema.rules)) == len(schema.rules), f"{type_name} lists a rule twice"
        for rule in schema.rules:
            listed += 1
            assert RULE_ID.match(rule), f"{type_name}: {rule!r} is no rule id"
            assert rule in tags, f"{type_name} lists {rule}, which no `# rule {rule}` tags"
    assert listed > 0


def test_docs_replaces_its_own_pages_only(bcdr, tmp_path):
    out = tmp_path / "pages"
    out.mkdir()
    (out / "gone_type.md").write_text(f"{GENERATED}\n\n# `gone_type`\n", encoding="utf-8")
    (out / "notes.md").write_text("# Notes\n\nwritten by hand\n", encoding="utf-8")
    (out / "managed_disk.md").write_text(f"{GENERATED}\n\nold text\n", encoding="utf-8")

    first = bcdr("providers", "docs", "-out", str(out))
    assert first.exit_code == 0, first.output
    n = len(SCHEMAS) + 1
    assert f"{n} pages written, 0 unchanged, 1 removed." in first.output
    assert not (out / "gone_type.md").exists()
    assert (out / "notes.md").read_text(encoding="utf-8") == "# Notes\n\nwritten by hand\n"
    page = (out / "managed_disk.md").read_text(encoding="utf-8")
    assert page.startswith(GENERATED) and "# `managed_disk`" in page
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.md" for t in SCHEMAS] + [INDEX, "notes.md"]
    )  # no temporary file left behind

    again = bcdr("providers", "docs", "-out", str(out))
    assert again.exit_code == 0, again.output
    assert f"0 pages written, {n} unchanged, 0 removed." in again.output


def test_docs_out_defaults_to_docs_resources_under_chdir(bcdr, workdir: Path):
    result = bcdr("providers", "docs")
    assert result.exit_code == 0, result.output
    assert (
        (workdir / "docs" / "resources" / INDEX).read_text(encoding="utf-8").startswith(GENERATED)
    )


def test_docs_into_a_file_is_refused_with_what_to_do(bcdr, workdir: Path):
    (workdir / "taken").write_text("a file\n", encoding="utf-8")
    result = bcdr("providers", "docs", "-out", "taken")
    assert result.exit_code == 1
    assert "Cannot write the reference pages into" in result.output
    assert "Give -out a folder you can write to." in result.output
