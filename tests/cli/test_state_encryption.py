"""EXT-4 through the CLI: state keys from the environment, sealed plan files, no leaks.

Runs ``bcdr`` in-process against the engine tests' TestProvider (``test_thing.secret`` is
sensitive) with real ``.bcdr/state.db`` files, and greps raw files and every command's
output for a known secret.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import write

SECRET = "pa55-Ext4-SECRET"
KEY_A = "a" * 64
KEY_B = "b" * 64

SPEC = f"""
variable "token" {{
  type      = string
  default   = "{SECRET}-var"
  sensitive = true
}}

resource "test_thing" "a" {{
  name   = "a"
  secret = "{SECRET}"
}}

resource "test_thing" "b" {{
  name = "b"
  ref  = var.token
}}

output "pw" {{
  value     = test_thing.a.secret
  sensitive = true
}}

output "name" {{
  value = test_thing.a.name
}}
"""

NO_ENV = {
    "BCDR_STATE_KEY": None,
    "BCDR_STATE_PASSPHRASE": None,
    "BCDR_STATE_KEY_FALLBACK": None,
    "BCDR_STATE_PASSPHRASE_FALLBACK": None,
}


def env(**values: str) -> dict:
    return {**NO_ENV, **values}


def raw(workdir, *names: str) -> bytes:
    data = b""
    for name in names:
        path = workdir / name
        if path.exists():
            data += path.read_bytes()
    return data


STATE_FILES = (".bcdr/state.db", ".bcdr/state.db-wal")


def test_ext4_with_key_state_and_plan_files_hold_no_plaintext(bcdr, workdir, test_provider):
    write(workdir, SPEC)
    keyed = env(BCDR_STATE_KEY=KEY_A)
    out = bcdr("plan", "-out", "first.plan", env=keyed)
    assert out.exit_code == 0, out.output
    assert SECRET.encode() not in raw(workdir, "first.plan")
    applied = bcdr("apply", "-no-color", "first.plan", env=keyed)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 2 added" in applied.output
    assert "Sensitive values stored in plaintext" not in applied.output
    assert SECRET.encode() not in raw(workdir, *STATE_FILES)
    assert bcdr("output", "-raw", "pw", env=keyed).output == SECRET
    refused = bcdr("apply", "first.plan", env=env())
    assert refused.exit_code == 1
    assert "is encrypted" in refused.output and "Traceback" not in refused.output


def test_ext4_no_command_prints_a_secret_except_output_raw_and_json(bcdr, workdir, test_provider):
    write(workdir, SPEC)
    keyed = env(BCDR_STATE_KEY=KEY_A)
    assert bcdr("plan", "-out", "p.plan", env=keyed).exit_code == 0
    runs = {
        "plan": ["plan", "-no-color"],
        "plan -json": ["plan", "-json"],
        "show plan": ["show", "-no-color", "p.plan"],
        "show -json plan": ["show", "-json", "p.plan"],
        "apply": ["apply", "-auto-approve", "-no-color"],
    }
    outputs = {name: bcdr(*args, env=keyed) for name, args in runs.items()}
    write(workdir, SPEC.replace('name = "b"', 'name = "b2"'))
    after_apply = {
        "show": ["show", "-no-color"],
        "show -json": ["show", "-json"],
        "state show": ["state", "show", "-no-color", "test_thing.a"],
        "state show b": ["state", "show", "-no-color", "test_thing.b"],
        "state list": ["state", "list"],
        "output": ["output", "-no-color"],
        "output pw": ["output", "-no-color", "pw"],
        "plan change": ["plan", "-no-color", "-out", "q.plan"],
        "plan -json change": ["plan", "-json"],
        "drift -json": ["drift", "-json"],
        "show -json plan change": ["show", "-json", "q.plan"],
        "apply change": ["apply", "-no-color", "q.plan"],
        "destroy": ["destroy", "-auto-approve", "-no-color"],
    }
    for name, args in after_apply.items():
        if name == "drift -json":
            test_provider.remote[next(iter(test_provider.remote))]["size"] = 9
        outputs[name] = bcdr(*args, env=keyed)
        if name == "output pw":
            raw_out = bcdr("output", "-raw", "pw", env=keyed)
            assert raw_out.output == SECRET
            as_json = bcdr("output", "-json", env=keyed)
            assert json.loads(as_json.output)["pw"]["value"] == SECRET
    for name, result in outputs.items():
        assert result.exit_code in (0, 2), f"{name}: {result.output}"
        assert SECRET not in result.output, f"{name} printed the secret:\n{result.output}"
        assert "Traceback" not in result.output
    shown = json.loads(outputs["show -json"].output)
    a = next(r for r in shown["values"]["root_module"]["resources"] if r["name"] == "a")
    assert a["values"]["secret"] == "(sensitive value)" and a["values"]["name"] == "a"
    b = next(r for r in shown["values"]["root_module"]["resources"] if r["name"] == "b")
    assert b["values"]["ref"] == "(sensitive value)"  # set from a sensitive variable
    assert "(sensitive value)" in outputs["state show"].output


def test_ext4_without_key_every_write_warns(bcdr, workdir, test_provider):
    write(workdir, SPEC)
    first = bcdr("apply", "-auto-approve", "-no-color", env=env())
    assert first.exit_code == 0, first.output
    assert "Sensitive values stored in plaintext" in first.output
    assert "test_thing.a" in first.output and "output.pw" in first.output
    assert "BCDR_STATE_KEY" in first.output
    assert SECRET.encode() in raw(workdir, *STATE_FILES)
    write(workdir, SPEC.replace(SECRET, SECRET + "2"))
    second = bcdr("apply", "-auto-approve", "-no-color", env=env())
    assert second.exit_code == 0, second.output
    assert "Sensitive values stored in plaintext" in second.output
    saved = bcdr("plan", "-no-color", "-out", "p.plan", env=env())
    assert "The saved plan p.plan holds sensitive values" in saved.output
    quiet = bcdr("state", "list", env=env())
    assert "plaintext" not in quiet.output  # reading writes nothing, so no warning


def test_ext4_wrong_key_refused_and_state_intact(bcdr, workdir, test_provider):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve", env=env(BCDR_STATE_KEY=KEY_A)).exit_code == 0
    before = raw(workdir, *STATE_FILES)
    for args in (["plan", "-no-color"], ["state", "list"], ["apply", "-auto-approve"]):
        result = bcdr(*args, env=env(BCDR_STATE_KEY=KEY_B))
        assert result.exit_code == 1
        assert "the state key does not match the one this state was encrypted with" in (
            result.output
        )
        assert "BCDR_STATE_KEY_FALLBACK" in result.output and "Traceback" not in result.output
    bad = bcdr("plan", env=env(BCDR_STATE_KEY="not-a-key"))
    assert bad.exit_code == 1 and "is not a 32-byte key" in bad.output
    assert raw(workdir, *STATE_FILES) == before


@pytest.mark.parametrize("fallback_var", ["BCDR_STATE_KEY_FALLBACK"])
def test_ext4_rotation_through_the_environment(bcdr, workdir, test_provider, fallback_var):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve", env=env(BCDR_STATE_KEY=KEY_A)).exit_code == 0
    rotate = env(BCDR_STATE_KEY=KEY_B, **{fallback_var: KEY_A})
    assert bcdr("output", "-raw", "pw", env=rotate).output == SECRET
    assert bcdr("output", "-raw", "pw", env=env(BCDR_STATE_KEY=KEY_B)).output == SECRET
    old = bcdr("output", "-raw", "pw", env=env(BCDR_STATE_KEY=KEY_A))
    assert old.exit_code == 1 and "does not match" in old.output
    phrase = env(BCDR_STATE_PASSPHRASE="a long passphrase", **{fallback_var: KEY_B})
    assert bcdr("output", "-raw", "pw", env=phrase).output == SECRET
    only_phrase = env(BCDR_STATE_PASSPHRASE="a long passphrase")
    assert bcdr("plan", "-detailed-exitcode", env=only_phrase).exit_code == 0
    assert SECRET.encode() not in raw(workdir, *STATE_FILES)
