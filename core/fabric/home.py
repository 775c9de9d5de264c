"""The embedded platform's inventory: tenant, subscriptions, regions, resource ids, keys.

A fabric lives in one home folder: ``fabric.db`` (SQLite, WAL, ``synchronous=FULL``) holds
its metadata and ``regions/<region>/<subscription>/{disks,store}`` its data. Always holds:
the tenant id and default subscription are fixed when the home is created; every write
to the metadata goes through one transaction (``BEGIN IMMEDIATE``); ``fabric.db`` and its
WAL are readable by the owner only (mode 0600), because they hold the fabric's secrets
(the SAS signing key and each subscription's block-id seed), which are never printed,
logged or put in a message. Every table of ``fabric.db`` is declared, versioned, in
``core/fabric/schema.py``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric import placement as placements
from core.fabric import schema
from core.fabric.placement import Placement
from core.fabric.regions import REGIONS

_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
MAX_NAME = 80


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is safe as a resource name and a path component, else raise."""
    if not isinstance(name, str) or name == "":
        raise CoreError(f"{what} name is empty: give it a name of letters, digits, '.', '_', '-'")
    if name in (".", "..") or len(name) > MAX_NAME or not _NAME_RE.match(name):
        shown = name if len(name) <= MAX_NAME else name[:MAX_NAME] + "..."
        raise CoreError(
            f"{what} name {shown!r} is not allowed: use 1-{MAX_NAME} letters, digits, '.', '_'"
            " or '-', and not '.' or '..'"
        )
    return name


DEFAULT_SUBSCRIPTION_NAME = "default"


@dataclass(frozen=True)
class Subscription:
    """A subscription of the fabric's tenant (its block-id seed stays in ``fabric.db``)."""

    id: str
    name: str | None
    created_at: float
    is_default: bool


@dataclass(frozen=True)
class ResourceId:
    """An Azure-style resource id; ``str()`` and ``parse()`` round-trip."""

    subscription: str
    resource_group: str
    provider: str
    type: str
    name: str
    children: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        text = (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/{self.provider}/{self.type}/{self.name}"
        )
        for child_type, child_name in self.children:
            text += f"/{child_type}/{child_name}"
        return text

    @classmethod
    def parse(cls, text: str) -> ResourceId:
        parts = text.split("/") if isinstance(text, str) else []
        ok = (
            len(parts) >= 9
            and len(parts) % 2 == 1
            and parts[0] == ""
            and parts[1].lower() == "subscriptions"
            and parts[3].lower() == "resourcegroups"
            and parts[5].lower() == "providers"
            and all(parts[1:])
        )
        if not ok:
            raise CoreError(
                f"resource id {text!r} is malformed: expected /subscriptions/<sub>/resourceGroups/"
                "<group>/providers/<namespace>/<type>/<name>[/<childType>/<childName>...]"
            )
        children = tuple((parts[i], parts[i + 1]) for i in range(9, len(parts), 2))
        return cls(parts[2], parts[4], parts[6], parts[7], parts[8], children)


