"""Types and values through ``bcdr plan`` and ``apply``: exact numbers in the plan text and
outputs, an ``optional`` default reaching a resource, and ``for_each`` over a list refused
at its line."""

from __future__ import annotations

import json

from tests.cli.conftest import write

SPEC = """
variable "vm" {
  type = object({
    name   = string
    size   = optional(number, 64)
    backup = optional(object({ days = optional(number, 7) }), {})
  })
  default = { name = "web" }
}

resource "bcdr_data" "sized" {
  input = var.vm.size
}

resource "bcdr_data" "days" {
  input = "${var.vm.name}: ${var.vm.backup.days} days"
}

output "sum" {
  value = 0.1 + 0.2
}

output "whole" {
  value = 2.0
}

output "json" {
  value = jsonencode({ a = 2.0, b = 1e20 })
}

output "mixed" {
  value = true ? 1 : "a"
}
"""


def test_plan_and_apply_show_exact_numbers_and_optional_defaults(bcdr, workdir):
    write(workdir, SPEC)
    planned = bcdr("plan", "-no-color")
    assert planned.exit_code == 0, planned.output
    for line in (
        '+ input  = "web: 7 days"',
        "+ input  = 64",
        "+ sum   = 0.3",
        "+ whole = 2",
        '+ json  = "{\\"a\\":2,\\"b\\":100000000000000000000}"',
        '+ mixed = "1"',
    ):
        assert line in planned.output, planned.output
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert "sum = 0.3" in applied.output and "whole = 2" in applied.output
    outputs = json.loads(bcdr("output", "-json").stdout)
    assert outputs["sum"]["value"] == 0.3 and outputs["whole"]["value"] == 2
    state = json.loads(bcdr("show", "-json").stdout)
    inputs = sorted(str(r["values"]["input"]) for r in _resources(state))
    assert inputs == ["64", "web: 7 days"]
    again = bcdr("plan", "-no-color", "-detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output, again.output


def _resources(state: dict) -> list[dict]:
    return state["values"]["root_module"]["resources"]


def test_for_each_over_a_list_is_an_error_at_its_line_saying_to_use_toset(bcdr, workdir):
    spec = """
    variable "names" {
      default = ["a", "b"]
    }

    resource "bcdr_data" "each" {
      for_each = var.names
      input    = each.key
    }
    """
    write(workdir, spec)
    planned = bcdr("plan", "-no-color")
    assert planned.exit_code == 1
    assert "on main.hcl line 6" in planned.output
    assert (
        'The given "for_each" argument value is unsuitable: the "for_each" argument must be a '
        "map, or set of strings, and you have provided a value of type tuple."
    ) in " ".join(planned.output.split())
    assert "toset(" in planned.output and "Traceback" not in planned.output
    write(workdir, spec.replace("= var.names", "= toset(var.names)"))
    planned = bcdr("plan", "-no-color")
    assert planned.exit_code == 0, planned.output
    assert 'bcdr_data.each["a"] will be created' in planned.output
