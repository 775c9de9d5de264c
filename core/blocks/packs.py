"""Pack format and pack writing: the byte layout of a pack object and the writer that fills them.

A pack is the concatenation of its blocks' payloads (zstd level 1, or raw when that does not
shrink a block) followed by a footer: one ``(id, offset, length, raw)`` entry per block, then
a trailer. Format 2 (magic ``BCDRPAK2``, written since footers carry checksums): the trailer
is the entry count, the xxh3-64 of the entries and the count, and the magic. Format 1
(``BCDRPAK1``, written before): the count and the magic, no checksum; such packs are still
read, their footers checked for everything but the checksum, and ``PackFooter.version`` says
which a pack has (verify counts them). ``parse_pack_footer``/``footer_of`` read a footer
back from a pack's bytes, ``read_footer`` from the backend (the tail only).

What always holds:
- A pack is handed to the backend whole; its index rows are committed only after that
  ``put`` has returned, so an index row never points at missing bytes.
- A footer that parses is whole: its checksum matches (format 2) and its entries tile the
  payload area from offset 0 to the footer exactly, in order, so every byte of a pack is
  either a listed payload (checked by re-hashing it against its id) or the checked footer.
- A block is added at most once per writer and never when the store already holds it.
"""

from __future__ import annotations

import struct
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import xxhash
import zstandard

from core.disks.fileio import BLOCK_SIZE
from core.errors import CoreError

if TYPE_CHECKING:
    from core.blocks.backends import Backend
    from core.blocks.store import BlockStore

ID_BYTES = 16
_PACK_WRITERS = 2  # packs being written (and fsynced) at once
_COMMIT_ROWS = 8192  # index rows of written packs committed together (bounds what waits)
_FOOTER_ENTRY = struct.Struct("<16sQIB")
_TRAILER = struct.Struct("<IQ8s")  # entry count, xxh3-64 of entries + count, magic
_MAGIC = b"BCDRPAK2"
_TRAILER_V1 = struct.Struct("<I8s")  # format 1: entry count, magic (no checksum)
_MAGIC_V1 = b"BCDRPAK1"
_COUNT = struct.Struct("<I")
ZERO_ID = bytes(ID_BYTES)  # a manifest's entry for a zero block (stored nowhere)

Compressor = Callable[[list[tuple[bytes, memoryview]]], list[tuple[bytes, bytes, int]]]
_tls = threading.local()


def compress_blocks(items: list[tuple[bytes, memoryview]]) -> list[tuple[bytes, bytes, int]]:
    """(id, payload, raw) of each (id, data): zstd-compressed, or the data itself with
    raw = 1 when compressing would not make it smaller (the default ``Compressor``)."""
    cctx = getattr(_tls, "cctx", None)
    if cctx is None:
        cctx = _tls.cctx = zstandard.ZstdCompressor(level=1)
    out = []
    for digest, data in items:
        comp = cctx.compress(data)
        out.append((digest, comp, 0) if len(comp) < len(data) else (digest, bytes(data), 1))
    return out


def decompress_block(payload: bytes | memoryview, raw: int) -> bytes | None:
    """The block a payload of ``compress_blocks`` holds (at most ``BLOCK_SIZE`` bytes);
    None when the payload does not decompress (it is damaged: callers say which block)."""
    if raw:
        return bytes(payload)
    dctx = getattr(_tls, "dctx", None)
    if dctx is None:
        dctx = _tls.dctx = zstandard.ZstdDecompressor()
    try:
        return dctx.decompress(payload, max_output_size=BLOCK_SIZE)
    except zstandard.ZstdError:
        return None


