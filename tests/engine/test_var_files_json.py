"""JSON variable files (``-var-file=x.json``, ``*.auto.hcl.json``) read as Terraform reads
``*.tfvars.json``, and ``-var`` / ``-var-file`` applied in command-line order."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from engine.cli.app import main
from engine.config import load_config
from engine.varfiles import read_json_var_file
from engine.varvalues import collect_variable_values

SPEC = """
variable "region" {
  type    = string
  default = "from-default"
}

variable "zones" {
  type    = list(string)
  default = []
}

variable "sizes" {
  type    = map(number)
  default = {}
}

output "region" {
  value = var.region
}
"""


def _config(tmp_path: Path, **files: str):
    (tmp_path / "main.hcl").write_text(SPEC, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    cfg, diags = load_config(tmp_path, cache=False)
    assert not diags, [d.summary for d in diags]
    return cfg


def _collect(cfg, files=(), cli=(), ordered=None):
    return collect_variable_values(
        cfg, cli_vars=list(cli), var_files=list(files), environ={}, ordered=ordered
    )


def test_a_json_file_sets_values_literally_with_their_types(tmp_path):
    cfg = _config(tmp_path)
    path = tmp_path / "prod.json"
    path.write_text(
        json.dumps({"region": "${var.other}", "zones": ["1", "2"], "sizes": {"os": 64}})
    )
    values, diags = _collect(cfg, files=[path])
    assert not diags.has_errors, [d.summary for d in diags]
    # a string is taken as it is, never as a template, as in *.tfvars.json
    assert values == {"region": "${var.other}", "zones": ["1", "2"], "sizes": {"os": 64}}


def test_auto_json_files_are_read_in_one_name_order_with_auto_hcl(tmp_path):
    cfg = _config(
        tmp_path,
        **{
            "a.auto.hcl": 'region = "from-a-hcl"\n',
            "b.auto.hcl.json": '{"region": "from-b-json"}',
        },
    )
    assert cfg.var_files == ["a.auto.hcl", "b.auto.hcl.json"]
    values, _ = _collect(cfg)
    assert values["region"] == "from-b-json"  # b sorts after a: the last one read wins

    (tmp_path / "c.auto.hcl").write_text('region = "from-c-hcl"\n')
    cfg, _ = load_config(tmp_path, cache=False)
    values, _ = _collect(cfg)
    assert values["region"] == "from-c-hcl"


def test_an_undeclared_name_warns_at_its_own_line(tmp_path):
    cfg = _config(tmp_path)
    path = tmp_path / "x.json"
    path.write_text('{\n  "region": "r",\n  "regoin": "typo"\n}\n')
    values, diags = _collect(cfg, files=[path])
    assert values["region"] == "r"
    (warned,) = diags.warnings()
    assert warned.summary == 'Value for undeclared variable "regoin"'
    assert (warned.range.line, warned.range.column) == (3, 3)


def test_broken_json_is_one_error_naming_file_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "region": "r",\n  "zones": [1, 2,]\n}\n')
    entries, diags = read_json_var_file(path, "bad.json")
    assert entries == []  # nothing half-read
    (err,) = diags.errors()
    assert err.summary == "Invalid JSON variable file bad.json"
    assert (err.range.filename, err.range.line) == ("bad.json", 3)
    assert "one object of names and values" in err.detail


def test_a_json_document_that_is_not_an_object_is_refused(tmp_path):
    for text, what in (('["region"]', "does not start with {"), ("{} {}", "more after")):
        path = tmp_path / "list.json"
        path.write_text(text)
        _, diags = read_json_var_file(path, "list.json")
        (err,) = diags.errors()
        assert what in err.detail


def test_a_missing_json_file_says_so(tmp_path):
    _, diags = read_json_var_file(tmp_path / "nope.json", "nope.json")
    (err,) = diags.errors()
    assert err.summary == "Variable file nope.json does not exist"


def _output(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(
        main, ["-chdir", str(tmp_path), "apply", "-auto-approve", "-no-color", *args]
    )
    assert result.exit_code == 0, result.output
    shown = CliRunner().invoke(main, ["-chdir", str(tmp_path), "output", "-raw", "region"])
    assert shown.exit_code == 0, shown.output
    return shown.output.strip()


def test_var_and_var_file_apply_in_command_line_order(tmp_path):
    _config(tmp_path)
    (tmp_path / "a.json").write_text('{"region": "from-a-json"}')
    (tmp_path / "b.vars").write_text('region = "from-b-hcl"\n')

    # Terraform applies -var and -var-file in the order given: the last one wins
    assert _output(tmp_path, "-var-file=a.json", "-var", "region=from-cli") == "from-cli"
    assert _output(tmp_path, "-var", "region=from-cli", "-var-file=a.json") == "from-a-json"
    assert (
        _output(tmp_path, "-var-file", "b.vars", "-var=region=from-cli", "-var-file=a.json")
        == "from-a-json"
    )
    assert _output(tmp_path, "-var-file=a.json", "-var-file=b.vars") == "from-b-hcl"
