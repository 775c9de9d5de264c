"""EXT-4 for derived values: a value computed from a sensitive one is sensitive too.

A sensitive variable flows through a local, a function (``upper``), a template and
``bcdr_data`` (``input`` → ``output``, then into another ``bcdr_data``); with a state key
no file of ``.bcdr/`` (nor the saved plan) holds any of the derived plaintexts, and no
command prints them. An output of a sensitive value must say ``sensitive = true``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.conftest import write
from tests.cli.test_state_encryption import KEY_A, env

SECRET = "pa55-derived-secret"
PLAINTEXTS = (SECRET, SECRET.upper())

SPEC = """
variable "token" {
  type      = string
  sensitive = true
}

locals {
  shout    = upper(var.token)
  greeting = "hello ${var.token}!"
}

resource "bcdr_data" "direct" {
  input = var.token
}

resource "bcdr_data" "derived" {
  input = { shout = local.shout, greeting = local.greeting, n = 1 }
}

resource "bcdr_data" "chained" {
  input = "copy of ${bcdr_data.direct.output}"
}

resource "bcdr_data" "plain" {
  input = bcdr_data.direct.id
}

output "token" {
  value     = bcdr_data.chained.output
  sensitive = true
}

output "ids" {
  value = [bcdr_data.direct.id, bcdr_data.plain.output]
}
"""


def files_holding(root: Path, needle: bytes) -> list[str]:
    """Every file under ``root`` whose bytes hold ``needle``."""
    return [str(p) for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]


def test_ext4_derived_values_are_sealed_and_never_printed(bcdr, workdir):
    write(workdir, SPEC)
    keyed = env(BCDR_STATE_KEY=KEY_A)
    var = ["-var", f"token={SECRET}"]
    (workdir / ".bcdr").mkdir()  # the plan file is kept in .bcdr/, searched below
    planned = bcdr("plan", "-no-color", *var, "-out", ".bcdr/first.plan", env=keyed)
    assert planned.exit_code == 0, planned.output
    applied = bcdr("apply", "-no-color", ".bcdr/first.plan", env=keyed)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 4 added" in applied.output
    runs = {
        "plan": ["plan", "-no-color", *var],
        "plan -json": ["plan", "-json", *var],
        "plan -out": ["plan", "-no-color", *var, "-out", ".bcdr/second.plan"],
        "show plan": ["show", "-no-color", ".bcdr/second.plan"],
        "show -json plan": ["show", "-json", ".bcdr/second.plan"],
        "show": ["show", "-no-color"],
        "show -json": ["show", "-json"],
        "output": ["output", "-no-color"],
        "output token": ["output", "-no-color", "token"],
        "drift -json": ["drift", "-json", *var],
        **{
            f"state show {n}": ["state", "show", "-no-color", f"bcdr_data.{n}"]
            for n in ("direct", "derived", "chained")
        },
    }
    outputs = {name: bcdr(*args, env=keyed) for name, args in runs.items()}
    for name, result in outputs.items():
        assert result.exit_code == 0, f"{name}: {result.output}"
        for text in PLAINTEXTS:
            assert text not in result.output, f"{name} printed {text!r}:\n{result.output}"
    changed = bcdr("apply", "-auto-approve", "-no-color", "-var", f"token={SECRET}2", env=keyed)
    assert changed.exit_code == 0, changed.output
    assert "Resources: 0 added, 3 changed" in changed.output
    assert SECRET not in changed.output and SECRET.upper() not in changed.output
    for text in PLAINTEXTS:  # state.db, its -wal, saved plans, history: all of .bcdr/
        assert files_holding(workdir / ".bcdr", text.encode()) == [], text
    shown = json.loads(outputs["show -json"].output)
    resources = {r["name"]: r for r in shown["values"]["root_module"]["resources"]}
    for name in ("direct", "derived", "chained"):
        values = resources[name]["values"]
        assert values["output"] == "(sensitive value)", name
        assert resources[name]["sensitive_values"]["output"] is True, name
    assert resources["plain"]["values"]["output"] == resources["direct"]["values"]["id"]
    assert resources["plain"]["sensitive_values"] == {}  # each instance its own
    assert "(sensitive value)" in outputs["state show chained"].output
    assert "token = <sensitive>" in outputs["output"].output
    assert bcdr("output", "-raw", "token", env=keyed).output == f"copy of {SECRET}2"
    derived = bcdr("output", "-json", env=keyed)
    assert json.loads(derived.output)["ids"]["sensitive"] is False


def test_ext4_output_of_a_derived_value_needs_sensitive_true(bcdr, workdir):
    write(
        workdir,
        SPEC
        + """
