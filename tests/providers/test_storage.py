"""storage_account and storage_container through the real CLI: apply and a clean second
plan, blobs in the region's folder, Azure's name rules as plan errors at file:line, a name
taken in the fabric, which changes replace, the warning before blobs are destroyed, drift
(attributes, not blobs), and ``bcdr platform blob``."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.providers.conftest import Workspace

GROUP = """
resource "resource_group" "rg" {
  name     = "data"
  location = "eastus"
}
"""


def account(label: str = "sa", name: str = "backups1", extra: str = "") -> str:
    return f"""
resource "storage_account" "{label}" {{
  name           = "{name}"
  resource_group = resource_group.rg.name
  location       = "eastus"
  {extra}
}}
"""


def container(label: str = "c", name: str = "vm-logs", sa: str = "sa") -> str:
    return f"""
resource "storage_container" "{label}" {{
  name               = "{name}"
  storage_account_id = storage_account.{sa}.id
}}
"""


SPEC = GROUP + account() + container()


def applied(ws: Workspace, text: str = SPEC) -> tuple[str, str]:
    """Apply ``text``; (account id, container id)."""
    ws.write(text)
    ws.ok("init")
    ws.apply()
    return ws.state("storage_account.sa")["id"], ws.state("storage_container.c")["id"]


def put_blob(ws: Workspace, cid: str, name: str, data: bytes) -> None:
    src = ws.dir / "upload.bin"
    src.write_bytes(data)
    ws.ok("platform", "blob", "put", cid, name, "upload.bin")


def test_apply_makes_the_account_and_container_and_a_second_plan_is_clean(ws) -> None:
    aid, cid = applied(ws)
    sa = ws.state("storage_account.sa")
    sub = sa["subscription"]
    assert aid == (
        f"/subscriptions/{sub}/resourceGroups/data/providers/Microsoft.Storage/"
        "storageAccounts/backups1"
    )
    assert cid == f"{aid}/blobServices/default/containers/vm-logs"
    assert (sa["account_kind"], sa["account_tier"], sa["public_network_access"]) == (
        "StorageV2",
        "Standard",
        True,
    )
    assert sa["blob_endpoint"] == "https://backups1.blob.core.windows.net/"
    ws.plan_is_clean()
    put_blob(ws, cid, "vm1/status.json", b"{}")
    blobs = ws.dir / ".bcdr" / "fabric" / "regions" / "eastus" / sub / "blobs" / "backups1"
    assert (blobs / "vm-logs" / "vm1" / "status.json").is_file()


@pytest.mark.parametrize(
    ("text", "bad", "said"),
    [
        (GROUP + account(name="Backups_1"), "Backups_1", "3-24 lowercase letters and digits"),
        (GROUP + account(name="ab"), '"ab"', "3-24 lowercase letters and digits"),
        (GROUP + account() + container(name="vm--logs"), "vm--logs", "single hyphens"),
        (GROUP + account() + container(name="-logs"), '"-logs"', "starting and ending"),
    ],
)
def test_azures_name_rules_are_plan_errors_at_the_argument(ws, text, bad, said) -> None:
    path = ws.write(text)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if bad in t)
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert f"main.hcl:{line}" in result.output and said in result.output
    assert "Traceback" not in result.output


def test_a_name_another_account_holds_is_a_plan_error(ws) -> None:
    applied(ws)
    text = (
        SPEC
        + GROUP.replace('"rg"', '"other"').replace('"data"', '"other"')
        + account("twin").replace("resource_group.rg", "resource_group.other")
    )
    path = ws.write(text)
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    lines = path.read_text().splitlines()
    line = [i for i, t in enumerate(lines, 1) if t == '  name           = "backups1"'][-1]
    assert f"on main.hcl line {line}" in result.output
    assert "Storage account name 'backups1' is taken" in result.output
    assert "resourceGroups/data/providers/Microsoft.Storage/storageAccounts/backups1" in (
        result.output
    )


def test_two_accounts_of_one_name_in_one_plan_are_refused(ws) -> None:
    other = GROUP.replace('"rg"', '"other"').replace('"data"', '"other"')
    ws.write(
        GROUP
        + other
        + account()
        + account("b").replace("resource_group.rg", "resource_group.other")
    )
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "Storage account name 'backups1' is taken" in result.output


def test_destroying_a_container_or_account_with_blobs_warns_how_many_go(ws) -> None:
    aid, cid = applied(ws)
    for name in ("a", "b/c", "d"):
        put_blob(ws, cid, name, b"x")
    out = ws.ok("plan", "-destroy", "-no-color")
    assert "Warning: Destroying storage_container.c deletes 3 blobs" in out
    assert "Warning: Destroying storage_account.sa deletes 1 container and 3 blobs" in out
    ws.write(GROUP + account())  # the container leaves the configuration
    out = ws.ok("plan", "-no-color")
    assert "Warning: Destroying storage_container.c deletes 3 blobs" in out
    ws.write(GROUP + account() + container(name="vm-logs2"))  # a rename replaces it
    out = ws.ok("plan", "-no-color")
    assert "replacing storage_container.c destroys its 3 blobs" in out


def test_destroying_an_empty_container_warns_of_nothing(ws) -> None:
    applied(ws)
    out = ws.ok("plan", "-destroy", "-no-color")
    assert "Destroying storage_container.c" not in out
    assert "Warning: Destroying storage_account.sa deletes 1 container\n" in out
    out = ws.ok("destroy", "-auto-approve", "-no-color")
    assert "3 destroyed" in out
    with ws.fabric() as fabric:
        from core.blobs import StorageAccounts

        assert StorageAccounts(fabric).list() == []


def test_storage_to_storagev2_is_in_place_and_other_kind_or_tier_changes_replace(ws) -> None:
    aid, cid = applied(ws, GROUP + account(extra='account_kind = "Storage"') + container())
    put_blob(ws, cid, "keep", b"kept")
    ws.write(GROUP + account(extra='account_kind = "StorageV2"') + container())
    out = ws.ok("plan", "-no-color")
    assert "storage_account.sa will be updated in-place" in out
    ws.apply()
    assert ws.state("storage_account.sa")["account_kind"] == "StorageV2"
    assert ws.ok("platform", "blob", "get", cid, "keep") == "kept"
    ws.plan_is_clean()
    ws.write(GROUP + account(extra='account_kind = "BlobStorage"') + container())
    out = ws.ok("plan", "-no-color")
    assert "storage_account.sa must be replaced" in out
    assert "replacing storage_account.sa destroys its 1 container with 1 blob" in out
    ws.write(GROUP + account(extra='account_tier = "Premium"') + container())
    assert "storage_account.sa must be replaced" in ws.ok("plan", "-no-color")


def test_network_settings_update_in_place(ws) -> None:
    applied(ws)
    extra = (
        "public_network_access = false\n"
        '  trusted_services = ["Microsoft.DataProtection/backupVaults"]'
    )
    ws.write(GROUP + account(extra=extra) + container())
    assert "storage_account.sa will be updated in-place" in ws.ok("plan", "-no-color")
    ws.apply()
    sa = ws.state("storage_account.sa")
    assert (sa["public_network_access"], sa["trusted_services"]) == (
        False,
        ["Microsoft.DataProtection/backupVaults"],
    )
    ws.plan_is_clean()


def test_a_container_needs_a_storage_account(ws) -> None:
    disk = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x/providers/"
    ws.write(
        GROUP
        + f"""
