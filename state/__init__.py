"""The SQLite state store (sqlite-utils): resources, outputs, lineage and serial, lock, history.

Beside ``state.db``: ``state.db.lock.info`` while the state lock is held (``state.lock``),
and ``state.db.backup``, the state of the last successful run (``state.backup``). Or, with
``backend "azurerm"``, in one blob, locked by a lease (``state.azurerm``, ``state.lease``);
``state.backend`` is what both offer the CLI.

Callers use only what this package exports. Always holds: the state on disk is consistent
after every committed write, so an apply killed at any moment can be continued by a new
plan; a file that is not a bcdr state is refused, never reset; with a state key configured
no sensitive value is written in plaintext, and a wrong key is refused, never reset.
"""

from .azurerm import AzureBlobBackend
from .backend import (
    BACKEND_TYPES,
    BackendType,
    LocalBackend,
    Migrated,
    StateBackend,
    backend_for,
    migrate,
)
from .backup import RESTORE_COMMAND, backup_path, restore_backup
from .crypto import (
    NO_KEY_WARNING,
    Cipher,
    KeyConfig,
    KeySource,
    keys_from_env,
    mask_paths,
    open_document,
    seal_document,
    sensitive_paths,
)
from .lock import force_unlock, lock_path
from .lock import holding as lock_state
from .migrations import FORMAT_VERSION
from .records import (
    STATUSES,
    InstanceRecord,
    Intent,
    LockInfo,
    StateError,
    StateLocked,
    cleared_message,
    decode_attributes,
    encode_attributes,
    utc_now,
)
from .store import StateStore

DEFAULT_STATE_PATH = ".bcdr/state.db"

__all__ = [
    "BACKEND_TYPES",
    "AzureBlobBackend",
    "BackendType",
    "LocalBackend",
    "Migrated",
    "StateBackend",
    "backend_for",
    "migrate",
    "DEFAULT_STATE_PATH",
    "RESTORE_COMMAND",
    "backup_path",
    "cleared_message",
    "force_unlock",
    "lock_path",
    "lock_state",
    "restore_backup",
    "FORMAT_VERSION",
    "NO_KEY_WARNING",
    "Cipher",
    "KeyConfig",
    "KeySource",
    "keys_from_env",
    "mask_paths",
    "open_document",
    "seal_document",
    "sensitive_paths",
    "STATUSES",
    "InstanceRecord",
    "Intent",
    "LockInfo",
    "StateError",
    "StateLocked",
    "StateStore",
    "decode_attributes",
    "encode_attributes",
    "utc_now",
]
