"""``-chdir`` with a relative folder: every path resolves as when run inside the folder.

Like Terraform, which changes into the folder before running the command: paths in the
specs (``source_uri``, ``file()``, the platform's home) are relative to the specs' folder,
and paths on the command line (``-var-file``, ``-out``, a plan file) are relative to it too.
"""

from __future__ import annotations

from click.testing import CliRunner

from engine.cli.app import main
from tests.cli.conftest import write

SPEC = """
variable "name" {
  type = string
}

resource "resource_group" "g" {
  name     = var.name
  location = "eastus"
}

resource "managed_disk" "d" {
  name           = "d"
  resource_group = resource_group.g.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "images/d.img"
}

resource "bcdr_data" "note" {
  input = file("note.txt")
}
"""


def _bcdr(*args: str):
    return CliRunner().invoke(main, list(args))


def test_relative_chdir_keeps_state_platform_and_spec_paths_together(tmp_path, monkeypatch):
    spec = tmp_path / "spec"
    (spec / "images").mkdir(parents=True)
    write(spec, SPEC)
    (spec / "images" / "d.img").write_bytes(b"\x01" * 65536)
    (spec / "note.txt").write_text("from the spec folder\n")
    (spec / "prod.vars").write_text('name = "prod"\n')
    monkeypatch.chdir(tmp_path)

    planned = _bcdr("-chdir=spec", "plan", "-no-color", "-var-file=prod.vars", "-out=tfplan")
    assert planned.exit_code == 0, planned.output
    assert (spec / "tfplan").is_file()  # -out is relative to the -chdir folder
    applied = _bcdr("-chdir=spec", "apply", "-no-color", "tfplan")
    assert applied.exit_code == 0, applied.output
    assert "3 added" in applied.output

    assert (spec / ".bcdr" / "state.db").is_file()
    assert (spec / ".bcdr" / "fabric").is_dir()  # the platform beside the state
    assert not (spec / "spec").exists()  # not joined to the folder a second time

    # -home on the command line is relative to the folder as well
    listed = _bcdr("-chdir=spec", "platform", "list", "-home=.bcdr/fabric", "-no-color")
    assert listed.exit_code == 0, listed.output
    assert "/disks/d" in listed.output

    monkeypatch.chdir(spec)  # the same specs from inside: nothing left to do
    again = _bcdr("plan", "-no-color", "-var-file=prod.vars", "-detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output
    shown = _bcdr("state", "show", "bcdr_data.note")
    assert "from the spec folder" in shown.output
