"""Backup vaults (Azure's Recovery Services vaults): their settings and their rows.

A vault is a row of ``bk_vaults`` in ``fabric.db`` with its settings as JSON. It owns two
places of its own, both named from its resource group and name: a block store of its region
and subscription (``Vault.store``: "vaults/<rg>/<name>", the vault-standard tier that
recovery points move into after their instant-restore days; ``core.restorepoints.stores``),
and a blob container for its jobs' status and log blobs (``vault_container``: in the
fabric's folders, or on the provider block's ``blob_endpoint`` when it names one).

Always holds: every change of settings passes ``vault_problems(new, old)`` first (the
function plans call too), so cross-region restore never turns off, Locked immutability stays
and the storage mode stays once the vault holds points; a vault's id is an ARM
``Microsoft.RecoveryServices/vaults`` id of a known subscription.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass

from core.blobs.accounts import open_blob_service
from core.blobs.local import LocalBlobService
from core.blobs.service import BlobContainer, BlobService
from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric, ResourceId, check_name
from core.problems import enforce
from core.protection.vault_rules import vault_problems

VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
JOBS_CONTAINER = "bcdr-jobs"


@dataclass(frozen=True)
class VaultSettings:
    storage_mode: str = "GeoRedundant"  # "LocallyRedundant" | "GeoRedundant"
    cross_region_restore: bool = False  # needs GeoRedundant; cannot be turned off
    soft_delete: bool = True  # deleted points recoverable 14 days
    immutability: str = "Disabled"  # "Disabled" | "Unlocked" | "Locked" (Locked is final)
    notify_command: str | None = None  # run with a failed job's JSON on stdin

    @property
    def immutable(self) -> bool:
        return self.immutability in ("Unlocked", "Locked")


@dataclass(frozen=True)
class Vault:
    id: str
    name: str
    region: str
    subscription: str
    resource_group: str
    settings: VaultSettings
    created_at: float

    @property
    def store(self) -> str:
        """The vault's block store among its region's (``RestorePoints.stores``)."""
        return f"vaults/{self.resource_group}/{self.name}"

    @property
    def account(self) -> str:
        """The storage account name of the vault's job container (unique per vault id)."""
        return "bkv" + hashlib.sha256(self.id.lower().encode()).hexdigest()[:18]


def parse_vault_id(vault_id: str) -> ResourceId:
    """The parts of a vault id; a malformed one is refused with the form to use."""
    rid = ResourceId.parse(vault_id)
    if (
        rid.provider.lower() != "microsoft.recoveryservices"
        or rid.type.lower() != "vaults"
        or rid.children
    ):
        raise CoreError(
            f"{vault_id} is not a vault id: use /subscriptions/<sub>/resourceGroups/<rg>/"
            "providers/Microsoft.RecoveryServices/vaults/<name>"
        )
    check_name(rid.name, "vault")
    check_name(rid.resource_group, "resource group")
    return rid


def _vault(row: sqlite3.Row) -> Vault:
    return Vault(
        id=row["id"],
        name=row["name"],
        region=row["region"],
        subscription=row["subscription"],
        resource_group=row["resource_group"],
        settings=VaultSettings(**json.loads(row["settings"])),
        created_at=row["created_at"],
    )


class Vaults:
    """The vault rows of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

    def create(self, id: str, region: str, settings: VaultSettings) -> Vault:
        rid = parse_vault_id(id)
        sub = self.fabric.check_subscription(rid.subscription)
        region = self.fabric.check_region(region)
        enforce(vault_problems(settings, None), f"vault {rid.name}")
        with self.fabric.transaction() as conn:
            if conn.execute("SELECT 1 FROM bk_vaults WHERE id=?", (id,)).fetchone():
                raise AlreadyExists(f"vault {id} exists already: choose another name")
            conn.execute(
                "INSERT INTO bk_vaults (id, name, region, subscription, resource_group, "
                "settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    id,
                    rid.name,
                    region,
                    sub,
                    rid.resource_group,
                    json.dumps(dataclasses.asdict(settings)),
                    time.time(),
                ),
            )
        vault = self.get(id)
        vault_service(self.fabric, vault).create_account(vault.account)
        vault_container(self.fabric, vault).create()
        return vault

    def update(self, id: str, settings: VaultSettings) -> Vault:
        old = self.get(id)
        holds = self.holds_points(id)
        enforce(vault_problems(settings, old.settings, holds_points=holds), f"vault {old.name}")
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE bk_vaults SET settings=? WHERE id=?",
                (json.dumps(dataclasses.asdict(settings)), old.id),
            )
        return self.get(id)

    def find(self, id: str) -> Vault | None:
        row = self.fabric.db().execute("SELECT * FROM bk_vaults WHERE id=?", (id,)).fetchone()
        return _vault(row) if row else None

    def get(self, id: str) -> Vault:
        found = self.find(id)
        if found is None:
            raise NotFound(f"vault {id} does not exist: check the id or create the vault first")
        return found

    def list(self) -> list[Vault]:
        rows = self.fabric.db().execute("SELECT * FROM bk_vaults ORDER BY created_at, id")
        return [_vault(r) for r in rows]

    def holds_points(self, id: str) -> bool:
        """Whether the vault has ever held a recovery point (its storage mode is fixed)."""
        row = self.fabric.db().execute("SELECT has_points FROM bk_vaults WHERE id=?", (id,))
        found = row.fetchone()
        return bool(found and found[0])

    def delete(self, vault: Vault) -> None:
        """Drop the vault's row and its job container (the caller checked it is empty)."""
        vault_service(self.fabric, vault).delete_account(vault.account)
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM bk_policies WHERE vault_id=?", (vault.id,))
            conn.execute("DELETE FROM bk_jobs WHERE vault_id=?", (vault.id,))
            conn.execute("DELETE FROM bk_vaults WHERE id=?", (vault.id,))


def vault_service(fabric: Fabric, vault: Vault) -> BlobService:
    """The blob service the vault's job container is on."""
    endpoint = fabric.placement.blob_endpoint or None
    if endpoint:
        return open_blob_service(fabric, endpoint)
    folder = fabric.region_dir(vault.region) / vault.subscription / vault.store / "blobs"
    return LocalBlobService(lambda account: folder / account)


def vault_container(fabric: Fabric, vault: Vault) -> BlobContainer:
    """The container of the vault's job status and log blobs."""
    return vault_service(fabric, vault).container(vault.account, JOBS_CONTAINER)
