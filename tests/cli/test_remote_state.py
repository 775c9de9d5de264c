"""The state on Azure Blob (``bcdr { backend "azurerm" { ... } }``) against a real Azurite.

The real CLI runs in-process (``CliRunner``) or as a child process, with the test provider's
``test_thing`` resources; the remote state is read back through ``state.AzureBlobBackend``
and ``azblob.Container``, as another machine would see it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from azblob import Container, Credential
from state import AzureBlobBackend, StateError, StateStore
from tests.azurite import ACCOUNT, KEY
from tests.cli.conftest import register_test_provider, run_in, subprocess_env

MAIN = "from engine.cli.app import main; main()"
KEYNAME = "prod.bcdr"

RESOURCES = """
resource "test_thing" "a" {
  name = "a"
}

resource "test_thing" "b" {
  name = "b"
  ref  = test_thing.a.id
}

resource "test_thing" "c" {
  name = "c"
  ref  = test_thing.b.id
}
"""


def backend_block(endpoint: str, container: str, key: str = KEYNAME) -> str:
    return textwrap.dedent(
        f"""
        bcdr {{
          backend "azurerm" {{
            endpoint       = "{endpoint}"
            container_name = "{container}"
            key            = "{key}"
          }}
        }}
        """
    )


def folder(root: Path, endpoint: str, container: str, resources: str = RESOURCES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.hcl").write_text(backend_block(endpoint, container) + resources)
    return root


def box(service, name: str) -> Container:
    container = Container(service.endpoint, name, Credential(ACCOUNT, KEY))
    container.create()
    return container


def remote_addresses(service, name: str, key: str = KEYNAME) -> list[str]:
    with AzureBlobBackend(service.endpoint, name, key).open(read_only=True) as store:
        return [r.address for r in store.instances()]


def remote_intents(service, name: str) -> list[str]:
    with AzureBlobBackend(service.endpoint, name, KEYNAME).open(read_only=True) as store:
        return [i.address for i in store.intents()]


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def env(azurite, monkeypatch) -> dict[str, str]:
    for name, value in azurite.env.items():
        monkeypatch.setenv(name, value)
    return azurite.env


def test_apply_plan_show_roundtrip_keeps_nothing_locally(
    tmp_path, azurite, env, container_name, test_provider
) -> None:
    box(azurite, container_name)
    work = folder(tmp_path / "one", azurite.endpoint, container_name)
    out = ok(run_in(work, "init", "-no-color"))
    assert "No state yet (the first apply makes it)" in out
    recorded = json.loads((work / ".bcdr" / "backend.json").read_text())
    assert recorded == {
        "type": "azurerm",
        "config": {"endpoint": azurite.endpoint, "container_name": container_name, "key": KEYNAME},
    }
    out = ok(run_in(work, "apply", "-auto-approve", "-no-color"))
    assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in out
    assert remote_addresses(azurite, container_name) == [
        "test_thing.a",
        "test_thing.b",
        "test_thing.c",
    ]
    plan = run_in(work, "plan", "-detailed-exitcode", "-no-color")
    assert plan.exit_code == 0 and "No changes." in plan.output, plan.output
    assert ok(run_in(work, "state", "list")).split() == [
        "test_thing.a",
        "test_thing.b",
        "test_thing.c",
    ]
    assert 'ref         = "thing-1"' in ok(
        run_in(work, "state", "show", "test_thing.b", "-no-color")
    )
    assert "test_thing.c" in ok(run_in(work, "show", "-no-color"))
    assert "apply" in ok(run_in(work, "state", "history"))
    # the state lives in the blob only; its backup is a blob beside it; no credential kept
    assert not (work / ".bcdr" / "state.db").exists()
    blobs = {b.name: b for b in box(azurite, container_name).list()}
    assert set(blobs) == {KEYNAME, KEYNAME + ".backup"}
    assert blobs[KEYNAME].lease_state == "available"
    assert "bcdrlock" not in blobs[KEYNAME].metadata
    for path in (work / ".bcdr").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_every_step_is_in_the_remote_state_before_the_next_starts(
    tmp_path, azurite, env, container_name, test_provider
) -> None:
    box(azurite, container_name)
    work = folder(tmp_path / "one", azurite.endpoint, container_name)
    ok(run_in(work, "init"))
    seen: dict[str, tuple[list[str], list[str]]] = {}

    def look(req) -> None:  # another machine's view when each step starts
        seen[req.address] = (
            remote_addresses(azurite, container_name),
            remote_intents(azurite, container_name),
        )

    test_provider.on_apply = look
    ok(run_in(work, "apply", "-auto-approve", "-parallelism", "1"))
    assert seen == {
        "test_thing.a": ([], ["test_thing.a"]),
        "test_thing.b": (["test_thing.a"], ["test_thing.b"]),
        "test_thing.c": (["test_thing.a", "test_thing.b"], ["test_thing.c"]),
    }


HOLDER = """
import os, sys
from state import AzureBlobBackend, InstanceRecord, StateError
backend = AzureBlobBackend(sys.argv[1], sys.argv[2], sys.argv[3])
with backend.holding("apply") as held:
    store = backend.open()
    print(held.lock_id, os.getpid(), flush=True)
    sys.stdin.readline()  # the test force-unlocks meanwhile
    try:
        store.put(InstanceRecord("test_thing.z", "test_thing", "z", None, "test", "z", {}))
        print("WROTE", flush=True)
    except StateError as exc:
        print("REFUSED", str(exc).replace("\\n", " "), flush=True)
