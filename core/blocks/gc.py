"""Garbage collection of a block store: mark every block a manifest uses, sweep the rest.

Run under the store's exclusive lock, so no restore point is being written meanwhile. What
always holds: a live block is never deleted. A pack that holds only garbage is deleted; a
pack that holds some is rewritten with its live blocks (the new pack and its index rows are
committed before the old pack's rows and object go). Objects that no index row or restore
point names (left by a crash) are deleted, and so are the temp files of interrupted writes
(no write runs under the exclusive lock). A damaged manifest, or an index that lacks a block
some manifest uses (a lost or damaged index: every pack would look orphaned), stops gc
before it deletes anything. The report counts each kind of thing freed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.blocks.packs import ID_BYTES, ZERO_ID
from core.blocks.store import BlockStore
from core.errors import CoreError, IntegrityError
from core.progress import Progress


@dataclass
class GcReport:
    bytes_freed: int = 0  # all of the below
    blocks_freed: int = 0  # unreferenced blocks dropped from packs
    block_bytes_freed: int = 0  # by deleting and rewriting the packs that held them
    packs_deleted: int = 0
    packs_rewritten: int = 0
    objects_deleted: int = 0  # orphan packs and manifests (no index row or restore point)
    object_bytes_freed: int = 0
    temp_files_deleted: int = 0  # left by interrupted writes
    temp_bytes_freed: int = 0

    def add(self, other: GcReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def live_ids(store: BlockStore, manifests: list[str]) -> set[bytes]:
    """Every block id the given manifests reference (``IntegrityError`` if one is damaged)."""
    live: set[bytes] = set()
    for name in manifests:
        _, ids = store.get_manifest(name)
        live.update(ids[i : i + ID_BYTES] for i in range(0, len(ids), ID_BYTES))
    live.discard(ZERO_ID)
    return live


def collect_garbage(
    store: BlockStore, manifests: list[tuple[str, str, str, int]], progress: Progress
) -> GcReport:
    """Sweep ``store`` keeping what the (manifest, disk restore point, restore point, size)
    rows use."""
    report = GcReport()
    names = {m for m, *_ in manifests}
    live = live_ids(store, sorted(names))
    db = store.db
    packs = dict(db.execute("SELECT name, size FROM packs").fetchall())
    by_pack: dict[str, list[tuple[bytes, int, int, int]]] = {p: [] for p in packs}
    indexed: set[bytes] = set()
    for d, pack, off, ln, raw in db.execute("SELECT id, pack, off, len, raw FROM blocks"):
        by_pack.setdefault(pack, []).append((d, off, ln, raw))
        indexed.add(d)
    lacking = len(live - indexed)
    del indexed
    if lacking:
        raise IntegrityError(
            f"the block index {store.index_path} lacks {lacking} blocks that restore points "
            "use, so gc deletes nothing: run `bcdr verify` to see what is affected; if the "
            "index was lost or damaged, rebuild it with `bcdr verify --rebuild-index`"
        )
    report.temp_files_deleted, report.temp_bytes_freed = store.backend.remove_leftovers()
    total, swept = sum(packs.get(p, 0) for p in by_pack), 0  # in bytes of packs looked at
    for pack, rows in sorted(by_pack.items()):
        progress("gc", swept, total)
        swept += packs.get(pack, 0)
        keep = [r for r in rows if r[0] in live]
        if len(keep) == len(rows) and rows:
            continue
        if keep:
            data = store.backend.get(pack)
            with store.writer(replace=True) as w:
                for d, off, ln, raw in sorted(keep, key=lambda r: r[1]):
                    w.add_payload(d, data[off : off + ln], raw)
            report.packs_rewritten += 1
            report.block_bytes_freed -= w.final_size
        else:
            report.packs_deleted += 1
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM blocks WHERE pack=?", (pack,))
            db.execute("DELETE FROM packs WHERE name=?", (pack,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        report.blocks_freed += len(rows) - len(keep)
        report.block_bytes_freed += packs.get(pack, 0)
        _delete(store, pack)
    # every pack an index row named (kept ones among them) and every one written since
    known = set(by_pack)
    known.update(r[0] for r in db.execute("SELECT name FROM packs"))
    for obj in list(store.backend.list("packs/")):
        if obj not in known:
            report.object_bytes_freed += _delete(store, obj)
            report.objects_deleted += 1
    for obj in list(store.backend.list("manifests/")):
        if obj not in names:
            report.object_bytes_freed += _delete(store, obj)
            report.objects_deleted += 1
    report.bytes_freed = (
        report.block_bytes_freed + report.object_bytes_freed + report.temp_bytes_freed
    )
    progress("gc", total, total)
    return report


def _delete(store: BlockStore, name: str) -> int:
    try:
        size = store.backend.size(name)
        store.backend.delete(name)
    except CoreError:  # gone already, or a damaged index row's name that names no object
        return 0
    return size
