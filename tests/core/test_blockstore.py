"""BlockStore: keyed ids, dedup, packing, verified reads, pack footers."""

from __future__ import annotations

import os

import pytest

from core.blocks import BlockStore
from core.blocks.packs import parse_pack_footer
from core.disks import BLOCK_SIZE
from core.errors import IntegrityError


@pytest.fixture
def store(tmp_path):
    with BlockStore.open_dir(tmp_path / "store", seed=1234, pack_size=256 * 1024) as s:
        yield s


def blocks(n: int, seed: int = 0) -> list[bytes]:
    return [
        os.urandom(BLOCK_SIZE // 2) + bytes([seed + i % 200]) * (BLOCK_SIZE // 2) for i in range(n)
    ]


def test_ids_are_keyed_by_seed(tmp_path) -> None:
    data = b"x" * BLOCK_SIZE
    with (
        BlockStore.open_dir(tmp_path / "a", seed=1) as a,
        BlockStore.open_dir(tmp_path / "b", seed=2) as b,
    ):
        assert a.block_id(data) != b.block_id(data)
        assert len(a.block_id(data)) == 32
        assert a.block_id(data) == a.digest(data).hex()


def test_write_read_roundtrip_and_dedup(store) -> None:
    data = blocks(20)
    items = [(store.digest(b), memoryview(b)) for b in data]
    with store.writer() as w:
        assert w.new_among([d for d, _ in items]) == [d for d, _ in items]
        for i in range(0, 20, 4):
            w.add_many(items[i : i + 4])
    assert store.block_count() == 20
    assert len(list(store.backend.list("packs/"))) >= 2  # pack_size 256 KiB forces several
    got = dict(store.read_blocks(d for d, _ in items))
    assert [got[d] for d, _ in items] == data
    before = store.stored_bytes()
    with store.writer() as w:
        assert w.new_among([d for d, _ in items]) == []
        assert w.blocks_new == 0
    assert store.stored_bytes() == before


def test_incompressible_blocks_stored_raw(store) -> None:
    b = os.urandom(BLOCK_SIZE)
    d = store.digest(b)
    with store.writer() as w:
        w.add_many([(d, memoryview(b))])
    assert store.get_block(d) == b
    assert w.bytes_stored == BLOCK_SIZE


def test_pack_footer_lists_blocks(store) -> None:
    data = blocks(3)
    items = [(store.digest(b), memoryview(b)) for b in data]
    with store.writer() as w:
        w.add_many(items)
    (pack,) = store.backend.list("packs/")
    entries = parse_pack_footer(store.backend.get(pack))
    assert sorted(e[0] for e in entries) == sorted(d for d, _ in items)


def test_flipped_byte_refused_naming_block_and_pack(store) -> None:
    b = b"abc" * (BLOCK_SIZE // 3)
    d = store.digest(b)
    with store.writer() as w:
        w.add_many([(d, memoryview(b))])
    (pack,) = store.backend.list("packs/")
    raw = bytearray(store.backend.get(pack))
    raw[0] ^= 0xFF  # the first byte of the only block's zstd frame
    store.backend.put(pack, raw)
    with pytest.raises(IntegrityError) as e:
        store.get_block(d)
    assert d.hex() in str(e.value) and pack in str(e.value)


def test_missing_block_is_integrity_error(store) -> None:
    with pytest.raises(IntegrityError, match="missing"):
        store.get_block(b"\x01" * 16)
    with pytest.raises(IntegrityError, match="missing"):
        list(store.read_blocks([b"\x01" * 16]))


def test_zero_digest(store) -> None:
    assert store.zero_digest() == store.digest(bytes(BLOCK_SIZE))
    assert store.zero_digest(100) == store.digest(bytes(100))