"""


def test_a_second_folder_sees_the_state_is_refused_naming_the_holder_and_can_force_unlock(
    tmp_path, azurite, env, container_name, test_provider
) -> None:
    box(azurite, container_name)
    first = folder(tmp_path / "one", azurite.endpoint, container_name)
    ok(run_in(first, "init"))
    ok(run_in(first, "apply", "-auto-approve"))
    second = folder(tmp_path / "two", azurite.endpoint, container_name)
    ok(run_in(second, "init"))
    assert ok(run_in(second, "state", "list")).split() == [
        "test_thing.a",
        "test_thing.b",
        "test_thing.c",
    ]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, azurite.endpoint, container_name, KEYNAME],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path, **env),
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        lock_id, pid = holder.stdout.readline().split()
        refused = run_in(second, "apply", "-auto-approve", "-no-color")
        assert refused.exit_code == 1
        assert f"container '{container_name}'" in refused.output
        assert "is locked" in refused.output
        assert f"ID:        {lock_id}" in refused.output
        assert f"PID:       {pid}" in refused.output
        assert "Operation: apply" in refused.output
        assert f"bcdr force-unlock {lock_id}" in refused.output
        # reading needs no lock
        assert "test_thing.a" in ok(run_in(second, "state", "list"))
        wrong = run_in(second, "force-unlock", "-force", "not-the-id")
        assert wrong.exit_code == 1 and f"which is {lock_id}" in wrong.output
        ok(run_in(second, "force-unlock", "-force", lock_id))
        # the holder lost its lease: its next write is refused, nothing reaches the blob
        holder.stdin.write("\n")
        holder.stdin.flush()
        said = holder.stdout.readline()
        assert said.startswith("REFUSED"), said + holder.stderr.read()
        assert "The state lock on" in said and "was lost" in said
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert "test_thing.z" not in remote_addresses(azurite, container_name)
    out = ok(run_in(second, "plan", "-no-color"))
    assert "No changes." in out


def test_a_lease_taken_by_another_tool_is_reported_with_what_is_known(
    tmp_path, azurite, env, container_name, test_provider
) -> None:
    container = box(azurite, container_name)
    work = folder(tmp_path / "one", azurite.endpoint, container_name)
    ok(run_in(work, "init"))
    container.put(KEYNAME, b"")
    container.acquire_lease(KEYNAME, -1)  # as Terraform's azurerm backend does
    refused = run_in(work, "apply", "-auto-approve", "-no-color")
    assert refused.exit_code == 1
    assert "Lease:     leased, infinite" in refused.output
    assert "the lease carries no holder information" in refused.output
    lock_id = refused.output.split("bcdr force-unlock ")[1].split()[0]
    assert lock_id.startswith("lease-")
    ok(run_in(work, "force-unlock", "-force", lock_id))
    ok(run_in(work, "apply", "-auto-approve"))


def test_kill_9_of_the_holder_frees_the_lock_within_the_lease_and_the_next_apply_converges(
    tmp_path, tmp_path_factory, azurite, env, container_name
) -> None:
    """The holder runs past one lease term (its thread renews it), is killed inside step c;
    a second run is refused at once naming it, and one waiting with -lock-timeout gets the
    lock when the lease runs out by itself."""
    box(azurite, container_name)
    work = folder(tmp_path / "one", azurite.endpoint, container_name)
    entry_points = register_test_provider(tmp_path_factory.mktemp("ep"))
    platform = tmp_path / "platform.json"

    def child(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", MAIN, "-chdir", str(work), *args, "-no-color"],
            capture_output=True,
            text=True,
            timeout=120,
            env=subprocess_env(entry_points, BCDR_TEST_REMOTE=str(platform), **env, **extra),
        )

    assert child("init").returncode == 0
    # two steps of 8 s: the second result is saved after the first lease term ran out
    killed = child(
        "apply",
        "-auto-approve",
        "-parallelism",
        "1",
        BCDR_TEST_SLEEP="8",
        BCDR_TEST_KILL="apply:test_thing.c:before",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    # the finished steps are in the remote state, and the killed one's intent
    assert remote_addresses(azurite, container_name) == ["test_thing.a", "test_thing.b"]
    assert remote_intents(azurite, container_name) == ["test_thing.c"]
    refused = child("plan")
    assert refused.returncode == 1
    assert "is locked" in refused.stderr and "Operation: apply" in refused.stderr
    converged = child("apply", "-auto-approve", "-lock-timeout=20s")
    assert converged.returncode == 0, converged.stdout + converged.stderr
    assert "1 added" in converged.stdout
    assert remote_addresses(azurite, container_name) == [
        "test_thing.a",
        "test_thing.b",
        "test_thing.c",
    ]
    assert remote_intents(azurite, container_name) == []


def test_azurite_stopped_mid_apply_stops_it_and_the_next_apply_converges(
    tmp_path, azurite_own, monkeypatch, container_name, test_provider
) -> None:
    for name, value in azurite_own.env.items():
        monkeypatch.setenv(name, value)
    box(azurite_own, container_name)
    work = folder(tmp_path / "one", azurite_own.endpoint, container_name)
    ok(run_in(work, "init"))
    test_provider.ids_from_name = True

    def stop_during_b(req) -> None:
        if req.address == "test_thing.b":
            time.sleep(6)  # Azurite keeps its metadata in memory and saves it every 5 s
            azurite_own.stop()

    test_provider.on_apply = stop_during_b
    failed = run_in(work, "apply", "-auto-approve", "-parallelism", "1", "-no-color")
    assert failed.exit_code == 1
    assert "Could not save the state to blob 'prod.bcdr'" in failed.output
    assert "Cannot reach" in failed.output
    assert "Traceback" not in failed.output
    assert test_provider.ops("apply") == ["test_thing.a", "test_thing.b"], "c never started"
    azurite_own.start()
    test_provider.on_apply = None
    assert remote_addresses(azurite_own, container_name) == ["test_thing.a"]
    assert remote_intents(azurite_own, container_name) == ["test_thing.b"]
    out = ok(run_in(work, "apply", "-auto-approve", "-lock-timeout=20s", "-no-color"))
    assert "test_thing.b: adopted an object left by an interrupted apply" in out
    assert remote_addresses(azurite_own, container_name) == [
        "test_thing.a",
        "test_thing.b",
        "test_thing.c",
    ]
    again = run_in(work, "plan", "-detailed-exitcode", "-no-color")
    assert again.exit_code == 0, again.output


def _nothing_written(work: Path) -> None:
    assert not (work / ".bcdr").exists()


def test_unreachable_endpoint_missing_credential_or_container_write_nothing(
    tmp_path, azurite, env, container_name, monkeypatch
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    nowhere = folder(tmp_path / "nowhere", f"http://127.0.0.1:{port}/{ACCOUNT}", container_name)
    out = run_in(nowhere, "init", "-no-color")
    assert out.exit_code == 1
    assert "The backend azurerm cannot be used" in out.output
    assert f"Cannot reach the blob endpoint http://127.0.0.1:{port}/{ACCOUNT}" in out.output
    assert "Nothing was written" in out.output
    _nothing_written(nowhere)

    missing = folder(tmp_path / "nocontainer", azurite.endpoint, container_name)
    out = run_in(missing, "init", "-no-color")
    assert out.exit_code == 1
    assert f"The container '{container_name}'" in out.output and "does not exist" in out.output
    _nothing_written(missing)

    box(azurite, container_name)
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    nokey = folder(tmp_path / "nokey", azurite.endpoint, container_name)
    out = run_in(nokey, "init", "-no-color")
    assert out.exit_code == 1
    assert "No credential for the blob endpoint" in out.output
    assert "AZURE_STORAGE_CONNECTION_STRING" in out.output and "ARM_ACCESS_KEY" in out.output
    _nothing_written(nokey)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT", ACCOUNT)
    monkeypatch.setenv("AZURE_STORAGE_KEY", "d3Jvbmc=")  # a wrong key
    out = run_in(nokey, "init", "-no-color")
    assert out.exit_code == 1 and "refused the credential" in out.output, out.output
    assert "d3Jvbmc=" not in out.output
    _nothing_written(nokey)
    assert list(Container(azurite.endpoint, container_name, Credential(ACCOUNT, KEY)).list()) == []


def test_migrate_state_to_the_backend_and_back(
    tmp_path, azurite, env, container_name, test_provider
) -> None:
    box(azurite, container_name)
    work = tmp_path / "one"
    work.mkdir()
    (work / "main.hcl").write_text(RESOURCES)
    ok(run_in(work, "init"))
    ok(run_in(work, "apply", "-auto-approve"))
    with StateStore.open(work / ".bcdr" / "state.db") as store:
        lineage, serial = store.lineage, store.serial

    folder(work, azurite.endpoint, container_name)  # the bcdr block appears
    changed = run_in(work, "plan", "-no-color")
    assert changed.exit_code == 1
    assert "Backend configuration changed: run bcdr init (-migrate-state)" in changed.output
    asked = run_in(work, "init", "-no-color")
    assert asked.exit_code == 1 and "bcdr init -migrate-state" in asked.output
    assert (work / ".bcdr" / "state.db").exists(), "nothing moved without -migrate-state"
    out = ok(run_in(work, "init", "-migrate-state", "-no-color"))
    assert f"Copied lineage {lineage}, serial {serial} (3 instances)" in out
    assert not (work / ".bcdr" / "state.db").exists()
    assert len(list((work / ".bcdr").glob("state.db.migrated-*"))) == 1
    with AzureBlobBackend(azurite.endpoint, container_name, KEYNAME).open(read_only=True) as s:
        assert (s.lineage, s.serial) == (lineage, serial)
    assert "No changes." in ok(run_in(work, "plan", "-no-color"))

    # a destination holding another state is refused, the source kept
    other = tmp_path / "other"
    other.mkdir()
    only_a = RESOURCES.split('resource "test_thing" "b"')[0]
    (other / "main.hcl").write_text(only_a)
    ok(run_in(other, "init"))
    ok(run_in(other, "apply", "-auto-approve"))
    folder(other, azurite.endpoint, container_name, only_a)
    refused = run_in(other, "init", "-migrate-state", "-no-color")
    assert refused.exit_code == 1 and "already holds a different state" in refused.output
    assert (other / ".bcdr" / "state.db").exists()

    (work / "main.hcl").write_text(RESOURCES)  # the bcdr block goes: back to the file
    assert run_in(work, "plan").exit_code == 1
    out = ok(run_in(work, "init", "-migrate-state", "-no-color"))
    assert f"Copied lineage {lineage}" in out
    assert not (work / ".bcdr" / "backend.json").exists()
    with StateStore.open(work / ".bcdr" / "state.db") as store:
        assert (store.lineage, len(store.instances())) == (lineage, 3)
    names = [b.name for b in box(azurite, container_name).list()]
    assert KEYNAME not in names, "the moved state's blob is gone once the copy is verified"
    assert "No changes." in ok(run_in(work, "plan", "-no-color"))


def test_restore_backup_of_a_remote_state(
    tmp_path, azurite, env, container_name, test_provider
) -> None:
    box(azurite, container_name)
    work = folder(tmp_path / "one", azurite.endpoint, container_name)
    ok(run_in(work, "init"))
    ok(run_in(work, "apply", "-auto-approve"))
    ok(run_in(work, "state", "rm", "test_thing.c"))
    ok(run_in(work, "apply", "-auto-approve", "-refresh=false", "-target", "test_thing.a"))
    out = ok(run_in(work, "state", "restore-backup", "-force", "-no-color"))
    assert f"blob '{KEYNAME}.backup'" in out and "kept as blob 'prod.bcdr.replaced-" in out


def test_a_lost_lease_refuses_every_later_write(azurite, env, container_name) -> None:
    container = box(azurite, container_name)
    backend = AzureBlobBackend(azurite.endpoint, container_name, KEYNAME)
    with backend.holding("apply"):
        store = backend.open()
        store.set_outputs({"x": (1, False)})
        container.break_lease(KEYNAME, 0)
        with pytest.raises(StateError, match="was lost"):
            store.set_outputs({"x": (2, False)})
        with pytest.raises(StateError, match="was lost"):
            store.record_history("apply", "a", "b", "ok", {})
    with backend.open(read_only=True) as seen:
        assert seen.outputs() == {"x": (1, False)}
    with backend.holding("apply"):  # free again: the broken lease is taken anew
        assert backend.current_lock() is not None


def test_a_backend_block_with_a_variable_is_an_error_at_its_line_before_anything_is_made(
    tmp_path,
) -> None:
    (tmp_path / "main.hcl").write_text(
        'variable "key" { default = "k" }\n'
        "bcdr {\n"
        '  backend "azurerm" {\n'
        '    endpoint       = "http://127.0.0.1:1/devstoreaccount1"\n'
        '    container_name = "tfstate"\n'
        "    key            = var.key\n"
        "  }\n"
        "}\n"
    )
    for args in (("init",), ("plan",), ("state", "list")):
        out = (
            run_in(tmp_path, *args, "-no-color")
            if args != ("state", "list")
            else run_in(tmp_path, *args)
        )
        assert out.exit_code == 1, out.output
        assert "Variables may not be used here" in out.output
        assert "on main.hcl line 6" in out.output
    assert not (tmp_path / ".bcdr").exists()


def test_a_changed_key_asks_for_init(tmp_path, azurite, env, container_name, test_provider) -> None:
    box(azurite, container_name)
    work = folder(tmp_path / "one", azurite.endpoint, container_name)
    ok(run_in(work, "init"))
    ok(run_in(work, "apply", "-auto-approve"))
    text = (work / "main.hcl").read_text().replace(KEYNAME, "other.bcdr")
    (work / "main.hcl").write_text(text)
    changed = run_in(work, "state", "list")
    assert changed.exit_code == 1
    assert "Backend configuration changed: run bcdr init (-migrate-state)" in changed.output
    assert 'key = "other.bcdr"' in changed.output and f'key = "{KEYNAME}"' in changed.output
    out = ok(run_in(work, "init", "-migrate-state", "-no-color"))
    assert "Copied lineage" in out
    assert remote_addresses(azurite, container_name, "other.bcdr") == [
        "test_thing.a",
        "test_thing.b",
        "test_thing.c",
    ]
    assert KEYNAME not in [b.name for b in box(azurite, container_name).list()]
