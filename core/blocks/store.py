"""Content-addressed block store: 64 KiB blocks packed into large immutable objects.

A block's id is xxh3-128 of its plaintext keyed with the subscription's secret seed, so ids
never alias across subscriptions and one subscription's stores in every region agree on ids.
Blocks are zstd-compressed (level 1; stored raw when that does not shrink them) and packed
into pack objects of up to ``pack_size`` bytes, each ending in a checksummed footer that
lists its blocks (``core/blocks/packs.py``). The index (block id -> pack, offset, length) is a table
in the store's own SQLite file (``core/blocks/index.py``); it holds nothing the packs' footers
do not, so ``rebuild_index`` there makes it again from them. A manifest (a disk image's
dense ids, ``core/blocks/manifests.py``) is an object of the store too.

What always holds:
- An object is written whole (temp file, fsync, rename, directory fsync) before any index row
  that points into it is committed, so an index row never points at missing bytes.
- Every read decompresses and re-hashes the block and raises ``IntegrityError`` naming the
  block and the pack when the content does not match its id; the pack's footer is checked
  (once per pack and store handle) and the index row must agree with it.
- A manifest read is checked (magic, checksum, its size against its block count, and against
  the size recorded for its disk restore point when the caller passes it) before any of its
  ids is used; a damaged one raises ``IntegrityError`` naming it.
- A damaged index file raises ``IntegrityError`` naming the file and the way to rebuild it
  (never a bare ``sqlite3`` error), from the constructor and from inside ``lock``.
- Objects live in a ``Backend`` (``core/blocks/backends.py``).
- Blocks of a disk under a disk encryption set have keyed ids and sealed payloads
  (``core/keystore/envelope.py``): callers pass that key's opener and compressor; the store is the
  same, the index simply holds both kinds of ids.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import xxhash

from core.blocks.backends import Backend, FileLock, StoreLock, check_object_name
from core.blocks.index import DAMAGE_ERRORS, connect, index_damaged, is_damage
from core.blocks.manifests import Manifest, decode_manifest, encode_manifest
from core.blocks.packs import (
    PackWriter,
    decompress_block,
    nonzero_ids,
    read_footer,
)
from core.disks.fileio import BLOCK_SIZE
from core.errors import CoreError, IntegrityError, NotFound

if TYPE_CHECKING:
    from core.blocks.remote import BlobPlace

PACK_SIZE = 8 * 1024 * 1024
_FOOTERS_KEPT = 256  # checked pack footers a store handle remembers


Location = tuple[str, int, int, int]  # pack, offset, length, raw
# An encrypted disk's blocks (core/keystore/envelope.py) are read with its key's
# ``open_payload`` and
# written with its ``seal_many`` in place of ``BlockStore.open_payload`` and ``compress_blocks``.
Opener = Callable[[bytes, "bytes | memoryview", int, str], bytes]  # (id, payload, raw, pack)


class BlockStore:
    """Blocks of one (region, subscription), deduplicated by keyed id."""

    def __init__(
        self,
        backend: Backend,
        seed: int,
        index_path: Path,
        *,
        lock_path: Path | None = None,
        lock: StoreLock | None = None,
        pack_size: int = PACK_SIZE,
        threads: int = 2,
    ) -> None:
        self.backend = backend
        self.seed = seed
        self.pack_size = pack_size
        self.threads = threads
        self.store_lock = lock or (FileLock(lock_path) if lock_path is not None else None)
        """The store lock (``core.blocks.backends.StoreLock``); None: not locked."""
        self.index_path = Path(index_path)
        try:
            self.db = connect(self.index_path)
        except DAMAGE_ERRORS as exc:
            raise (index_damaged(self.index_path, exc) if is_damage(exc) else exc) from None
        self._zero_ids: dict[int, bytes] = {}
        self._footers: OrderedDict[str, dict[bytes, tuple[int, int, int]]] = OrderedDict()
        self._footers_lock = threading.Lock()

    @classmethod
    def open_dir(
        cls, store_dir: Path, seed: int, place: BlobPlace | None = None, **kwargs
    ) -> BlockStore:
        """The standard layout: ``objects/`` (packs, manifests), ``index.db``, ``lock``; with
        ``place``, the objects and the lock on Azure Blob and the index still in
        ``store_dir`` (``core.blocks.remote.objects_and_lock``)."""
        from core.blocks.remote import objects_and_lock

        store_dir = Path(store_dir)
        store_dir.mkdir(parents=True, exist_ok=True)
        backend, lock = objects_and_lock(store_dir, place)
        return cls(backend, seed, store_dir / "index.db", lock=lock, **kwargs)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> BlockStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ids
    def digest(self, data: bytes | bytearray | memoryview) -> bytes:
        """The 16-byte keyed xxh3-128 of ``data``."""
        return xxhash.xxh3_128_digest(data, seed=self.seed)

    def block_id(self, data: bytes | bytearray | memoryview) -> str:
        """The block id: keyed xxh3-128 of the plaintext, hex."""
        return self.digest(data).hex()

    def zero_digest(self, size: int = BLOCK_SIZE) -> bytes:
        """The id of ``size`` zero bytes (zero blocks are never stored)."""
        got = self._zero_ids.get(size)
        if got is None:
            got = self._zero_ids[size] = self.digest(bytes(size))
        return got

    # locking
    @contextlib.contextmanager
    def lock(self, exclusive: bool) -> Iterator[None]:
        """Writers hold the store lock shared; gc holds it exclusive (across processes; on
        Azure Blob across machines).
        A damaged index met inside raises ``IntegrityError`` naming the file."""
        held = self.store_lock.hold(exclusive) if self.store_lock else contextlib.nullcontext()
        with held:
            try:
                yield
            except DAMAGE_ERRORS as exc:
                if is_damage(exc):
                    raise index_damaged(self.index_path, exc) from None
                raise

    # index
    def present(self, digests: Iterable[bytes]) -> set[bytes]:
        """Those of ``digests`` the store holds."""
        found: set[bytes] = set()
        batch = list(digests)
        for i in range(0, len(batch), 500):
            part = batch[i : i + 500]
            q = f"SELECT id FROM blocks WHERE id IN ({','.join('?' * len(part))})"
            found.update(r[0] for r in self.db.execute(q, part))
        return found

    def locations(self, digests: Iterable[bytes]) -> dict[bytes, Location]:
        out: dict[bytes, Location] = {}
        batch = list(set(digests))
        for i in range(0, len(batch), 500):
            part = batch[i : i + 500]
            marks = ",".join("?" * len(part))
            q = f"SELECT id, pack, off, len, raw FROM blocks WHERE id IN ({marks})"
            for d, pack, off, ln, raw in self.db.execute(q, part):
                out[d] = (pack, off, ln, raw)
        return out

    def stored_bytes(self) -> int:
        """Total bytes of all packs."""
        return self.db.execute("SELECT COALESCE(SUM(size), 0) FROM packs").fetchone()[0]

    def block_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0]

    # manifests: a disk image as a dense array of 16-byte ids, all-zero for zero blocks
    def put_manifest(self, name: str, size_bytes: int, ids: bytes | bytearray) -> int:
        """Store a manifest object durably; returns its stored size."""
        body = encode_manifest(size_bytes, ids)
        self.backend.put(check_object_name(name), body)
        return len(body)

    def get_manifest(self, name: str, expected_size: int | None = None) -> tuple[int, bytes]:
        """(size_bytes, dense ids) of a manifest, checked (see ``read_manifest``)."""
        got = self.read_manifest(name, expected_size)
        return got.size, got.ids

    def read_manifest(self, name: str, expected_size: int | None = None) -> Manifest:
        """A manifest, checked (``core.blocks.manifests.decode_manifest``); ``IntegrityError``
        naming it if it is missing or damaged."""
        try:
            body = self.backend.get(name)
        except NotFound:
            raise IntegrityError(f"manifest {name} is missing from the store") from None
        return decode_manifest(name, body, expected_size)

    # writing
    def writer(self, max_inflight: int = 2, *, replace: bool = False) -> PackWriter:
        """A writer of new packs; ``replace`` re-points existing index rows (gc rewrites)."""
        return PackWriter(self, max_inflight, replace)

    # reading
    def get_block(self, digest: bytes, opener: Opener | None = None) -> bytes:
        """One block's plaintext, verified against its id (``opener``: see ``Opener``).

        Holds no lock: if gc moved the block meanwhile (its pack is gone), look again once.
        """
        for attempt in (1, 2):
            loc = self.locations([digest]).get(digest)
            if loc is None:
                raise IntegrityError(f"block {digest.hex()} is missing from the store")
            pack, off, ln, raw = loc
            try:
                self.check_row(digest, pack, off, ln, raw)
                payload = self.backend.get(pack, off, ln)
            except NotFound:
                if attempt == 2:
                    raise IntegrityError(
                        f"block {digest.hex()}: its pack {pack} is missing from the store"
                    ) from None
                continue
            return (opener or self.open_payload)(digest, payload, raw, pack)
        raise AssertionError("unreachable")

    def footer(self, pack: str) -> dict[bytes, tuple[int, int, int]]:
        """(offset, length, raw) of each block of ``pack`` from its checked footer,
        remembered for this handle; ``IntegrityError`` if the footer is damaged."""
        with self._footers_lock:
            got = self._footers.get(pack)
            if got is not None:
                self._footers.move_to_end(pack)
                return got
        try:
            got = read_footer(self.backend, pack).by_id()
        except NotFound:
            raise
        except CoreError as exc:
            raise IntegrityError(
                f"pack {pack}: {exc}; run verify to list the restore points affected"
            ) from None
        with self._footers_lock:
            self._footers[pack] = got
            if len(self._footers) > _FOOTERS_KEPT:
                self._footers.popitem(last=False)
        return got

    def check_row(self, digest: bytes, pack: str, off: int, ln: int, raw: int) -> None:
        """``IntegrityError`` unless the index row (pack, off, ln, raw) of ``digest`` is the
        entry the pack's checked footer lists for it."""
        if self.footer(pack).get(digest) != (off, ln, raw):
            raise IntegrityError(
                f"block {digest.hex()}: its index row disagrees with the footer of pack {pack} "
                "(the index is damaged: rebuild it with `bcdr verify --rebuild-index`)"
            )

    def open_payload(
        self, digest: bytes, payload: bytes | memoryview, raw: int, pack: str
    ) -> bytes:
        """Decompress a stored payload and check it against its id (``IntegrityError``)."""
        data = decompress_block(payload, raw)
        if data is None or self.digest(data) != digest:
            raise IntegrityError(
                f"block {digest.hex()} in pack {pack} is corrupted (content does not match "
                "its id); run verify to list the restore points affected"
            )
        return data

    def read_blocks(self, digests: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """Yield (id, verified plaintext) for each distinct id, in pack order (fast reads)."""
        for d, data, _raw, _tags in self._read(enumerate(digests), keep_payload=False):
            yield d, data

    def read_tagged(
        self, tagged: Iterable[tuple[int, bytes]], opener: Opener | None = None
    ) -> Iterator[tuple[list[int], bytes]]:
        """For (tag, id) pairs with distinct tags (block indexes of a manifest, say), yield
        (tags of one id, its verified plaintext) once per distinct id, in pack order."""
        for _d, data, _raw, tags in self._read(tagged, keep_payload=False, opener=opener):
            yield tags, data

    def read_payloads(
        self, digests: Iterable[bytes], opener: Opener | None = None
    ) -> Iterator[tuple[bytes, bytes, int]]:
        """Yield (id, stored payload, raw flag), each verified: for copying between stores."""
        for d, payload, raw, _tags in self._read(
            enumerate(digests), keep_payload=True, opener=opener
        ):
            yield d, payload, raw

    def lacking(self, ids: bytes | bytearray) -> tuple[list[bytes], int]:
        """For a dense manifest ``ids``: (its distinct non-zero ids this store lacks, the
        number of its distinct non-zero ids)."""
        with self._wanted(nonzero_ids(ids)) as want:
            (count,) = self.db.execute(f"SELECT COUNT(DISTINCT id) FROM {want}").fetchone()
            rows = self.db.execute(
                f"SELECT DISTINCT w.id FROM {want} w "
                "WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE b.id = w.id)"
            )
            return [r[0] for r in rows], count

    @contextlib.contextmanager
    def _wanted(self, tagged: Iterable[tuple[int, bytes]]) -> Iterator[str]:
        """A temporary table of (tag, id) rows on the index connection, dropped on exit: the
        join and the sort happen in SQLite, not as a Python object per block."""
        name = f"temp.want_{uuid.uuid4().hex}"
        db = self.db
        db.execute(f"CREATE TABLE {name} (tag INTEGER PRIMARY KEY, id BLOB NOT NULL)")
        try:
            db.execute("BEGIN")
            try:
                db.executemany(f"INSERT INTO {name} VALUES (?, ?)", tagged)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            yield name
        finally:
            db.execute(f"DROP TABLE {name}")

    def _runs(self, want: str, span: int) -> Iterator[list[tuple[bytes, str, int, int, int, list]]]:
        """The wanted blocks as runs close together in one pack (one ranged read each, up to
        ``span`` bytes and 64 blocks), streamed from a sorted join."""
        rows = self.db.execute(
            f"SELECT w.id, b.pack, b.off, b.len, b.raw, w.tag FROM {want} w "
            "JOIN blocks b ON b.id = w.id ORDER BY b.pack, b.off, w.tag"
        )
        try:
            run: list[tuple[bytes, str, int, int, int, list]] = []
            for d, pack, off, ln, raw, tag in rows:
                if run:
                    last = run[-1]
                    if last[0] == d:
                        last[5].append(tag)
                        continue
                    first = run[0]
                    if first[1] != pack or off + ln - first[2] > span or len(run) >= 64:
                        yield run
                        run = []
                run.append((d, pack, off, ln, raw, [tag]))
            if run:
                yield run
        finally:
            rows.close()

    def _read(
        self,
        tagged: Iterable[tuple[int, bytes]],
        keep_payload: bool,
        span: int = 4 * 1024 * 1024,
        opener: Opener | None = None,
    ) -> Iterator[tuple[bytes, bytes, int, list[int]]]:
        """Yield (id, plaintext or payload, raw, tags) per distinct id, verified, in pack
        order; blocks close together come in one ranged read and are decompressed and
        re-hashed in threads, at most ``threads + 1`` runs held at once."""

        open_ = opener or self.open_payload

        def work(run: list[tuple[bytes, str, int, int, int, list]]) -> list:
            pack, start = run[0][1], run[0][2]
            end = run[-1][2] + run[-1][3]
            try:
                self.footer(pack)  # first: a damaged index row may name no valid object
                buf = memoryview(self.backend.get(pack, start, end - start))
            except NotFound:
                raise IntegrityError(
                    f"block {run[0][0].hex()}: its pack {pack} is missing from the store; "
                    "run verify to list the restore points affected"
                ) from None
            out = []
            for d, _, off, ln, raw, tags in run:
                self.check_row(d, pack, off, ln, raw)
                payload = buf[off - start : off - start + ln]
                data = open_(d, payload, raw, pack)
                out.append((d, bytes(payload) if keep_payload else data, raw, tags))
            return out

        with self._wanted(tagged) as want:
            count, first = self.db.execute(
                f"SELECT COUNT(DISTINCT w.id), MIN(w.id) FROM {want} w "
                "WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE b.id = w.id)"
            ).fetchone()
            if count:
                raise IntegrityError(
                    f"block {first.hex()} is missing from the store ({count} missing in all); "
                    "run verify to list the restore points affected"
                )
            with ThreadPoolExecutor(self.threads) as pool:
                pending: deque[Future] = deque()
                runs = self._runs(want, span)
                try:
                    for run in runs:
                        pending.append(pool.submit(work, run))
                        if len(pending) > self.threads:
                            yield from pending.popleft().result()
                    while pending:
                        yield from pending.popleft().result()
                finally:
                    for f in pending:
                        f.cancel()
                    runs.close()
