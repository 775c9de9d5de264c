"""Encryption of sensitive values at rest: state keys, AES-256-GCM sealing, sensitive paths.

A state key comes from the environment (see ``keys_from_env``):

- ``BCDR_STATE_KEY``: exactly 32 random bytes, written as 64 hex digits or as base64
  (standard or URL-safe alphabet). Anything else is refused: a human-chosen string belongs
  in ``BCDR_STATE_PASSPHRASE``, which goes through scrypt (N=2**17, r=8, p=1, a random
  16-byte salt kept in the state's meta, or in the plan file for a saved plan).
- ``BCDR_STATE_KEY_FALLBACK`` / ``BCDR_STATE_PASSPHRASE_FALLBACK``: the previous key during
  a rotation. Values are read with the primary key or the fallback, and always written
  with the primary; ``adopt_keys`` reseals a whole state with the primary at open.

Always holds: a sealed value is ``{"$bcdr_sealed": "v1.<base64url(nonce || ciphertext)>"}``
with a fresh random 96-bit nonce, and its associated data binds it to the state's lineage,
the instance address and the attribute path, so a ciphertext copied anywhere else fails
authentication; a key is never printed nor stored, only a key-check value sealed with it;
failures are ``StateError`` messages that say which variable to set.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from . import lock as locking
from .records import StateError, decode_attributes, encode_attributes, encode_json, open_sealed

ENV_KEY = "BCDR_STATE_KEY"
ENV_PASSPHRASE = "BCDR_STATE_PASSPHRASE"
ENV_KEY_FALLBACK = "BCDR_STATE_KEY_FALLBACK"
ENV_PASSPHRASE_FALLBACK = "BCDR_STATE_PASSPHRASE_FALLBACK"

SEALED = "$bcdr_sealed"
_VERSION = "v1"
_NONCE_BYTES = 12
SCRYPT = {"alg": "scrypt", "n": 2**17, "r": 8, "p": 1}
KEY_CHECK_PLAINTEXT = b"bcdr state key check"

WRONG_KEY = (
    "the state key does not match the one this state was encrypted with; set "
    f"{ENV_KEY} to the right key, or {ENV_KEY_FALLBACK} during a rotation"
)
NO_KEY_WARNING = (
    "Sensitive values were stored in plaintext. Configure a state key to encrypt them: "
    f"set {ENV_KEY} to 32 random bytes in hex or base64 (for example the output of "
    f"`openssl rand -hex 32`), or set {ENV_PASSPHRASE}; the next write encrypts them."
)


@dataclass(frozen=True)
class KeySource:
    """One configured secret: a 32-byte key, or a passphrase to derive one from."""

    kind: Literal["key", "passphrase"]
    secret: bytes
    origin: str  # the environment variable it came from, for messages

    def __repr__(self) -> str:  # never show the secret
        return f"KeySource({self.kind}, from {self.origin})"


@dataclass(frozen=True)
class KeyConfig:
    """The primary key (None: no encryption) and the fallbacks accepted for reading."""

    primary: KeySource | None = None
    fallbacks: tuple[KeySource, ...] = ()

    @property
    def configured(self) -> bool:
        return self.primary is not None

    @property
    def needs_kdf(self) -> bool:
        return any(s.kind == "passphrase" for s in self.sources())

    def sources(self) -> tuple[KeySource, ...]:
        return ((self.primary,) if self.primary else ()) + self.fallbacks


def parse_key(text: str, origin: str) -> bytes:
    """A 32-byte key from 64 hex digits or base64; StateError saying what is expected."""
    value = text.strip()
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raw = bytes.fromhex(value)
    else:
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(value.encode("ascii") + b"=" * (-len(value) % 4))
            except (binascii.Error, ValueError, UnicodeEncodeError):
                continue
            if len(raw) == 32:
                break
    if raw is None or len(raw) != 32:
        raise StateError(
            f"{origin} is not a 32-byte key. Give 64 hex digits or base64 of 32 random "
            f"bytes (for example `openssl rand -hex 32`), or put a passphrase in "
            f"{ENV_PASSPHRASE} instead."
        )
    return raw


def keys_from_env(environ: Mapping[str, str] | None = None) -> KeyConfig:
    """The state keys configured in ``environ`` (the process environment by default)."""
    env = os.environ if environ is None else environ

    def source(key_var: str, pass_var: str) -> KeySource | None:
        key, phrase = env.get(key_var) or "", env.get(pass_var) or ""
        if key and phrase:
            raise StateError(f"Both {key_var} and {pass_var} are set. Set only one of them.")
        if key:
            return KeySource("key", parse_key(key, key_var), key_var)
        if phrase:
            return KeySource("passphrase", phrase.encode("utf-8"), pass_var)
        return None

    primary = source(ENV_KEY, ENV_PASSPHRASE)
    fallback = source(ENV_KEY_FALLBACK, ENV_PASSPHRASE_FALLBACK)
    if fallback is not None and primary is None:
        raise StateError(
            f"{fallback.origin} is set but no primary key is: a fallback only serves a "
            f"rotation. Set {ENV_KEY} (or {ENV_PASSPHRASE}) to the new key as well."
        )
    return KeyConfig(primary, (fallback,) if fallback else ())


# ------------------------------------------------------------------ derivation
def new_kdf_params() -> dict[str, Any]:
    return {**SCRYPT, "salt": base64.b64encode(os.urandom(16)).decode("ascii")}


def derive(source: KeySource, kdf: Mapping[str, Any] | None) -> bytes:
    """The AES-256 key of one source: the key itself, or scrypt of the passphrase."""
    if source.kind == "key":
        return source.secret
    if kdf is None or kdf.get("alg") != "scrypt":
        raise StateError(f"Cannot use {source.origin}: the key-derivation parameters are missing.")
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    salt = base64.b64decode(kdf["salt"])
    return Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])).derive(
        source.secret
    )


def _aad(lineage: str, address: str, path: str) -> bytes:
    return f"bcdr-state-{_VERSION}\x00{lineage}\x00{address}\x00{path}".encode()


class Cipher:
    """AES-256-GCM for one state (its lineage): seal with the primary key, open with any."""

    def __init__(self, lineage: str, primary: bytes, fallbacks: list[bytes] | None = None) -> None:
        # imported here: a state without a key is read without loading cryptography's
        # native module (tens of milliseconds of every plan)
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.lineage = lineage
        self._primary = AESGCM(primary)
        self._fallbacks = [AESGCM(k) for k in fallbacks or []]

    @classmethod
    def from_keys(cls, lineage: str, keys: KeyConfig, kdf: Mapping[str, Any] | None) -> Cipher:
        if keys.primary is None:
            raise ValueError("no primary key configured")
        return cls(lineage, derive(keys.primary, kdf), [derive(s, kdf) for s in keys.fallbacks])

    def seal_bytes(self, data: bytes, address: str, path: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._primary.encrypt(nonce, data, _aad(self.lineage, address, path))
        return f"{_VERSION}." + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open_bytes(self, token: str, address: str, path: str) -> tuple[bytes, bool]:
        """(plaintext, opened with the primary key); StateError naming the value if none fit."""
        version, _, body = token.partition(".")
        try:
            blob = base64.urlsafe_b64decode(body.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            blob = b""
        if version != _VERSION or len(blob) < _NONCE_BYTES + 16:
            raise StateError(f"The sealed value of {_where(address, path)} is damaged.")
        from cryptography.exceptions import InvalidTag

        aad = _aad(self.lineage, address, path)
        for i, aes in enumerate([self._primary, *self._fallbacks]):
            try:
                return aes.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad), i == 0
            except InvalidTag:
                continue
        raise StateError(
            f"The sealed value of {_where(address, path)} does not authenticate: it was "
            "encrypted with another key, or for another state, instance or attribute. "
            "Restore the state from a backup, or set the key it was written with."
        )

    def seal(self, value: Any, address: str, path: str) -> dict[str, str]:
        """A sensitive value as stored: the envelope, never its plaintext."""
        # rule EXT-4: sensitive values are encrypted at rest, bound to where they belong
        data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return {SEALED: self.seal_bytes(data, address, path)}

    def open(self, envelope: Mapping[str, Any], address: str, path: str) -> Any:
        data, _ = self.open_bytes(str(envelope[SEALED]), address, path)
        return json.loads(data)

    def key_check(self) -> str:
        return self.seal_bytes(KEY_CHECK_PLAINTEXT, "", "key-check")

    def check(self, token: str) -> Literal["primary", "fallback", "wrong"]:
        """Which of the configured keys sealed the state's key-check value."""
        try:
            data, primary = self.open_bytes(token, "", "key-check")
        except StateError:
            return "wrong"
        if data != KEY_CHECK_PLAINTEXT:
            return "wrong"
        return "primary" if primary else "fallback"


