"""Loading spec directories: the Config built, every config error with file:line, the cache."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from engine import hcltree as config_mod  # the parser boundary: the only hcl2 import
from engine.config import load_config
from engine.configmodel import NOTSET, Config
from engine.expr import evaluate, references
from engine.exprnodes import EvalContext, Expr
from sdk.addrs import ResourceAddr

FIXTURES = Path(__file__).parent / "fixtures_config"


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _messages(diags) -> list[str]:
    return [f"{d.range}: {d.summary} -- {d.detail}" for d in diags]


def test_valid_fixture_loads_into_config(tmp_path):
    cfg, diags = load_config(_copy("valid", tmp_path), cache=False)
    assert not diags, _messages(diags)
    assert isinstance(cfg, Config)
    assert cfg.files == ["disks.hcl", "main.hcl"]
    assert cfg.var_files == ["values.auto.hcl"]
    assert set(cfg.providers) == {"platform"}
    assert str(cfg.providers["platform"].range) == "main.hcl:2"

    env, sizes, secret = cfg.variables["env"], cfg.variables["sizes"], cfg.variables["secret"]
    assert env.default == "prod" and str(env.type) == "string"
    assert env.description == "environment name"
    assert sizes.default == {"small": 8, "large": 64}  # converted to map(number)
    assert secret.default is NOTSET and secret.sensitive and not secret.nullable
    assert len(secret.validations) == 1
    assert str(secret.validations[0].range) == "main.hcl:22"

    assert str(cfg.locals["prefix"].range) == "main.hcl:29"

    base = cfg.resources[ResourceAddr("bcdr_data", "base")]
    assert base.lifecycle.prevent_destroy and base.lifecycle.create_before_destroy
    assert base.lifecycle.ignore_changes == ["input", "triggers_replace"]
    assert str(base.range) == "main.hcl:32"
    assert "lifecycle" not in [b.type for b in base.body.blocks]

    disk = cfg.resources[ResourceAddr("bcdr_data", "disk")]
    assert disk.count is None and isinstance(disk.for_each, Expr)
    assert set(disk.body.attributes) == {"input"}  # meta-arguments are taken out
    assert [b.type for b in disk.body.blocks] == ["nested"]
    assert [(str(a), str(r)) for a, r in disk.depends_on] == [("bcdr_data.base", "disks.hcl:4")]
    assert str(disk.body.attributes["input"].range) == "disks.hcl:3"

    copies = cfg.resources[ResourceAddr("bcdr_data", "copies")]
    assert isinstance(copies.count, Expr) and copies.for_each is None
    refs = references(copies.body.attributes["input"].expr)
    assert [r.subject for r in refs] == [ResourceAddr("bcdr_data", "disk")]

    out = cfg.outputs["copy_ids"]
    assert out.sensitive and out.description == "ids of the copies"
    assert [str(a) for a, _ in out.depends_on] == ["bcdr_data.disk"]


def test_expressions_in_loaded_config_evaluate(tmp_path):
    cfg, _ = load_config(_copy("valid", tmp_path), cache=False)
    ctx = EvalContext(
        variables={"env": "dev"},
        locals={},
        resources=lambda a: {},
        each_key="small",
        each_value=8,
        has_each=True,
    )
    prefix = evaluate(cfg.locals["prefix"].expr, ctx)
    ctx.locals = {"prefix": prefix}
    disk = cfg.resources[ResourceAddr("bcdr_data", "disk")]
    assert evaluate(disk.body.attributes["input"].expr, ctx) == "bcdr-dev-small-8"


EXPECTED_ERRORS = [
    ("a.hcl:7", "sets both count and for_each"),
    ("a.hcl:10", "A resource block needs 2 labels, found 1"),
    ("a.hcl:14", 'Unknown block type "module"'),
    ("a.hcl:19", "Invalid depends_on entry var.x"),
    ("a.hcl:19", "Invalid depends_on entry bcdr_data.dup.id"),
    ("a.hcl:19", 'Invalid depends_on entry "bcdr_data.dup"'),
    ("a.hcl:23", 'Unsupported argument "destroy_later" in a lifecycle block'),
    ("a.hcl:28", 'variable "computed": the default must be a literal value'),
    ("a.hcl:32", "Invalid type: unknown type 'lst'"),
    ("a.hcl:35", 'output "noval" has no value'),
    ("b.hcl:1", 'Duplicate resource "bcdr_data.dup"'),
    ("b.hcl:5", 'Duplicate variable "computed"'),
    ("b.hcl:13", 'Duplicate local value "x"'),
    ("b.hcl:20", 'Duplicate output "o"'),
    ("c.hcl:3", "Syntax error: unexpected '}'"),
]


def test_every_config_error_is_reported_together_with_file_and_line(tmp_path):
    cfg, diags = load_config(_copy("errors", tmp_path), cache=False)
    assert diags.has_errors
    got = [(str(d.range), d.summary) for d in diags]
    for where, summary in EXPECTED_ERRORS:
        assert any(w == where and summary in s for w, s in got), (where, summary, got)
    assert len(diags.errors()) == len(EXPECTED_ERRORS), _messages(diags)
    # a good part of the files still loads
    assert ResourceAddr("bcdr_data", "dup") in cfg.resources


def test_duplicates_name_both_places(tmp_path):
    _, diags = load_config(_copy("errors", tmp_path), cache=False)
    dup = next(d for d in diags if "Duplicate resource" in d.summary)
    assert "a.hcl:1" in dup.detail and "b.hcl:1" in dup.detail
    assert "rename or remove" in dup.detail


def test_an_unclosed_block_says_unexpected_end_of_the_file(tmp_path):
    _write(tmp_path, {"a.hcl": "locals {\n  a = 1\n", "b.hcl": 'locals {\n  b = "x\n'})
    _, diags = load_config(tmp_path, cache=False)
    got = sorted((str(d.range), d.summary, d.detail.split("; ")[1]) for d in diags)
    todo = 'a block, list or string is not closed: add the missing }, ] or "'
    assert got == [
        ("a.hcl:3", "Syntax error: unexpected end of the file", todo),
        ("b.hcl:2", "Syntax error: unexpected end of the file", todo),
    ]


def test_syntax_errors_in_every_file_are_reported(tmp_path):
    _write(
        tmp_path,
        {
            "a.hcl": 'resource "bcdr_data" "a" {\n  input = \n}\n',
            "b.hcl": 'variable "v" {\n  default = "x\n',
            "c.hcl": 'output "o" {\n  value = 1 +\n}\n',
            "d.hcl": "locals {\n  a = 1 b = 2\n}\n",
        },
    )
    _, diags = load_config(tmp_path, cache=False)
    files = sorted({d.range.filename for d in diags})
    assert files == ["a.hcl", "b.hcl", "c.hcl", "d.hcl"]
    for d in diags:
        assert d.summary.startswith(("Syntax error", "Two items on one line"))
        assert d.detail  # says what to do
    by_file = {d.range.filename: d.range.line for d in diags}
    assert by_file["a.hcl"] == 2  # "input =" with no value
    assert by_file["c.hcl"] == 3
    assert by_file["d.hcl"] == 2


@pytest.mark.parametrize(
    ("text", "where", "summary"),
    [
        ("x = 1\n", "main.hcl:1", 'Unexpected argument "x" at the top level'),
        ('resource "t" "a" {\n  a = 1\n  a = 2\n}\n', "main.hcl:3", 'Duplicate argument "a"'),
        ('resource "t" "a b" {\n}\n', "main.hcl:1", 'Invalid name "a b"'),
        (
            'resource "t" "a" {\n  lifecycle {}\n  lifecycle {}\n}\n',
            "main.hcl:3",
            "more than one lifecycle block",
        ),
        (
            'resource "t" "a" {\n  lifecycle {\n    ignore_changes = 5\n  }\n}\n',
            "main.hcl:3",
            "ignore_changes must be a list",
        ),
        (
            'resource "t" "a" {\n  lifecycle {\n    prevent_destroy = "yes"\n  }\n}\n',
            "main.hcl:3",
            '"prevent_destroy" must be a bool',
        ),
        ('resource "t" "a" {\n  depends_on = t.b\n}\n', "main.hcl:2", "depends_on must be a list"),
        ('variable "v" {\n  type = list(strin)\n}\n', "main.hcl:2", "Invalid type"),
        (
            'variable "v" {\n  type = number\n  default = "abc"\n}\n',
            "main.hcl:3",
            "the default does not match type number",
        ),
        ('variable "v" {\n  colour = 1\n}\n', "main.hcl:2", 'Unsupported argument "colour"'),
        ('variable "v" {\n  validation {\n  }\n}\n', "main.hcl:2", "needs condition"),
        ("locals {\n  a {\n  }\n}\n", "main.hcl:2", "A locals block holds only"),
        ('output "o" {\n  value = 1\n  sensitive = 1\n}\n', "main.hcl:3", "must be a bool"),
        ('x = "${a}\\q"\n', "main.hcl:1", "Invalid escape sequence"),
        ('x = "\\udb55\\ude7a"\n', "main.hcl:1", "Invalid escape sequence \\udb55"),
        ('x = "\\U00110000"\n', "main.hcl:1", "Invalid escape sequence \\U00110000"),
        ('provider "p" {}\nprovider "p" {}\n', "main.hcl:2", "Duplicate provider configuration"),
    ],
)
def test_single_config_errors(tmp_path, text, where, summary):
    _write(tmp_path, {"main.hcl": text})
    _, diags = load_config(tmp_path, cache=False)
    got = [(str(d.range), d.summary) for d in diags]
    assert any(w == where and summary in s for w, s in got), got


def test_empty_directory_says_what_to_do(tmp_path):
    _, diags = load_config(tmp_path, cache=False)
    assert diags.has_errors and "main.hcl" in diags[0].detail


def test_auto_hcl_and_subdirectories_are_not_specs(tmp_path):
    _write(tmp_path, {"main.hcl": 'variable "a" {}\n', "x.auto.hcl": "a = 1\n"})
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "other.hcl").write_text("this is not hcl {{{", encoding="utf-8")
    cfg, diags = load_config(tmp_path, cache=False)
    assert not diags and cfg.files == ["main.hcl"] and cfg.var_files == ["x.auto.hcl"]


# ---------------------------------------------------------------- the parse cache


def _big(n: int) -> str:
    return "\n".join(
        f'resource "bcdr_data" "r{i}" {{\n  input = "${{var.p}}-{i}"\n  prev = '
        f"{'bcdr_data.r' + str(i - 1) + '.output' if i else 'null'}\n}}\n"
        for i in range(n)
    )


def _initialised(tmp_path: Path) -> None:
    """A spec folder bcdr has worked in: its .bcdr/ exists, so the parse cache is kept."""
    (tmp_path / ".bcdr").mkdir()


def test_a_fresh_folder_gets_no_cache(tmp_path):
    """Issue 10.5: a plan in a fresh folder writes nothing, the parse cache included."""
    _write(tmp_path, {"main.hcl": _big(3)})
    cfg, diags = load_config(tmp_path)
    assert not diags and len(cfg.resources) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.hcl"]


def test_second_load_hits_the_cache_without_parsing(tmp_path, monkeypatch):
    _initialised(tmp_path)
    _write(tmp_path, {"main.hcl": _big(50)})
    first, diags = load_config(tmp_path)
    assert not diags
    entries = list((tmp_path / ".bcdr" / "cache" / "hcl").glob("*.pickle"))
    assert len(entries) == 1

    def boom(*args, **kwargs):
        raise AssertionError("the parser must not run on a cache hit")

    monkeypatch.setattr(config_mod.hcl2, "parses_to_tree", boom)
    second, diags = load_config(tmp_path)
    assert not diags
    assert list(second.resources) == list(first.resources)
    r = second.resources[ResourceAddr("bcdr_data", "r7")]
    assert [str(x.subject) for x in references(r.body.attributes["prev"].expr)] == ["bcdr_data.r6"]
    assert str(r.body.attributes["input"].range) == "main.hcl:" + str(7 * 5 + 2)


def test_changed_file_is_parsed_again(tmp_path):
    _initialised(tmp_path)
    _write(tmp_path, {"main.hcl": _big(2)})
    load_config(tmp_path)
    _write(tmp_path, {"main.hcl": _big(3)})
    cfg, _ = load_config(tmp_path)
    assert len(cfg.resources) == 3
    assert len(list((tmp_path / ".bcdr" / "cache" / "hcl").glob("*.pickle"))) == 2


def test_corrupt_cache_entry_is_ignored_and_rewritten(tmp_path):
    _initialised(tmp_path)
    _write(tmp_path, {"main.hcl": _big(3)})
    load_config(tmp_path)
    (entry,) = (tmp_path / ".bcdr" / "cache" / "hcl").glob("*.pickle")
    entry.write_bytes(b"\x80\x05garbage")
    cfg, diags = load_config(tmp_path)
    assert not diags and len(cfg.resources) == 3
    cfg2, _ = load_config(tmp_path)  # rewritten entry is valid again
    assert len(cfg2.resources) == 3
    assert entry.read_bytes()[:2] != b"\x80\x05garbage"[:2] or entry.stat().st_size > 20


def test_cache_keeps_diagnostics(tmp_path):
    _write(tmp_path, {"main.hcl": 'module "m" {}\n'})
    _, first = load_config(tmp_path)
    _, second = load_config(tmp_path)
    assert [d.summary for d in first] == [d.summary for d in second] != []


def test_cache_false_writes_nothing(tmp_path):
    _write(tmp_path, {"main.hcl": _big(2)})
    load_config(tmp_path, cache=False)
    assert not (tmp_path / ".bcdr").exists()


def test_a_cached_load_does_not_parse_again(tmp_path, monkeypatch):
    """The parse cache serves every unchanged file: the parser is not called (how much
    faster that is lives in bench/engine_scale.py)."""
    import engine.hcltree

    _initialised(tmp_path)
    _write(tmp_path, {"main.hcl": _big(400)})
    load_config(tmp_path)

    def parse_body(*args, **kwargs):
        raise AssertionError("parsed a file the cache holds")

    monkeypatch.setattr(engine.hcltree, "parse_body", parse_body)
    cfg, _ = load_config(tmp_path)
    assert len(cfg.resources) == 400
    with pytest.raises(AssertionError, match="parsed a file"):  # without the cache it parses
        load_config(tmp_path, cache=False)


def test_old_cache_entries_are_pruned(tmp_path):
    _initialised(tmp_path)
    _write(tmp_path, {"main.hcl": _big(2)})
    load_config(tmp_path)
    (old,) = (tmp_path / ".bcdr" / "cache" / "hcl").glob("*.pickle")
    _write(tmp_path, {"main.hcl": _big(3)})
    load_config(tmp_path)
    assert old.exists()  # too young to remove: another process may still use it
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    load_config(tmp_path)
    assert not old.exists()
    assert len(list((tmp_path / ".bcdr" / "cache" / "hcl").glob("*.pickle"))) == 1


def test_utf8_bom_and_crlf_are_accepted(tmp_path):
    (tmp_path / "main.hcl").write_bytes(b'\xef\xbb\xbfvariable "v" {\r\n  default = 1\r\n}\r\n')
    cfg, diags = load_config(tmp_path, cache=False)
    assert not diags and cfg.variables["v"].default == 1
