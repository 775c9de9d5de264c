"""What long work reports through ``core.progress``: bytes, never backwards, ending at 100 %.

A capture of a sparse disk reads only its data, so it used to stop at the data's share;
copy and gc reported counts of blocks and packs, which a caller cannot show as sizes.
"""

from __future__ import annotations

from collections import defaultdict

from core.disks import BLOCK_SIZE
from core.restorepoints import copy_restore_point
from tests.core import fixtures_snap
from tests.core.fixtures_snap import MiB, collection, image_bytes, import_disk, vm

rps = fixtures_snap.rps  # the fixture


class Recorder:
    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[int, int]]] = defaultdict(list)

    def __call__(self, description: str, done: int, total: int) -> None:
        self.seen[description].append((done, total))


def _ends_at_total(events: list[tuple[int, int]]) -> int:
    """The one total of a task whose ``done`` never goes back nor past it and ends there."""
    totals = {t for _, t in events}
    assert len(totals) == 1, totals
    (total,) = totals
    dones = [d for d, _ in events]
    assert dones == sorted(dones) and dones[-1] == total and max(dones) <= total
    return total


def test_capture_copy_gc_and_verify_report_bytes_and_end_at_their_total(
    fabric, disks, rps, tmp_path
):
    data = image_bytes(3 * MiB, 5)  # a third of its blocks are zero: holes in the disk file
    assert data.count(bytes(BLOCK_SIZE)) > 0
    disk = import_disk(disks, fabric, tmp_path, "os", data)
    cid = collection(rps, fabric)
    captured = Recorder()
    rp = rps.create(cid, "rp1", vm(fabric, disk), progress=captured)
    assert _ends_at_total(captured.seen["snapshot os"]) == 3 * MiB

    copied = Recorder()
    target = collection(rps, fabric, "dr", region="westus")
    result = copy_restore_point(fabric, rps, rp.id, target, "rp1-copy", progress=copied)
    assert _ends_at_total(copied.seen["copy os"]) == result.blocks_sent * BLOCK_SIZE

    checked = Recorder()
    rps.maintenance.verify(progress=checked)
    done, total = checked.seen["verify"][-1]  # one task per store: the last store's end
    assert done == total > BLOCK_SIZE  # stored bytes, not blocks

    rps.delete(result.restore_point.id)
    swept = Recorder()
    rps.maintenance.gc(progress=swept)
    events = swept.seen["gc"]  # one sweep per store, each ending at its total
    ends = [i for i, (done, total) in enumerate(events) if done == total]
    assert ends[-1] == len(events) - 1
    assert max(events[i][1] for i in ends) > BLOCK_SIZE  # bytes of packs, not a count of packs
