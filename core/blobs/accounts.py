"""Storage accounts of a fabric, and where their blobs live (``open_blob_service``).

An account is a row of ``storage_accounts`` in ``fabric.db`` (its id, name, region,
subscription, kind, tier, network settings and the endpoint its blobs live on) and its space
in a blob service: the fabric's own folders (``regions/<region>/<subscription>/blobs/
<account>``) when the endpoint is None, else the Azure Blob endpoint it was created on.

What always holds: account names are unique in the fabric, without case (a second account
with a taken name is refused naming the holder); an account's blobs stay on the endpoint
it was created on, so every reader (the provider, ``bcdr platform``) finds them from the
row alone, whatever the provider block says today; the row is written before the account's
space is made and deleted after it is emptied, so an interrupted create or delete is
finished by running it again; the credential for an endpoint is read from the environment
when it is used and never stored.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from core.blobs.azure import AzureBlobService
from core.blobs.local import LocalBlobService
from core.blobs.service import BlobContainer, BlobService, check_account, where
from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric

KINDS = ("StorageV2", "BlobStorage", "Storage")
TIERS = ("Standard", "Premium")


def open_blob_service(fabric: Fabric, endpoint: str | None = None) -> BlobService:
    """The blob service of ``fabric``'s accounts: its own folders when ``endpoint`` is None,
    else Azure Blob at ``endpoint`` (the credential from the environment: ``azblob``)."""
    if endpoint:
        return AzureBlobService(endpoint)
    return LocalBlobService(lambda account: _folder(fabric, account))


def _folder(fabric: Fabric, account: str) -> Path:
    row = (
        fabric.db()
        .execute(
            "SELECT region, subscription FROM storage_accounts WHERE name = ?",
            (check_account(account),),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"No {where(account)} in this fabric: create it first")
    return fabric.region_dir(row["region"]) / row["subscription"] / "blobs" / account


@dataclass(frozen=True)
class StorageAccount:
    """One storage account as the fabric records it."""

    id: str
    name: str
    region: str
    subscription: str
    kind: str
    tier: str
    public_network_access: bool
    trusted_services: tuple[str, ...]
    endpoint: str | None
    created_at: float


def _account(row: sqlite3.Row) -> StorageAccount:
    return StorageAccount(
        row["id"],
        row["name"],
        row["region"],
        row["subscription"],
        row["kind"],
        row["tier"],
        bool(row["public_network_access"]),
        tuple(json.loads(row["trusted_services"])),
        row["endpoint"],
        row["created_at"],
    )


class StorageAccounts:
    """The fabric's storage accounts and their containers."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self._services: dict[str | None, BlobService] = {}

    def service(self, endpoint: str | None) -> BlobService:
        """The blob service of accounts on ``endpoint`` (None: the fabric's folders)."""
        found = self._services.get(endpoint)
        if found is None:
            found = open_blob_service(self.fabric, endpoint)
            self._services[endpoint] = found
        return found

    # ------------------------------------------------------------------------ accounts
    def find(self, id: str) -> StorageAccount | None:
        row = self.fabric.db().execute("SELECT * FROM storage_accounts WHERE id = ?", (id,))
        found = row.fetchone()
        return _account(found) if found else None

    def get(self, id: str) -> StorageAccount:
        found = self.find(id)
        if found is None:
            raise NotFound(f"storage account {id} does not exist")
        return found

    def named(self, name: str) -> StorageAccount | None:
        row = self.fabric.db().execute("SELECT * FROM storage_accounts WHERE name = ?", (name,))
        found = row.fetchone()
        return _account(found) if found else None

    def list(self) -> list[StorageAccount]:
        rows = self.fabric.db().execute("SELECT * FROM storage_accounts ORDER BY id")
        return [_account(r) for r in rows]

    def create(
        self,
        id: str,
        name: str,
        region: str,
        subscription: str,
        *,
        kind: str = "StorageV2",
        tier: str = "Standard",
        public_network_access: bool = True,
        trusted_services: tuple[str, ...] = (),
        endpoint: str | None = None,
    ) -> StorageAccount:
        """Record the account and make its space; the same id again only makes sure of both."""
        check_account(name)
        _check_settings(kind, tier)
        region = self.fabric.check_region(region)
        subscription = self.fabric.check_subscription(subscription)
        found = self.find(id)
        if found is None:
            taken = self.named(name)
            if taken is not None:
                raise AlreadyExists(
                    f"storage account name {name!r} is taken: {taken.id} holds it (names are "
                    "unique in the fabric); choose another name"
                )
            try:
                with self.fabric.transaction() as conn:
                    conn.execute(
                        "INSERT INTO storage_accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            id,
                            name,
                            region,
                            subscription,
                            kind,
                            tier,
                            int(public_network_access),
                            json.dumps(list(trusted_services)),
                            endpoint,
                            time.time(),
                        ),
                    )
            except sqlite3.IntegrityError:  # taken meanwhile
                raise AlreadyExists(
                    f"storage account name {name!r} is taken; choose another name"
                ) from None
            found = self.get(id)
        else:
            found = self.update(
                id,
                kind=kind,
                tier=tier,
                public_network_access=public_network_access,
                trusted_services=trusted_services,
            )
        self.service(found.endpoint).create_account(found.name)
        return found

    def update(
        self,
        id: str,
        *,
        kind: str,
        tier: str,
        public_network_access: bool,
        trusted_services: tuple[str, ...],
    ) -> StorageAccount:
        """Change an account's settings (its name, place and endpoint stay)."""
        _check_settings(kind, tier)
        self.get(id)
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE storage_accounts SET kind = ?, tier = ?, public_network_access = ?, "
                "trusted_services = ? WHERE id = ?",
                (kind, tier, int(public_network_access), json.dumps(list(trusted_services)), id),
            )
        return self.get(id)

    def delete(self, id: str) -> int:
        """Delete the account with its containers and blobs; the number of blobs deleted
        (0 when there is no such account)."""
        found = self.find(id)
        if found is None:
            return 0
        try:
            count = self.service(found.endpoint).delete_account(found.name)
        except NotFound:
            count = 0
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM storage_accounts WHERE id = ?", (found.id,))
        return count

    def endpoint_of(self, account: StorageAccount) -> str:
        """The account's blob endpoint (a blob's URL is it, the container and the blob)."""
        return self.service(account.endpoint).endpoint_of(account.name)

    # ---------------------------------------------------------------------- containers
    def containers(self, id: str) -> list[str]:
        found = self.get(id)
        return self.service(found.endpoint).containers(found.name)

    def container(self, id: str, name: str) -> BlobContainer:
        """Container ``name`` of the account ``id`` (which may not exist yet)."""
        found = self.get(id)
        return self.service(found.endpoint).container(found.name, name)

    def usage(self, id: str) -> dict[str, int]:
        """Each container of the account with the number of blobs in it."""
        found = self.get(id)
        service = self.service(found.endpoint)
        return {
            name: sum(1 for _ in service.container(found.name, name).list())
            for name in service.containers(found.name)
        }


def _check_settings(kind: str, tier: str) -> None:
    if kind not in KINDS:
        raise CoreError(f"account kind {kind!r} is not one of {', '.join(KINDS)}")
    if tier not in TIERS:
        raise CoreError(f"account tier {tier!r} is not one of {', '.join(TIERS)}")
