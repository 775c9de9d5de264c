"""StateStore: the bcdr state (one SQLite file) as resource instances, outputs and history.

Always holds: every write is its own transaction and bumps ``serial`` exactly once, unless
it runs inside ``transaction()``, which bumps it once for the whole group (and not at all
when the group wrote nothing or failed); a write touches only the rows it names; lineage
never changes after creation; the lock, the apply history and the intents of running
apply steps are bookkeeping and do not bump the serial (a saved plan stays valid across
them); an intent is committed in its own transaction before its step calls the provider
and cleared in the transaction that saves the step's result. All methods may be called from
several threads: they are serialised on one connection. Writes begin IMMEDIATE and wait
out the busy timeout for SQLite's write lock, never failing at once because another
connection wrote; the state lock (``state.lock``) lives in its own file and never opens
this one. A store opened ``read_only`` is a copy in memory and never writes the file. An
SQLite failure on a damaged file is a StateError naming it and its backup
(``state.backup``).

Sensitive values (the paths in ``InstanceRecord.sensitive``, sensitive outputs) are sealed
with the state key when one is configured (``state.crypto``). At open, a wrong key is
refused before anything is written; a state first opened with a key, or opened with the
key that is now the fallback, has all its sensitive values (re)sealed with the primary key
at once, in one transaction that does not bump the serial (deferred to a later open while
another process holds the state lock). Without a key, every write that
stores a sensitive value in plaintext is reported to ``on_plaintext`` (the store never
prints).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import lock as locking
from . import migrations
from .backup import check_header, check_integrity, copy_into, damaged, write_backup
from .crypto import Cipher, KeyConfig, adopt_keys, has_values_at, keys_from_env, output_value
from .records import (
    STATUSES,
    InstanceRecord,
    Intent,
    LockInfo,
    StateError,
    check_record,
    decode_attributes,
    decode_json,
    encode_attributes,
    encode_json,
    utc_now,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

_INSTANCE_COLUMNS = (
    "address, type, name, index_key, provider, id, attributes, status, dependencies, "
    "schema_version, created_at, updated_at, sensitive"
)
_INTENT_COLUMNS = (
    "address, action, apply_id, type, provider, planned_id, prior_id, dependencies, created_at"
)


def _json(text: str) -> Any:
    """A stored JSON column; ``null`` and ``[]`` (most index keys, dependency and sensitive
    lists) without the decoder, since a plan reads these columns of every instance."""
    if text == "null":
        return None
    if text == "[]":
        return []
    return decode_json(text)


class StateStore:
    """One open bcdr state. Open with ``StateStore.open(path)``; close when done."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        cipher: Cipher | None = None,
        on_plaintext: Callable[[str], None] | None = None,
        *,
        db: Database | None = None,
    ) -> None:
        self.path = path
        self._conn = conn
        self._db: Database | sqlite3.Connection = conn if db is None else db
        """What runs the store's SQL: sqlite-utils' ``Database`` over ``_conn`` for a store
        that writes, ``_conn`` itself for a read-only snapshot (which only runs
        ``execute``), so a command that only reads never imports sqlite-utils."""
        self._cipher = cipher
        self.on_plaintext = on_plaintext
        """Called with ``ADDRESS`` or ``output.NAME`` for each write that stores a
        sensitive value in plaintext (no state key configured)."""
        self.plaintext_writes: list[str] = []
        self._mutex = threading.RLock()
        self._depth = 0  # nesting of transaction()
        self._dirty = False  # a write happened inside the current transaction()
        self._lineage: str | None = None
        self.read_only = False
        """A copy in memory (``snapshot``): writes are refused, the file is never touched."""
        self.on_disk = True
        """False for the snapshot of a state that does not exist yet (lineage None)."""
        self.on_commit: Callable[[], None] | None = None
        """Called after every committed write transaction (a step, an intent, the history),
        before the write returns; what it raises leaves the write, which stays committed
        here. A remote backend uploads the state in it (``state.azurerm``)."""

    # ----------------------------------------------------------------- opening
    @classmethod
    def exists(cls, path: Path) -> bool:
        return Path(path).is_file()

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        create: bool = True,
        keys: KeyConfig | None = None,
        on_plaintext: Callable[[str], None] | None = None,
        read_only: bool = False,
    ) -> StateStore:
        """Open the state at ``path``, creating it (and its folder) when missing and allowed.

        A file that is not a bcdr state, or one from a newer bcdr, is refused untouched;
        so is a state whose key-check value the configured key (``keys``, by default those
        of the environment, see ``state.crypto``) does not open. ``read_only`` opens a
        consistent copy in memory instead (see ``snapshot``).
        """
        path = Path(path)
        keys = keys_from_env(os.environ) if keys is None else keys
        if read_only:
            return cls.snapshot(path, keys=keys, on_plaintext=on_plaintext)
        if not path.exists():
            if not create:
                raise StateError(
                    f"No state found at {path}. Run `bcdr apply` to create one, or pass "
                    "the path of an existing state."
                )
            migrations.create(path)
        check_header(path)
        try:
            conn = migrations.connect(path)
        except sqlite3.DatabaseError as exc:
            raise damaged(path, exc) from None
        try:
            from sqlite_utils import Database

            db = Database(conn)
            check_integrity(conn)
            migrations.check_format(db, path)
            if db.journal_mode != "wal":
                db.enable_wal()
            migrations.upgrade(conn, path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise damaged(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return cls._adopt(path, conn, db, keys, on_plaintext)

    @classmethod
    def snapshot(
        cls,
        path: Path,
        *,
        keys: KeyConfig | None = None,
        on_plaintext: Callable[[str], None] | None = None,
    ) -> StateStore:
        """A copy in memory of the state at ``path``, taken in one read; the file is untouched.

        For commands that only read (plan, drift, state history): the copy is upgraded and
        its keys adopted in memory, so nothing is ever written to ``path`` (no migration,
        reseal, checkpoint nor new file). With no file at ``path``, an empty state whose
        ``lineage`` is None: a plan made from it is bound to "no state yet".
        """
        path = Path(path)
        keys = keys_from_env(os.environ) if keys is None else keys
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            present = path.exists()
            if present:
                check_header(path)
                copy_into(path, conn)
            if present:
                migrations.check_format(conn, path)
            migrations.upgrade(conn, path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise damaged(path, exc) from None
        except BaseException:
            conn.close()
            raise
        store = cls._adopt(path, conn, None, keys, on_plaintext)
        store.read_only, store.on_disk = True, present
        return store

    @classmethod
    def from_image(
        cls,
        image: bytes,
        where: Path,
        *,
        create: bool = True,
        keys: KeyConfig | None = None,
        on_plaintext: Callable[[str], None] | None = None,
        read_only: bool = False,
    ) -> StateStore:
        """A state held in memory from ``image`` (``serialize``'s bytes; empty: none yet).

        For a state kept elsewhere (``state.azurerm``): ``where`` names it in messages. The
        image is checked as a file would be (a foreign or newer one is refused), upgraded
        and its keys adopted in memory; nothing is written anywhere. With no image, a new
        state when ``create`` (a writable one only) or, ``read_only``, an empty state whose
        lineage is None. Writes commit in memory and call ``on_commit``.
        """
        keys = keys_from_env(os.environ) if keys is None else keys
        present = bool(image)
        if present:
            migrations.check_image(image, where)
        elif not create and not read_only:
            raise StateError(f"No state found at {where}. Run `bcdr apply` to create one.")
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            if present:
                conn.deserialize(migrations.memory_image(image))
                check_integrity(conn)
                migrations.check_format(conn, where)
            else:
                conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
            conn.execute("PRAGMA secure_delete = ON")  # freed pages travel zeroed in the image
            migrations.upgrade(conn, where)
            db: Database | None = None
            if not read_only:
                from sqlite_utils import Database

                db = Database(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise damaged(where, exc) from None
        except BaseException:
            conn.close()
            raise
        store = cls._adopt(where, conn, db, keys, on_plaintext)
        store.read_only, store.on_disk = read_only, present or not read_only
        return store

    def serialize(self) -> bytes:
        """The whole state as the bytes of one SQLite file (``from_image`` opens them)."""
        with self._using():
            return self._conn.serialize()

    @classmethod
    def _adopt(
        cls,
        path: Path,
        conn: sqlite3.Connection,
        db: Database | None,
        keys: KeyConfig,
        on_plaintext: Callable[[str], None] | None,
    ) -> StateStore:
        store = cls(path, conn, None, on_plaintext, db=db)
        try:
            with store._using():
                store._cipher = adopt_keys(conn, path, keys)
        except BaseException:
            store.close()
            raise
        return store

    # ------------------------------------------------------------------ keys
    @property
    def encrypted(self) -> bool:
        """Whether sensitive values are sealed (a state key is configured and accepted)."""
        return self._cipher is not None

    def _plaintext(self, where: str) -> None:
        self.plaintext_writes.append(where)
        if self.on_plaintext is not None:
            self.on_plaintext(where)

    def _record(self, row: tuple) -> InstanceRecord:
        return InstanceRecord(
            address=row[0],
            type=row[1],
            name=row[2],
            index_key=_json(row[3]),
            provider=row[4],
            id=row[5],
            attributes=decode_attributes(row[6], self._cipher, row[0]),
            status=row[7],
            dependencies=_json(row[8]),
            schema_version=row[9],
            created_at=row[10],
            updated_at=row[11],
            sensitive=_json(row[12]),
        )

    def close(self) -> None:
        with self._mutex:
            self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------------- meta
    @property
    def lineage(self) -> str | None:
        """The state's identity; None for a state that does not exist yet (see snapshot)."""
        if not self.on_disk:
            return None
        if self._lineage is None:
            with self._using():
                self._lineage = self._db.execute("SELECT lineage FROM meta").fetchone()[0]
        return self._lineage

    @property
    def serial(self) -> int:
        with self._using():
            return int(self._db.execute("SELECT serial FROM meta").fetchone()[0])

    @property
    def format_version(self) -> int:
        with self._using():
            return int(self._db.execute("SELECT format_version FROM meta").fetchone()[0])

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def _using(self) -> Iterator[None]:
        """Hold the connection; an SQLite failure becomes a StateError naming the file."""
        with self._mutex:
            try:
                yield
            except sqlite3.DatabaseError as exc:
                raise damaged(self.path, exc) from None

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[None]:
        """A write transaction begun IMMEDIATE: it waits (busy timeout) for the write lock.

        A DEFERRED one (sqlite-utils' ``atomic``) reads first and fails at once with
        "database is locked" when it then needs the write lock another connection holds.
        """
        if self.read_only:
            raise RuntimeError(f"{self.path} was opened read-only: a write is a bug")
        conn = self._conn
        if conn.in_transaction:
            with self._db.atomic():  # a savepoint inside the open transaction
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if self.on_commit is not None:
            self.on_commit()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Database | sqlite3.Connection]:
        """One write: its own transaction and serial bump, or part of transaction()."""
        with self._using():
            if self._depth:
                self._dirty = True
                yield self._db
                return
            with self._atomic():
                yield self._db
                self._bump()

    def _bump(self) -> None:
        self._db.execute("UPDATE meta SET serial = serial + 1 WHERE id = 1")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them commit together, with one serial bump, or none do."""
        with self._using():
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._depth, self._dirty = 1, False
            try:
                with self._atomic():
                    yield
                    if self._dirty:
                        self._bump()
            finally:
                self._depth, self._dirty = 0, False

    # --------------------------------------------------------------- instances
    def instances(self) -> list[InstanceRecord]:
        """Every instance, sorted by address, in one query."""
        with self._using():
            rows = self._db.execute(
                f"SELECT {_INSTANCE_COLUMNS} FROM instances ORDER BY address"
            ).fetchall()
        return [self._record(row) for row in rows]

    def get(self, address: str) -> InstanceRecord | None:
        with self._using():
            row = self._db.execute(
                f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE address = ?", [address]
            ).fetchone()
        return self._record(row) if row else None

    def put(self, record: InstanceRecord) -> None:
        """Insert or replace one instance (its own transaction); keeps its first created_at.

        The sensitive paths stored are the record's plus those stored before for the address.
        """
        check_record(record)
        deps = sorted(set(record.dependencies))
        now = utc_now()
        with self._write() as db:
            row = db.execute(
                "SELECT created_at, sensitive FROM instances WHERE address = ?", [record.address]
            ).fetchone()
            created = row[0] if row else (record.created_at or now)
            sensitive = sorted(set(record.sensitive) | set(json.loads(row[1]) if row else []))
            if self._cipher is None and has_values_at(record.attributes, sensitive):
                self._plaintext(record.address)
            db.execute(
                f"INSERT OR REPLACE INTO instances ({_INSTANCE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    record.address,
                    record.type,
                    record.name,
                    encode_json(record.index_key),
                    record.provider,
                    record.id,
                    encode_attributes(record.attributes, sensitive, self._cipher, record.address),
                    record.status,
                    encode_json(deps),
                    int(record.schema_version),
                    created,
                    now,
                    encode_json(sensitive),
                ],
            )

    def remove(self, address: str) -> None:
        """Forget one instance (for destroy and ``state rm``); StateError if it is absent."""
        with self._write() as db:
            cursor = db.execute("DELETE FROM instances WHERE address = ?", [address])
            if cursor.rowcount == 0:
                raise self._missing(address)

    def move(self, src: str, dst: str) -> None:
        """Rename an instance (``state mv``); dependencies naming ``src`` follow it."""
        from sdk.addrs import InstanceAddr

        try:
            target = InstanceAddr.parse(dst)
        except ValueError as exc:
            raise StateError(f"Cannot move {src} to {dst}: {exc}.") from None
        dst = str(target)
        with self._write() as db:
            record = self.get(src)
            if record is None:
                raise self._missing(src)
            if self.get(dst) is not None:
                raise StateError(
                    f"Cannot move {src} to {dst}: {dst} is already in the state. Remove it "
                    f"first with `bcdr state rm {dst}`, or choose another address."
                )
            if target.type != record.type:
                raise StateError(
                    f"Cannot move {src} to {dst}: the resource type differs "
                    f"({record.type} → {target.type}). Moves keep the type."
                )
            # sealed values are bound to their address: seal them again for the new one
            attributes = encode_attributes(record.attributes, record.sensitive, self._cipher, dst)
            db.execute(
                "UPDATE instances SET address = ?, name = ?, index_key = ?, updated_at = ?, "
                "attributes = ? WHERE address = ?",
                [dst, target.name, encode_json(target.key), utc_now(), attributes, src],
            )
            dependents = db.execute(
                "SELECT address, dependencies FROM instances WHERE EXISTS "
                "(SELECT 1 FROM json_each(instances.dependencies) WHERE value = ?)",
                [src],
            ).fetchall()
            for address, text in dependents:
                deps = sorted({dst if d == src else d for d in json.loads(text)})
                db.execute(
                    "UPDATE instances SET dependencies = ? WHERE address = ?",
                    [encode_json(deps), address],
                )

    def set_status(self, address: str, status: str) -> None:
        """Mark an instance ``ready`` or ``tainted``."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        with self._write() as db:
            cursor = db.execute(
                "UPDATE instances SET status = ?, updated_at = ? WHERE address = ?",
                [status, utc_now(), address],
            )
            if cursor.rowcount == 0:
                raise self._missing(address)

    def _missing(self, address: str) -> StateError:
        return StateError(
            f"{address} is not in the state ({self.path}). Run `bcdr state list` to see "
            "the addresses it holds."
        )

    # ----------------------------------------------------------------- intents
    def record_intent(self, *intents: Intent) -> None:
        """Record what apply steps are about to do, committed before this returns.

        One transaction for all of them, outside any ``transaction()`` group, so they are
        durable before the provider is called; bookkeeping, so the serial does not move.
        Each replaces an earlier intent for the same address.
        """
        rows = [
            [
                intent.address,
                intent.action,
                intent.apply_id,
                intent.type,
                intent.provider,
                intent.planned_id,
                intent.prior_id,
                encode_json(sorted(set(intent.dependencies))),
                intent.created_at or utc_now(),
            ]
            for intent in intents
        ]
        with self._using():
            if self._depth:
                raise RuntimeError("an intent is committed on its own, not inside transaction()")
            with self._atomic():
                self._conn.executemany(
                    f"INSERT OR REPLACE INTO intents ({_INTENT_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

    def intents(self) -> list[Intent]:
        """Every intent left in the state, sorted by address (none after a clean apply)."""
        with self._using():
            rows = self._db.execute(
                f"SELECT {_INTENT_COLUMNS} FROM intents ORDER BY address"
            ).fetchall()
        return [
            Intent(
                address=row[0],
                action=row[1],
                apply_id=row[2],
                type=row[3],
                provider=row[4],
                planned_id=row[5],
                prior_id=row[6],
                dependencies=json.loads(row[7]),
                created_at=row[8],
            )
            for row in rows
        ]

    def clear_intent(self, address: str, apply_id: str | None = None) -> None:
        """Forget the intent for ``address`` (only that of ``apply_id`` when given).

        Inside ``transaction()`` it commits with the group (with the step's result) and
        does not count as a write for the serial; outside, it is its own transaction.
        """
        sql = "DELETE FROM intents WHERE address = ?"
        args: list[Any] = [address]
        if apply_id is not None:
            sql += " AND apply_id = ?"
            args.append(apply_id)
        with self._using():
            if self._depth:
                self._db.execute(sql, args)
                return
            with self._atomic():
                self._db.execute(sql, args)

    # ----------------------------------------------------------------- outputs
    def outputs(self) -> dict[str, tuple[Any, bool]]:
        """Output name → (value, sensitive), sorted by name."""
        with self._using():
            rows = self._db.execute(
                "SELECT name, value, sensitive FROM outputs ORDER BY name"
            ).fetchall()
        return {
            name: (output_value(name, value, self._cipher), bool(sensitive))
            for name, value, sensitive in rows
        }

    def set_outputs(self, outputs: dict[str, tuple[Any, bool]]) -> None:
        """Replace all outputs at once (one transaction); sensitive ones sealed with a key."""
        rows = []
        for name, (value, sensitive) in outputs.items():
            stored = value
            if sensitive and value is not None:
                if self._cipher is not None:
                    # sensitive outputs are sealed too (EXT-4, see state.crypto)
                    stored = self._cipher.seal(value, "output", name)
                else:
                    self._plaintext(f"output.{name}")
            rows.append(
                {"name": name, "value": encode_json(stored), "sensitive": int(bool(sensitive))}
            )
        with self._write() as db:
            db.execute("DELETE FROM outputs")
            if rows:
                db["outputs"].insert_all(rows)

    # -------------------------------------------------------------------- lock
    @contextlib.contextmanager
    def lock(
        self,
        operation: str,
        *,
        info: str = "",
        timeout: float = 0.0,
        on_cleared: Callable[[LockInfo], None] | None = None,
    ) -> Iterator[LockInfo]:
        """Hold the state lock for ``operation`` (``state.lock``); StateLocked if it is held.

        Waits up to ``timeout`` seconds for a live holder; released on exit, whatever ends
        the block (exception, KeyboardInterrupt).
        """
        with locking.holding(
            self.path, operation, info=info, timeout=timeout, on_cleared=on_cleared
        ) as held:
            yield held

    def backup(self) -> Path:
        """Refresh ``state.db.backup`` from this state (SQLite online backup); its path."""
        if self.read_only:
            raise RuntimeError(f"{self.path} was opened read-only: a backup of it is a bug")
        with self._using():
            return write_backup(self._conn, self.path)

    def current_lock(self) -> LockInfo | None:
        return locking.read(self.path)

    def force_unlock(self, lock_id: str) -> None:
        locking.force_unlock(self.path, lock_id)

    # ----------------------------------------------------------------- history
    def record_history(
        self, operation: str, started_at: str, finished_at: str, status: str, summary: dict
    ) -> None:
        """Append one run (apply, destroy, import, state-rm, …) to the history."""
        with self._using():
            with self._atomic():
                self._db["history"].insert(
                    {
                        "operation": operation,
                        "started_at": started_at,
                        "finished_at": finished_at,
                        "status": status,
                        "summary": encode_json(summary),
                    }
                )

    def history(self, limit: int = 20) -> list[dict]:
        """The latest runs, newest first, with ``summary`` decoded."""
        with self._using():
            rows = self._db.execute(
                "SELECT id, operation, started_at, finished_at, status, summary FROM history "
                "ORDER BY id DESC LIMIT ?",
                [int(limit)],
            ).fetchall()
        keys = ("id", "operation", "started_at", "finished_at", "status", "summary")
        runs = [dict(zip(keys, row, strict=True)) for row in rows]
        for run in runs:
            run["summary"] = json.loads(run["summary"])
        return runs