def _where(address: str, path: str) -> str:
    return f"{address}.{path}" if address else path


# ------------------------------------------------------------ sensitive paths
def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and SEALED in value


def sensitive_paths(schema: Any) -> list[str]:
    """Dotted paths of a schema's sensitive attributes; ``*`` stands for each list element.

    ``secret`` for a top-level attribute, ``network.password`` inside a single block,
    ``members.*.token`` inside a list of blocks.
    """
    out: list[str] = []

    def walk(attributes: Mapping[str, Any], prefix: str) -> None:
        for name, attr in attributes.items():
            if attr.sensitive:
                out.append(prefix + name)
            elif attr.block is not None:
                star = ".*" if attr.nesting == "list" else ""
                walk(attr.block.attributes, f"{prefix}{name}{star}.")

    walk(schema.attributes, "")
    return sorted(out)


def _concrete(value: Any, parts: list[str], done: str) -> Iterator[tuple[str, Any, Any, str]]:
    """(concrete path, container, key, value) for each value at a pattern's path."""
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = enumerate(value) if isinstance(value, list) else ()
    elif isinstance(value, dict) and head in value:
        items = [(head, value[head])]
    else:
        items = ()
    for key, child in items:
        path = f"{done}{key}"
        if not rest:
            yield path, value, key, child
        elif child is not None:
            yield from _concrete(child, rest, path + ".")


