"""The lock never hurts its holder: real processes writing the state while others are refused.

Issue 8.1: a refused run's lock attempt made the holder's own write fail with "database is
locked". A holder process saves many instances (one transaction each, as apply's steps do)
while other processes keep trying to take the lock; every attempt must be refused at once,
naming the holder, and the holder must finish every write.
"""

from __future__ import annotations

import getpass
import socket
import time

from tests.state import python

WRITER = """
import sys, time
from pathlib import Path
from state import InstanceRecord, StateStore
with StateStore.open(Path(sys.argv[1])) as store:
    with store.lock("apply", info="writer") as held:
        print(held.lock_id, flush=True)
        sys.stdin.readline()
        for i in range(int(sys.argv[2])):
            store.put(InstanceRecord(
                address=f"bcdr_data.w[{i}]", type="bcdr_data", name="w", index_key=i,
                provider="builtin", id=f"id-{i}", attributes={"input": i, "output": "x" * 200},
            ))
            store.record_history("apply", "t", "t", "ok", {"i": i})
        Path(sys.argv[3]).touch()  # contenders stop; give their last attempts time to end
        time.sleep(1.5)
print("wrote", flush=True)
"""

CONTENDER = """
import sys, time
from pathlib import Path
from state import StateLocked, StateStore
refused, slowest, names = 0, 0.0, set()
done = Path(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
while not done.exists():
    with StateStore.open(Path(sys.argv[1])) as store:
        started = time.monotonic()
        try:
            with store.lock("plan"):
                print("TOOK THE LOCK", flush=True)
        except StateLocked as exc:
            refused += 1
            slowest = max(slowest, time.monotonic() - started)
            names.add(f"{exc.operation}/{exc.pid}/{exc.user}@{exc.host}")
print(refused, round(slowest, 3), *sorted(names), flush=True)
"""


def test_holder_writing_the_state_is_never_aborted_by_refused_lock_attempts(tmp_path):
    path = tmp_path / ".bcdr" / "state.db"
    writes = 300
    done = tmp_path / "done"
    holder = python(WRITER, str(path), str(writes), str(done))
    lock_id = holder.stdout.readline().strip()
    assert lock_id, holder.stderr.read()
    contenders = [python(CONTENDER, str(path), str(done)) for _ in range(3)]
    for c in contenders:
        assert c.stdout.readline().strip() == "ready", c.stderr.read()
    for p in [*contenders, holder]:
        p.stdin.write("\n")
        p.stdin.flush()
    started = time.monotonic()
    out, err = holder.communicate(timeout=120)
    assert holder.returncode == 0, f"the holder was aborted: {err}"
    assert "wrote" in out
    assert time.monotonic() - started < 120
    for c in contenders:
        c_out, c_err = c.communicate(timeout=60)
        assert c.returncode == 0, c_err
        assert "TOOK THE LOCK" not in c_out
        refused, slowest, *names = c_out.split()
        assert int(refused) > 0
        assert float(slowest) < 1.0
        assert names == [f"apply/{holder.pid}/{getpass.getuser()}@{socket.gethostname()}"]
    from state import StateStore

    with StateStore.open(path) as store:
        assert len(store.instances()) == writes
        assert store.serial == writes
