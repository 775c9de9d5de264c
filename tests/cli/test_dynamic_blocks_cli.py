"""``dynamic`` blocks through the real CLI: a key vault's access policies made from a map,
validated, planned, applied to the embedded platform and planned again; a for_each known
only at apply; mistakes reported with file:line."""

from __future__ import annotations

import json

from tests.cli.conftest import write

VAULT = """
variable "readers" {
  default = {
    "00000000-0000-0000-0000-00000000000a" = ["get"]
    "00000000-0000-0000-0000-00000000000b" = ["get", "list"]
  }
}

resource "resource_group" "rg" {
  name     = "rg-dyn"
  location = "eastus"
}

resource "key_vault" "kv" {
  name           = "kv-dyn"
  resource_group = resource_group.rg.name
  location       = resource_group.rg.location

  access_policy {
    object_id       = "current-user"
    key_permissions = ["all"]
  }

  dynamic "access_policy" {
    for_each = FOR_EACH
    iterator = reader
    content {
      object_id       = reader.key
      key_permissions = reader.value
    }
  }
}

output "vault_id" {
  value = key_vault.kv.id
}
"""


def _vault(text: str = "var.readers") -> str:
    return VAULT.replace("FOR_EACH", text)


def _policies(bcdr, vault_id: str) -> list[tuple[str, list[str]]]:
    shown = bcdr("platform", "show", vault_id)
    assert shown.exit_code == 0, shown.output
    props = json.loads(shown.output)["properties"]
    return [(p["object_id"], p["key_permissions"]) for p in props["access_policy"]]


def test_a_vaults_access_policies_from_a_map_plan_apply_and_replan(bcdr, workdir):
    write(workdir, _vault())
    valid = bcdr("validate", "-no-color")
    assert valid.exit_code == 0, valid.output
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 0, plan.output
    assert plan.output.count("object_id") == 3
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    vault_id = bcdr("output", "-raw", "vault_id").output.strip()
    assert _policies(bcdr, vault_id) == [
        ("current-user", ["all"]),
        ("00000000-0000-0000-0000-00000000000a", ["get"]),
        ("00000000-0000-0000-0000-00000000000b", ["get", "list"]),
    ]
    again = bcdr("plan", "-detailed-exitcode", "-no-color")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output
    # one reader fewer: the vault is updated in place, not replaced
    write(
        workdir,
        _vault(
            '{ for k, v in var.readers : k => v if k != "00000000-0000-0000-0000-00000000000a" }'
        ),
    )
    smaller = bcdr("apply", "-auto-approve", "-no-color")
    assert smaller.exit_code == 0, smaller.output
    assert "0 added, 1 changed, 0 destroyed" in smaller.output
    assert _policies(bcdr, vault_id) == [
        ("current-user", ["all"]),
        ("00000000-0000-0000-0000-00000000000b", ["get", "list"]),
    ]


def test_a_for_each_known_only_at_apply_plans_the_policies_as_unknown(bcdr, workdir):
    # timestamp() is known only when applying, so the whole list of policies is unknown
    write(workdir, _vault('timestamp() == "" ? {} : var.readers'))
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 0, plan.output
    assert "access_policy              = (known after apply)" in plan.output
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    vault_id = bcdr("output", "-raw", "vault_id").output.strip()
    assert len(_policies(bcdr, vault_id)) == 3


def test_mistakes_in_dynamic_blocks_are_errors_with_file_and_line(bcdr, workdir):
    write(workdir, _vault().replace('dynamic "access_policy"', 'dynamic "access_policies"'))
    typo = bcdr("validate", "-no-color")
    assert typo.exit_code == 1, typo.output
    assert 'Unsupported block type "access_policies"' in typo.output
    assert "on main.hcl line 23" in typo.output and 'Did you mean "access_policy"?' in typo.output
    write(workdir, _vault().replace("    content {", "    contents {"))
    missing = bcdr("plan", "-no-color")
    assert missing.exit_code == 1, missing.output
    assert (
        "Missing dynamic content block" in missing.output
        and "on main.hcl line 23" in missing.output
    )
    write(workdir, _vault('"get,list"'))
    scalar = bcdr("plan", "-no-color")
    assert scalar.exit_code == 1, scalar.output
    assert (
        "Invalid dynamic for_each value" in scalar.output and "on main.hcl line 24" in scalar.output
    )
    assert "cannot use a string value" in scalar.output
