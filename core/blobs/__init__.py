"""The blob service: storage accounts, containers and blobs, in local folders or on Azure Blob.

Its API is the names below (``core.exports`` says how they load). ``open_blob_service(fabric,
endpoint)`` gives the service of a fabric's accounts: its own folders when ``endpoint`` is
None, Azure Blob at ``endpoint`` otherwise; ``StorageAccounts`` records the accounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
    from core.blobs.accounts import (
        KINDS,
        TIERS,
        StorageAccount,
        StorageAccounts,
        open_blob_service,
    )
    from core.blobs.azure import AzureBlobService
    from core.blobs.local import LocalBlobService
    from core.blobs.service import (
        BlobContainer,
        BlobInfo,
        BlobService,
        LeaseConflict,
        StorageUnreachable,
        account_problem,
        container_problem,
    )

_WHERE = {
    "AzureBlobService": "core.blobs.azure",
    "BlobContainer": "core.blobs.service",
    "BlobInfo": "core.blobs.service",
    "BlobService": "core.blobs.service",
    "KINDS": "core.blobs.accounts",
    "LeaseConflict": "core.blobs.service",
    "LocalBlobService": "core.blobs.local",
    "StorageAccount": "core.blobs.accounts",
    "StorageAccounts": "core.blobs.accounts",
    "StorageUnreachable": "core.blobs.service",
    "TIERS": "core.blobs.accounts",
    "account_problem": "core.blobs.service",
    "container_problem": "core.blobs.service",
    "open_blob_service": "core.blobs.accounts",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "KINDS",
    "TIERS",
    "AzureBlobService",
    "BlobContainer",
    "BlobInfo",
    "BlobService",
    "LeaseConflict",
    "LocalBlobService",
    "StorageAccount",
    "StorageAccounts",
    "StorageUnreachable",
    "account_problem",
    "container_problem",
    "open_blob_service",
]
