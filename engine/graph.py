"""The dependency graph of a configuration and its state: the only networkx import.

Nodes are ``ResourceAddr``: every resource of the configuration, plus every resource that
the state holds but the configuration no longer declares (an orphan, to be deleted). An
edge ``a -> b`` means ``b`` depends on ``a`` (a reference, a ``depends_on`` or, for orphans,
a dependency stored in state), so ``order()`` is creation order and ``reverse_order()``
deletion order. Built in named steps, as OpenTofu does: add config nodes, add orphans, add
reference edges, check for cycles. Always holds: every pass is linear (or N log N for the
sorts) in nodes plus edges, and a cycle is reported naming every address on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import networkx as nx

from engine.expr import Expr, Reference, references
from sdk.addrs import InstanceAddr, ResourceAddr
from sdk.diagnostics import Diagnostics, SourceRange, error

if TYPE_CHECKING:
    from engine.config import Body, Config


class Graph:
    """Resources and the edges between them; see the module docstring for the direction."""

    def __init__(self) -> None:
        self._g: Any = nx.DiGraph()
        self.orphans: set[ResourceAddr] = set()

    def add_node(self, node: ResourceAddr) -> None:
        self._g.add_node(node)

    def add_edge(self, dependency: ResourceAddr, dependent: ResourceAddr) -> None:
        self._g.add_edge(dependency, dependent)

    def __contains__(self, node: object) -> bool:
        return node in self._g

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    def nodes(self) -> list[ResourceAddr]:
        return list(self._g.nodes)

    def dependencies(self, node: ResourceAddr) -> list[ResourceAddr]:
        """Direct dependencies only (what goes into state), sorted."""
        return sorted(self._g.predecessors(node))

    def dependents(self, node: ResourceAddr) -> list[ResourceAddr]:
        return sorted(self._g.successors(node))

    def order(self) -> list[ResourceAddr]:
        """Topological order (dependencies first), ties broken by address."""
        return list(nx.lexicographical_topological_sort(self._g, key=str))

    def reverse_order(self) -> list[ResourceAddr]:
        """Deletion order: dependents first."""
        return self.order()[::-1]

    def ancestors(self, nodes: Iterable[ResourceAddr]) -> set[ResourceAddr]:
        """The nodes and everything they depend on, transitively."""
        return self._reach(nodes, self._g.predecessors)

    def descendants(self, nodes: Iterable[ResourceAddr]) -> set[ResourceAddr]:
        """The nodes and everything that depends on them, transitively."""
        return self._reach(nodes, self._g.successors)

    def _reach(
        self, nodes: Iterable[ResourceAddr], step: Callable[[ResourceAddr], Iterable[ResourceAddr]]
    ) -> set[ResourceAddr]:
        seen: set[ResourceAddr] = set()
        stack = [n for n in nodes if n in self._g]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(step(n))
        return seen

    def cycles(self) -> list[tuple[list[ResourceAddr], set[ResourceAddr]]]:
        """One closed cycle (a..a) per strongly connected loop, with all of the loop's nodes."""
        out: list[tuple[list[ResourceAddr], set[ResourceAddr]]] = []
        for comp in nx.strongly_connected_components(self._g):
            if len(comp) == 1:
                (n,) = comp
                if self._g.has_edge(n, n):
                    out.append(([n, n], set(comp)))
                continue
            sub = self._g.subgraph(comp)
            start = min(comp, key=str)
            edges = nx.find_cycle(sub.reverse(copy=False), source=start)
            cycle = [edges[0][0]] + [v for _, v in edges]
            out.append((cycle, set(comp)))
        return sorted(out, key=lambda c: str(c[0][0]))

    def to_dot(self) -> str:
        """GraphViz text for ``bcdr graph``: an arrow from a resource to what it needs."""
        lines = ["digraph {", "  compound = true", '  rankdir = "RL"']
        for n in sorted(self._g.nodes, key=str):
            style = ', style = "dashed"' if n in self.orphans else ""
            lines.append(f'  "{n}" [label = "{n}"{style}]')
        for a, b in sorted(self._g.edges, key=lambda e: (str(e[1]), str(e[0]))):
            lines.append(f'  "{b}" -> "{a}"')
        lines.append("}")
        return "\n".join(lines) + "\n"


def body_exprs(body: Body) -> Iterable[Expr]:
    """Every expression in a body, nested blocks included."""
    for attr in body.attributes.values():
        yield attr.expr
    for block in body.blocks:
        yield from body_exprs(block.body)