resource "storage_container" "c" {{
  name               = "logs"
  storage_account_id = "{disk}Microsoft.Compute/disks/d"
}}
"""
    )
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "on main.hcl line 8" in result.output
    assert "storage_account_id is not a storage account's id" in result.output


def test_blobs_are_not_drift_but_the_containers_and_accounts_attributes_are(ws) -> None:
    aid, cid = applied(ws)
    put_blob(ws, cid, "a", b"1")
    ws.ok("platform", "blob", "delete", cid, "a")
    put_blob(ws, cid, "b", b"2")
    assert "No drift" in ws.ok("drift", "-no-color")
    ws.ok("platform", "tag", aid, "env=prod")
    result = ws.run("drift", "-no-color")
    assert result.exit_code == 2
    assert "storage_account.sa has changed" in result.output
    assert 'env = "prod"' in result.output
    ws.ok("platform", "delete", cid)
    result = ws.run("drift", "-no-color")
    assert "storage_container.c has been deleted" in result.output
    ws.apply()
    ws.plan_is_clean()
    assert ws.ok("platform", "blob", "list", cid, "-no-color").strip() == "0 blobs."


def test_platform_blob_list_get_put_delete(ws) -> None:
    _, cid = applied(ws)
    put_blob(ws, cid, "logs/1.txt", b"one")
    put_blob(ws, cid, "logs/2.txt", b"two!")
    put_blob(ws, cid, "other", b"x")
    listed = json.loads(ws.ok("platform", "blob", "list", cid, "-prefix", "logs/", "-json"))
    assert [(b["name"], b["size"]) for b in listed] == [("logs/1.txt", 3), ("logs/2.txt", 4)]
    out = ws.ok("platform", "blob", "list", cid, "-no-color")
    assert re.search(r"^logs/2\.txt  4 B  ", out, re.M) and out.endswith("3 blobs.\n")
    assert ws.ok("platform", "blob", "get", cid, "logs/2.txt") == "two!"
    ws.ok("platform", "blob", "get", cid, "logs/1.txt", "-out", "got.txt")
    assert (ws.dir / "got.txt").read_bytes() == b"one"
    again = ws.run("platform", "blob", "get", cid, "logs/1.txt", "-out", "got.txt")
    assert again.exit_code == 1 and "got.txt exists already" in again.output
    ws.ok("platform", "blob", "delete", cid, "logs/1.txt")
    gone = ws.run("platform", "blob", "get", cid, "logs/1.txt")
    assert gone.exit_code == 1 and "no blob 'logs/1.txt' in container vm-logs" in gone.output


def test_platform_blob_names_a_bad_id_or_a_missing_container(ws) -> None:
    aid, cid = applied(ws)
    for bad, said in [
        ("not-an-id", "'not-an-id' is not a storage container's id"),
        (aid, "is not a storage container's id"),
        (cid + "x", "no container 'vm-logsx' in storage account backups1"),
        (cid.replace("backups1", "nobody1"), "no storage account has the id"),
    ]:
        result = ws.run("platform", "blob", "list", bad)
        assert result.exit_code == 1, result.output
        assert said in result.output and "Traceback" not in result.output
    put = ws.run("platform", "blob", "put", cid, "a b", "main.hcl")
    assert put.exit_code == 1 and "blob name 'a b' is not allowed" in put.output
    missing = ws.run("platform", "blob", "put", cid, "a", "nope.bin")
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_platform_blob_reaches_an_account_made_on_an_azure_blob_endpoint(
    ws, azurite, monkeypatch
) -> None:
    """An account's blobs stay on the endpoint it was made on, found from its record alone,
    with the credential from the environment."""
    from core.blobs import StorageAccounts
    from core.fabric import Fabric

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    with Fabric.open(ws.dir / ".bcdr" / "fabric") as fabric:
        sub = fabric.default_subscription
        aid = (
            f"/subscriptions/{sub}/resourceGroups/data/providers/Microsoft.Storage/"
            "storageAccounts/remote1"
        )
        store = StorageAccounts(fabric)
        made = store.create(aid, "remote1", "eastus", sub, endpoint=azurite.endpoint)
        assert store.endpoint_of(made) == f"{azurite.endpoint}/remote1/"
        store.container(aid, "logs").create()
    cid = f"{aid}/blobServices/default/containers/logs"
    put_blob(ws, cid, "a/b.txt", b"on azurite")
    assert ws.ok("platform", "blob", "get", cid, "a/b.txt") == "on azurite"
    from azblob import Container

    real = Container(azurite.endpoint, "remote1")
    assert real.get("logs/a/b.txt") == b"on azurite"
    assert not (ws.dir / ".bcdr" / "fabric" / "regions" / "eastus" / sub / "blobs").exists()


def test_with_a_blob_endpoint_the_accounts_blobs_live_on_azure_blob(
    ws, azurite, monkeypatch
) -> None:
    """provider "platform" { blob_endpoint }: the account is a real container on the
    endpoint, its container a prefix, and destroy empties it; nothing in the folders."""
    from azblob import Container

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    provider = f'provider "platform" {{\n  blob_endpoint = "{azurite.endpoint}"\n}}\n'
    name = f"e2e{uuid.uuid4().hex[:12]}"
    aid, cid = applied(ws, provider + GROUP + account(name=name) + container())
    assert ws.state("storage_account.sa")["blob_endpoint"] == f"{azurite.endpoint}/{name}/"
    ws.plan_is_clean()
    put_blob(ws, cid, "jobs/1.log", b"remote bytes")
    real = Container(azurite.endpoint, name)
    assert real.get("vm-logs/jobs/1.log") == b"remote bytes"
    assert ws.ok("platform", "blob", "get", cid, "jobs/1.log") == "remote bytes"
    assert "No drift" in ws.ok("drift", "-no-color")
    out = ws.ok("plan", "-destroy", "-no-color")
    assert "Warning: Destroying storage_container.c deletes 1 blob" in out
    ws.ok("destroy", "-auto-approve", "-no-color")
    assert not real.exists()
    assert not list((ws.dir / ".bcdr" / "fabric" / "regions").rglob("blobs"))