output "shout" {
  value = "${local.shout}?"
}
""",
    )
    var = ["-var", f"token={SECRET}"]
    for command in (["validate", "-no-color"], ["plan", "-no-color", *var]):
        result = bcdr(*command, env=env())
        assert result.exit_code == 1, result.output
        assert "Output refers to sensitive values" in result.output
        line = SPEC.count("\n") + 1  # the output block, after the blank line
        assert f"main.hcl:{line}" in result.output  # the detail names file:line
        assert "sensitive = true" in result.output
        assert SECRET.upper() not in result.output


def test_ext4_output_of_a_provider_derived_value_needs_sensitive_true(bcdr, workdir):
    write(workdir, SPEC.replace("  sensitive = true\n}\n\noutput", "}\n\noutput"))
    for command in (["validate", "-no-color"], ["plan", "-no-color", "-var", f"token={SECRET}"]):
        result = bcdr(*command, env=env())
        assert result.exit_code == 1, result.output
        assert result.output.count("Output refers to sensitive values") == 1
        assert 'output "token"' in result.output and "sensitive = true" in result.output


def test_ext4_without_key_the_warning_names_derived_writes(bcdr, workdir):
    write(workdir, SPEC)
    applied = bcdr("apply", "-auto-approve", "-no-color", "-var", f"token={SECRET}", env=env())
    assert applied.exit_code == 0, applied.output
    assert "Sensitive values stored in plaintext" in applied.output
    written = applied.output.split("Written for:")[1].split(".\n")[0]
    for address in ("bcdr_data.direct", "bcdr_data.derived", "bcdr_data.chained"):
        assert address in written
    assert "bcdr_data.plain" not in written


def test_ext4_apply_seals_values_a_state_stored_before_they_were_marked(bcdr, workdir):
    write(workdir, SPEC)
    keyed = env(BCDR_STATE_KEY=KEY_A)
    var = ["-var", f"token={SECRET}"]
    assert bcdr("apply", "-auto-approve", *var, env=keyed).exit_code == 0
    db = sqlite3.connect(workdir / ".bcdr" / "state.db")
    with db:  # as a state written before output was marked: output in plaintext
        row = db.execute("SELECT attributes FROM instances WHERE address = 'bcdr_data.direct'")
        attrs = json.loads(row.fetchone()[0])
        attrs["output"] = SECRET
        db.execute(
            "UPDATE instances SET attributes = ?, sensitive = '[\"input\"]' "
            "WHERE address = 'bcdr_data.direct'",
            [json.dumps(attrs)],
        )
    db.close()
    again = bcdr("apply", "-auto-approve", "-no-color", *var, env=keyed)
    assert again.exit_code == 0, again.output
    assert "sensitivity changed: output will be sealed" in again.output  # like Terraform
    assert "Resources: 0 added, 1 changed, 0 destroyed" in again.output
    db = sqlite3.connect(workdir / ".bcdr" / "state.db")
    text, paths = db.execute(
        "SELECT attributes, sensitive FROM instances WHERE address = 'bcdr_data.direct'"
    ).fetchone()
    db.close()
    assert SECRET not in text and json.loads(paths) == ["input", "output"]
    shown = bcdr("state", "show", "-no-color", "bcdr_data.direct", env=keyed)
    assert SECRET not in shown.output and "(sensitive value)" in shown.output


def test_ext4_an_invalid_sensitive_argument_is_reported_without_its_value(
    bcdr, workdir, test_provider
):
    write(
        workdir,
        """
        variable "token" {
          type      = string
          sensitive = true
        }

        resource "test_thing" "a" {
          name = "a"
          size = "${var.token}-3"
        }
        """,
    )
    result = bcdr("plan", "-no-color", "-var", f"token={SECRET}", env=env())
    assert result.exit_code == 1, result.output
    assert 'Invalid value for "size"' in result.output
    assert "main.hcl:8: this argument is sensitive" in result.output
    assert SECRET not in result.output


def test_ext4_a_sensitive_for_each_is_refused_as_its_keys_are_shown(bcdr, workdir):
    write(
        workdir,
        """
        variable "token" {
          type      = string
          sensitive = true
        }

        resource "bcdr_data" "each" {
          for_each = toset([var.token])
          input    = each.key
        }
        """,
    )
    result = bcdr("plan", "-no-color", "-var", f"token={SECRET}", env=env())
    assert result.exit_code == 1, result.output
    assert "Invalid for_each argument" in result.output
    assert "main.hcl:7: the for_each of bcdr_data.each is sensitive" in result.output
    assert "nonsensitive()" in result.output and SECRET not in result.output
