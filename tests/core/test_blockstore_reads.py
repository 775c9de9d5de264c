"""BlockStore reads joined in the index: tagged reads, what a store lacks, batched commits."""

from __future__ import annotations

import os

import pytest

from core.blocks import ID_BYTES, ZERO_ID, BlockStore, nonzero_ids
from core.disks import BLOCK_SIZE
from core.errors import IntegrityError


@pytest.fixture
def store(tmp_path):
    with BlockStore.open_dir(tmp_path / "store", seed=99, pack_size=256 * 1024) as s:
        yield s


def put(store: BlockStore, data: list[bytes]) -> list[bytes]:
    ids = [store.digest(b) for b in data]
    with store.writer() as w:
        w.add_many([(d, memoryview(b)) for d, b in zip(ids, data, strict=True)])
    return ids


def test_read_tagged_yields_each_id_once_with_all_its_tags(store) -> None:
    data = [os.urandom(BLOCK_SIZE) for _ in range(12)]
    ids = put(store, data)
    tagged = [(t, ids[t % 12]) for t in range(30)]  # ids repeat: tags t, t+12, t+24
    got = {tuple(tags): block for tags, block in store.read_tagged(tagged)}
    assert len(got) == 12
    for tags, block in got.items():
        assert list(tags) == sorted(tags)
        assert {t % 12 for t in tags} == {tags[0]}
        assert block == data[tags[0]]


def test_read_of_a_missing_block_names_it_and_leaves_no_table(store) -> None:
    ids = put(store, [os.urandom(BLOCK_SIZE)])
    ghost = bytes(range(1, ID_BYTES + 1))
    with pytest.raises(IntegrityError, match=ghost.hex()):
        list(store.read_blocks([ids[0], ghost]))
    temp = store.db.execute("SELECT name FROM temp.sqlite_master").fetchall()
    assert temp == []
    assert [d for d, _ in store.read_blocks(ids)] == ids


def test_read_abandoned_midway_drops_its_table(store) -> None:
    ids = put(store, [os.urandom(BLOCK_SIZE) for _ in range(200)])
    reader = store.read_blocks(ids)
    next(reader)
    reader.close()
    assert store.db.execute("SELECT name FROM temp.sqlite_master").fetchall() == []


def test_lacking_counts_distinct_nonzero_ids(store) -> None:
    have = put(store, [os.urandom(BLOCK_SIZE) for _ in range(3)])
    new = [os.urandom(ID_BYTES) for _ in range(2)]
    manifest = b"".join([have[0], ZERO_ID, new[0], have[1], new[0], ZERO_ID, new[1], have[0]])
    lacking, distinct = store.lacking(manifest)
    assert sorted(lacking) == sorted(new)
    assert distinct == 4
    assert [b for b, _ in nonzero_ids(manifest)] == [0, 2, 3, 4, 6, 7]


def test_index_rows_of_all_packs_committed_at_close(store) -> None:
    data = [os.urandom(BLOCK_SIZE) for _ in range(40)]  # 256 KiB packs: about ten of them
    ids = [store.digest(b) for b in data]
    with store.writer() as w:
        w.add_many([(d, memoryview(b)) for d, b in zip(ids, data, strict=True)])
        w.drain()
        w._write_pack()
        assert store.block_count() == 0  # no row before the flush commits them together
    assert store.block_count() == 40
    assert len(w.packs_written) == store.db.execute("SELECT COUNT(*) FROM packs").fetchone()[0]
    assert len(w.packs_written) >= 5
