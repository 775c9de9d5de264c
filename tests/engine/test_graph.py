"""Graph tests: edges from references, locals and depends_on; orphans; cycles; scale."""

from __future__ import annotations

import time
from pathlib import Path

from engine.config import load_config
from engine.configmodel import Body, BodyAttribute, Config, Lifecycle, Resource
from engine.exprrefs import GetAttr, Name
from engine.graph import build_graph
from sdk.addrs import ResourceAddr
from sdk.diagnostics import SourceRange
from state import InstanceRecord


def _config(tmp_path: Path, text: str):
    (tmp_path / "main.hcl").write_text(text)
    cfg, diags = load_config(tmp_path, cache=False)
    assert not diags.has_errors, [d.summary for d in diags]
    return cfg


def A(text: str) -> ResourceAddr:
    return ResourceAddr.parse(text)


def test_edges_from_references_locals_and_depends_on(tmp_path):
    cfg = _config(
        tmp_path,
        """
locals {
  via = bcdr_data.a.output
}
resource "bcdr_data" "a" {
}
resource "bcdr_data" "b" {
  input = local.via
}
resource "bcdr_data" "c" {
  input      = [bcdr_data.b.id]
  depends_on = [bcdr_data.a]
}
""",
    )
    g, diags = build_graph(cfg, [])
    assert not diags
    assert g.dependencies(A("bcdr_data.b")) == [A("bcdr_data.a")]
    assert g.dependencies(A("bcdr_data.c")) == [A("bcdr_data.a"), A("bcdr_data.b")]
    assert g.order() == [A("bcdr_data.a"), A("bcdr_data.b"), A("bcdr_data.c")]
    assert g.reverse_order() == g.order()[::-1]
    dot = g.to_dot()
    assert dot.startswith("digraph {") and '"bcdr_data.c" -> "bcdr_data.b"' in dot


def test_orphans_from_state_are_ordered_by_stored_dependencies(tmp_path):
    cfg = _config(tmp_path, 'resource "bcdr_data" "keep" {\n}\n')

    def rec(addr: str, deps: list[str]) -> InstanceRecord:
        t, n = addr.split(".")
        return InstanceRecord(addr, t, n, None, "builtin", "x", {}, dependencies=deps)

    records = [rec("bcdr_data.old1", ["bcdr_data.keep"]), rec("bcdr_data.old2", ["bcdr_data.old1"])]
    g, diags = build_graph(cfg, records)
    assert not diags
    assert g.orphans == {A("bcdr_data.old1"), A("bcdr_data.old2")}
    rev = g.reverse_order()
    assert rev.index(A("bcdr_data.old2")) < rev.index(A("bcdr_data.old1"))
    assert rev.index(A("bcdr_data.old1")) < rev.index(A("bcdr_data.keep"))


def test_cycle_names_every_address_with_file_line(tmp_path):
    cfg = _config(
        tmp_path,
        """
resource "bcdr_data" "a" {
  input = bcdr_data.b.id
}
resource "bcdr_data" "b" {
  depends_on = [bcdr_data.a]
}
resource "bcdr_data" "self" {
  input = bcdr_data.self.id
}
""",
    )
    _, diags = build_graph(cfg, [])
    summaries = sorted(d.summary for d in diags)
    assert summaries == [
        "Cycle: bcdr_data.a -> bcdr_data.b -> bcdr_data.a",
        "Cycle: bcdr_data.self -> bcdr_data.self",
    ]
    first = next(d for d in diags if "bcdr_data.a ->" in d.summary)
    assert "bcdr_data.a at main.hcl:2" in first.detail
    assert "bcdr_data.b at main.hcl:5" in first.detail


def test_undeclared_resource_reference(tmp_path):
    cfg = _config(tmp_path, 'resource "bcdr_data" "a" {\n  input = bcdr_data.nope.id\n}\n')
    _, diags = build_graph(cfg, [])
    (d,) = diags
    assert d.summary == 'Reference to undeclared resource "bcdr_data.nope"'
    assert str(d.range) == "main.hcl:2"


def _chain_config(tmp_path: Path, n: int) -> Config:
    """A config of n resources, each referring to another, built without parsing."""
    resources = {}
    for i in range(n):
        rng = SourceRange("main.hcl", 3 * i + 1)
        attrs = {}
        if i:
            ref = GetAttr(GetAttr(Name("bcdr_data", rng), f"r{i // 2}", rng), "id", rng)
            attrs["input"] = BodyAttribute("input", ref, rng)
        addr = ResourceAddr("bcdr_data", f"r{i}")
        resources[addr] = Resource(addr, Body(attrs, [], rng), None, None, [], Lifecycle(), rng)
    return Config(tmp_path, ["main.hcl"], {}, {}, {}, resources, {})


def test_ten_thousand_nodes_build_and_order(tmp_path):
    """A 10,000-node graph in one pass (its time is printed; the speed goal is in bench/)."""
    n = 10_000
    cfg = _chain_config(tmp_path, n)
    started = time.perf_counter()
    g, diags = build_graph(cfg, [])
    order = g.order()
    elapsed = time.perf_counter() - started
    print(f"build_graph + order of {n} nodes: {elapsed:.3f}s")
    assert not diags and len(order) == n
    assert g.dependencies(ResourceAddr("bcdr_data", "r9999")) == [
        ResourceAddr("bcdr_data", "r4999")
    ]


def test_loop_with_two_cycles_names_the_rest(tmp_path):
    cfg = _config(
        tmp_path,
        """
resource "bcdr_data" "a" {
  input = [bcdr_data.b.id, bcdr_data.c.id]
}
resource "bcdr_data" "b" {
  input = bcdr_data.a.id
}
resource "bcdr_data" "c" {
  input = bcdr_data.a.id
}
""",
    )
    _, diags = build_graph(cfg, [])
    (d,) = diags
    assert d.summary in (
        "Cycle: bcdr_data.a -> bcdr_data.b -> bcdr_data.a",
        "Cycle: bcdr_data.a -> bcdr_data.c -> bcdr_data.a",
    )
    assert "also in this loop: bcdr_data." in d.detail
