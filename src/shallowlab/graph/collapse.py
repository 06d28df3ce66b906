"""A graph too large to read, drawn with each module as one box.

Each operation knows the module it ran in (:class:`~shallowlab.graph.trace.Node.module`, a
path such as ``("encoder", "1")``). Collapsing at depth ``d`` replaces every operation whose
path has at least ``d`` parts by one box per ``path[:d]``, and a leaf by its module's box when
every operation it feeds is in that box. The deepest ``d`` that brings the graph within the
limit is taken, so as much stays visible as fits.
"""

from __future__ import annotations

from shallowlab.graph.trace import Graph, Node


def _shape(shape) -> str:
    return "\u00d7".join(map(str, shape)) if shape else "scalar"


def _grouped(graph: Graph, depth: int) -> tuple[Graph, list[str]]:
    group = {k: n.module[:depth] for k, n in graph.nodes.items()
             if n.kind == "op" and len(n.module) >= depth}
    feeds: dict[str, set] = {}
    for a, b in graph.edges:
        feeds.setdefault(a, set()).add(group.get(b))
    for k, n in graph.nodes.items():
        if n.kind == "leaf" and len(feeds.get(k, ())) == 1 and None not in feeds[k]:
            group[k] = next(iter(feeds[k]))
    members: dict[tuple, list[Node]] = {}
    for k, path in group.items():
        members.setdefault(path, []).append(graph.nodes[k])
    nodes = {k: n for k, n in graph.nodes.items() if k not in group}
    where = {k: "m" + ".".join(path) for k, path in group.items()}
    said = []
    for path, inside in reversed(members.items()):  # the walk went backwards: inputs first
        box = _box(graph, path, inside, where)
        nodes[box.key] = box
        leaves = [n.title for n in inside if n.kind == "leaf"]
        said.append(f"{'.'.join(path)} ({box.title.split(' ')[0]}: {box.extra.split(';')[0]}"
                    + (f", parameters {', '.join(leaves)}" if leaves else "") + ")")
    edges = list(dict.fromkeys((where.get(a, a), where.get(b, b)) for a, b in graph.edges))
    edges = [(a, b) for a, b in edges if a != b]
    return Graph(nodes, edges, graph.kinds, list(graph.notes)), said


def _box(graph: Graph, path: tuple, inside: list[Node], where: dict) -> Node:
    """One module's box, showing what leaves it: the value and gradient of its output."""
    keys = {n.key for n in inside}
    outs = [n for n in inside if n.kind == "op" and any(
        a == n.key and b not in keys for a, b in graph.edges)]
    last = outs[0] if outs else next(n for n in inside if n.kind == "op")
    kind = graph.kinds.get(path, "module")
    leaves = [f"{n.title.split('.')[-1]} {_shape(n.shape)}" for n in inside if n.kind == "leaf"]
    ops = sum(n.kind == "op" for n in inside)
    extra = f"{ops} operation{'s' * (ops != 1)}" + (
        "; " + ", ".join(leaves) if leaves else "")
    return Node(where[inside[0].key], "module", f"{kind} '{'.'.join(path)}'", last.shape,
                last.value, last.grad, extra=extra, module=path,
                result=any(n.result for n in inside))


def collapse(graph: Graph, max_nodes: int) -> Graph:
    """``graph`` itself if it has at most ``max_nodes`` boxes, else the deepest collapse by
    module that fits (or the coarsest there is), with a note saying what was collapsed."""
    if len(graph.nodes) <= max_nodes:
        return graph
    deepest = max((len(n.module) for n in graph.nodes.values()), default=0)
    if deepest == 0:
        graph.notes.append(f"{len(graph.nodes)} nodes, more than {max_nodes}, and no module "
                           "to collapse them by: pass the model as names= (or compute inside "
                           "record()) to have each module drawn as one box")
        return graph
    for depth in range(deepest, 0, -1):
        small, said = _grouped(graph, depth)
        if len(small.nodes) <= max_nodes or depth == 1:
            small.notes.insert(0, f"collapsed by module, {len(graph.nodes)} nodes drawn as "
                               f"{len(small.nodes)}: " + "; ".join(said))
            return small
    raise AssertionError("unreachable")
