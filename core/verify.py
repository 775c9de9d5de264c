"""Verifying a block store: re-read and re-hash stored blocks, name what a bad one affects.

What always holds: verify only reads; every problem names the block, its pack (when known)
and each restore point and disk restore point that uses it, so a user knows what to restore
from elsewhere or delete. Blocks of encrypted disks are opened with their disk restore
point's key; when that key cannot be used, its blocks are not called corrupt: one problem
per key says "cannot verify" and why (the key disabled, deleted...), naming what it affects.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.blockstore import ID_BYTES, ZERO_ID, BlockStore
from core.errors import IntegrityError, NotFound
from core.progress import Progress


@dataclass
class Problem:
    what: str  # "block", "manifest" or "key" (a key that cannot be used: blocks unverified)
    name: str  # block id (hex), manifest object name or key id
    pack: str | None
    reason: str  # "corrupted", "missing"
    restore_point_ids: list[str]
    disk_restore_point_ids: list[str]

    def __str__(self) -> str:
        where = f" in pack {self.pack}" if self.pack else ""
        used = ", ".join(self.disk_restore_point_ids) or "no restore point (garbage; run gc)"
        if self.what == "key":
            return f"{self.reason}; affects: {used}"
        return f"{self.what} {self.name}{where} is {self.reason}; affects: {used}"


@dataclass
class VerifyReport:
    blocks_checked: int = 0
    bytes_checked: int = 0
    manifests_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def affected_restore_points(self) -> list[str]:
        return sorted({r for p in self.problems for r in p.restore_point_ids})

    def add(self, other: VerifyReport) -> None:
        self.blocks_checked += other.blocks_checked
        self.bytes_checked += other.bytes_checked
        self.manifests_checked += other.manifests_checked
        self.problems.extend(other.problems)


def verify_store(
    store: BlockStore,
    manifests: list[tuple[str, str, str]],
    sample_percent: float,
    progress: Progress,
    rng: random.Random | None = None,
    openers: dict[str, Callable | Exception] | None = None,
) -> VerifyReport:
    """Check ``store`` against the (manifest, disk restore point, restore point) rows;
    ``openers``: per encrypted disk restore point, its key's opener or why it has none."""
    report = VerifyReport()
    users: dict[bytes, list[tuple[str, str]]] = defaultdict(list)
    for name, drp_id, rp_id in manifests:
        try:
            _, ids = store.get_manifest(name)
        except IntegrityError as exc:
            reason = "missing" if "missing" in str(exc) else "damaged"
            report.problems.append(Problem("manifest", name, None, reason, [rp_id], [drp_id]))
            continue
        report.manifests_checked += 1
        for d in {ids[i : i + ID_BYTES] for i in range(0, len(ids), ID_BYTES)} - {ZERO_ID}:
            users[d].append((drp_id, rp_id))

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

    present = store.present(users)
    for d in sorted(set(users) - present):
        report.problems.append(problem(d, None, "missing"))

    rows = store.db.execute("SELECT id, pack, off, len, raw FROM blocks").fetchall()
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
    total = sum(ln for entries in by_pack.values() for _, _, ln, _ in entries)
    for pack in sorted(by_pack):
        entries = sorted(by_pack[pack], key=lambda e: e[1])
        try:
            data = store.backend.get(pack) if len(entries) > 8 else None
        except NotFound:
            report.problems.extend(problem(d, pack, "missing") for d, *_ in entries)
            continue
        for d, off, ln, raw in entries:
            try:
                payload = (
                    data[off : off + ln] if data is not None else store.backend.get(pack, off, ln)
                )
                opener_of.get(d, store.open_payload)(d, payload, raw, pack)
            except IntegrityError:
                report.problems.append(problem(d, pack, "corrupted"))
            except NotFound:
                report.problems.append(problem(d, pack, "missing"))
            report.blocks_checked += 1
            report.bytes_checked += ln
        progress("verify", report.bytes_checked, total)
    progress("verify", total, total)  # missing packs were not read, but looked at
    return report


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
