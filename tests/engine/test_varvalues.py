"""Variable values: precedence, HCL parsing of -var values, conversion, validation."""

from __future__ import annotations

from pathlib import Path

from engine.config import load_config
from engine.varvalues import collect_variable_values

SPEC = """
variable "region" {
  type    = string
  default = "from-default"
}

variable "count_of" {
  type    = number
  default = 1
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "zones" {
  type    = list(string)
  default = ["a"]
}

variable "anything" {
  default = "x"
}
"""


def _setup(tmp_path: Path, spec: str = SPEC, **files: str):
    (tmp_path / "main.hcl").write_text(spec, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name.replace("__", ".")).write_text(text, encoding="utf-8")
    cfg, diags = load_config(tmp_path, cache=False)
    assert not diags, [d.summary for d in diags]
    return cfg


def collect(cfg, cli=(), files=(), env=None, ordered=None):
    return collect_variable_values(
        cfg, cli_vars=list(cli), var_files=list(files), environ=env or {}, ordered=ordered
    )


def test_defaults_when_nothing_is_given(tmp_path):
    values, diags = collect(_setup(tmp_path))
    assert not diags
    assert values == {
        "region": "from-default",
        "count_of": 1,
        "tags": {},
        "zones": ["a"],
        "anything": "x",
    }


def test_precedence_default_env_auto_varfile_var(tmp_path):
    cfg = _setup(
        tmp_path,
        a__auto__hcl='region = "from-a-auto"\ncount_of = 2\n',
        b__auto__hcl='region = "from-b-auto"\n',
    )
    env = {"BCDR_VAR_region": "from-env", "BCDR_VAR_count_of": "9", "BCDR_VAR_zones": '["e"]'}
    values, diags = collect(cfg, env=env)
    assert not diags
    # auto files beat the environment; the later auto file (sorted) wins
    assert values["region"] == "from-b-auto"
    assert values["count_of"] == 2
    assert values["zones"] == ["e"]  # environment beats the default, parsed as HCL

    vf = tmp_path / "prod.vars.hcl"
    vf.write_text('region = "from-var-file"\ntags = { team = "dr" }\n', encoding="utf-8")
    values, diags = collect(cfg, env=env, files=[vf])
    assert values["region"] == "from-var-file" and values["tags"] == {"team": "dr"}

    values, diags = collect(cfg, env=env, files=[vf], cli=["region=from-cli"])
    assert values["region"] == "from-cli"

    # in command-line order, a later -var-file beats an earlier -var
    values, diags = collect(cfg, ordered=[("var", "region=cli-first"), ("var-file", str(vf))])
    assert not diags and values["region"] == "from-var-file"


def test_cli_values_are_parsed_as_hcl_for_non_string_types(tmp_path):
    cfg = _setup(tmp_path)
    values, diags = collect(
        cfg,
        cli=['tags={a="b", n=1}', 'zones=["x", "y"]', "count_of=5", "region=[not, parsed]"],
    )
    assert not diags, [d.summary for d in diags]
    assert values["tags"] == {"a": "b", "n": "1"}  # converted to map(string)
    assert values["zones"] == ["x", "y"]
    assert values["count_of"] == 5
    assert values["region"] == "[not, parsed]"


def test_values_are_converted_and_bad_ones_reported(tmp_path):
    cfg = _setup(tmp_path)
    _, diags = collect(cfg, cli=["count_of=many"])
    (d,) = diags.errors()
    assert d.summary == 'Invalid value for variable "count_of"'
    assert "-var count_of" in d.detail and "number" in d.detail
    assert "main.hcl:7" in d.detail


def test_bad_value_in_a_file_points_at_its_line(tmp_path):
    cfg = _setup(tmp_path, x__auto__hcl='region = "ok"\ncount_of = "lots"\n')
    _, diags = collect(cfg)
    (d,) = diags.errors()
    assert str(d.range) == "x.auto.hcl:2"


def test_missing_required_variable_says_to_pass_var(tmp_path):
    cfg = _setup(tmp_path, 'variable "needed" {\n  type = string\n}\n')
    _, diags = collect(cfg)
    (d,) = diags.errors()
    assert d.summary == 'No value for required variable "needed"'
    assert "-var 'needed=...'" in d.detail
    assert str(d.range) == "main.hcl:1"


def test_undeclared_in_file_warns_undeclared_cli_errors(tmp_path):
    cfg = _setup(tmp_path, x__auto__hcl="nosuch = 1\n")
    values, diags = collect(cfg)
    assert not diags.has_errors
    (w,) = diags.warnings()
    assert 'undeclared variable "nosuch"' in w.summary and str(w.range) == "x.auto.hcl:1"
    _, diags = collect(cfg, cli=["other=1"])
    assert any('undeclared variable "other"' in d.summary for d in diags.errors())


def test_malformed_var_option_and_missing_var_file(tmp_path):
    cfg = _setup(tmp_path)
    _, diags = collect(cfg, cli=["novalue"], files=[tmp_path / "absent.hcl"])
    summaries = [d.summary for d in diags.errors()]
    assert any("Invalid -var option" in s for s in summaries)
    assert any("absent.hcl does not exist" in s for s in summaries)


def test_var_file_with_syntax_error_and_references(tmp_path):
    cfg = _setup(tmp_path, x__auto__hcl="region = var.other\nzones = [\n")
    _, diags = collect(cfg)
    assert any(str(d.range).startswith("x.auto.hcl:") for d in diags.errors())


VALIDATED = """
variable "retention" {
  type = number

  validation {
    condition     = var.retention >= 7 && var.retention <= 90
    error_message = "retention must be between 7 and 90 days, got ${var.retention}."
  }
}

variable "nonnull" {
  default  = "x"
  nullable = false
}
"""


def test_validation_blocks_run(tmp_path):
    cfg = _setup(tmp_path, VALIDATED)
    values, diags = collect(cfg, cli=["retention=30"])
    assert not diags and values["retention"] == 30
    _, diags = collect(cfg, cli=["retention=3"])
    (d,) = diags.errors()
    assert "retention must be between 7 and 90 days, got 3." in d.detail
    assert str(d.range) == "main.hcl:5"
    assert "main.hcl:2" in d.detail


def test_non_nullable_variable_refuses_null(tmp_path):
    cfg = _setup(tmp_path, VALIDATED, x__auto__hcl="retention = 10\nnonnull = null\n")
    _, diags = collect(cfg)
    (d,) = diags.errors()
    assert 'Variable "nonnull" must not be null' == d.summary


def test_a_validation_message_computed_from_a_sensitive_variable_is_not_shown(tmp_path):
    spec = VALIDATED.replace("type = number\n", "type      = number\n  sensitive = true\n", 1)
    cfg = _setup(tmp_path, spec)
    _, diags = collect(cfg, cli=["retention=3"])
    (d,) = diags.errors()
    assert d.summary == 'Invalid value for variable "retention"'
    assert "got 3" not in d.detail  # EXT-4: the message would print the secret
    assert "computed from a sensitive value, so not shown" in d.detail
