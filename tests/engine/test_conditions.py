"""Preconditions and postconditions in a resource's lifecycle, preconditions of outputs.

Real ``bcdr`` runs in a temporary folder (specs, ``.bcdr/state.db``), with the builtin
``bcdr_data`` and the platform's ``resource_group`` as subjects: a failed condition is an
error at the condition's file:line carrying its error_message; one whose value is known
only after apply is judged then, and a failure there stops what depends on the resource.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from engine.configmodel import FileParts
from engine.parsecache import cache_dir
from state import StateStore
from tests.cli.conftest import run_in, write


@pytest.fixture
def bcdr(tmp_path: Path):
    return lambda *args, **kw: run_in(tmp_path, *args, **kw)


def _addresses(workdir: Path) -> list[str]:
    path = workdir / ".bcdr" / "state.db"
    if not path.exists():
        return []
    with StateStore.open(path) as store:
        return sorted(r.address for r in store.instances())


PRE = """
variable "copies" {
  type    = number
  default = 2
}

resource "bcdr_data" "a" {
  input = var.copies
  lifecycle {
    precondition {
      condition     = var.copies >= 1
      error_message = "copies must be at least 1, not ${var.copies}"
    }
  }
}
"""


def test_a_failed_precondition_is_an_error_at_its_line_with_the_message(
    tmp_path: Path, bcdr
) -> None:
    write(tmp_path, PRE)
    ok = bcdr("plan", "-no-color")
    assert ok.exit_code == 0, ok.output
    bad = bcdr("apply", "-auto-approve", "-no-color", "-var", "copies=0")
    assert bad.exit_code == 1, bad.output
    assert "Error: Resource precondition failed" in bad.output
    assert 'on main.hcl line 10, in resource "bcdr_data" "a":' in bad.output
    assert "copies must be at least 1, not 0" in bad.output
    assert _addresses(tmp_path) == []  # the plan failed: nothing was made


DEFERRED = """
resource "bcdr_data" "source" {
  input = "made"
}

resource "bcdr_data" "guarded" {
  input = "guarded"
  lifecycle {
    precondition {
      condition     = bcdr_data.source.output == var.expected
      error_message = "source says ${bcdr_data.source.output}"
    }
  }
}

resource "bcdr_data" "after" {
  input = bcdr_data.guarded.output
}

variable "expected" {
  default = "made"
}
"""


def test_a_precondition_unknown_at_plan_is_judged_at_apply_and_stops_dependents(
    tmp_path: Path, bcdr
) -> None:
    write(tmp_path, DEFERRED)
    plan = bcdr("plan", "-json", "-var", "expected=other")
    assert plan.exit_code == 0, plan.output
    checks = {c["address"]["to_display"]: c["status"] for c in json.loads(plan.output)["checks"]}
    assert checks == {"bcdr_data.guarded": "unknown"}

    applied = bcdr("apply", "-auto-approve", "-no-color", "-var", "expected=other")
    assert applied.exit_code == 1, applied.output
    assert "Error: Resource precondition failed" in applied.output
    assert "source says made" in applied.output
    assert "bcdr_data.after" in applied.output  # skipped, named
    assert _addresses(tmp_path) == ["bcdr_data.source"]

    fixed = bcdr("apply", "-auto-approve", "-no-color")
    assert fixed.exit_code == 0, fixed.output
    assert _addresses(tmp_path) == ["bcdr_data.after", "bcdr_data.guarded", "bcdr_data.source"]


POST = """
variable "want" {
  default = "one"
}

resource "bcdr_data" "a" {
  input = "one"
  lifecycle {
    postcondition {
      condition     = self.output == var.want
      error_message = "output is ${self.output}, wanted ${var.want}"
    }
  }
}

resource "bcdr_data" "b" {
  input = bcdr_data.a.output
}
"""


def test_a_postcondition_failing_after_apply_keeps_the_object_and_skips_dependents(
    tmp_path: Path, bcdr
) -> None:
    write(tmp_path, POST)
    applied = bcdr("apply", "-auto-approve", "-no-color", "-var", "want=two")
    assert applied.exit_code == 1, applied.output
    assert "Error: Resource postcondition failed" in applied.output
    assert "on main.hcl line 9" in applied.output
    assert "output is one, wanted two" in applied.output
    # the object was made: it is in state (not tainted), what needs it was not made
    assert _addresses(tmp_path) == ["bcdr_data.a"]
    with StateStore.open(tmp_path / ".bcdr" / "state.db") as store:
        assert store.get("bcdr_data.a").status == "ready"

    # now self.output is known at plan: the postcondition fails the plan itself
    again = bcdr("plan", "-no-color", "-var", "want=two")
    assert again.exit_code == 1, again.output
    assert "Error: Resource postcondition failed" in again.output
    assert "output is one, wanted two" in again.output
    fixed = bcdr("apply", "-auto-approve", "-no-color")
    assert fixed.exit_code == 0, fixed.output
    assert _addresses(tmp_path) == ["bcdr_data.a", "bcdr_data.b"]


def test_a_postcondition_on_a_platform_resource_group_reads_self(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        variable "where" {
          default = "eastus"
        }

        resource "resource_group" "rg" {
          name     = "prod"
          location = var.where
          lifecycle {
            postcondition {
              condition     = self.location == "eastus"
              error_message = "prod lives in eastus, not ${self.location}"
            }
          }
        }
        """,
    )
    bad = bcdr("plan", "-no-color", "-var", "where=westus")
    assert bad.exit_code == 1, bad.output
    assert "prod lives in eastus, not westus" in bad.output
    ok = bcdr("apply", "-auto-approve", "-no-color")
    assert ok.exit_code == 0, ok.output
    assert _addresses(tmp_path) == ["resource_group.rg"]


