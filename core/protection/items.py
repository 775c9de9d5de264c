"""Protected items: a VM protected by a vault with a backup policy, and their rows.

An item is a row of ``bk_items``: its VM, policy, disk selection (``exclude_disk_luns`` or
``include_disk_luns``: a data disk's LUN is its place in the VM's data disks, from 0), state,
the vault's collection for the VM (``collection_id_for``: in the vault's resource group, so
it outlives the VM), the last slot the schedule handled and its job counter.

Always holds: every state and disk selection passes ``item_problems`` (the function plans
call too); an item's task ids are ``<its guid>_<n>`` with n counting its jobs from 1; an
item's id is azurerm's form of the vault id and the VM's resource group and name.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric, ResourceId
from core.problems import Problem, enforce
from core.protection.policies import Policies
from core.protection.vault_rules import ITEM_STATES, MAX_LUN, problem
from core.protection.vaults import Vault, VaultSettings

VM_TYPE = "Microsoft.Compute/virtualMachines"


@dataclass(frozen=True)
class ProtectedItem:
    id: str
    vault_id: str
    vm_id: str
    policy_id: str
    exclude_disk_luns: tuple[int, ...]
    include_disk_luns: tuple[int, ...]
    state: str  # "Protected" | "ProtectionStopped" | "BackupsSuspended"
    collection_id: str
    created_at: float
    last_backup_at: datetime | None


def protected_item_id(vault_id: str, vm_id: str) -> str:
    vm = ResourceId.parse(vm_id)
    tail = f"iaasvmcontainerv2;{vm.resource_group};{vm.name}"
    return (
        f"{vault_id}/backupFabrics/Azure/protectionContainers/iaasvmcontainer;{tail}"
        f"/protectedItems/vm;{tail}"
    )


def collection_id_for(vault: Vault, vm_id: str) -> str:
    """The vault's restore point collection for the VM (in the vault's resource group)."""
    vm = ResourceId.parse(vm_id)
    return str(
        ResourceId(
            vault.subscription,
            vault.resource_group,
            "Microsoft.Compute",
            "restorePointCollections",
            f"bcdr-vault-{vault.name}-{vm.name}",
        )
    )


def utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def item_problems(
    state: str, vault: VaultSettings, exclude: Sequence[int], include: Sequence[int]
) -> list[Problem]:
    """What is wrong with a protected item's state and disk selection in ``vault``."""
    out: list[Problem] = []
    # rule VLT-8: a protected item's state is one of ITEM_STATES
    if state not in ITEM_STATES:
        out.append(
            problem(
                "VLT-8",
                "protection_state",
                f"protection_state {state!r} is not a protection state",
                f"use one of {', '.join(ITEM_STATES)}",
            )
        )
    # rule VLT-9: BackupsSuspended needs an immutable vault
    if state == "BackupsSuspended" and vault.immutability == "Disabled":
        out.append(
            problem(
                "VLT-9",
                "protection_state",
                "backups can be suspended only in an immutable vault",
                'set the vault\'s immutability to "Unlocked" or "Locked", or use '
                '"ProtectionStopped"',
            )
        )
    # rule VLT-10: exclude and include LUNs exclude each other
    if exclude and include:
        out.append(
            problem(
                "VLT-10",
                "include_disk_luns",
                "exclude_disk_luns and include_disk_luns are both given",
                "give one of them: the LUNs to leave out, or the only LUNs to back up",
            )
        )
    for about, luns in (("exclude_disk_luns", exclude), ("include_disk_luns", include)):
        bad = [lun for lun in luns if not isinstance(lun, int) or not 0 <= lun <= MAX_LUN]
        twice = sorted({lun for lun in luns if list(luns).count(lun) > 1}, key=str)
        # rule VLT-11: a LUN is 0-63, listed once
        if bad or twice:
            what = f"{bad} are not LUNs" if bad else f"{twice} are listed more than once"
            out.append(
                problem(
                    "VLT-11",
                    about,
                    f"{about}: {what}",
                    f"list each data disk's LUN (0-{MAX_LUN}, its place in the VM's data "
                    "disks) once",
                )
            )
    return out


def _item(row: sqlite3.Row) -> ProtectedItem:
    return ProtectedItem(
        id=row["id"],
        vault_id=row["vault_id"],
        vm_id=row["vm_id"],
        policy_id=row["policy_id"],
        exclude_disk_luns=tuple(json.loads(row["exclude_luns"])),
        include_disk_luns=tuple(json.loads(row["include_luns"])),
        state=row["state"],
        collection_id=row["collection_id"],
        created_at=row["created_at"],
        last_backup_at=utc(row["last_backup_at"]),
    )


