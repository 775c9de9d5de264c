"""A read-only open (plan, drift) runs on the plain sqlite3 module: what it imports, and
that its check for pending migrations agrees with sqlite-utils' own."""

from __future__ import annotations

import json
import sqlite3

from sqlite_utils import Database

from state import StateStore
from state import migrations as formats
from tests.state import python, rec

READ_ONLY = """
import json, sys
from state import StateStore
with StateStore.open(sys.argv[1], read_only=True) as store:
    found = [r.address for r in store.instances()]
print(json.dumps({"found": found, "loaded": sorted(
    m for m in ("sqlite_utils", "cryptography") if m in sys.modules)}))
"""


def test_a_read_only_open_imports_neither_sqlite_utils_nor_cryptography(tmp_path):
    path = tmp_path / "state.db"
    with StateStore.open(path) as store:
        store.put(rec(0))
    proc = python(READ_ONLY, str(path))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out) == {"found": ["bcdr_data.a[0]"], "loaded": []}


def test_pending_steps_are_those_sqlite_utils_finds(tmp_path):
    names = [m.name for m in formats.migrations.pending(Database(memory=True))]
    assert formats.pending(sqlite3.connect(":memory:")) == names  # no table yet
    for i, stop in enumerate([*names[1:], None], start=1):
        conn = sqlite3.connect(tmp_path / f"v{i}.db")
        formats.migrations.apply(Database(conn), stop_before=stop)
        expected = [m.name for m in formats.migrations.pending(Database(conn))]
        assert formats.pending(conn) == expected == names[i:]
        conn.close()
