"""A tick and ``next_due`` limited to some vaults (``vault_ids``): only those vaults' items
take backups, and only their points are tiered, pruned and purged; the other vaults are left
exactly as they were until a tick that includes them."""

from __future__ import annotations

import pytest

from core.errors import CoreError
from core.protection import Backup, BackupPolicy, RetentionDaily, VaultSettings
from tests.core import fixtures_protection
from tests.core.fixtures_protection import DAILY, Site, utc

site = fixtures_protection.site  # the fixture

EVENING = BackupPolicy(backup=Backup("Daily", "20:00"), retention_daily=RetentionDaily(7))


def two_vaults(site: Site) -> tuple[str, str, str, str]:
    """(vault a, item a, vault b, item b): one VM each, a backs up at 02:00, b at 20:00."""
    a, _policy, item_a = site.setup(policy=DAILY, at=utc(2025, 1, 1))
    b = site.vault_id("vault2")
    site.p.create_vault(b, "eastus", VaultSettings("LocallyRedundant"))
    site.p.put_policy(f"{b}/backupPolicies/evening", b, EVENING)
    item_b = site.p.protect(b, site.vm("db"), f"{b}/backupPolicies/evening", at=utc(2025, 1, 1))
    return a, item_a, b, item_b.id


def test_a_tick_of_one_vault_leaves_the_other_alone(site: Site) -> None:
    a, item_a, b, item_b = two_vaults(site)
    for day in (1, 2, 3):
        report = site.p.tick(utc(2025, 1, day, 21))  # the whole fabric: both back up
        assert {j.item_id for j in report.jobs} == {item_a, item_b}
    before_b = site.p.recovery_points(item_b, now=utc(2025, 1, 12, 3))
    waiting = {p.id for p in before_b if p.tier == "Snapshot"}
    assert len(waiting) == 2  # the 2nd's and 3rd's, due to tier since the 4th and 5th
    # vault a only (its id in another case): a backs up, tiers and prunes; b does nothing
    report = site.p.tick(utc(2025, 1, 12, 3), vault_ids=[a.upper()])
    assert [j.item_id for j in report.jobs] == [item_a]
    a_points = site.p.recovery_points(item_a, include_deleted=True, now=utc(2025, 1, 12, 3))
    assert set(report.pruned) == {p.id for p in a_points if p.time.day in (1, 2, 3)}
    assert len(report.pruned) == 3
    assert set(report.tiered) <= {p.id for p in a_points}
    assert site.p.recovery_points(item_b, now=utc(2025, 1, 12, 3)) == before_b
    assert site.p.get_item(item_b).last_backup_at == utc(2025, 1, 3, 20)
    # no vaults at all: nothing happens
    assert site.p.tick(utc(2025, 1, 12, 21), vault_ids=()).jobs == ()
    # then b's own tick: its one due slot (the 11th's were missed), its old points pruned
    report_b = site.p.tick(utc(2025, 1, 12, 21), vault_ids={b})
    assert [j.item_id for j in report_b.jobs] == [item_b]
    assert len(report_b.pruned) == 3
    assert report_b.missed == ((item_b, 8),)
    assert set(report_b.tiered) == waiting
    assert site.p.tick(utc(2025, 1, 12, 21)).jobs == ()  # nothing is left to run twice


def test_next_due_of_some_vaults(site: Site) -> None:
    a, _item_a, b, _item_b = two_vaults(site)
    after = utc(2025, 1, 1, 3)
    assert site.p.next_due(after) == utc(2025, 1, 1, 20)
    assert site.p.next_due(after, vault_ids=[a]) == utc(2025, 1, 2, 2)
    assert site.p.next_due(after, vault_ids=[b.lower()]) == utc(2025, 1, 1, 20)
    assert site.p.next_due(after, vault_ids=[]) is None


def test_one_id_in_place_of_a_collection_is_refused(site: Site) -> None:
    a, *_ = two_vaults(site)
    with pytest.raises(CoreError, match="collection of vault ids"):
        site.p.tick(utc(2025, 1, 1, 3), vault_ids=a)
