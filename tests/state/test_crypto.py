"""EXT-4 at rest: sensitive values sealed in real state files, keys, rotation, passphrases.

Each test opens real SQLite files in ``tmp_path`` and greps their raw bytes (the main file
and its ``-wal``) for the known plaintext.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3

import pytest

from state import (
    Cipher,
    KeyConfig,
    KeySource,
    StateError,
    StateStore,
    keys_from_env,
    open_document,
    seal_document,
    sensitive_paths,
)
from state.crypto import SEALED, WRONG_KEY
from tests.state import python, rec

SECRET = "s3cr3t-Ext4-VALUE"
NESTED = "n3sted-Ext4-PASSWORD"
KEY_A = KeyConfig(KeySource("key", b"A" * 32, "BCDR_STATE_KEY"))
KEY_B = KeyConfig(KeySource("key", b"B" * 32, "BCDR_STATE_KEY"))
NO_KEY = KeyConfig()


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch):
    for var in (
        "BCDR_STATE_KEY",
        "BCDR_STATE_PASSPHRASE",
        "BCDR_STATE_KEY_FALLBACK",
        "BCDR_STATE_PASSPHRASE_FALLBACK",
    ):
        monkeypatch.delenv(var, raising=False)


def secret_rec(name: str = "a"):
    return rec(
        name=name,
        attributes={
            "input": "plain-input",
            "secret": SECRET,
            "network": {"subnet": "s1", "password": NESTED},
            "members": [{"token": f"{NESTED}-0"}, {"token": None}],
        },
        sensitive=["secret", "network.password", "members.*.token"],
    )


def raw_bytes(path) -> bytes:
    data = b""
    for p in (path, path.with_name(path.name + "-wal")):
        if p.exists():
            data += p.read_bytes()
    return data


def state_path(tmp_path):
    return tmp_path / ".bcdr" / "state.db"


def test_ext4_key_configured_state_file_holds_no_plaintext_secret(tmp_path):
    path = state_path(tmp_path)
    with StateStore.open(path, keys=KEY_A) as store:
        assert store.encrypted
        store.put(secret_rec())
        store.set_outputs({"pw": (SECRET, True), "open": ("visible-output", False)})
        assert SECRET.encode() not in raw_bytes(path)  # the -wal too, while open
        assert NESTED.encode() not in raw_bytes(path)
        assert store.plaintext_writes == []
    data = raw_bytes(path)
    assert SECRET.encode() not in data and NESTED.encode() not in data
    assert b"plain-input" in data and b"visible-output" in data  # the rest stays readable
    with StateStore.open(path, keys=KEY_A) as store:
        got = store.get("bcdr_data.a")
        assert got.attributes == secret_rec().attributes
        assert got.sensitive == ["members.*.token", "network.password", "secret"]
        assert store.outputs() == {"pw": (SECRET, True), "open": ("visible-output", False)}


def test_ext4_no_key_reports_every_plaintext_write(tmp_path):
    seen: list[str] = []
    with StateStore.open(state_path(tmp_path), keys=NO_KEY, on_plaintext=seen.append) as store:
        assert not store.encrypted
        store.put(secret_rec())
        store.put(secret_rec())
        store.put(rec(name="plain"))  # nothing sensitive: nothing to report
        store.set_outputs({"pw": (SECRET, True)})
        assert seen == ["bcdr_data.a", "bcdr_data.a", "output.pw"]
        assert store.plaintext_writes == seen
    assert SECRET.encode() in raw_bytes(state_path(tmp_path))


def test_ext4_wrong_key_refused_and_state_file_unchanged(tmp_path):
    path = state_path(tmp_path)
    with StateStore.open(path, keys=KEY_A) as store:
        store.put(secret_rec())
    before = path.read_bytes()
    with pytest.raises(StateError) as err:
        StateStore.open(path, keys=KEY_B)
    assert WRONG_KEY in str(err.value)
    with pytest.raises(StateError, match="no state key is configured"):
        StateStore.open(path, keys=NO_KEY)
    assert path.read_bytes() == before
    wal = path.with_name("state.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with StateStore.open(path, keys=KEY_A) as store:
        assert store.get("bcdr_data.a").attributes["secret"] == SECRET


def test_ext4_rotation_reseals_with_primary_then_fallback_alone_fails(tmp_path):
    path = state_path(tmp_path)
    with StateStore.open(path, keys=KEY_A) as store:
        store.put(secret_rec())
        store.set_outputs({"pw": (SECRET, True)})
        serial = store.serial
    rotating = KeyConfig(KEY_B.primary, (KEY_A.primary,))
    with StateStore.open(path, keys=rotating) as store:
        assert store.get("bcdr_data.a").attributes["secret"] == SECRET
        assert store.serial == serial  # resealing changes no content
    with StateStore.open(path, keys=KEY_B) as store:  # all resealed at open: B alone reads
        assert store.get("bcdr_data.a").attributes == secret_rec().attributes
        assert store.outputs()["pw"] == (SECRET, True)
    with pytest.raises(StateError, match="does not match"):
        StateStore.open(path, keys=KEY_A)


def test_ext4_first_key_seals_values_stored_in_plaintext(tmp_path):
    path = state_path(tmp_path)
    with StateStore.open(path, keys=NO_KEY) as store:
        store.put(secret_rec())
        store.set_outputs({"pw": (SECRET, True)})
    assert SECRET.encode() in raw_bytes(path)
    with StateStore.open(path, keys=KEY_A) as store:
        assert store.get("bcdr_data.a").attributes["secret"] == SECRET
    # secure_delete and a truncating checkpoint leave no old page image behind
    assert SECRET.encode() not in raw_bytes(path)
    assert NESTED.encode() not in raw_bytes(path)


def test_ext4_passphrase_derives_the_key_with_a_salt_kept_in_meta(tmp_path):
    path = state_path(tmp_path)
    phrase = KeyConfig(KeySource("passphrase", b"correct horse", "BCDR_STATE_PASSPHRASE"))
    with StateStore.open(path, keys=phrase) as store:
        store.put(secret_rec())
    conn = sqlite3.connect(path)
    try:
        kdf = json.loads(conn.execute("SELECT kdf FROM meta").fetchone()[0])
    finally:
        conn.close()
    assert kdf["alg"] == "scrypt" and kdf["n"] >= 2**17 and len(base64.b64decode(kdf["salt"])) == 16
    assert SECRET.encode() not in raw_bytes(path)
    with StateStore.open(path, keys=phrase) as store:
        assert store.get("bcdr_data.a").attributes["secret"] == SECRET
    wrong = KeyConfig(KeySource("passphrase", b"wrong horse", "BCDR_STATE_PASSPHRASE"))
    with pytest.raises(StateError, match="does not match"):
        StateStore.open(path, keys=wrong)


def _swap(path, address: str, fn) -> None:
    conn = sqlite3.connect(path)
    try:
        text = conn.execute("SELECT attributes FROM instances WHERE address = ?", [address])
        attrs = json.loads(text.fetchone()[0])
        fn(attrs)
        conn.execute(
            "UPDATE instances SET attributes = ? WHERE address = ?", [json.dumps(attrs), address]
        )
        conn.commit()
    finally:
        conn.close()


def test_ext4_ciphertext_copied_to_another_attribute_or_instance_fails(tmp_path):
    path = state_path(tmp_path)
    with StateStore.open(path, keys=KEY_A) as store:
        store.put(secret_rec("a"))
        store.put(secret_rec("b"))
    sealed_secret: dict = {}

    def to_other_attribute(attrs: dict) -> None:
        assert SEALED in attrs["secret"]
        sealed_secret.update(attrs["secret"])
        attrs["network"]["password"] = attrs["secret"]

    _swap(path, "bcdr_data.a", to_other_attribute)
    _swap(path, "bcdr_data.b", lambda attrs: attrs.update(secret=dict(sealed_secret)))
    with StateStore.open(path, keys=KEY_A) as store:
        with pytest.raises(StateError, match=r"bcdr_data\.a\.network\.password does not auth"):
            store.get("bcdr_data.a")
        with pytest.raises(StateError, match=r"bcdr_data\.b\.secret does not authenticate"):
            store.get("bcdr_data.b")


def test_ext4_state_mv_reseals_for_the_new_address(tmp_path):
    with StateStore.open(state_path(tmp_path), keys=KEY_A) as store:
        store.put(secret_rec("a"))
        store.move("bcdr_data.a", "bcdr_data.z")
        assert store.get("bcdr_data.z").attributes["secret"] == SECRET


def test_sealed_values_bound_to_the_state_lineage():
    one, other = Cipher("lineage-1", b"k" * 32), Cipher("lineage-2", b"k" * 32)
    sealed = one.seal({"v": SECRET}, "x.y", "secret")
    assert one.open(sealed, "x.y", "secret") == {"v": SECRET}
    assert sealed != one.seal({"v": SECRET}, "x.y", "secret")  # a fresh nonce each time
    with pytest.raises(StateError):
        other.open(sealed, "x.y", "secret")


def test_keys_from_env_accepts_hex_and_base64_and_refuses_the_rest():
    raw = os.urandom(32)
    assert keys_from_env({"BCDR_STATE_KEY": raw.hex()}).primary.secret == raw
    b64 = base64.b64encode(raw).decode()
    assert keys_from_env({"BCDR_STATE_KEY": b64}).primary.secret == raw
    url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert keys_from_env({"BCDR_STATE_KEY": url}).primary.secret == raw
    assert not keys_from_env({}).configured
    with pytest.raises(StateError, match="BCDR_STATE_KEY is not a 32-byte key"):
        keys_from_env({"BCDR_STATE_KEY": "hunter2"})
    with pytest.raises(StateError, match="Set only one"):
        keys_from_env({"BCDR_STATE_KEY": raw.hex(), "BCDR_STATE_PASSPHRASE": "p"})
    with pytest.raises(StateError, match="no primary key"):
        keys_from_env({"BCDR_STATE_KEY_FALLBACK": raw.hex()})
    both = keys_from_env({"BCDR_STATE_PASSPHRASE": "p", "BCDR_STATE_KEY_FALLBACK": raw.hex()})
    assert both.primary.kind == "passphrase" and both.fallbacks[0].secret == raw
    assert raw.hex() not in repr(both)


def test_sensitive_paths_follow_nested_blocks():
    from sdk import Attribute, Schema

    inner = Schema({"password": Attribute(sensitive=True), "user": Attribute()})
    schema = Schema(
        {
            "secret": Attribute(sensitive=True),
            "name": Attribute(),
            "login": Attribute(block=inner, nesting="single"),
            "members": Attribute(block=inner, nesting="list"),
        }
    )
    assert sensitive_paths(schema) == ["login.password", "members.*.password", "secret"]


def test_sealed_document_opens_with_the_key_or_its_fallback_only():
    data = json.dumps({"after": SECRET}).encode()
    sealed = seal_document(data, KEY_A, "plan:lineage")
    assert SECRET not in json.dumps(sealed)
    assert open_document(sealed, KEY_A, "plan") == data
    assert open_document(sealed, KeyConfig(KEY_B.primary, (KEY_A.primary,)), "plan") == data
    with pytest.raises(StateError, match="cannot be decrypted"):
        open_document(sealed, KEY_B, "plan")
    with pytest.raises(StateError, match="is encrypted"):
        open_document(sealed, NO_KEY, "plan")


def test_ext4_rotation_waits_while_another_holder_has_the_lock(tmp_path):
    path = state_path(tmp_path)
    rotating = KeyConfig(KEY_B.primary, (KEY_A.primary,))
    with StateStore.open(path, keys=KEY_A) as store:
        store.put(secret_rec())
    holder = python(  # another process holds the lock: it may know only key A
        "import sys\n"
        "from pathlib import Path\n"
        "from state import lock_state\n"
        "with lock_state(Path(sys.argv[1]), 'apply'):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.readline()\n",
        str(path),
    )
    assert holder.stdout.readline().strip() == "held", holder.stderr.read()
    try:
        with StateStore.open(path, keys=rotating) as reader:
            assert reader.get("bcdr_data.a").attributes["secret"] == SECRET
        with StateStore.open(path, keys=KEY_A) as store:
            assert store.get("bcdr_data.a").attributes["secret"] == SECRET  # A still reads
    finally:
        holder.communicate(input="\n", timeout=30)
    with pytest.raises(StateError, match="does not match"):
        StateStore.open(path, keys=KEY_B)  # nothing was resealed yet
    with StateStore.open(path, keys=rotating):
        pass
    with StateStore.open(path, keys=KEY_B) as store:
        assert store.get("bcdr_data.a").attributes["secret"] == SECRET
