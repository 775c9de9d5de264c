"""Issue 10.10: a second subscription a user can make (``bcdr platform subscription create``),
list, see in ``whoami``'s tenant view, and then use in a spec, through the real CLI."""

from __future__ import annotations

import json
import re
import uuid

from tests.providers.conftest import Workspace

GROUP = """
resource "resource_group" "dr" {
  name         = "dr"
  location     = "westus"
  subscription = "SUB"
}
"""


def test_a_second_subscription_is_created_listed_and_used_by_a_spec(ws: Workspace) -> None:
    wanted = "5e1ec7ed-0000-4000-8000-00000000abcd"
    ws.write(GROUP.replace("SUB", wanted))
    ws.ok("init")
    refused = ws.run("plan", "-no-color")  # what a user meets first, and what to do
    assert refused.exit_code == 1
    assert f"add it first (bcdr platform subscription create --id {wanted})" in refused.output

    made = ws.ok("platform", "subscription", "create", "--id", wanted, "--name", "dr", "-no-color")
    with ws.fabric() as fab:
        tenant, default = fab.tenant_id, fab.default_subscription
    assert made.strip() == f"Created subscription {wanted} (dr) in tenant {tenant}."
    fresh = ws.ok("platform", "subscription", "create", "-no-color")
    new_id = re.search(r"Created subscription (\S+) in tenant", fresh).group(1)
    assert str(uuid.UUID(new_id)) == new_id  # a uuid is made up when none is given

    listed = ws.ok("platform", "subscription", "list", "-no-color").splitlines()
    assert [line.split()[0] for line in listed[:3]] == [default, wanted, new_id]
    assert listed[0].endswith("(default)") and listed[1].split()[1] == "dr"
    assert listed[3] == "3 subscriptions."
    as_json = json.loads(ws.ok("platform", "subscription", "list", "-json"))
    assert [(s["id"], s["name"], s["is_default"]) for s in as_json] == [
        (default, "default", True),
        (wanted, "dr", False),
        (new_id, None, False),
    ]

    me = ws.ok("platform", "whoami", "-no-color")
    assert f"Tenant {tenant}: 3 subscriptions" in me
    assert all(s in me for s in (default, wanted, new_id))
    assert len(json.loads(ws.ok("platform", "whoami", "-json"))["subscriptions"]) == 3

    ws.apply()  # the spec's group lands in the new subscription
    assert ws.state("resource_group.dr")["id"] == f"/subscriptions/{wanted}/resourceGroups/dr"
    ws.plan_is_clean()


def test_a_duplicate_or_malformed_subscription_id_is_refused_clearly(ws: Workspace) -> None:
    ws.write(GROUP.replace("SUB", "x"))
    with ws.fabric() as fab:
        default = fab.default_subscription
    for args, said in (
        (("--id", default), f"subscription {default} exists already in this fabric"),
        (("--id", "not-a-uuid"), "subscription id 'not-a-uuid' is not a uuid"),
        (("--name", "a/b"), "subscription name 'a/b' is not allowed"),
    ):
        result = ws.run("platform", "subscription", "create", *args, "-no-color")
        assert result.exit_code == 1, result.output
        assert said in result.output
        assert "Traceback" not in result.output
    listed = ws.ok("platform", "subscription", "list", "-no-color")
    assert listed.splitlines()[-1] == "1 subscription."