class Items:
    """The protected item rows of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

    def insert(self, item: ProtectedItem, since: float) -> None:
        """Record a new item; its schedule starts after ``since`` (seconds, UTC)."""
        with self.fabric.transaction() as conn:
            if conn.execute("SELECT 1 FROM bk_items WHERE id=?", (item.id,)).fetchone():
                raise AlreadyExists(
                    f"VM {item.vm_id} is protected already ({item.id}): update that item"
                )
            conn.execute(
                "INSERT INTO bk_items (id, vault_id, vm_id, policy_id, exclude_luns, "
                "include_luns, state, collection_id, job_guid, last_slot, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.id,
                    item.vault_id,
                    item.vm_id,
                    item.policy_id,
                    json.dumps(list(item.exclude_disk_luns)),
                    json.dumps(list(item.include_disk_luns)),
                    item.state,
                    item.collection_id,
                    str(uuid.uuid4()),
                    since,
                    item.created_at,
                ),
            )

    def update(
        self,
        item_id: str,
        policy_id: str,
        exclude: Sequence[int],
        include: Sequence[int],
        state: str,
    ) -> None:
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE bk_items SET policy_id=?, exclude_luns=?, include_luns=?, state=? "
                "WHERE id=?",
                (policy_id, json.dumps(list(exclude)), json.dumps(list(include)), state, item_id),
            )

    def find(self, item_id: str) -> ProtectedItem | None:
        row = self.fabric.db().execute("SELECT * FROM bk_items WHERE id=?", (item_id,))
        found = row.fetchone()
        return _item(found) if found else None

    def get(self, item_id: str) -> ProtectedItem:
        found = self.find(item_id)
        if found is None:
            raise NotFound(f"protected item {item_id} does not exist: protect the VM first")
        return found

    def list(self, vault_id: str | None = None) -> list[ProtectedItem]:
        db = self.fabric.db()
        if vault_id is None:
            rows = db.execute("SELECT * FROM bk_items ORDER BY created_at, id")
        else:
            rows = db.execute(
                "SELECT * FROM bk_items WHERE vault_id=? ORDER BY created_at, id", (vault_id,)
            )
        return [_item(r) for r in rows]

    def last_slot(self, item_id: str) -> float:
        row = self.fabric.db().execute("SELECT last_slot FROM bk_items WHERE id=?", (item_id,))
        return row.fetchone()[0]

    def set_last_slot(self, item_id: str, slot: float) -> None:
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE bk_items SET last_slot=MAX(last_slot, ?) WHERE id=?", (slot, item_id)
            )

    def next_task(self, conn: sqlite3.Connection, item_id: str) -> str:
        """The next task id of the item (inside the caller's transaction)."""
        conn.execute("UPDATE bk_items SET job_count = job_count + 1 WHERE id=?", (item_id,))
        row = conn.execute("SELECT job_guid, job_count FROM bk_items WHERE id=?", (item_id,))
        guid, n = row.fetchone()
        return f"{guid}_{n}"

    def backed_up(self, item_id: str, at: float) -> None:
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE bk_items SET last_backup_at=MAX(COALESCE(last_backup_at, 0), ?) WHERE id=?",
                (at, item_id),
            )

    def delete(self, item_id: str) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM bk_slots WHERE item_id=?", (item_id,))
            conn.execute("DELETE FROM bk_items WHERE id=?", (item_id,))


def excluded_disk_ids(
    data_disk_ids: Sequence[str], exclude: Sequence[int], include: Sequence[int]
) -> list[str]:
    """The data disks a backup leaves out, by LUN (``exclude``, or all but ``include``); the
    OS disk is always backed up."""
    if include:
        return [d for lun, d in enumerate(data_disk_ids) if lun not in set(include)]
    return [d for lun, d in enumerate(data_disk_ids) if lun in set(exclude)]


def check_item(
    fabric: Fabric,
    policies: Policies,
    vault: Vault,
    vm_id: str,
    policy_id: str,
    exclude: Sequence[int],
    include: Sequence[int],
    state: str,
) -> dict:
    """Check an item's policy, state, disk selection and VM (in the vault's region and
    subscription); the VM's inventory row."""
    if policies.vault_of(policy_id).lower() != vault.id.lower():
        raise CoreError(
            f"backup policy {policy_id} belongs to another vault: use a policy of "
            f"vault {vault.name}"
        )
    enforce(item_problems(state, vault.settings, exclude, include), f"VM {vm_id}")
    row = fabric.get_resource(vm_id)
    if row is None or row["type"] != VM_TYPE:
        raise NotFound(f"VM {vm_id} does not exist: check the id or create the VM first")
    if row["region"] != vault.region:
        raise CoreError(
            f"VM {vm_id} is in {row['region']} and vault {vault.name} in {vault.region}: "
            f"protect it with a vault in {row['region']}"
        )
    if row["properties"].get("subscription", "").lower() != vault.subscription.lower():
        raise CoreError(
            f"VM {vm_id} is in another subscription than vault {vault.name}: use a vault "
            "of the VM's subscription"
        )
    count = len(row["properties"].get("data_disk_ids") or [])
    beyond = sorted(lun for lun in (*exclude, *include) if lun >= count)
    if beyond:
        raise CoreError(
            f"VM {vm_id} has {count} data disk(s) (LUNs 0-{count - 1}): LUN(s) {beyond} "
            "name no disk; list the LUNs of its data disks"
        )
    return row
