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
