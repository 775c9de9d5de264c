"""``bcdr platform blob list|get|put|delete``: the blobs of a storage container, read and
changed directly, as ``az storage blob`` does.

Always holds: a container is named by its resource id (a ``storage_container``'s ``id``),
and an id that is no container's id, or a container that does not exist, is a
``DiagnosticsError`` saying what to give; a blob is put whole (readers see the old one or
the new one) on wherever its account keeps its blobs (the fabric's folders or the Azure Blob
endpoint it was made on); blobs are not attributes of any resource, so these verbs make no
drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.blobs import StorageAccounts
from core.errors import NotFound
from core.fabric import Fabric
from providers.platform.inventory import fail
from providers.platform.storage.common import services_of


def _container(fabric: Fabric, container_id: str) -> Any:
    """The container an id names; a user mistake when it names none."""
    parts = services_of(container_id)
    if parts is None:
        raise fail(
            f"{container_id!r} is not a storage container's id",
            "A container's id is /subscriptions/<sub>/resourceGroups/<group>/providers/"
            "Microsoft.Storage/storageAccounts/<account>/blobServices/default/containers/"
            "<name>: copy it from `bcdr platform list --type container` or `bcdr state show`.",
        )
    account_id, name = parts
    store = StorageAccounts(fabric)
    if store.find(account_id) is None:
        raise fail(
            f"no storage account has the id {account_id}",
            "Check the id: `bcdr platform list --type account` lists the storage accounts.",
        )
    box = store.container(account_id, name)
    if not box.exists():
        raise fail(
            f"no container {name!r} in storage account {box.account}",
            "Check the id: `bcdr platform list --type container` lists the containers.",
        )
    return box


def _info(info: Any) -> dict[str, Any]:
    return {
        "name": info.name,
        "size": info.size,
        "etag": info.etag,
        "last_modified": info.last_modified,
        "metadata": dict(info.metadata),
        "lease_state": info.lease_state,
    }


def blob_list(fabric: Fabric, container_id: str, prefix: str = "") -> list[dict[str, Any]]:
    """The container's blobs whose names start with ``prefix``, in name order."""
    return [_info(i) for i in _container(fabric, container_id).list(prefix)]


def blob_get(fabric: Fabric, container_id: str, name: str) -> bytes:
    """A blob's bytes."""
    box = _container(fabric, container_id)
    try:
        return box.get(name)
    except NotFound:
        raise fail(
            f"no blob {name!r} in container {box.name} of storage account {box.account}",
            "`bcdr platform blob list CONTAINER_ID` lists its blobs.",
        ) from None


def blob_put(fabric: Fabric, container_id: str, name: str, source: Path) -> dict[str, Any]:
    """Write the bytes of ``source`` as blob ``name`` (replacing one there)."""
    box = _container(fabric, container_id)
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {source}", f"{exc.strerror}: give a readable file.") from None
    return _info(box.put(name, data))


def blob_delete(fabric: Fabric, container_id: str, name: str) -> dict[str, Any]:
    """Delete blob ``name``."""
    box = _container(fabric, container_id)
    try:
        box.delete_blob(name)
    except NotFound:
        raise fail(
            f"no blob {name!r} in container {box.name} of storage account {box.account}",
            "`bcdr platform blob list CONTAINER_ID` lists its blobs.",
        ) from None
    return {"container_id": container_id, "name": name, "deleted": True}
