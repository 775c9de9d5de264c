"""Backup policies as rows of ``bk_policies``: each a ``BackupPolicy`` as JSON, in one vault.

Always holds: a policy is stored only when ``policy_problems`` finds nothing (the function
plans call too), so the schedule and retention can always use a stored policy; a policy
id is ``{vault_id}/backupPolicies/NAME`` of an existing vault; a policy an item uses is
never deleted.
"""

from __future__ import annotations

import dataclasses
import json
import time

from core.errors import CoreError, NotFound
from core.fabric.home import Fabric, check_name
from core.problems import enforce
from core.protection.policy import (
    Backup,
    BackupPolicy,
    RetentionDaily,
    RetentionMonthly,
    RetentionWeekly,
    RetentionYearly,
)
from core.protection.rules import policy_problems

_BLOCKS = {
    "backup": Backup,
    "retention_daily": RetentionDaily,
    "retention_weekly": RetentionWeekly,
    "retention_monthly": RetentionMonthly,
    "retention_yearly": RetentionYearly,
}


def policy_to_json(policy: BackupPolicy) -> str:
    return json.dumps(dataclasses.asdict(policy), sort_keys=True)


def policy_from_json(text: str) -> BackupPolicy:
    data = json.loads(text)
    for key, cls in _BLOCKS.items():
        block = data.get(key)
        if block is not None:
            data[key] = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in block.items()})
    return BackupPolicy(**data)


def policy_vault(policy_id: str) -> str:
    """The vault id of a policy id ``{vault_id}/backupPolicies/NAME`` (refused otherwise)."""
    vault_id, sep, name = policy_id.rpartition("/backupPolicies/")
    if not sep or not vault_id:
        raise CoreError(
            f"{policy_id} is not a backup policy id: use <vault id>/backupPolicies/<name>"
        )
    check_name(name, "backup policy")
    return vault_id


class Policies:
    """The backup policy rows of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

    def put(self, id: str, vault_id: str, policy: BackupPolicy) -> None:
        if policy_vault(id).lower() != vault_id.lower():
            raise CoreError(f"backup policy {id} is not in vault {vault_id}: its id must start so")
        enforce(policy_problems(policy), f"backup policy {id.rpartition('/')[2]}")
        now = time.time()
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT INTO bk_policies VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "policy = excluded.policy, updated_at = excluded.updated_at",
                (id, vault_id, policy_to_json(policy), now, now),
            )

    def get(self, id: str) -> BackupPolicy:
        row = self.fabric.db().execute("SELECT policy FROM bk_policies WHERE id=?", (id,))
        found = row.fetchone()
        if found is None:
            raise NotFound(f"backup policy {id} does not exist: create it in its vault first")
        return policy_from_json(found[0])

    def vault_of(self, id: str) -> str:
        row = self.fabric.db().execute("SELECT vault_id FROM bk_policies WHERE id=?", (id,))
        found = row.fetchone()
        if found is None:
            raise NotFound(f"backup policy {id} does not exist: create it in its vault first")
        return found[0]

    def delete(self, id: str) -> None:
        self.get(id)
        with self.fabric.transaction() as conn:
            users = [r[0] for r in conn.execute("SELECT id FROM bk_items WHERE policy_id=?", (id,))]
            if users:
                raise CoreError(
                    f"backup policy {id} is used by {len(users)} protected item(s) "
                    f"({', '.join(users[:3])}): give them another policy or unprotect them first"
                )
            conn.execute("DELETE FROM bk_policies WHERE id=?", (id,))
