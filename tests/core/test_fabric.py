"""Fabric: regions and pairs, resource ids, names, subscriptions, keys and the inventory."""

from __future__ import annotations

import stat
import threading
import uuid
from pathlib import Path

import pytest

from core.errors import CoreError, NotFound
from core.fabric import REGIONS, Fabric, ResourceId, check_name, paired_region


def test_pairs_follow_azure() -> None:
    pairs = [
        ("eastus", "westus"),
        ("eastus2", "centralus"),
        ("westus2", "westcentralus"),
        ("northeurope", "westeurope"),
        ("uksouth", "ukwest"),
        ("francecentral", "francesouth"),
        ("germanywestcentral", "germanynorth"),
        ("swedencentral", "swedensouth"),
        ("japaneast", "japanwest"),
        ("koreacentral", "koreasouth"),
        ("australiaeast", "australiasoutheast"),
        ("southeastasia", "eastasia"),
        ("centralindia", "southindia"),
        ("canadacentral", "canadaeast"),
        ("southafricanorth", "southafricawest"),
        ("uaenorth", "uaecentral"),
        ("switzerlandnorth", "switzerlandwest"),
        ("norwayeast", "norwaywest"),
    ]
    for a, b in pairs:
        assert paired_region(a) == b
        assert paired_region(b) == a
    # Azure's asymmetric pairs
    assert paired_region("westus3") == "eastus"
    assert paired_region("brazilsouth") == "southcentralus"
    assert paired_region("italynorth") is None
    assert paired_region("nowhere") is None


def test_every_pair_is_a_known_region() -> None:
    for region in REGIONS.values():
        assert region.name == region.name.lower() and " " not in region.name
        assert region.pair is None or region.pair in REGIONS


def test_aks_tiers_from_the_support_matrix() -> None:
    both = frozenset({"operational", "vault"})
    assert REGIONS["eastus"].aks_tiers == both
    assert REGIONS["westus3"].aks_tiers == both
    assert REGIONS["jioindiawest"].aks_tiers == both
    for name in ("israelcentral", "polandcentral", "spaincentral", "usgovvirginia", "chinaeast3"):
        assert REGIONS[name].aks_tiers == frozenset({"operational"})
    assert REGIONS["qatarcentral"].aks_tiers == frozenset()
    assert sum(1 for r in REGIONS.values() if r.aks_tiers == both) == 43
    assert sum(1 for r in REGIONS.values() if r.aks_tiers == {"operational"}) == 10


def test_resource_id_round_trip() -> None:
    rid = ResourceId(
        "sub",
        "rg",
        "Microsoft.Compute",
        "restorePointCollections",
        "c1",
        (("restorePoints", "rp1"), ("diskRestorePoints", "d1")),
    )
    text = str(rid)
    assert text == (
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/"
        "restorePointCollections/c1/restorePoints/rp1/diskRestorePoints/d1"
    )
    assert ResourceId.parse(text) == rid
    plain = ResourceId("s", "g", "Microsoft.Compute", "disks", "d")
    assert ResourceId.parse(str(plain)) == plain


@pytest.mark.parametrize(
    "text",
    [
        "",
        "/subscriptions/s/resourceGroups/g",
        "/subscriptions/s/resourceGroups/g/providers/P/t",
        "/subscriptions/s/resourceGroups/g/providers/P/t/n/child",
        "subscriptions/s/resourceGroups/g/providers/P/t/n",
        "/subscriptions//resourceGroups/g/providers/P/t/n",
        "/subs/s/resourceGroups/g/providers/P/t/n",
    ],
)
def test_malformed_resource_id_is_named(text: str) -> None:
    with pytest.raises(CoreError, match="malformed"):
        ResourceId.parse(text)


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a\\b", "a\0b", "x" * 81, "sp ace", "é"])
def test_check_name_refuses_unsafe_names(bad: str) -> None:
    with pytest.raises(CoreError, match="disk"):
        check_name(bad, "disk")


def test_check_name_accepts_safe_names() -> None:
    assert check_name("data-disk_1.v2", "disk") == "data-disk_1.v2"
    assert check_name("x" * 80, "disk") == "x" * 80


def test_identity_is_fixed_at_creation(tmp_path: Path) -> None:
    with Fabric.open(tmp_path / "f") as first:
        tenant, sub = first.tenant_id, first.default_subscription
        extra = first.add_subscription()
        key, seed = first.sas_key(), first.subscription_seed(extra)
    with Fabric.open(tmp_path / "f") as again:
        assert (again.tenant_id, again.default_subscription) == (tenant, sub)
        assert again.subscriptions() == [sub, extra]
        assert again.sas_key() == key and len(key) == 32
        assert again.subscription_seed(extra) == seed
    uuid.UUID(tenant)
    uuid.UUID(sub)


