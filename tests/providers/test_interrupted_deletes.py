"""A delete killed half-way leaves nothing a later run cannot finish (issue 8.2).

A disk, restore point or collection is two records: its row in the platform's inventory and the
restore point itself in the core. The inventory row goes first, so a kill between the two
leaves the restore point in the core, where the next run reads it and deletes it again; a
collection also sweeps restore point rows a run killed under the old order left behind.
Both halves are set up directly, as a kill between them would leave them.
"""

from __future__ import annotations

import json

from tests.providers.conftest import Workspace
from tests.providers.fixtures_restore import RP1, setup


def _platform_ids(ws: Workspace) -> list[str]:
    return [o["id"] for o in json.loads(ws.ok("platform", "list", "-json"))]


def _applied(ws: Workspace) -> str:
    setup(ws, RP1)
    ws.apply()
    return ws.state("restore_point.rp1")["id"]


def test_a_restore_point_whose_inventory_row_went_first_is_deleted_by_the_next_destroy(
    ws: Workspace,
) -> None:
    rp_id = _applied(ws)
    with ws.fabric() as fab:
        fab.delete_resource(rp_id)  # killed after the row went, before the core's delete
    ws.ok("destroy", "-auto-approve")
    assert _platform_ids(ws) == []
    with ws.fabric() as fab:
        from core.disks import Disks
        from core.restorepoints import RestorePoints

        assert RestorePoints(fab, Disks(fab)).list() == []


def test_a_disk_whose_inventory_row_went_first_is_deleted_by_the_next_destroy(
    ws: Workspace,
) -> None:
    """The fault harness found a disk row outliving its disk after a killed destroy: the
    row now goes first, and a disk left in the core is read and deleted by the next run."""
    _applied(ws)
    disk_id = ws.state("managed_disk.data")["id"]
    with ws.fabric() as fab:
        from core.disks import Disks

        path = Disks(fab).get(disk_id).path
        fab.delete_resource(disk_id)  # killed after the row went, before the core's delete
    ws.ok("destroy", "-auto-approve")
    assert _platform_ids(ws) == []
    assert not path.exists()


def test_a_collection_sweeps_the_rows_of_restore_points_already_gone(ws: Workspace) -> None:
    rp_id = _applied(ws)
    with ws.fabric() as fab:
        from core.disks import Disks
        from core.restorepoints import RestorePoints

        points = RestorePoints(fab, Disks(fab))
        points.delete(rp_id)  # the core's half done, the inventory row left
        points.close()
    ws.ok("destroy", "-auto-approve")
    assert _platform_ids(ws) == []
    assert ws.ok("state", "list").strip() == ""
