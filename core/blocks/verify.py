"""Verifying a block store: every stored byte checked, and what a bad one affects named.

``verify_store`` checks, in one store: every manifest (magic, checksum, its size against its
block count and against the size recorded for its disk restore point); the index file
(SQLite's ``quick_check``); every pack's footer (checksum, entries tiling the pack); every
index row against its pack's footer and every ``packs`` row against its object; and every
block (or a random sample of them), decompressed and re-hashed against its id.

What always holds: verify only reads; every problem names the object (block, pack, manifest,
index) and each restore point and disk restore point it affects, so a user knows what to
restore from elsewhere or delete. Blocks of encrypted disks are opened with their disk restore
point's key; when that key cannot be used, its blocks are not called corrupt: one problem
per key says "cannot verify" and why (the key disabled, deleted...), naming what it affects.
Objects written before checksums (format 1) are checked for all but the checksum and
counted in ``legacy_objects``.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.blocks.index import DAMAGE_ERRORS, RebuildReport, is_damage
from core.blocks.packs import ID_BYTES, ZERO_ID, footer_of, read_footer
from core.blocks.store import BlockStore
from core.errors import CoreError, IntegrityError, NotFound
from core.progress import Progress

ManifestRow = tuple[str, str, str, int]  # manifest, disk restore point, restore point, size
_REBUILD = "rebuild the index from the packs with `bcdr verify --rebuild-index`"


@dataclass
class Problem:
    what: str  # "block", "manifest", "pack", "index" or "key" (a key that cannot be used)
    name: str  # block id (hex), manifest or pack object name, index file or key id
    pack: str | None
    reason: str  # "corrupted", "missing", "damaged (why)", ...
    restore_point_ids: list[str]
    disk_restore_point_ids: list[str]

    def __str__(self) -> str:
        where = f" in pack {self.pack}" if self.pack and self.what == "block" else ""
        used = ", ".join(self.disk_restore_point_ids) or "no restore point (garbage; run gc)"
        if self.what == "key":
            return f"{self.reason}; affects: {used}"
        return f"{self.what} {self.name}{where} is {self.reason}; affects: {used}"


@dataclass
class VerifyReport:
    blocks_checked: int = 0
    bytes_checked: int = 0
    manifests_checked: int = 0
    packs_checked: int = 0
    legacy_objects: int = 0  # packs and manifests of format 1 (no checksum)
    problems: list[Problem] = field(default_factory=list)
    rebuilt: list[RebuildReport] = field(default_factory=list)  # indexes rebuilt first

    @property
    def ok(self) -> bool:
        return not self.problems

    def affected_restore_points(self) -> list[str]:
        return sorted({r for p in self.problems for r in p.restore_point_ids})

    def add(self, other: VerifyReport) -> None:
        for name in ("blocks_checked", "bytes_checked", "manifests_checked", "packs_checked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.legacy_objects += other.legacy_objects
        self.problems.extend(other.problems)
        self.rebuilt.extend(other.rebuilt)


Users = dict[bytes, list[tuple[str, str]]]  # block id -> (disk restore point, restore point)


def verify_store(
    store: BlockStore,
    manifests: list[ManifestRow],
    sample_percent: float,
    progress: Progress,
    rng: random.Random | None = None,
    openers: dict[str, Callable | Exception] | None = None,
) -> VerifyReport:
    """Check ``store`` against the (manifest, disk restore point, restore point, size) rows;
    ``openers``: per encrypted disk restore point, its key's opener or why it has none."""
    report = VerifyReport()
    users: Users = defaultdict(list)
    for name, drp_id, rp_id, size in manifests:
        try:
            got = store.read_manifest(name, expected_size=size)
        except IntegrityError as exc:
            reason = "missing" if "missing from the store" in str(exc) else _why(exc)
            report.problems.append(Problem("manifest", name, None, reason, [rp_id], [drp_id]))
            continue
        report.manifests_checked += 1
        report.legacy_objects += got.version == 1
        ids = got.ids
        for d in {ids[i : i + ID_BYTES] for i in range(0, len(ids), ID_BYTES)} - {ZERO_ID}:
            users[d].append((drp_id, rp_id))
    try:
        rows, packs = _index(store)
    except (*DAMAGE_ERRORS, CoreError) as exc:
        if isinstance(exc, DAMAGE_ERRORS) and not is_damage(exc):
            raise  # busy, or a bug: not a damaged file
        report.problems.append(index_problem(store.index_path, str(exc), manifests))
        for pack in store.backend.list("packs/"):  # footers can still be checked
            _check_footer(store, pack, report, [])
        return report
    _check_blocks(store, users, rows, packs, sample_percent, progress, rng, openers, report)
    return report