def test_conditions_with_count_see_count_index(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        variable "names" {
          default = ["a", "bad", "c"]
        }

        resource "bcdr_data" "n" {
          count = 3
          input = var.names[count.index]
          lifecycle {
            precondition {
              condition     = var.names[count.index] != "bad"
              error_message = "name ${count.index} is bad"
            }
          }
        }
        """,
    )
    out = bcdr("plan", "-no-color")
    assert out.exit_code == 1, out.output
    assert "name 1 is bad" in out.output
    assert "name 0" not in out.output and "name 2" not in out.output


def test_an_output_precondition_fails_the_plan_when_known(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        variable "rpo" {
          type    = number
          default = 30
        }

        output "rpo" {
          value = var.rpo
          precondition {
            condition     = var.rpo <= 60
            error_message = "an RPO over an hour is not offered"
          }
        }
        """,
    )
    ok = bcdr("apply", "-auto-approve", "-no-color")
    assert ok.exit_code == 0, ok.output
    bad = bcdr("plan", "-no-color", "-var", "rpo=90")
    assert bad.exit_code == 1, bad.output
    assert "Error: Output value precondition failed" in bad.output
    assert 'on main.hcl line 9, in output "rpo":' in bad.output
    assert "an RPO over an hour is not offered" in bad.output


def test_a_sensitive_error_message_is_not_shown(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        variable "secret" {
          default   = "hunter2"
          sensitive = true
        }

        resource "bcdr_data" "a" {
          input = "x"
          lifecycle {
            precondition {
              condition     = length(var.secret) > 10
              error_message = "the secret ${var.secret} is short"
            }
          }
        }
        """,
    )
    out = bcdr("plan", "-no-color")
    assert out.exit_code == 1, out.output
    assert "hunter2" not in out.output
    assert "included a sensitive value, so it will not be displayed" in out.output


@pytest.mark.parametrize(
    ("block", "line", "words"),
    [
        (
            'precondition {\n      condition     = 1 < 2\n      error_message = "x"\n    }',
            8,
            "Invalid precondition expression",
        ),
        (
            'precondition {\n      condition     = var.v != ""\n      error_message = 5\n    }',
            9,
            "error_message must be a string",
        ),
        (
            'precondition {\n      condition     = self.input != ""\n'
            '      error_message = "x"\n    }',
            8,
            'Invalid "self" in a precondition',
        ),
        ('postcondition {\n      condition = var.v != ""\n    }', 7, "has no error_message"),
        (
            'precondition {\n      condition     = var.v != ""\n      error_message = "x"\n'
            "      fatal         = true\n    }",
            10,
            'Unsupported argument "fatal"',
        ),
    ],
)
def test_condition_blocks_are_checked_by_validate_with_file_and_line(
    tmp_path: Path, bcdr, block: str, line: int, words: str
) -> None:
    text = (
        'variable "v" {\n  default = "x"\n}\n\n'
        'resource "bcdr_data" "a" {\n  lifecycle {\n    ' + block + "\n  }\n}\n"
    )
    (tmp_path / "main.hcl").write_text(text)
    out = bcdr("validate", "-no-color")
    assert out.exit_code == 1, out.output
    assert words in out.output
    assert f"on main.hcl line {line}" in out.output


def test_conditions_survive_the_parse_cache_and_fmt(tmp_path: Path, bcdr) -> None:
    write(tmp_path, POST)
    assert bcdr("init", "-no-color").exit_code == 0
    cold = bcdr("plan", "-no-color", "-var", "want=two")
    entries = list(cache_dir(tmp_path).glob("*.pickle"))
    assert len(entries) == 1
    parts = pickle.loads(entries[0].read_bytes())
    assert isinstance(parts, FileParts)
    (a, _b) = parts.resources
    assert [c.kind for c in a.lifecycle.postconditions] == ["postcondition"]
    warm = bcdr("plan", "-no-color", "-var", "want=two")
    assert cold.exit_code == warm.exit_code == 0
    assert cold.output == warm.output
    # fmt keeps condition blocks as they are (already canonical) and aligns a messy one
    assert bcdr("fmt", "-check").exit_code == 0
    messy = POST.replace("      condition     = self", "      condition = self")
    write(tmp_path, messy)
    assert bcdr("fmt", "-check").exit_code == 3
    assert bcdr("fmt").exit_code == 0
    assert (tmp_path / "main.hcl").read_text().lstrip("\n") == POST.lstrip("\n")


def test_an_output_precondition_unknown_at_plan_fails_the_apply(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        resource "bcdr_data" "a" {
          input = "made"
        }

        output "a" {
          value = bcdr_data.a.output
          precondition {
            condition     = bcdr_data.a.output == "expected"
            error_message = "a says ${bcdr_data.a.output}"
          }
        }
        """,
    )
    plan = bcdr("plan", "-json")
    assert plan.exit_code == 0, plan.output
    checks = {c["address"]["to_display"]: c["status"] for c in json.loads(plan.output)["checks"]}
    assert checks == {"output.a": "unknown"}
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 1, applied.output
    assert "Error: Output value precondition failed" in applied.output
    assert "a says made" in applied.output
    assert _addresses(tmp_path) == ["bcdr_data.a"]  # the resource was made; the output not
    assert "a" not in json.loads(bcdr("output", "-json").output)
