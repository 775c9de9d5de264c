"""The dependency graph of a configuration and its state: the only networkx import.

Nodes are ``ResourceAddr``: every resource of the configuration, plus every resource that
the state holds but the configuration no longer declares (an orphan, to be deleted). An
edge ``a -> b`` means ``b`` depends on ``a`` (a reference, a ``depends_on`` or, for orphans,
a dependency stored in state), so ``order()`` is creation order and ``reverse_order()``
deletion order. Built in named steps, as OpenTofu does: add config nodes and reference
edges (``reference_graph``, once per command: it depends on the configuration alone), add
orphans (``Graph.with_orphans``), check for cycles (``cycle_diagnostics``). The graph is
plain dicts, and a topological sort finds that there is no cycle; networkx is imported
only to name the addresses on a cycle when there is one. Always holds: every pass is
linear (or N log N for the sorts) in nodes plus edges; a graph is not changed once built
(``with_orphans`` gives a new one), so its order is computed once; and a cycle is reported
naming every address on it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from engine.dynamic import scoped_exprs
from engine.expr import references
from engine.exprnodes import Expr, Reference
from sdk.addrs import InstanceAddr, ResourceAddr
from sdk.diagnostics import Diagnostics, SourceRange, error

if TYPE_CHECKING:
    from engine.configmodel import Body, Config


class Graph:
    """Resources and the edges between them; see the module docstring for the direction.

    Adjacency is kept as insertion-ordered dicts (``_pred``: what a node depends on,
    ``_succ``: what depends on it), as networkx keeps it, so the cycle report made through
    networkx walks the edges in the order they were added."""

    def __init__(self) -> None:
        self._pred: dict[ResourceAddr, dict[ResourceAddr, None]] = {}
        self._succ: dict[ResourceAddr, dict[ResourceAddr, None]] = {}
        self._order: list[ResourceAddr] | None = None
        self.orphans: set[ResourceAddr] = set()

    def add_node(self, node: ResourceAddr) -> None:
        if node not in self._pred:
            self._pred[node] = {}
            self._succ[node] = {}
            self._order = None

    def add_edge(self, dependency: ResourceAddr, dependent: ResourceAddr) -> None:
        self.add_node(dependency)
        self.add_node(dependent)
        self._pred[dependent][dependency] = None
        self._succ[dependency][dependent] = None
        self._order = None

    def __contains__(self, node: object) -> bool:
        return node in self._pred

    def __len__(self) -> int:
        return len(self._pred)

    def nodes(self) -> list[ResourceAddr]:
        return list(self._pred)

    def dependencies(self, node: ResourceAddr) -> list[ResourceAddr]:
        """Direct dependencies only (what goes into state), sorted."""
        return sorted(self._pred[node])

    def dependents(self, node: ResourceAddr) -> list[ResourceAddr]:
        return sorted(self._succ[node])

    def with_orphans(self, state_records: Iterable[Any]) -> Graph:
        """This graph plus the resources the state holds and the graph does not (orphans),
        each with the edges stored in state from nodes of the graph (it is deleted before
        what it needed); ``self`` when the state adds no orphan."""
        stored: dict[ResourceAddr, set[str]] = {}
        for rec in state_records:
            addr = InstanceAddr.parse(rec.address).resource
            if addr not in self._pred or addr in self.orphans:
                stored.setdefault(addr, set()).update(rec.dependencies)
        if not stored:
            return self
        g = Graph()
        g._pred = {n: dict(p) for n, p in self._pred.items()}
        g._succ = {n: dict(s) for n, s in self._succ.items()}
        g.orphans = set(self.orphans)
        for addr in stored:
            g.add_node(addr)
            g.orphans.add(addr)
        # orphans are sinks to config nodes, so they can add no cycle among them
        for addr, deps in stored.items():
            for text in deps:
                try:
                    dep = InstanceAddr.parse(text).resource
                except ValueError:
                    continue
                if dep in g and dep != addr:
                    g.add_edge(dep, addr)
        return g

    def order(self) -> list[ResourceAddr]:
        """Topological order (dependencies first), ties broken by address; ValueError on a
        graph with a cycle (``cycles`` names it)."""
        order = self._topological()
        if len(order) < len(self._pred):
            raise ValueError("the graph has a cycle; cycles() names it")
        return list(order)

    def _topological(self) -> list[ResourceAddr]:
        """Kahn's algorithm with a heap of ready nodes by address text: the nodes it can
        order (all of them unless there is a cycle), computed once."""
        if self._order is not None:
            return self._order
        waiting = {n: len(p) for n, p in self._pred.items()}
        ready = [(str(n), n) for n, w in waiting.items() if w == 0]
        heapq.heapify(ready)
        order: list[ResourceAddr] = []
        while ready:
            _, n = heapq.heappop(ready)
            order.append(n)
            for m in self._succ[n]:
                waiting[m] -= 1
                if waiting[m] == 0:
                    heapq.heappush(ready, (str(m), m))
        self._order = order
        return order

    def reverse_order(self) -> list[ResourceAddr]:
        """Deletion order: dependents first."""
        return self.order()[::-1]

    def ancestors(self, nodes: Iterable[ResourceAddr]) -> set[ResourceAddr]:
        """The nodes and everything they depend on, transitively."""
        return self._reach(nodes, self._pred)

    def descendants(self, nodes: Iterable[ResourceAddr]) -> set[ResourceAddr]:
        """The nodes and everything that depends on them, transitively."""
        return self._reach(nodes, self._succ)

    def _reach(
        self, nodes: Iterable[ResourceAddr], step: dict[ResourceAddr, dict[ResourceAddr, None]]
    ) -> set[ResourceAddr]:
        seen: set[ResourceAddr] = set()
        stack = [n for n in nodes if n in self._pred]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(step[n])
        return seen

    def cycles(self) -> list[tuple[list[ResourceAddr], set[ResourceAddr]]]:
        """One closed cycle (a..a) per strongly connected loop, with all of the loop's nodes."""
        if len(self._topological()) == len(self._pred):
            return []
        import networkx as nx

        g: Any = nx.DiGraph()
        g.add_nodes_from(self._pred)
        g.add_edges_from((a, b) for b, pred in self._pred.items() for a in pred)
        out: list[tuple[list[ResourceAddr], set[ResourceAddr]]] = []
        for comp in nx.strongly_connected_components(g):
            if len(comp) == 1:
                (n,) = comp
                if g.has_edge(n, n):
                    out.append(([n, n], set(comp)))
                continue
            sub = g.subgraph(comp)
            start = min(comp, key=str)
            edges = nx.find_cycle(sub.reverse(copy=False), source=start)
            cycle = [edges[0][0]] + [v for _, v in edges]
            out.append((cycle, set(comp)))
        return sorted(out, key=lambda c: str(c[0][0]))

    def to_dot(self) -> str:
        """GraphViz text for ``bcdr graph``: an arrow from a resource to what it needs."""
        lines = ["digraph {", "  compound = true", '  rankdir = "RL"']
        for n in sorted(self._pred, key=str):
            style = ', style = "dashed"' if n in self.orphans else ""
            lines.append(f'  "{n}" [label = "{n}"{style}]')
        edges = [(a, b) for b, pred in self._pred.items() for a in pred]
        for a, b in sorted(edges, key=lambda e: (str(e[1]), str(e[0]))):
            lines.append(f'  "{b}" -> "{a}"')
        lines.append("}")
        return "\n".join(lines) + "\n"


