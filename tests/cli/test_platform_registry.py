"""The type registry alone makes a type visible to ``bcdr platform list`` and ``show``.

A throwaway type is registered in a fixture (nothing else is edited): an inventory row of
its ARM type shows with its bcdr type name and its summary in ``list``, ``--type`` takes its
name, and ``show`` adds what its declaration shows, through the real CLI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.fabric import Fabric
from providers.platform.registry import Declaration, TypedId, registered

ARM = "Contoso.Widgets/widgets"


@pytest.fixture
def widget_type() -> Iterator[Declaration]:
    decl = Declaration(
        "widget",
        ARM,
        ("w",),
        summary=lambda props: f"{props.get('spokes', 0)} spokes",
        show=lambda core, id: {
            "widget": {"spokes": core.fabric.get_resource(id)["properties"]["spokes"]}
        },
    )
    with registered(decl):
        yield decl


def test_a_type_registered_alone_is_listed_and_shown(bcdr, workdir: Path, widget_type):
    with Fabric.open(workdir / ".bcdr" / "fabric") as fabric:
        wid = f"/subscriptions/{fabric.default_subscription}/resourceGroups/demo/providers/{ARM}/w1"
        fabric.put_resource(wid, ARM, "eastus", {"name": "w1", "spokes": 7, "tags": {"a": "b"}})
    listed = bcdr("platform", "list", "-no-color")
    assert listed.exit_code == 0, listed.output
    assert wid in listed.output and "7 spokes" in listed.output
    rows = json.loads(bcdr("platform", "list", "--type", "widget", "-json").output)
    assert [(r["id"], r["type_name"], r["summary"]) for r in rows] == [(wid, "widget", "7 spokes")]
    shown = json.loads(bcdr("platform", "show", wid.upper().replace("/W1", "/w1")).output)
    assert shown["type_name"] == "widget"
    assert shown["widget"] == {"spokes": 7}
    # the type cannot be deleted: its declaration says nothing about deleting
    refused = bcdr("platform", "delete", wid, "-no-color")
    assert refused.exit_code == 1 and "cannot be deleted on its own" in refused.output


def test_the_typed_key_ignores_case_and_knows_groups():
    a = TypedId.parse("/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/disks/D")
    b = TypedId.parse("/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.COMPUTE/DISKS/D")
    assert a is not None and b is not None and a.key == b.key
    assert a.is_a("microsoft.compute/DISKS")
    rp = TypedId.parse(
        "/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/"
        "restorePointCollections/c/restorePoints/r"
    )
    assert (
        rp is not None and rp.arm_type == "Microsoft.Compute/restorePointCollections/restorePoints"
    )
    group = TypedId.parse("/subscriptions/S/resourceGroups/G")
    assert group is not None and group.arm_type == "Microsoft.Resources/resourceGroups"
    assert TypedId.parse("not-an-id") is None


def test_a_registered_type_is_in_the_derived_tables_and_the_platforms_own_come_from_one_list(
    widget_type,
):
    from providers.platform import registry, types
    from providers.platform.provider import EmbeddedProvider

    # computed when asked: the throwaway type registered after import is in them
    assert registry.type_names()["w"] == ARM
    assert registry.by_arm_type(ARM.upper()) is widget_type
    # the provider's types and the registry's declarations come from the same modules
    own = [d.type_name for d in registry.declarations() if d is not widget_type]
    assert own == [d.type_name for d in types.declarations()]
    typed = {t.type_name for t in types.resource_types() if t.declaration is not None}
    assert typed <= set(own) and set(EmbeddedProvider().schemas()) == {
        t.type_name for t in types.resource_types()
    }


def _an_id(decl: Declaration) -> str:
    """An id of ``decl``'s type, built by ``make_id`` inside its parents' ids."""
    from providers.platform import registry

    if decl.arm_type == registry.GROUP_ARM:
        return decl.make_id("/subscriptions/S", "G")
    parent_arm = decl.arm_type.rsplit("/", 1)[0]
    parent = registry.by_arm_type(parent_arm) if "/" in parent_arm else None
    return decl.make_id(_an_id(parent) if parent else registry.group_id("S", "G"), "n")


def test_ids_are_built_and_recognised_from_the_arm_type():
    from providers.platform import registry

    disk = registry.by_arm_type("Microsoft.Compute/disks")
    assert disk is not None
    assert _an_id(disk) == "/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/disks/n"
    rp = registry.by_arm_type("Microsoft.Compute/restorePointCollections/restorePoints")
    assert rp is not None and _an_id(rp) == (
        "/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/"
        "restorePointCollections/n/restorePoints/n"
    )
    for decl in registry.declarations():
        made = _an_id(decl)
        assert decl.parse(made.upper()) is not None, decl.type_name  # ids compare without case
        assert [d.type_name for d in registry.declarations() if d.parse(made)] == [decl.type_name]


def test_the_typed_id_of_a_type_and_its_parent():
    key = "/subscriptions/S/resourceGroups/G/providers/Microsoft.KeyVault/vaults/v/KEYS/k"
    typed = TypedId.of(key, "Microsoft.KeyVault/vaults/keys")
    assert typed is not None and typed.parent is not None
    assert typed.parent.text == key.rsplit("/", 2)[0]
    assert typed.parent.is_a("Microsoft.KeyVault/vaults") and typed.parent.parent is None
    # a substring is not a type: a vault named "keys" holds no key, nor a VM's child a VM
    vault = "/subscriptions/S/resourceGroups/keys/providers/Microsoft.KeyVault/vaults/keys"
    assert TypedId.of(vault, "Microsoft.KeyVault/vaults/keys") is None
    ext = "/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/virtualMachines/w/x/y"
    assert TypedId.of(ext, "Microsoft.Compute/virtualMachines") is None
    assert TypedId.of(None, "Microsoft.Compute/disks") is None