def resource_references(resource: Any) -> list[Reference]:
    """Every reference a resource block makes (body, count, for_each), cached on it."""
    cached = getattr(resource, "_bcdr_refs", None)
    if cached is not None:
        return cached
    refs: list[Reference] = []
    for expr in body_exprs(resource.body):
        refs.extend(references(expr))
    for expr in (resource.count, resource.for_each):
        if expr is not None:
            refs.extend(references(expr))
    try:
        resource._bcdr_refs = refs
    except AttributeError:  # a frozen or slotted object: no cache
        pass
    return refs


class LocalIndex:
    """What each local value needs, transitively: resources and variables (memoised)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._resources: dict[str, frozenset[ResourceAddr]] = {}
        self._vars: dict[str, frozenset[str]] = {}
        self._busy: set[str] = set()

    def resources(self, name: str) -> frozenset[ResourceAddr]:
        self._resolve(name)
        return self._resources.get(name, frozenset())

    def variables(self, name: str) -> frozenset[str]:
        self._resolve(name)
        return self._vars.get(name, frozenset())

    def _resolve(self, name: str) -> None:
        if name in self._resources or name in self._busy:
            return
        local = self._config.locals.get(name)
        if local is None:
            return
        self._busy.add(name)
        res: set[ResourceAddr] = set()
        var: set[str] = set()
        for ref in references(local.expr):
            if ref.kind == "resource":
                res.add(ref.subject)  # type: ignore[arg-type]
            elif ref.kind == "var":
                var.add(str(ref.subject))
            elif ref.kind == "local":
                sub = str(ref.subject)
                res |= self.resources(sub)
                var |= self.variables(sub)
        self._busy.discard(name)
        self._resources[name] = frozenset(res)
        self._vars[name] = frozenset(var)


def resource_dependencies(
    resource: Any, locals_index: LocalIndex
) -> list[tuple[ResourceAddr, SourceRange]]:
    """Direct resource dependencies of one resource, with where each is made."""
    out: list[tuple[ResourceAddr, SourceRange]] = []
    for ref in resource_references(resource):
        if ref.kind == "resource":
            out.append((ref.subject, ref.range))  # type: ignore[arg-type]
        elif ref.kind == "local":
            for addr in locals_index.resources(str(ref.subject)):
                out.append((addr, ref.range))
    out.extend(resource.depends_on)
    return out


def build_graph(config: Config, state_records: list[Any]) -> tuple[Graph, Diagnostics]:
    """Graph of config resources plus orphans from state; diagnostics for bad refs and cycles."""
    g = Graph()
    diags = Diagnostics()
    # step 1: config nodes
    for addr in config.resources:
        g.add_node(addr)
    # step 2: orphans from state, with the dependencies stored there
    stored: dict[ResourceAddr, set[str]] = {}
    for rec in state_records:
        addr = InstanceAddr.parse(rec.address).resource
        stored.setdefault(addr, set()).update(rec.dependencies)
        if addr not in config.resources:
            g.add_node(addr)
            g.orphans.add(addr)
    # step 3: reference and depends_on edges
    locals_index = LocalIndex(config)
    for addr, resource in config.resources.items():
        for dep, rng in resource_dependencies(resource, locals_index):
            if dep not in config.resources:
                diags.append(
                    error(
                        f'Reference to undeclared resource "{dep}"',
                        f"{rng}: {addr} refers to {dep}, which no resource block declares; "
                        f'declare it with resource "{dep.type}" "{dep.name}" {{ ... }} '
                        "or fix the reference",
                        rng,
                        address=str(addr),
                    )
                )
                continue
            g.add_edge(dep, addr)
    # step 4: an orphan keeps the edges stored in state (it is deleted before what it
    # needed); orphans are sinks to config nodes, so they can add no cycle among them
    for addr, deps in stored.items():
        for text in deps:
            try:
                dep = InstanceAddr.parse(text).resource
            except ValueError:
                continue
            if dep in g and addr in g.orphans and dep != addr:
                g.add_edge(dep, addr)
    # step 5: cycles
    for cycle, loop in g.cycles():
        path = " -> ".join(str(a) for a in cycle)
        where = "\n".join(
            f"  {a} at {config.resources[a].range}" for a in cycle[:-1] if a in config.resources
        )
        others = sorted(str(a) for a in loop - set(cycle))
        if others:
            where += f"\n  (also in this loop: {', '.join(others)})"
        first = config.resources.get(cycle[0])
        diags.append(
            error(
                f"Cycle: {path}",
                f"these resources depend on each other:\n{where}\n"
                "break the cycle by removing one of the references or depends_on entries",
                first.range if first else None,
                address=str(cycle[0]),
            )
        )
    return g, diags