class Fabric:
    """One embedded platform on this machine, rooted at ``home``."""

    def __init__(self, home: Path) -> None:
        # Use Fabric.open(home); the constructor does no I/O.
        self.home = Path(home)
        self.placement = Placement()
        """Where the block stores (and storage accounts) are: ``core.fabric.placement``."""
        self._lock = threading.Lock()
        self._conns: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {}
        self._closed = False
        self.tenant_id = ""
        self.default_subscription = ""

    def __repr__(self) -> str:
        return f"Fabric(home={str(self.home)!r})"

    @classmethod
    def open(cls, home: Path | None = None, placement: Placement | None = None) -> Fabric:
        """Open the fabric at ``home`` (default ``.bcdr/fabric``), creating it on first use.

        ``placement`` (the provider block's): recorded on first use, or checked against the
        recorded one (``core.fabric.placement.check_move``); None keeps the recorded one."""
        home = Path(home).absolute() if home is not None else Path.cwd() / ".bcdr" / "fabric"
        try:
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
            (home / "regions").mkdir(exist_ok=True)
            db_path = home / "fabric.db"
            schema.check(db_path)  # a newer or foreign file is refused before it is touched
            # Created owner-only before SQLite touches it; SQLite gives -wal/-shm the same mode.
            fd = os.open(db_path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
        except OSError as exc:
            raise CoreError(
                f"cannot create the fabric home {home}: {exc.strerror}; choose a writable folder"
            ) from exc
        fabric = cls(home)
        try:
            fabric._init(placement)
        except BaseException:
            fabric.close()
            raise
        return fabric

    def _init(self, placement: Placement | None) -> None:
        schema.migrate(self.db())
        with self.transaction() as conn:
            before = placements.recorded(conn)
            if placement is not None and before is not None and placement != before:
                placements.check_move(before, placement, self._has_stores(conn), str(self.home))
            self.placement = placement or before or Placement()
            if self.placement != before:
                placements.record(conn, self.placement)
            now = time.time()
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('tenant_id', ?)", (str(uuid.uuid4()),))
            sub = str(uuid.uuid4())
            cur = conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('default_subscription', ?)", (sub,)
            )
            if cur.rowcount:
                conn.execute(
                    "INSERT INTO subscriptions (id, seed, created_at, name) VALUES (?, ?, ?, ?)",
                    (sub, _new_seed(), now, DEFAULT_SUBSCRIPTION_NAME),
                )
            conn.execute(
                "INSERT OR IGNORE INTO secrets VALUES ('sas_key', ?)", (secrets.token_hex(32),)
            )
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (repr(now),))
            rows = dict(conn.execute("SELECT key, value FROM meta"))
        self.tenant_id = rows["tenant_id"]
        self.default_subscription = rows["default_subscription"]

    def _has_stores(self, conn: sqlite3.Connection) -> bool:
        """Whether the block stores hold something a move would leave behind."""
        return conn.execute("SELECT 1 FROM restore_points LIMIT 1").fetchone() is not None

    # -- the metadata database -------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.home / "fabric.db", timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.row_factory = sqlite3.Row
        return conn

    def db(self) -> sqlite3.Connection:
        """This thread's connection to ``fabric.db`` (autocommit; use ``transaction`` to write)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the fabric is closed")
            me = threading.current_thread()
            entry = self._conns.get(me.ident or 0)
            if entry is not None and entry[0] is me:
                return entry[1]
            for ident, (thread, conn) in list(self._conns.items()):
                if not thread.is_alive() or ident == me.ident:
                    conn.close()
                    del self._conns[ident]
            conn = self._connect()
            self._conns[me.ident or 0] = (me, conn)
            return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises."""
        conn = self.db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this fabric opened. Safe to call twice."""
        with self._lock:
            self._closed = True
            for _thread, conn in self._conns.values():
                conn.close()
            self._conns.clear()

    def __enter__(self) -> Fabric:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- subscriptions and keys --------------------------------------------------------------

    def subscriptions(self) -> list[str]:
        rows = self.db().execute("SELECT id FROM subscriptions ORDER BY created_at, id")
        return [row[0] for row in rows]

    def add_subscription(self, subscription_id: str | None = None) -> str:
        """Add a subscription (a new uuid unless given); adding an existing one is a no-op."""
        subscription_id = _subscription_id(subscription_id)
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO subscriptions (id, seed, created_at) VALUES (?, ?, ?)",
                (subscription_id, _new_seed(), time.time()),
            )
        return subscription_id

    def create_subscription(
        self, subscription_id: str | None = None, name: str | None = None
    ) -> Subscription:
        """A new subscription of this tenant (a new uuid unless given); an id the fabric has
        already, a malformed id or a bad name is refused naming it."""
        subscription_id = _subscription_id(subscription_id)
        if name is not None:
            check_name(name, "subscription")
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO subscriptions (id, seed, created_at, name) "
                "VALUES (?, ?, ?, ?)",
                (subscription_id, _new_seed(), time.time(), name),
            )
            if not cur.rowcount:
                raise AlreadyExists(
                    f"subscription {subscription_id} exists already in this fabric; give "
                    "another id, or leave the id out for a new one"
                )
        return self.subscription(subscription_id)

    def subscription(self, subscription: str) -> Subscription:
        """One subscription of this fabric (NotFound naming the known ones)."""
        sub = self.check_subscription(subscription)
        row = self.db().execute("SELECT * FROM subscriptions WHERE id = ?", (sub,)).fetchone()
        return Subscription(
            row["id"], row["name"], row["created_at"], row["id"] == self.default_subscription
        )

    def list_subscriptions(self) -> list[Subscription]:
        """Every subscription of this fabric, the default one first, then by creation."""
        subs = [self.subscription(s) for s in self.subscriptions()]
        return sorted(subs, key=lambda s: not s.is_default)

    def check_subscription(self, subscription: str) -> str:
        """Return ``subscription`` if the fabric has it; NotFound naming the known ones."""
        row = (
            self.db()
            .execute("SELECT id FROM subscriptions WHERE id = ?", (str(subscription).lower(),))
            .fetchone()
        )
        if row is None:
            known = ", ".join(self.subscriptions())
            raise NotFound(
                f"subscription {subscription!r} does not exist in this fabric (known: {known}); "
                f"add it first (bcdr platform subscription create --id {subscription})"
            )
        return row[0]

    def subscription_seed(self, subscription: str) -> int:
        """The subscription's secret 64-bit block-id seed (the same in every region)."""
        sub = self.check_subscription(subscription)
        row = self.db().execute("SELECT seed FROM subscriptions WHERE id = ?", (sub,)).fetchone()
        return int(row[0], 16)

    def sas_key(self) -> bytes:
        """The fabric's 32-byte HMAC key for SAS signatures."""
        row = self.db().execute("SELECT value FROM secrets WHERE key = 'sas_key'").fetchone()
        return bytes.fromhex(row[0])

    # -- regions and folders -------------------------------------------------------------------

    def check_region(self, region: str) -> str:
        """Return the canonical region name, or raise naming the valid ones."""
        name = region.lower().replace(" ", "") if isinstance(region, str) else ""
        if name not in REGIONS:
            valid = ", ".join(sorted(REGIONS))
            raise CoreError(f"region {region!r} is not an Azure region; use one of: {valid}")
        return name

    def region_dir(self, region: str) -> Path:
        return self.home / "regions" / self.check_region(region)

    def _sub_dir(self, region: str, subscription: str, leaf: str) -> Path:
        path = self.region_dir(region) / self.check_subscription(subscription) / leaf
        path.mkdir(parents=True, exist_ok=True)
        return path

    def store_dir(self, region: str, subscription: str, store: str | None = None) -> Path:
        """The folder of a block store: the region's own (``store`` None) or another one of
        the subscription in that region (``store`` a relative path, "vaults/rg/name")."""
        return self._sub_dir(region, subscription, f"{store}/store" if store else "store")

    def disks_dir(self, region: str, subscription: str) -> Path:
        return self._sub_dir(region, subscription, "disks")

    # -- generic inventory -----------------------------------------------------------------------

    def put_resource(self, id: str, type: str, region: str, properties: dict) -> None:
        """Create or replace a resource row (``created_at`` survives replacement)."""
        now = time.time()
        body = json.dumps(properties, sort_keys=True)
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "type = excluded.type, region = excluded.region, "
                "properties = excluded.properties, updated_at = excluded.updated_at",
                (id, type, region, body, now, now),
            )

    def get_resource(self, id: str) -> dict | None:
        row = self.db().execute("SELECT * FROM resources WHERE id = ?", (id,)).fetchone()
        return _resource(row) if row else None

    def list_resources(self, type: str | None = None) -> list[dict]:
        if type is None:
            rows = self.db().execute("SELECT * FROM resources ORDER BY id")
        else:
            rows = self.db().execute("SELECT * FROM resources WHERE type = ? ORDER BY id", (type,))
        return [_resource(row) for row in rows]

    def delete_resource(self, id: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM resources WHERE id = ?", (id,))


def _resource(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "type": row["type"],
        "region": row["region"],
        "properties": json.loads(row["properties"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _subscription_id(subscription_id: str | None) -> str:
    if subscription_id is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(subscription_id))
    except (ValueError, AttributeError, TypeError):
        raise CoreError(
            f"subscription id {subscription_id!r} is not a uuid: use the form "
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, or leave it out for a new one"
        ) from None


def _new_seed() -> str:
    return secrets.token_bytes(8).hex()
