"""virtual_machine through the real CLI: disks checked at plan, power-state drift, import."""

from __future__ import annotations

import uuid

from tests.providers.conftest import Workspace, make_image

BASE = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "managed_disk" "os" {
  name           = "web-os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "os.raw"
}

resource "managed_disk" "data" {
  name           = "web-data"
  resource_group = resource_group.rg.name
  location       = "DATA_REGION"
  size_gb        = 0.00390625
  shared         = SHARED
}
"""

VM = """
resource "virtual_machine" "web" {
  name           = "web"
  resource_group = resource_group.rg.name
  location       = "eastus"
  os_type        = "linux"
  os_distro      = "ubuntu-22.04"
  os_disk_id     = managed_disk.os.id
  data_disk_ids  = [DATA]
  network {
    subnet_id = "default"
    public_ip = true
  }
  guest_hooks {
    pre_snapshot    = "sync"
    post_snapshot   = "true"
    timeout_seconds = 30
  }
  tags = { app = "web" }
}
"""


def _spec(data: str = "managed_disk.data.id", region: str = "eastus", shared: str = "false") -> str:
    return BASE.replace("DATA_REGION", region).replace("SHARED", shared) + VM.replace("DATA", data)


def _setup(ws: Workspace, spec: str | None = None) -> None:
    make_image(ws.dir / "os.raw", 2)
    ws.write(spec if spec is not None else _spec())
    ws.ok("init")


def test_vm_plan_apply_no_changes_and_vm_source(ws: Workspace) -> None:
    from providers.platform.compute.vms import vm_source
    from providers.platform.frame import PlatformSession

    _setup(ws)
    plan = ws.ok("plan", "-no-color")
    assert "/providers/Microsoft.Compute/virtualMachines/web" in plan
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("virtual_machine.web")
    uuid.UUID(state["vm_guid"])
    assert state["power_state"] == "running" and state["size"] == "Standard_D2s_v5"
    with ws.fabric() as fab:
        row = fab.get_resource(state["id"])
        assert row["type"] == "Microsoft.Compute/virtualMachines"
        assert row["properties"]["vm_guid"] == state["vm_guid"]
        assert row["properties"]["network"]["public_ip"] is True
    s = PlatformSession(ws.dir / ".bcdr" / "fabric")
    try:
        src = vm_source(s, state["id"])
    finally:
        s.close()
    assert (src.name, src.region, src.os_type, src.power_state) == (
        "web",
        "eastus",
        "linux",
        "running",
    )
    assert src.os_disk_id == ws.state("managed_disk.os")["id"]
    assert src.data_disk_ids == [ws.state("managed_disk.data")["id"]]
    assert src.hooks is not None and src.hooks.pre == "sync" and src.hooks.timeout_seconds == 30
    assert src.metadata["vm_guid"] == state["vm_guid"]
    assert src.metadata["os_distro"] == "ubuntu-22.04"


def test_power_state_changed_outside_is_drift_and_apply_starts_the_vm(ws: Workspace) -> None:
    _setup(ws)
    ws.apply()
    vm_id = ws.state("virtual_machine.web")["id"]
    with ws.fabric() as fab:  # what `bcdr platform vm power VM stopped` does
        row = fab.get_resource(vm_id)
        fab.put_resource(
            vm_id, row["type"], row["region"], dict(row["properties"], power_state="stopped")
        )
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2, drift.output
    assert "stopped" in drift.output
    plan = ws.ok("plan", "-no-color")
    assert "1 to change" in plan and "0 to destroy" in plan
    ws.apply()
    with ws.fabric() as fab:
        assert fab.get_resource(vm_id)["properties"]["power_state"] == "running"
    assert ws.run("drift").exit_code == 0
    ws.plan_is_clean()


def test_stopping_in_config_updates_in_place_keeping_the_guid(ws: Workspace) -> None:
    _setup(ws)
    ws.apply()
    before = ws.state("virtual_machine.web")
    ws.write(
        _spec().replace('os_type        = "linux"', 'os_type = "linux"\n  power_state = "stopped"')
    )
    ws.apply()
    after = ws.state("virtual_machine.web")
    assert after["power_state"] == "stopped"
    assert after["vm_guid"] == before["vm_guid"]
    ws.plan_is_clean()


def test_nonexistent_disk_id_is_a_plan_error(ws: Workspace) -> None:
    with_bad = _spec(
        data='"/subscriptions/x/resourceGroups/prod/providers/Microsoft.Compute/disks/gone"'
    )
    _setup(ws, with_bad)
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "Disk /subscriptions/x/resourceGroups/prod/providers/Microsoft.Compute/disks/gone" in (
        result.output
    )
    assert "does not exist" in result.output
    assert "main.hcl line 29" in result.output
    assert "Traceback" not in result.output


def test_vm2_a_disk_named_twice_is_a_plan_error_at_the_data_disks(ws: Workspace) -> None:
    _setup(ws, _spec(data="managed_disk.data.id, managed_disk.os.id"))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert "/disks/web-os is attached twice" in result.output
    assert "list each disk once" in result.output
    assert "main.hcl line 29" in result.output  # data_disk_ids, not os_disk_id (line 28)


def test_disk_in_another_region_is_a_plan_error_naming_both(ws: Workspace) -> None:
    _setup(ws, _spec(region="westus"))
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "'web-data' is in another region than VM 'web'" in result.output
    assert "westus" in result.output and "eastus" in result.output
    assert "main.hcl line 29" in result.output


SECOND = """
resource "virtual_machine" "api" {
  name           = "api"
  resource_group = resource_group.rg.name
  location       = "eastus"
  os_disk_id     = managed_disk.os2.id
  data_disk_ids  = [managed_disk.data.id]
}