def index_problem(path: Path, detail: str, manifests: list[ManifestRow]) -> Problem:
    """A damaged index file (``detail``: what SQLite says): it affects every restore point
    of its store."""
    return Problem(
        "index",
        str(path),
        None,
        f"damaged ({detail}); {_REBUILD}",
        sorted({r for *_, r, _ in manifests}),
        sorted({drp for _, drp, *_ in manifests}),
    )


def _why(exc: Exception) -> str:
    """The "damaged (why)" part of an error saying "... is damaged (why)"."""
    text = str(exc)
    return text[text.index("damaged") :] if "damaged" in text else f"damaged ({text})"


def _index(store: BlockStore) -> tuple[list[tuple], dict[str, int]]:
    """Every row of the index (``CoreError`` or one of ``DAMAGE_ERRORS`` if it is damaged)."""
    check = [r[0] for r in store.db.execute("PRAGMA quick_check").fetchall()]
    if check != ["ok"]:
        raise CoreError("; ".join(check[:3]))
    rows = store.db.execute("SELECT id, pack, off, len, raw FROM blocks").fetchall()
    packs = dict(store.db.execute("SELECT name, size FROM packs").fetchall())
    return rows, packs


def _check_footer(store: BlockStore, pack: str, report: VerifyReport, who: list) -> None:
    try:
        footer = read_footer(store.backend, pack)
    except NotFound:
        return
    except CoreError as exc:
        report.problems.append(_pack_problem(pack, exc, who))
        return
    report.packs_checked += 1
    report.legacy_objects += footer.version == 1


def _pack_problem(pack: str, exc: Exception, who: list[tuple[str, str]]) -> Problem:
    return Problem(
        "pack",
        pack,
        pack,
        _why(exc),
        sorted({r for _, r in who}),
        sorted({drp for drp, _ in who}),
    )


