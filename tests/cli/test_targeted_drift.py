"""``apply -target`` records only the drift of what it manages; ``drift`` keeps the rest.

Like Terraform's ``-target``, a targeted plan refreshes only the targets and what they
depend on: the drift of an untargeted disk (a tag set with ``bcdr platform tag``) is not
written into the state by a targeted apply, so ``bcdr drift`` still reports it and a
full ``plan -detailed-exitcode`` still exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path

from state import StateStore
from tests.cli.conftest import Run, write

SPEC = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "managed_disk" "os" {
  name           = "os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  size_gb        = 0.0078125
}

resource "managed_disk" "data" {
  name           = "data"
  resource_group = resource_group.rg.name
  location       = "eastus"
  size_gb        = 0.0078125
  tags           = { role = "data" }
}
"""


def _tags_in_state(workdir: Path, address: str) -> dict | None:
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        rec = store.get(address)
        assert rec is not None
        return rec.attributes.get("tags")


def test_targeted_apply_leaves_the_drift_of_untargeted_resources_to_drift(
    workdir: Path, bcdr: Run
) -> None:
    write(workdir, SPEC)
    first = bcdr("apply", "-auto-approve", "-no-color")
    assert first.exit_code == 0, first.output
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        data_id = store.get("managed_disk.data").id
    tagged = bcdr("platform", "tag", data_id, "role=y")
    assert tagged.exit_code == 0, tagged.output

    targeted = bcdr("apply", "-target", "managed_disk.os", "-auto-approve", "-no-color")
    assert targeted.exit_code == 0, targeted.output
    # the untargeted disk was neither read nor recorded: its drift is not in the state
    assert "managed_disk.data has changed" not in targeted.output
    assert _tags_in_state(workdir, "managed_disk.data") == {"role": "data"}

    drift = bcdr("drift", "-json")
    assert drift.exit_code == 2, drift.output
    drifted = json.loads(drift.output)["resource_drift"]
    assert [d["address"] for d in drifted] == ["managed_disk.data"]
    assert drifted[0]["change"]["after"]["tags"] == {"role": "y"}
    plan = bcdr("plan", "-detailed-exitcode", "-no-color")
    assert plan.exit_code == 2, plan.output
    assert "managed_disk.data will be updated in-place" in plan.output