resource "managed_disk" "os2" {
  name           = "api-os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  size_gb        = 0.00390625
}
"""


def test_disk_attached_to_two_vms_unless_shared(ws: Workspace) -> None:
    _setup(ws, _spec() + SECOND)
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "'web-data' is attached to another VM" in result.output
    assert "unless it is shared" in result.output
    ws.write(_spec(shared="true") + SECOND)
    ws.apply()
    ws.plan_is_clean()


def test_ephemeral_os_disk_is_recorded_on_the_disk(ws: Workspace) -> None:
    from core.disks import Disks

    _setup(ws, _spec().replace('os_type        = "linux"', "ephemeral_os_disk = true"))
    ws.apply()
    os_id = ws.state("managed_disk.os")["id"]
    with ws.fabric() as fab:
        assert Disks(fab).get(os_id).ephemeral is True
    ws.plan_is_clean()


def test_import_by_id_and_destroy_removes_rows(ws: Workspace) -> None:
    _setup(ws)
    ws.apply()
    vm_id = ws.state("virtual_machine.web")["id"]
    ws.ok("state", "rm", "virtual_machine.web")
    ws.ok("import", "virtual_machine.web", vm_id)
    ws.plan_is_clean()
    ws.ok("destroy", "-auto-approve", "-no-color")
    with ws.fabric() as fab:
        assert fab.list_resources() == []
    assert not list((ws.dir / ".bcdr" / "fabric" / "regions").rglob("*.img"))


def test_vm_deleted_outside_is_recreated_with_a_new_guid(ws: Workspace) -> None:
    _setup(ws)
    ws.apply()
    before = ws.state("virtual_machine.web")
    with ws.fabric() as fab:
        fab.delete_resource(before["id"])
    assert ws.run("drift").exit_code == 2
    ws.apply()
    assert ws.state("virtual_machine.web")["vm_guid"] != before["vm_guid"]
    ws.plan_is_clean()


def test_disk_in_another_subscription_is_a_plan_error_naming_both(ws: Workspace) -> None:
    _setup(ws)
    ws.apply()
    with ws.fabric() as fab:
        other = fab.add_subscription()
    spec = _spec().replace("  os_distro", f'  subscription = "{other}"\n  os_distro')
    spec += f"""
resource "resource_group" "other" {{
  name         = "prod"
  location     = "eastus"
  subscription = "{other}"
}}
"""
    ws.write(spec)
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1, result.output
    assert "'web-os' is in another subscription than VM 'web'" in result.output
    assert other in result.output
