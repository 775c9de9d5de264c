"""What the compute provider accepts from a user, through the real CLI: ``import`` says what
an id is when it is not of the type asked for."""

from __future__ import annotations

from tests.providers.conftest import Workspace
from tests.providers.fixtures_restore import setup

SPARE = """
resource "managed_disk" "x" {
  name           = "x"
  resource_group = resource_group.rg.name
  location       = "eastus"
  size_gb        = 0.0009765625
}
"""


def test_import_of_a_vm_id_as_a_disk_says_it_is_a_virtual_machine(ws: Workspace) -> None:
    setup(ws)
    ws.apply()
    vm_id = ws.state("virtual_machine.web")["id"]
    ws.write((ws.dir / "main.hcl").read_text() + SPARE)
    result = ws.run("import", "managed_disk.x", vm_id, "-no-color")
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert (
        f"Cannot import managed_disk.x: {vm_id} is a virtual machine (virtual_machine), "
        "not a managed disk (managed_disk)" in out
    )
    assert f"bcdr import virtual_machine.x {vm_id}" in out
    assert "nothing has the id" not in out
    assert ws.state("managed_disk.x") is None