def test_seeds_differ_per_subscription_and_fabric(tmp_path: Path) -> None:
    with Fabric.open(tmp_path / "a") as a, Fabric.open(tmp_path / "b") as b:
        s2 = a.add_subscription()
        assert a.subscription_seed(a.default_subscription) != a.subscription_seed(s2)
        assert a.sas_key() != b.sas_key()
        assert 0 <= a.subscription_seed(s2) < 2**64


def test_secrets_file_is_owner_only(fabric: Fabric) -> None:
    for name in ("fabric.db", "fabric.db-wal"):
        mode = stat.S_IMODE((fabric.home / name).stat().st_mode)
        assert mode == 0o600, name


def test_secrets_never_in_repr_or_errors(fabric: Fabric) -> None:
    key = fabric.sas_key().hex()
    seed = f"{fabric.subscription_seed(fabric.default_subscription):x}"
    assert key not in repr(fabric)
    with pytest.raises(NotFound) as err:
        fabric.subscription_seed(str(uuid.uuid4()))
    assert key not in str(err.value) and seed not in str(err.value)


def test_add_subscription_validates_and_is_idempotent(fabric: Fabric) -> None:
    sub = str(uuid.uuid4())
    assert fabric.add_subscription(sub.upper()) == sub
    assert fabric.add_subscription(sub) == sub
    assert fabric.subscriptions().count(sub) == 1
    with pytest.raises(CoreError, match="not a uuid"):
        fabric.add_subscription("../etc")


def test_regions_and_folders(fabric: Fabric) -> None:
    assert fabric.check_region("East US") == "eastus"
    with pytest.raises(CoreError, match="westeurope"):
        fabric.check_region("moon")
    sub = fabric.default_subscription
    assert fabric.region_dir("eastus") == fabric.home / "regions" / "eastus"
    assert fabric.store_dir("eastus", sub) == fabric.home / "regions" / "eastus" / sub / "store"
    assert fabric.disks_dir("westus", sub).is_dir()
    with pytest.raises(NotFound, match="add it first"):
        fabric.disks_dir("eastus", str(uuid.uuid4()))


def test_inventory_crud(fabric: Fabric) -> None:
    rid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1"
    assert fabric.get_resource(rid) is None
    fabric.put_resource(rid, "virtual_machine", "eastus", {"size": "Standard_D2s_v5"})
    first = fabric.get_resource(rid)
    assert first is not None and first["properties"] == {"size": "Standard_D2s_v5"}
    fabric.put_resource(rid, "virtual_machine", "eastus", {"size": "Standard_D4s_v5"})
    second = fabric.get_resource(rid)
    assert second is not None
    assert second["created_at"] == first["created_at"]
    assert second["properties"]["size"] == "Standard_D4s_v5"
    fabric.put_resource("/x/rg", "resource_group", "eastus", {})
    assert [r["id"] for r in fabric.list_resources("virtual_machine")] == [rid]
    assert len(fabric.list_resources()) == 2
    fabric.delete_resource(rid)
    assert fabric.get_resource(rid) is None


def test_transaction_rolls_back(fabric: Fabric) -> None:
    with pytest.raises(RuntimeError):
        with fabric.transaction() as conn:
            conn.execute("INSERT INTO resources VALUES ('r', 't', 'eastus', '{}', 0, 0)")
            raise RuntimeError("boom")
    assert fabric.get_resource("r") is None


def test_threads_get_their_own_connections(fabric: Fabric) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                fabric.put_resource(f"r{i}-{j}", "t", "eastus", {"i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(fabric.list_resources("t")) == 80


def test_open_refuses_unwritable_home(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CoreError, match="writable folder"):
        Fabric.open(blocker / "fabric")


def test_create_subscription_refuses_duplicates_and_malformed_ids(tmp_path) -> None:
    from core.errors import AlreadyExists

    with Fabric.open(tmp_path / "f") as fabric:
        made = fabric.create_subscription(name="dr")
        assert str(uuid.UUID(made.id)) == made.id and made.name == "dr" and not made.is_default
        with pytest.raises(AlreadyExists, match=f"subscription {made.id} exists already"):
            fabric.create_subscription(made.id.upper())
        with pytest.raises(CoreError, match="is not a uuid"):
            fabric.create_subscription("sub-2")
        ids = [s.id for s in fabric.list_subscriptions()]
        assert ids == [fabric.default_subscription, made.id]
        assert fabric.subscription_seed(made.id) != fabric.subscription_seed(ids[0])


def test_a_fabric_from_before_subscription_names_opens_and_lists(tmp_path) -> None:
    with Fabric.open(tmp_path / "f") as fabric:
        with fabric.transaction() as conn:
            conn.execute("ALTER TABLE subscriptions DROP COLUMN name")
            conn.execute("PRAGMA user_version = 0")  # such a fabric had no schema version
        default = fabric.default_subscription
    with Fabric.open(tmp_path / "f") as fabric:
        [sub] = fabric.list_subscriptions()
        assert (sub.id, sub.name, sub.is_default) == (default, None, True)
        assert fabric.create_subscription(name="second").name == "second"
