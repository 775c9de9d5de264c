"""Manifest format: a disk image as a dense array of block ids, checked when read back.

A manifest (format 2, ``BCDRMAN2``) is its disk's size, block count and zstd-compressed
dense ids (16 bytes per block, all-zero for a zero block), then an xxh3-64 of all that; a
format-1 manifest (``BCDRMAN1``, written before manifests carried checksums) is still read,
with every check but the checksum.

What always holds: ``decode_manifest`` returns only a manifest whose magic, checksum (format
2), size against block count, and (when given) size against the size recorded for its disk
restore point all agree, and whose ids decompress to exactly one id per block; anything else
is an ``IntegrityError`` naming the manifest and what is wrong. Nothing here does I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import xxhash
import zstandard

from core.blocks.packs import ID_BYTES
from core.disks.fileio import BLOCK_SIZE
from core.errors import IntegrityError

_MANIFEST = struct.Struct("<8sQQ")  # magic, disk size, block count
_MANIFEST_MAGIC = b"BCDRMAN2"  # then the zstd-compressed ids, then _CHECKSUM of all before
_MANIFEST_MAGIC_V1 = b"BCDRMAN1"  # no checksum
_CHECKSUM = struct.Struct("<Q")


@dataclass(frozen=True)
class Manifest:
    """A checked manifest: the disk's size, its dense ids, its format (1: no checksum)."""

    size: int
    ids: bytes
    version: int


def encode_manifest(size_bytes: int, ids: bytes | bytearray) -> bytes:
    """The bytes of a format-2 manifest of a disk of ``size_bytes`` with dense ``ids``."""
    nblocks = -(-size_bytes // BLOCK_SIZE)
    if len(ids) != nblocks * ID_BYTES:
        raise ValueError("manifest id array does not match the disk size")
    body = _MANIFEST.pack(_MANIFEST_MAGIC, size_bytes, nblocks)
    body += zstandard.ZstdCompressor(level=3).compress(bytes(ids))
    return body + _CHECKSUM.pack(xxhash.xxh3_64_intdigest(body))


def decode_manifest(name: str, body: bytes, expected_size: int | None = None) -> Manifest:
    """The manifest ``body`` (of object ``name``) holds, checked: its magic, checksum
    (format 2), its size against its block count and, when given, against ``expected_size``
    (the size recorded for its disk restore point)."""

    def damaged(why: str) -> IntegrityError:
        return IntegrityError(f"manifest {name} is damaged ({why})")

    if len(body) < _MANIFEST.size:
        raise damaged("too short")
    magic, size, nblocks = _MANIFEST.unpack_from(body)
    if magic == _MANIFEST_MAGIC:
        end = len(body) - _CHECKSUM.size
        if (
            end < _MANIFEST.size
            or xxhash.xxh3_64_intdigest(memoryview(body)[:end])
            != _CHECKSUM.unpack_from(body, end)[0]
        ):
            raise damaged("its checksum does not match")
        version = 2
    elif magic == _MANIFEST_MAGIC_V1:
        end, version = len(body), 1
    else:
        raise damaged("not a manifest")
    if nblocks != -(-size // BLOCK_SIZE):
        raise damaged(f"its size, {size} bytes, does not match its {nblocks} blocks")
    if expected_size is not None and size != expected_size:
        raise damaged(f"it says {size} bytes where its disk restore point records {expected_size}")
    try:
        ids = zstandard.ZstdDecompressor().decompress(
            body[_MANIFEST.size : end], max_output_size=nblocks * ID_BYTES
        )
    except zstandard.ZstdError:
        raise damaged("its ids do not decompress") from None
    if len(ids) != nblocks * ID_BYTES:
        raise damaged("its ids do not match its block count")
    return Manifest(size, ids, version)
