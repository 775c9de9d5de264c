"""Each command through the CLI: exit codes and what it prints, in real working directories."""

from __future__ import annotations

import json

import click

from engine.cli.app import main
from state import StateStore
from tests.cli.conftest import write

SPEC = """
variable "greeting" {
  type    = string
  default = "hello"
}

resource "bcdr_data" "a" {
  input = var.greeting
}

resource "bcdr_data" "b" {
  input = "${bcdr_data.a.output}-b"
}

output "greeting" {
  value = bcdr_data.a.output
}
"""


def _walk(command: click.Command, path: str = "bcdr"):
    yield path, command
    if isinstance(command, click.Group):  # mounted commands too: walk as -help lists them
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), f"{path} {name}")


def test_every_command_and_option_has_help():
    seen = []
    for path, command in _walk(main):
        seen.append(path)
        assert (command.help or "").strip(), f"{path} has no help text"
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert (param.help or "").strip(), f"{path} {param.opts[0]} has no help text"
    for verb in (
        "init",
        "validate",
        "fmt",
        "plan",
        "apply",
        "destroy",
        "show",
        "output",
        "state list",
        "state show",
        "state rm",
        "state mv",
        "import",
        "graph",
        "force-unlock",
        "drift",
        "version",
        "providers",
        "providers schema",
        "providers docs",
        "serve",
        "verify",
        "gc",
    ):
        assert f"bcdr {verb}" in seen


def test_help_is_printed_for_every_command(bcdr):
    for path, _ in _walk(main):
        words = path.split()[1:]
        result = bcdr(*words, "-help")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_init_creates_state_and_lists_providers(bcdr, workdir):
    result = bcdr("init", "-no-color")
    assert result.exit_code == 0, result.output
    assert (workdir / ".bcdr" / "state.db").is_file()
    assert "builtin: bcdr_data" in result.output
    assert "successfully initialized" in result.output