def body_exprs(body: Body) -> list[Expr]:
    """Every expression in a body, nested and dynamic blocks included (attributes first,
    in order)."""
    return [expr for expr, _ in scoped_exprs(body)]


def resource_references(resource: Any) -> list[Reference]:
    """Every reference a resource block makes (body, count, for_each, the conditions and
    ``replace_triggered_by`` of its lifecycle): the one decoding
    made (``Resource.references``, from the parse cache), else made now and kept on it."""
    cached = resource.references
    if cached is not None:
        return cached
    refs: list[Reference] = []
    for expr, bound in scoped_exprs(resource.body):  # a dynamic block's iterator is no reference
        refs.extend(references(expr, bound))
    for expr in (resource.count, resource.for_each):
        if expr is not None:
            refs.extend(references(expr))
    for expr in resource.lifecycle.exprs():
        refs.extend(references(expr))
    resource.references = refs
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
    graph, diags = reference_graph(config)
    graph = graph.with_orphans(state_records)
    diags.extend(cycle_diagnostics(graph, config))
    return graph, diags


def reference_graph(config: Config) -> tuple[Graph, Diagnostics]:
    """The configuration's resources and their reference and ``depends_on`` edges, with a
    diagnostic for each reference to an undeclared resource (cycles are not looked for)."""
    g = Graph()
    diags = Diagnostics()
    for addr in config.resources:
        g.add_node(addr)
    pred, succ = g._pred, g._succ  # every node is in: add_edge without its add_node
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
            pred[addr][dep] = None
            succ[dep][addr] = None
    return g, diags


def cycle_diagnostics(graph: Graph, config: Config) -> Diagnostics:
    """One error per loop of the graph, naming every address on it with its file:line."""
    diags = Diagnostics()
    for cycle, loop in graph.cycles():
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
    return diags