def nonzero_ids(ids: bytes | bytearray) -> Iterator[tuple[int, memoryview]]:
    """(block index, id) of each non-zero entry of a dense manifest."""
    mv = memoryview(ids)
    for b in range(len(ids) // ID_BYTES):
        d = mv[b * ID_BYTES : (b + 1) * ID_BYTES]
        if d != ZERO_ID:
            yield b, d


class PackWriter:
    """Collects new blocks, compresses them in threads and writes full packs.

    ``add_many`` returns with at most ``max_inflight`` submissions outstanding, so a caller
    that keeps ``max_inflight + 1`` read buffers and moves to the next one after each
    ``add_many`` never overwrites bytes still being compressed. Blocks already in the store
    or added earlier are skipped. Full packs are written by background threads while the
    next one fills; a pack's index rows are committed only after its ``put`` has returned,
    many packs' rows in one transaction (at ``flush``, or every ``_COMMIT_ROWS`` rows).
    """

    def __init__(self, store: BlockStore, max_inflight: int, replace: bool = False) -> None:
        self.store = store
        self.replace = replace
        self.final_size = 0  # bytes of all packs written, footers included
        self.max_inflight = max_inflight
        self.pool = ThreadPoolExecutor(store.threads)
        # one more than the packs in flight: the last pack of a flush, and manifests
        self.io = ThreadPoolExecutor(_PACK_WRITERS + 2)
        self.inflight: deque[Future] = deque()
        self.pending: deque[tuple[Future, str, list, int]] = deque()
        self.seen: set[bytes] = set()
        self.chunks: list[bytes] = []
        self.size = 0
        self.entries: list[tuple[bytes, int, int, int]] = []
        self.blocks_new = 0
        self.bytes_stored = 0
        self.packs_written: list[str] = []
        self.durable: list[tuple[str, list, int]] = []  # written packs whose rows wait
        self.durable_rows = 0

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(self, exc_type, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.io.shutdown(wait=True)  # a pack written here is an orphan: gc reclaims it

    def new_among(self, digests: list[bytes]) -> list[bytes]:
        """Those of ``digests`` neither in the store nor added to this writer."""
        cand = [d for d in dict.fromkeys(digests) if d not in self.seen]
        if not cand:
            return []
        have = self.store.present(cand)
        return [d for d in cand if d not in have]

    def add_many(
        self, items: list[tuple[bytes, memoryview]], compress: Compressor = compress_blocks
    ) -> None:
        """Queue blocks known to be new (see ``new_among``) for compression and packing
        (``compress``: the sealing compressor of an encrypted disk, ``core/keystore/envelope``)."""
        fresh: dict[bytes, memoryview] = {}
        for d, v in items:  # a block twice in one batch (a disk's repeated block) goes once
            if d not in self.seen and d not in fresh:
                fresh[d] = v
        if not fresh:
            return
        items = list(fresh.items())
        self.seen.update(fresh)
        self.inflight.append(self.pool.submit(compress, items))
        while len(self.inflight) > self.max_inflight:
            self._take(self.inflight.popleft().result())

    def add_payload(self, digest: bytes, payload: bytes, raw: int) -> None:
        """Add an already-compressed block (copy between stores of one subscription)."""
        if digest in self.seen:
            return
        self.seen.add(digest)
        self._take([(digest, payload, raw)])

    def _take(self, done: list[tuple[bytes, bytes, int]]) -> None:
        for digest, payload, raw in done:
            self.entries.append((digest, self.size, len(payload), raw))
            self.chunks.append(payload)
            self.size += len(payload)
            self.blocks_new += 1
            self.bytes_stored += len(payload)
            if self.size >= self.store.pack_size:
                self._write_pack()

    def drain(self) -> None:
        """Wait for every queued block to be compressed (counts are exact afterwards)."""
        while self.inflight:
            self._take(self.inflight.popleft().result())

    def flush(self) -> None:
        """Finish all queued blocks and write them durably, with their index rows."""
        self.drain()
        self._write_pack(final=True)  # no more reading: it need not wait for a writer
        while self.pending:
            self._finish_pending()
        self._commit_index()

    def _write_pack(self, final: bool = False) -> None:
        """Hand the current pack to a writer thread (at most ``_PACK_WRITERS`` at once, one
        more for the ``final`` pack of a flush)."""
        if not self.entries:
            return
        name = f"packs/{uuid.uuid4().hex}.pack"
        footer = pack_footer(self.entries)
        self.chunks.append(footer)
        if len(self.pending) >= _PACK_WRITERS + final:
            self._finish_pending()
        future = self.io.submit(self.store.backend.put, name, self.chunks)
        self.pending.append((future, name, self.entries, self.size + len(footer)))
        self.chunks, self.entries, self.size = [], [], 0

    def _finish_pending(self) -> None:
        """Wait for the oldest pack being written; its index rows join the next commit."""
        future, name, entries, size = self.pending.popleft()
        future.result()
        self.durable.append((name, entries, size))
        self.durable_rows += len(entries)
        if self.durable_rows >= _COMMIT_ROWS:
            self._commit_index()

    def _commit_index(self) -> None:
        """Commit the index rows of every pack written so far, in one transaction (one WAL
        fsync for many packs); each of those packs is durable already."""
        if not self.durable:
            return
        db = self.store.db
        verb = "REPLACE" if self.replace else "IGNORE"
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO packs (name, size) VALUES (?, ?)",
                [(name, size) for name, _, size in self.durable],
            )
            for name, entries, _ in self.durable:
                db.executemany(
                    f"INSERT OR {verb} INTO blocks (id, pack, off, len, raw) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(d, name, off, ln, raw) for d, off, ln, raw in entries],
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        for name, _, size in self.durable:
            self.packs_written.append(name)
            self.final_size += size
        self.durable, self.durable_rows = [], 0

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.pool.shutdown(wait=True)
            self.io.shutdown(wait=True)


Entry = tuple[bytes, int, int, int]  # id, offset, length, raw


@dataclass(frozen=True)
class PackFooter:
    """A pack's checked footer: its entries in offset order, and its format (1: no checksum)."""

    entries: list[Entry]
    version: int

    def by_id(self) -> dict[bytes, tuple[int, int, int]]:
        """(offset, length, raw) of each block the pack holds (its first entry, the one an
        index row names, if a format-1 pack lists a block twice)."""
        return {d: (off, ln, raw) for d, off, ln, raw in reversed(self.entries)}


def pack_footer(entries: list[Entry]) -> bytes:
    """The footer (format 2) of a pack whose payloads ``entries`` list, in order."""
    body = b"".join(_FOOTER_ENTRY.pack(*e) for e in entries)
    count = _COUNT.pack(len(entries))
    return body + _TRAILER.pack(len(entries), xxhash.xxh3_64_intdigest(body + count), _MAGIC)


def _trailer(tail: bytes | memoryview) -> tuple[int, int, int | None]:
    """(format, entry count, checksum or None) from the last bytes of a pack."""
    if len(tail) >= _TRAILER.size and bytes(tail[-8:]) == _MAGIC:
        count, checksum, _ = _TRAILER.unpack_from(tail, len(tail) - _TRAILER.size)
        return 2, count, checksum
    if len(tail) >= _TRAILER_V1.size and bytes(tail[-8:]) == _MAGIC_V1:
        count, _ = _TRAILER_V1.unpack_from(tail, len(tail) - _TRAILER_V1.size)
        return 1, count, None
    raise CoreError("pack footer is damaged (no pack trailer at its end)")


def _footer_bytes(version: int, count: int) -> int:
    return count * _FOOTER_ENTRY.size + (_TRAILER if version == 2 else _TRAILER_V1).size


def _parse(tail: bytes | memoryview, pack_size: int) -> PackFooter:
    """The footer of a pack of ``pack_size`` bytes whose last bytes are ``tail``."""
    version, count, checksum = _trailer(tail)
    need = _footer_bytes(version, count)
    if need > len(tail) or need > pack_size:
        raise CoreError("pack footer is damaged (its entry count exceeds the pack)")
    start = len(tail) - need
    body = bytes(tail[start : start + count * _FOOTER_ENTRY.size])
    if checksum is not None and xxhash.xxh3_64_intdigest(body + _COUNT.pack(count)) != checksum:
        raise CoreError("pack footer is damaged (its checksum does not match)")
    entries = [_FOOTER_ENTRY.unpack_from(body, i * _FOOTER_ENTRY.size) for i in range(count)]
    at = 0
    for _d, off, ln, raw in entries:
        if off != at or raw not in (0, 1):
            raise CoreError("pack footer is damaged (its entries do not tile the pack)")
        at += ln
    if at != pack_size - need:
        raise CoreError("pack footer is damaged (its entries do not tile the pack)")
    return PackFooter(entries, version)


def footer_of(data: bytes | memoryview) -> PackFooter:
    """The checked footer of a whole pack's bytes; ``CoreError`` if it is damaged."""
    return _parse(data, len(data))


def read_footer(backend: Backend, name: str) -> PackFooter:
    """The checked footer of the pack ``name``, reading only its tail (``CoreError`` if it is
    damaged, ``NotFound`` if the pack is missing)."""
    size = backend.size(name)
    guess = min(size, 64 * 1024)
    tail = backend.get(name, size - guess, guess)
    version, count, _ = _trailer(tail)
    need = _footer_bytes(version, count)
    if guess < need <= size:
        tail = backend.get(name, size - need, need)
    return _parse(tail, size)


def parse_pack_footer(data: bytes) -> list[Entry]:
    """The (id, offset, length, raw) entries a pack's footer lists; ``CoreError`` if torn."""
    return footer_of(data).entries