def _check_blocks(
    store: BlockStore,
    users: Users,
    rows: list[tuple],
    packs: dict[str, int],
    sample_percent: float,
    progress: Progress,
    rng: random.Random | None,
    openers: dict[str, Callable | Exception] | None,
    report: VerifyReport,
) -> None:
    """Check the footers of all packs, the index rows against them, and the (sampled) blocks."""

    def problem(d: bytes, pack: str | None, reason: str) -> Problem:
        who = users.get(d, [])
        return Problem(
            "block",
            d.hex(),
            pack,
            reason,
            sorted({r for _, r in who}),
            sorted({drp for drp, _ in who}),
        )

    present = {r[0] for r in rows}
    unindexed = sorted(set(users) - present)
    stray = [p for p in store.backend.list("packs/") if p not in packs] if unindexed else []
    if stray:  # the blocks may well be in packs the index does not know (a lost index)
        who = [u for d in unindexed for u in users[d]]
        report.problems.append(
            Problem(
                "index",
                str(store.index_path),
                None,
                f"out of date: {len(unindexed)} blocks in use are not in it, and the store "
                f"holds {len(stray)} packs it does not list; {_REBUILD}",
                sorted({r for _, r in who}),
                sorted({drp for drp, _ in who}),
            )
        )
        unindexed = []
    for d in unindexed:
        report.problems.append(problem(d, None, "missing"))
    in_pack: dict[str, list[tuple[str, str]]] = defaultdict(list)  # users of a pack's blocks
    for d, pack, *_ in rows:
        in_pack[pack].extend(users.get(d, ()))  # every pack a row names is a key
    if sample_percent < 100:
        k = min(len(rows), math.ceil(len(rows) * sample_percent / 100))
        rows = (rng or random.Random()).sample(rows, k)
    by_pack: dict[str, list[tuple[bytes, int, int, int]]] = defaultdict(list)
    opener_of, unusable = _openers(users, openers or {})
    for key_id, (exc, drps) in sorted(unusable.items()):
        reason = getattr(exc, "reason", str(exc))
        report.problems.append(
            Problem(
                "key",
                key_id,
                None,
                f"cannot verify {drps.blocks} blocks: {reason}",
                sorted({r for _, r in drps.users}),
                sorted({drp for drp, _ in drps.users}),
            )
        )
    for d, pack, off, ln, raw in rows:
        if d in opener_of and opener_of[d] is None:
            continue  # its key cannot be used: reported above, not called corrupt
        by_pack[pack].append((d, off, ln, raw))
    objects = set(store.backend.list("packs/"))
    for pack in sorted(objects - set(by_pack)):  # footers of packs no sampled row is in
        _check_footer(store, pack, report, in_pack.get(pack, []))
    for pack in sorted(set(packs) | set(in_pack)):
        size = packs.get(pack)
        actual = store.backend.size(pack) if pack in objects else None
        if size is None:
            why = f"it has rows of blocks in pack {pack} but no row for the pack"
        elif actual is None and pack not in in_pack:
            why = f"it records a pack {pack} that does not exist"
        elif actual is not None and actual != size:
            why = f"it records pack {pack} as {size} bytes, not {actual}"
        else:
            continue
        who = in_pack.get(pack, [])
        report.problems.append(
            Problem(
                "index",
                str(store.index_path),
                None,
                f"damaged ({why}); {_REBUILD}",
                sorted({r for _, r in who}),
                sorted({drp for drp, _ in who}),
            )
        )
    total = sum(ln for entries in by_pack.values() for _, _, ln, _ in entries)
    for pack in sorted(by_pack):
        entries = sorted(by_pack[pack], key=lambda e: e[1])
        if pack not in objects:  # gone, or a damaged row names no object at all
            report.problems.extend(problem(d, pack, "missing") for d, *_ in entries)
            continue
        try:
            data = store.backend.get(pack) if len(entries) > 8 else None
            footer = footer_of(data) if data is not None else read_footer(store.backend, pack)
        except NotFound:
            report.problems.extend(problem(d, pack, "missing") for d, *_ in entries)
            continue
        except CoreError as exc:
            report.problems.append(_pack_problem(pack, exc, in_pack.get(pack, [])))
            listed = None
        else:
            report.packs_checked += 1
            report.legacy_objects += footer.version == 1
            listed = footer.by_id()
        for d, off, ln, raw in entries:
            report.blocks_checked += 1
            report.bytes_checked += ln
            if listed is not None and listed.get(d) != (off, ln, raw):
                reason = f"not where the index says (its row disagrees with the footer); {_REBUILD}"
                report.problems.append(problem(d, pack, reason))
                continue
            try:
                payload = (
                    data[off : off + ln] if data is not None else store.backend.get(pack, off, ln)
                )
                opener_of.get(d, store.open_payload)(d, payload, raw, pack)
            except IntegrityError:
                report.problems.append(problem(d, pack, "corrupted"))
            except NotFound:
                report.problems.append(problem(d, pack, "missing"))
        progress("verify", report.bytes_checked, total)
    progress("verify", total, total)  # missing packs were not read, but looked at


@dataclass
class _Unusable:
    blocks: int = 0
    users: set[tuple[str, str]] = field(default_factory=set)


def _openers(
    users: dict[bytes, list[tuple[str, str]]], openers: dict[str, Callable | Exception]
) -> tuple[dict[bytes, Callable | None], dict[str, tuple[Exception, _Unusable]]]:
    """Each encrypted block's opener (None when its key cannot be used), and per unusable
    key: its error, the blocks left unverified and their users."""
    lowered = {k.lower(): v for k, v in openers.items()}
    if not lowered:
        return {}, {}
    opener_of: dict[bytes, Callable | None] = {}
    unusable: dict[str, tuple[Exception, _Unusable]] = {}
    for d, who in users.items():
        for drp_id, _ in who:
            got = lowered.get(drp_id.lower())
            if got is None:
                continue
            if isinstance(got, Exception):
                key_id = getattr(got, "key_id", "") or str(got)
                entry = unusable.setdefault(key_id, (got, _Unusable()))[1]
                entry.blocks += 1
                entry.users.update(who)
                opener_of[d] = None
            else:
                opener_of[d] = got
            break
    return opener_of, unusable
