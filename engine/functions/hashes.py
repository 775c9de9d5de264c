"""The hash and id functions: md5, sha1, sha256, sha512, their base64 and file forms,
uuid, uuidv5 and bcrypt.

Always holds: a string is hashed as its UTF-8 bytes, a file (relative to ``base``, as
``file()`` reads) as its bytes; hex digests are lower case; ``uuid`` and ``bcrypt`` give
a new value on every call, so ``engine/exprops.py`` makes them unknown while planning
(known after apply, as in Terraform); ``bcrypt`` imports the ``bcrypt`` library only
when called and prints Go's ``$2a$`` prefix, as Terraform does; ``uuid`` is imported when
first called too (start-up).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string
from engine.functions.paths import read_bytes


def _hex(algo: str) -> Callable[[Any], str]:
    def digest(text: Any) -> str:
        return hashlib.new(algo, as_string(text).encode()).hexdigest()

    digest.__name__ = f"f_{algo}"
    return digest


def _b64(algo: str) -> Callable[[Any], str]:
    def digest(text: Any) -> str:
        return base64.b64encode(hashlib.new(algo, as_string(text).encode()).digest()).decode()

    digest.__name__ = f"f_base64{algo}"
    return digest


def _file_hex(algo: str) -> Callable[..., str]:
    def digest(path: Any, *, base: str = ".") -> str:
        return hashlib.new(algo, read_bytes(path, base)).hexdigest()

    digest.__name__ = f"f_file{algo}"
    return digest


def _file_b64(algo: str) -> Callable[..., str]:
    def digest(path: Any, *, base: str = ".") -> str:
        return base64.b64encode(hashlib.new(algo, read_bytes(path, base)).digest()).decode()

    digest.__name__ = f"f_filebase64{algo}"
    return digest


#: name -> function, for the registry
HASHES: dict[str, Callable[..., str]] = {
    **{name: _hex(name) for name in ("md5", "sha1", "sha256", "sha512")},
    **{f"base64{name}": _b64(name) for name in ("sha256", "sha512")},
    **{f"file{name}": _file_hex(name) for name in ("md5", "sha1", "sha256", "sha512")},
    **{f"filebase64{name}": _file_b64(name) for name in ("sha256", "sha512")},
}
#: the hashing functions that read a file (given ``base``)
FILE_HASHES = frozenset(n for n in HASHES if n.startswith("file"))


def f_uuid() -> str:
    import uuid  # only here: its import costs more than the rest of the functions'

    return str(uuid.uuid4())


def f_uuidv5(namespace: Any, name: Any) -> str:
    import uuid

    ns_text = as_string(namespace, "namespace")
    ns = {
        "dns": uuid.NAMESPACE_DNS,
        "url": uuid.NAMESPACE_URL,
        "oid": uuid.NAMESPACE_OID,
        "x500": uuid.NAMESPACE_X500,
    }.get(ns_text)
    if ns is None:
        try:
            ns = uuid.UUID(ns_text)
        except ValueError:
            raise FunctionError(
                f'"{ns_text}" is not a namespace',
                'use "dns", "url", "oid", "x500" or a UUID',
            ) from None
    return str(uuid.uuid5(ns, as_string(name, "name")))


def f_bcrypt(text: Any, *cost: Any) -> str:
    if len(cost) > 1:
        raise FunctionError("bcrypt takes a string and an optional cost")
    rounds = as_number(cost[0], "cost") if cost else 10
    if rounds != int(rounds) or not 4 <= rounds <= 31:
        raise FunctionError(f"the cost must be a whole number from 4 to 31, not {rounds}")
    import bcrypt  # only here: hashing passwords is rare, and start-up stays light

    data = as_string(text).encode()
    if len(data) > 72:
        raise FunctionError("bcrypt hashes at most 72 bytes; the string is longer")
    hashed = bcrypt.hashpw(data, bcrypt.gensalt(rounds=int(rounds))).decode()
    return "$2a$" + hashed[4:]
