"""Where a fabric keeps its bytes: everything in its home folder, or on an Azure Blob endpoint.

``Placement`` is what the provider block says (``blob_endpoint``, ``block_store``); the
fabric records it in ``fabric.db`` the first time it is given and keeps to it, so every
command that opens the fabric later (``bcdr verify``, ``gc``, ``serve``) finds the block
stores where they are without being told. What always holds: a placement that would leave
existing block stores behind (local stores exist and it says ``blob``, blob stores exist and
it names another endpoint or says ``local``) is refused with a ``CoreError`` saying so, never
followed; no credential is part of a placement (it comes from the environment when used).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from core.errors import CoreError

BLOCK_STORES = ("local", "blob")


@dataclass(frozen=True)
class Placement:
    """``blob_endpoint``: the Azure Blob endpoint of the fabric's storage accounts ("" for
    the home folder); ``block_store``: ``blob`` puts the block stores there too."""

    blob_endpoint: str = ""
    block_store: str = "local"

    def __post_init__(self) -> None:
        if self.block_store not in BLOCK_STORES:
            raise CoreError(
                f"block_store {self.block_store!r} is not one of: {', '.join(BLOCK_STORES)}"
            )
        if self.block_store == "blob" and not self.blob_endpoint:
            raise CoreError(
                'block_store = "blob" needs a blob_endpoint: set blob_endpoint to the Azure '
                "Blob endpoint (for Azurite, http://127.0.0.1:10000/devstoreaccount1)"
            )
        if self.blob_endpoint:
            import azblob

            try:
                object.__setattr__(self, "blob_endpoint", azblob.check_endpoint(self.blob_endpoint))
            except azblob.BlobError as exc:
                raise CoreError(f"blob_endpoint: {exc}") from None

    @property
    def blocks_on_blob(self) -> bool:
        return self.block_store == "blob"

    def describe(self) -> str:
        if self.blocks_on_blob:
            return f"block stores on {self.blob_endpoint}"
        return "block stores in the fabric's home folder"


def recorded(conn: sqlite3.Connection) -> Placement | None:
    """The placement ``fabric.db`` holds, None when none was recorded yet."""
    rows = dict(
        conn.execute("SELECT key, value FROM meta WHERE key IN ('blob_endpoint', 'block_store')")
    )
    if "block_store" not in rows:
        return None
    return Placement(rows.get("blob_endpoint", ""), rows["block_store"])


def record(conn: sqlite3.Connection, placement: Placement) -> None:
    """Write ``placement`` into ``fabric.db``'s meta table (inside the caller's transaction)."""
    for key, value in (
        ("blob_endpoint", placement.blob_endpoint),
        ("block_store", placement.block_store),
    ):
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def check_move(before: Placement, after: Placement, has_stores: bool, home: str) -> None:
    """Refuse a placement that would leave the block stores ``before`` put somewhere behind."""
    moves = before.blocks_on_blob != after.blocks_on_blob or (
        before.blocks_on_blob and before.blob_endpoint != after.blob_endpoint
    )
    if moves and has_stores:
        raise CoreError(
            f"the fabric at {home} keeps its {before.describe()}; the provider block now asks "
            f"for {after.describe()}, which would leave its restore points behind. Set "
            "blob_endpoint and block_store as they were, or use a new home for the new place"
        )
