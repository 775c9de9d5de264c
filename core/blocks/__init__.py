"""The content-addressed block store: packs, index, backends, verify and gc.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
    from core.blocks.backends import LocalBackend
    from core.blocks.gc import GcReport, collect_garbage
    from core.blocks.index import IndexDamaged, RebuildReport, rebuild_index
    from core.blocks.packs import (
        ID_BYTES,
        ZERO_ID,
        PackWriter,
        compress_blocks,
        decompress_block,
        nonzero_ids,
    )
    from core.blocks.store import BlockStore, Opener
    from core.blocks.verify import VerifyReport, index_problem, verify_store

_WHERE = {
    "BlockStore": "core.blocks.store",
    "GcReport": "core.blocks.gc",
    "ID_BYTES": "core.blocks.packs",
    "IndexDamaged": "core.blocks.index",
    "LocalBackend": "core.blocks.backends",
    "Opener": "core.blocks.store",
    "PackWriter": "core.blocks.packs",
    "RebuildReport": "core.blocks.index",
    "VerifyReport": "core.blocks.verify",
    "ZERO_ID": "core.blocks.packs",
    "collect_garbage": "core.blocks.gc",
    "compress_blocks": "core.blocks.packs",
    "decompress_block": "core.blocks.packs",
    "index_problem": "core.blocks.verify",
    "nonzero_ids": "core.blocks.packs",
    "rebuild_index": "core.blocks.index",
    "verify_store": "core.blocks.verify",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "BlockStore",
    "GcReport",
    "ID_BYTES",
    "IndexDamaged",
    "LocalBackend",
    "Opener",
    "PackWriter",
    "RebuildReport",
    "VerifyReport",
    "ZERO_ID",
    "collect_garbage",
    "compress_blocks",
    "decompress_block",
    "index_problem",
    "nonzero_ids",
    "rebuild_index",
    "verify_store",
]