def test_validate_ok_and_errors(bcdr, workdir):
    write(workdir, SPEC)
    ok = bcdr("validate", "-no-color")
    assert ok.exit_code == 0, ok.output
    assert "Success! The configuration is valid." in ok.output
    assert not (workdir / ".bcdr" / "state.db").exists(), "validate must not touch state"
    write(workdir, 'resource "bcdr_data" "x" {\n  inptu = 1\n}\n', "extra.hcl")
    bad = bcdr("validate", "-no-color")
    assert bad.exit_code == 1
    assert 'Error: Unsupported argument "inptu"' in bad.output
    assert "on extra.hcl line 2" in bad.output
    as_json = bcdr("validate", "-json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["valid"] is False and data["error_count"] == 1


def test_validate_json_gives_the_column_and_terraforms_diagnostic_shape(bcdr, workdir):
    write(workdir, 'resource "bcdr_data" "x" {\n  input = 1\n    inptu = 1\n}\n')
    data = json.loads(bcdr("validate", "-json").stdout)
    assert data["format_version"] == "1.0" and data["valid"] is False
    (diag,) = data["diagnostics"]
    assert diag["summary"] == 'Unsupported argument "inptu"'
    # "inptu" starts at column 5 of line 3 (byte 43 of the file); the range ends with the line
    assert diag["range"] == {
        "filename": "main.hcl",
        "start": {"line": 3, "column": 5, "byte": 43},
        "end": {"line": 3, "column": 14, "byte": 52},
    }
    assert diag["snippet"]["code"] == "    inptu = 1"
    assert diag["snippet"]["context"] == 'resource "bcdr_data" "x"'


def test_plan_and_drift_json_print_json_diagnostics_on_error(bcdr, workdir):
    write(workdir, 'resource "bcdr_data" "x" {\n  inptu = 1\n}\n')
    for command in ("plan", "drift"):
        result = bcdr(command, "-json")
        assert result.exit_code == 1, result.output
        data = json.loads(result.stdout)  # one JSON document, not text
        assert data["valid"] is False and data["error_count"] == 1, command
        assert data["diagnostics"][0]["summary"] == 'Unsupported argument "inptu"'
        assert data["diagnostics"][0]["range"]["start"] == {"line": 2, "column": 3, "byte": 29}
        assert "Error:" not in result.output, command


def test_every_json_document_has_terraforms_string_format_version(bcdr, workdir):
    write(workdir, SPEC)
    assert json.loads(bcdr("plan", "-json").stdout)["format_version"] == "1.0"
    assert bcdr("plan", "-out", "p.json").exit_code == 0
    assert json.loads((workdir / "p.json").read_text())["format_version"] == "1.0"
    assert json.loads(bcdr("show", "-json", "p.json").stdout)["format_version"] == "1.0"
    assert json.loads(bcdr("show", "-json").stdout)["format_version"] == "1.0"


MISTAKES = """
resource "resource_group" "g" {
  name     = "g"
  location = true
}

resource "managed_disk" "d" {
  count          = -1
  name           = uper("d")
  resource_group = resource_group.g.nme
  location       = "eastuss"
  size_gb        = 1
  sku            = "Premium_LRSS"
  lifecyle {
    prevent_destroy = true
  }
}

output "o" {
  value = lower("a", "b")
}
"""


def test_validate_reports_every_mistake_it_can_know_at_once(bcdr, workdir):
    write(workdir, MISTAKES)
    result = bcdr("validate", "-json")
    assert result.exit_code == 1
    got = {
        (d["range"]["start"]["line"], d["summary"]): d["detail"]
        for d in json.loads(result.stdout)["diagnostics"]
    }
    assert sorted(got) == [
        (3, 'Incorrect attribute value type for "location"'),
        (7, "Invalid count argument"),
        (8, 'Call to unknown function "uper"'),
        (9, "Unsupported attribute"),
        (10, 'Invalid value for "location"'),
        (12, 'Invalid value for "sku"'),
        (13, 'Unsupported block type "lifecyle"'),
        (19, "Too many function arguments"),
    ]
    assert (
        "resource_group.g.location must be a string, not a bool"
        in got[(3, 'Incorrect attribute value type for "location"')]
    )
    assert "must be a whole number of 0 or more, not -1" in got[(7, "Invalid count argument")]
    assert got[(8, 'Call to unknown function "uper"')].startswith(
        'There is no function named uper. Did you mean "upper"? Available functions: abs, '
    )
    assert 'no attribute named nme. Did you mean "name"?' in got[(9, "Unsupported attribute")]
    assert 'Did you mean "eastus"?' in got[(10, 'Invalid value for "location"')]
    assert 'Did you mean "Premium_LRS"?' in got[(12, 'Invalid value for "sku"')]
    assert 'Did you mean "lifecycle"?' in got[(13, 'Unsupported block type "lifecyle"')]
    assert "takes exactly 1 argument, but is given 2" in got[(19, "Too many function arguments")]


def test_validate_finds_missing_attributes_through_index_and_splat(bcdr, workdir):
    write(
        workdir,
        'resource "bcdr_data" "a" {\n  count = 2\n  input = "a"\n}\n'
        'resource "bcdr_data" "e" {\n  for_each = { x = 1 }\n  input    = "a"\n}\n'
        'output "o" {\n  value = [bcdr_data.a[*].outptu, bcdr_data.a[0].outpt, '
        'bcdr_data.a[*].output, bcdr_data.e.x, bcdr_data.e["x"].inpt]\n}\n',
    )
    data = json.loads(bcdr("validate", "-json").stdout)
    got = [d["detail"].split("refers to ")[1] for d in data["diagnostics"]]
    has_no = "but bcdr_data has no attribute named"
    assert got == [
        f'bcdr_data.a[*].outptu, {has_no} outptu. Did you mean "output"?',
        f'bcdr_data.a[...].outpt, {has_no} outpt. Did you mean "output"?',
        f'bcdr_data.e[...].inpt, {has_no} inpt. Did you mean "input"?',
    ]  # bcdr_data.e.x is the key x of a for_each resource, not an attribute


def test_validate_checks_function_calls_in_provider_blocks_and_variable_validations(bcdr, workdir):
    write(
        workdir,
        'variable "v" {\n  default = "a"\n  validation {\n    condition     = lenght(var.v) > 0\n'
        '    error_message = "empty"\n  }\n}\n'
        'provider "platform" {\n  serve_url = trimspaces("http://x")\n}\n',
    )
    result = bcdr("validate", "-no-color")
    assert result.exit_code == 1
    assert 'Call to unknown function "lenght"' in result.output
    assert 'on main.hcl line 4, in variable "v"' in result.output
    assert 'Did you mean "length"?' in result.output
    assert 'on main.hcl line 9, in provider "platform"' in result.output
    assert 'Did you mean "trimspace"?' in result.output


def test_validate_json_reports_a_mistake_once(bcdr, workdir):
    # the static check and the evaluation both find the undeclared resource
    write(workdir, 'resource "bcdr_data" "c" {\n  input = bcdr_data.missing.output\n}\n')
    data = json.loads(bcdr("validate", "-json").stdout)
    assert [d["summary"] for d in data["diagnostics"]] == [
        'Reference to undeclared resource "bcdr_data.missing"'
    ]
    assert data["error_count"] == 1


def test_validate_without_specs_says_what_to_do(bcdr):
    result = bcdr("validate")
    assert result.exit_code == 1
    assert "Error: No *.hcl spec files" in result.output
    assert "Traceback" not in result.output


def test_plan_detailed_exitcode_json_and_out(bcdr, workdir):
    write(workdir, SPEC)
    result = bcdr("plan", "-detailed-exitcode", "-no-color")
    assert result.exit_code == 2, result.output
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in result.output
    assert "\x1b[" not in result.output
    as_json = bcdr("plan", "-json")
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    changes = {c["address"]: c for c in data["resource_changes"]}
    assert changes["bcdr_data.a"]["change"]["actions"] == ["create"]
    assert changes["bcdr_data.a"]["change"]["after"]["input"] == "hello"
    assert changes["bcdr_data.a"]["change"]["after_unknown"]["output"] is True
    saved = bcdr("plan", "-out", "p.json", "-no-color")
    assert saved.exit_code == 0
    assert 'bcdr apply "p.json"' in saved.output
    assert json.loads((workdir / "p.json").read_text())["resource_changes"]


def test_plan_var_overrides_default(bcdr, workdir):
    write(workdir, SPEC)
    result = bcdr("plan", "-var", "greeting=hi", "-no-color")
    assert result.exit_code == 0, result.output
    assert '+ input  = "hi"' in result.output


def test_apply_asks_and_only_yes_proceeds(bcdr, workdir):
    write(workdir, SPEC)
    refused = bcdr("apply", "-no-color", input="y\n")
    assert refused.exit_code == 1
    assert "Do you want to perform these actions?" in refused.output
    assert "Apply cancelled" in refused.output
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        assert store.instances() == []
    approved = bcdr("apply", "-no-color", input="yes\n")
    assert approved.exit_code == 0, approved.output
    assert "bcdr_data.a: Creating..." in approved.output
    assert "bcdr_data.a: Creation complete after 0s [id=" in approved.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in approved.output
    assert 'greeting = "hello"' in approved.output


def test_apply_saved_plan_without_question(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("plan", "-out", "p").exit_code == 0
    result = bcdr("apply", "-no-color", "p")
    assert result.exit_code == 0, result.output
    assert "Do you want" not in result.output
    assert "2 added" in result.output


def test_apply_refuses_foreign_plan_and_garbage(bcdr, workdir, tmp_path_factory):
    write(workdir, SPEC)
    other = tmp_path_factory.mktemp("other")
    write(other, SPEC)
    from tests.cli.conftest import run_in

    assert run_in(other, "plan", "-out", "p").exit_code == 0
    (workdir / "p").write_bytes((other / "p").read_bytes())
    bcdr("init")
    foreign = bcdr("apply", "-no-color", "p")
    assert foreign.exit_code == 1
    assert "Saved plan is for a different state" in foreign.output
    (workdir / "junk").write_text("not json")
    junk = bcdr("apply", "junk")
    assert junk.exit_code == 1 and "is not a bcdr plan file" in junk.output
    missing = bcdr("apply", "nope")
    assert missing.exit_code == 1 and "No plan file at nope" in missing.output


def test_destroy_asks_then_destroys(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    refused = bcdr("destroy", "-no-color", input="no\n")
    assert refused.exit_code == 1 and "Destroy cancelled" in refused.output
    result = bcdr("destroy", "-no-color", input="yes\n")
    assert result.exit_code == 0, result.output
    assert "Do you really want to destroy all resources?" in result.output
    assert "bcdr_data.b: Destruction complete" in result.output
    assert "Destroy complete! Resources: 2 destroyed." in result.output
    assert bcdr("state", "list").output == ""


def test_show_state_plan_and_json(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("show").output.strip() == "No state."
    assert bcdr("plan", "-out", "p").exit_code == 0
    shown = bcdr("show", "-no-color", "p")
    assert shown.exit_code == 0 and "# bcdr_data.a will be created" in shown.output
    shown_json = json.loads(bcdr("show", "-json", "p").stdout)
    assert [c["address"] for c in shown_json["resource_changes"]] == ["bcdr_data.a", "bcdr_data.b"]
    assert bcdr("apply", "p").exit_code == 0
    state = bcdr("show", "-no-color")
    assert "# bcdr_data.a:" in state.output
    assert 'input  = "hello"' in state.output
    assert 'greeting = "hello"' in state.output
    data = json.loads(bcdr("show", "-json").stdout)
    resources = data["values"]["root_module"]["resources"]
    assert {r["address"] for r in resources} == {"bcdr_data.a", "bcdr_data.b"}
    assert data["values"]["outputs"]["greeting"]["value"] == "hello"


def test_output_variants(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("output").exit_code == 0  # no state yet: a warning only
    assert bcdr("apply", "-auto-approve").exit_code == 0
    assert bcdr("output").output == 'greeting = "hello"\n'
    assert bcdr("output", "greeting").output == '"hello"\n'
    assert bcdr("output", "-raw", "greeting").output == "hello"
    assert json.loads(bcdr("output", "-json").stdout)["greeting"]["value"] == "hello"
    missing = bcdr("output", "nope")
    assert missing.exit_code == 1 and 'Output "nope" not found' in missing.output


def test_output_raw_prints_numbers_and_bools_as_terraform_and_names_complex_types(bcdr, workdir):
    outputs = {"n": "3", "f": "2.5", "big": "1e20", "whole": "4.0", "b": "true"}
    outputs |= {"obj": "{ a = 1 }", "list": "[1, 2]", "nothing": "null"}
    write(workdir, "".join(f'output "{k}" {{\n  value = {v}\n}}\n' for k, v in outputs.items()))
    assert bcdr("apply", "-auto-approve").exit_code == 0
    raw = {k: bcdr("output", "-raw", k) for k in outputs}
    assert {k: raw[k].output for k in ("n", "f", "big", "whole", "b")} == {
        "n": "3",
        "f": "2.5",
        "big": "100000000000000000000",
        "whole": "4",
        "b": "true",
    }
    for name, kind in (("obj", "object"), ("list", "tuple")):
        assert raw[name].exit_code == 1
        assert "Unsupported value for raw output" in raw[name].output
        assert f'but output value "{name}" is {kind}.' in raw[name].output
    assert 'The value for output "nothing" is null' in raw["nothing"].output


def test_every_prevent_destroy_violation_is_reported(bcdr, workdir):
    protected = "  lifecycle {\n    prevent_destroy = true\n  }\n"
    write(
        workdir,
        f'resource "bcdr_data" "a" {{\n  count = 2\n  input = "a"\n{protected}}}\n'
        f'resource "bcdr_data" "b" {{\n  input = "b"\n{protected}}}\n',
    )
    assert bcdr("apply", "-auto-approve").exit_code == 0
    result = bcdr("destroy", "-auto-approve", "-no-color")
    assert result.exit_code == 1
    assert result.output.count("Error: Instance cannot be destroyed") == 3, result.output
    for address in ("bcdr_data.a[0]", "bcdr_data.a[1]", "bcdr_data.b"):
        assert f"{address} has lifecycle.prevent_destroy = true" in result.output


COUNT_ZERO = """
resource "resource_group" "g" {
  name     = "g"
  location = "eastus"
}

resource "managed_disk" "os" {
  count          = 0
  name           = "os"
  resource_group = resource_group.g.name
  location       = "eastus"
  size_gb        = 1
}

resource "virtual_machine" "vm" {
  name           = "vm"
  resource_group = resource_group.g.name
  location       = "eastus"
  os_type        = "linux"
  os_disk_id     = managed_disk.os[0].id
}
"""


def test_indexing_a_count_zero_resource_is_an_invalid_index_at_plan_time(bcdr, workdir):
    # count = 0 is known at plan time, so the list is known to be empty even though the
    # attributes of its (absent) elements are not: the plan fails, nothing is made
    write(workdir, COUNT_ZERO)
    validated = bcdr("validate", "-no-color")
    assert validated.exit_code == 1 and "Error: Invalid index" in validated.output
    result = bcdr("apply", "-auto-approve", "-no-color")
    assert result.exit_code == 1, result.output
    assert "Error: Invalid index" in result.output
    assert "on main.hcl line 19" in result.output
    assert "the list has no elements" in result.output
    assert "crashed" not in result.output and "Apply complete" not in result.output
    assert StateStore.open(workdir / ".bcdr" / "state.db").instances() == []


def test_state_list_show_rm_mv(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    assert bcdr("state", "list").output.split() == ["bcdr_data.a", "bcdr_data.b"]
    assert bcdr("state", "list", "bcdr_data.b").output.split() == ["bcdr_data.b"]
    show = bcdr("state", "show", "-no-color", "bcdr_data.a")
    assert show.exit_code == 0 and 'resource "bcdr_data" "a"' in show.output
    nothing = bcdr("state", "show", "bcdr_data.zz")
    assert nothing.exit_code == 1 and "No instance found" in nothing.output
    bad = bcdr("state", "show", "not an address")
    assert bad.exit_code == 1 and "Invalid address" in bad.output
    moved = bcdr("state", "mv", "bcdr_data.b", "bcdr_data.c")
    assert moved.exit_code == 0, moved.output
    assert 'Move "bcdr_data.b" to "bcdr_data.c"' in moved.output
    assert bcdr("state", "list").output.split() == ["bcdr_data.a", "bcdr_data.c"]
    removed = bcdr("state", "rm", "bcdr_data.c")
    assert removed.exit_code == 0 and "Removed bcdr_data.c" in removed.output
    assert bcdr("state", "list").output.split() == ["bcdr_data.a"]
    gone = bcdr("state", "rm", "bcdr_data.c")
    assert gone.exit_code == 1 and "Nothing was removed" in gone.output
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        ops = [h["operation"] for h in store.history()]
    assert "state-rm" in ops and "state-mv" in ops


def test_import_of_bcdr_data_is_refused_clearly(bcdr, workdir):
    write(workdir, SPEC)
    result = bcdr("import", "-no-color", "bcdr_data.a", "some-id")
    assert result.exit_code == 1
    assert 'bcdr_data.a: Importing from ID "some-id"...' in result.output
    assert "Error:" in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    not_declared = bcdr("import", "-no-color", "bcdr_data.zz", "x")
    assert not_declared.exit_code == 1
    assert "internal error" not in not_declared.output
    assert bcdr("state", "list").output == ""


def test_graph_is_dot_with_edges(bcdr, workdir):
    write(workdir, SPEC)
    result = bcdr("graph")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.lstrip().startswith("digraph") and out.rstrip().endswith("}")
    assert '"bcdr_data.b" -> "bcdr_data.a"' in out


def test_version(bcdr):
    result = bcdr("version")
    assert result.exit_code == 0 and result.output.startswith("bcdr v")
    data = json.loads(bcdr("version", "-json").stdout)
    assert set(data["provider_selections"]) >= {"builtin", "platform"}


def test_chdir_to_missing_directory_is_a_clear_error(tmp_path):
    from tests.cli.conftest import run_in

    result = run_in(tmp_path / "nope", "plan")
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_target_replace_and_apply_destroy(bcdr, workdir):
    write(workdir, SPEC)
    targeted = bcdr("plan", "-target", "bcdr_data.a", "-no-color")
    assert targeted.exit_code == 0, targeted.output
    assert "# bcdr_data.a will be created" in targeted.output
    assert "bcdr_data.b" not in targeted.output
    assert "Warning: Resource targeting is in effect" in targeted.stderr
    assert bcdr("apply", "-auto-approve").exit_code == 0
    replaced = bcdr("plan", "-replace=bcdr_data.a", "-no-color")
    assert "# bcdr_data.a will be replaced, as requested" in replaced.output
    bad = bcdr("plan", "-target", "not an address")
    assert bad.exit_code == 1 and "Invalid -target address" in bad.output
    gone = bcdr("apply", "-destroy", "-auto-approve", "-no-color")
    assert gone.exit_code == 0, gone.output
    assert "Destroy complete! Resources: 2 destroyed." in gone.output
    assert bcdr("state", "list").output == ""


def test_each_builtin_command_is_defined_where_the_table_says() -> None:
    """``BUILTIN`` names every built-in command and the module that defines it, which the
    group imports only when the command runs: each module registers exactly its names."""
    import importlib

    from engine.cli.app import BUILTIN

    for module in sorted(set(BUILTIN.values())):
        mod = importlib.import_module(f"engine.cli.{module}")
        defined = {
            c.name
            for c in vars(mod).values()
            if isinstance(c, click.Command) and c in main.commands.values()
        }
        assert defined == {n for n, m in BUILTIN.items() if m == module}, module
    assert set(main.commands) == set(BUILTIN)
