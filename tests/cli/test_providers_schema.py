"""``bcdr providers`` and ``bcdr providers schema -json`` (Terraform's format 1.0)."""

from __future__ import annotations

import json

from engine.render.schemas import type_json
from engine.typeconv import parse_type


def test_schema_json_has_terraforms_shape_for_every_installed_type(bcdr):
    result = bcdr("providers", "schema", "-json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format_version"] == "1.0"
    platform = data["provider_schemas"]["bcdr/platform"]
    disk = platform["resource_schemas"]["managed_disk"]
    assert disk["version"] == 0
    attrs = disk["block"]["attributes"]
    # only the flags that are true, as Terraform prints them
    assert attrs["name"]["required"] is True and "optional" not in attrs["name"]
    assert attrs["size_bytes"] == {"type": "number", "description_kind": "plain", "computed": True}
    assert attrs["tags"]["type"] == ["map", "string"]
    vm = platform["resource_schemas"]["virtual_machine"]["block"]
    assert vm["block_types"]["network"]["nesting_mode"] == "single"  # a nested block
    assert "network" not in vm["attributes"]
    builtin = data["provider_schemas"]["bcdr/builtin"]["resource_schemas"]
    assert builtin["bcdr_data"]["block"]["attributes"]["input"]["type"] == "dynamic"


def test_schema_without_json_flag_is_refused_as_terraform_does(bcdr):
    result = bcdr("providers", "schema")
    assert result.exit_code == 1
    assert "-json flag is required" in result.output


def test_type_constraints_become_terraforms_json_type_expressions():
    assert type_json(parse_type("list(string)")) == ["list", "string"]
    assert type_json(parse_type("object({a = number, b = optional(bool)})")) == [
        "object",
        {"a": "number", "b": "bool"},
        ["b"],
    ]


def test_providers_without_subcommand_lists_installed_providers_and_types(bcdr):
    result = bcdr("providers")
    assert result.exit_code == 0, result.output
    assert "- provider[bcdr/builtin]: bcdr_data" in result.output.splitlines()