def transform_paths(
    attributes: dict[str, Any], paths: list[str], fn: Callable[[Any, str], Any]
) -> dict[str, Any]:
    """A copy of ``attributes`` with each non-null value at ``paths`` replaced by fn(v, path)."""
    result = json.loads(json.dumps(attributes))
    for pattern in paths:
        for path, container, key, value in list(_concrete(result, pattern.split("."), "")):
            if value is not None and not is_sealed(value):
                container[key] = fn(value, path)
    return result


def mask_paths(attributes: dict[str, Any], paths: list[str], mask: Any) -> dict[str, Any]:
    """A copy of ``attributes`` where each non-null value at ``paths`` reads ``mask``."""
    return transform_paths(attributes, paths, lambda _value, _path: mask)


def has_values_at(attributes: Mapping[str, Any], paths: list[str]) -> bool:
    """Whether any of ``paths`` holds a non-null value in ``attributes``."""
    return any(
        v is not None for p in paths for _, _, _, v in _concrete(attributes, p.split("."), "")
    )


def open_all(value: Any, fn: Callable[[Mapping[str, Any], str], Any], path: str = "") -> Any:
    """``value`` with every sealed envelope in it replaced by ``fn(envelope, path)``."""
    if is_sealed(value):
        return fn(value, path)
    if isinstance(value, dict):
        return {k: open_all(v, fn, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [open_all(v, fn, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
    return value


# ------------------------------------------------------------------ documents
def seal_document(data: bytes, keys: KeyConfig, context: str) -> dict[str, Any]:
    """A whole document (a saved plan) sealed with the primary key, self-describing."""
    assert keys.primary is not None
    kdf = new_kdf_params() if keys.primary.kind == "passphrase" else None
    cipher = Cipher(context, derive(keys.primary, kdf))
    return {SEALED: cipher.seal_bytes(data, "document", context), "kdf": kdf, "context": context}


def open_document(envelope: Mapping[str, Any], keys: KeyConfig, what: str) -> bytes:
    """The plaintext of ``seal_document``; StateError saying which key to set."""
    if not keys.configured:
        raise StateError(
            f"{what} is encrypted. Set {ENV_KEY} (or {ENV_PASSPHRASE}) to the state key it "
            "was written with."
        )
    context, kdf = str(envelope.get("context", "")), envelope.get("kdf")
    for source in keys.sources():
        if source.kind == "passphrase" and kdf is None:
            continue
        if source.kind == "key" and kdf is not None:
            continue
        cipher = Cipher(context, derive(source, kdf))
        try:
            data, _ = cipher.open_bytes(str(envelope[SEALED]), "document", context)
        except StateError:
            continue
        return data
    raise StateError(
        f"{what} cannot be decrypted with the configured key: it was written with another "
        f"one. Set {ENV_KEY} to that key (or {ENV_KEY_FALLBACK} during a rotation)."
    )


# ------------------------------------------------------- a key for one state
def adopt_keys(conn: sqlite3.Connection, path: Path, keys: KeyConfig) -> Cipher | None:
    """Check the configured key against the state's key-check value; the state's cipher.

    Refuses (StateError, nothing written) a wrong key, or no key for an encrypted state.
    A state without a key-check value, or one whose key is now the fallback, has every
    sensitive value (re)sealed with the primary key at once, unless another process holds
    the state lock (it may know only the old key: the fallback reads meanwhile, and a later
    open reseals).
    """
    lineage, kdf_text, check = conn.execute("SELECT lineage, kdf, key_check FROM meta").fetchone()
    if not keys.configured:
        if check:
            raise StateError(
                f"{path} holds encrypted sensitive values, and no state key is configured. "
                f"Set {ENV_KEY} (or {ENV_PASSPHRASE}) to the key it was encrypted with. The "
                "state was left untouched."
            )
        return None
    kdf = json.loads(kdf_text) if kdf_text else (new_kdf_params() if keys.needs_kdf else None)
    cipher = Cipher.from_keys(lineage, keys, kdf)
    verdict = cipher.check(check) if check else "new"
    if verdict == "wrong":
        raise StateError(f"{path}: {WRONG_KEY}. The state was left untouched.")
    holder = locking.read(path)
    if verdict != "primary" and (holder is None or holder.stale or locking.ours(holder)):
        reseal(conn, cipher, kdf)
    return cipher


def reseal(conn: sqlite3.Connection, cipher: Cipher, kdf: Mapping[str, Any] | None) -> None:
    """Seal every sensitive value with the primary key, in one transaction (no serial bump)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        rows = conn.execute("SELECT address, attributes, sensitive FROM instances").fetchall()
        for address, text, sensitive in rows:
            attrs = decode_attributes(text, cipher, address)
            new = encode_attributes(attrs, json.loads(sensitive), cipher, address)
            conn.execute("UPDATE instances SET attributes = ? WHERE address = ?", [new, address])
        outputs = conn.execute("SELECT name, value FROM outputs WHERE sensitive = 1").fetchall()
        for name, text in outputs:
            value = output_value(name, text, cipher)
            if value is not None:
                value = cipher.seal(value, "output", name)
            conn.execute("UPDATE outputs SET value = ? WHERE name = ?", [encode_json(value), name])
        conn.execute(
            "UPDATE meta SET kdf = ?, key_check = ? WHERE id = 1",
            [encode_json(kdf) if kdf else None, cipher.key_check()],
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # drop old page images


def output_value(name: str, text: str, cipher: Cipher | None) -> Any:
    """An output's stored text → its value, opened when it is sealed."""
    value = json.loads(text)
    return open_sealed(value, cipher, "output", name) if is_sealed(value) else value
