"""Figures of the book drawn from code: the graphs of an RNN (chapter 2).

The folded graph of the Elman network has three nodes and a cycle,

    X(t) --W_e--> h(t) --W_s--> o(t),      h(t-1) --W_h--> h(t),

and unrolling it over T steps gives an acyclic graph with one copy of the
step per time step: nodes h(0), X(t), h(t), o(t) for t = 1..T, and the
edges X(t) -> h(t) (W_e), h(t-1) -> h(t) (W_h), h(t) -> o(t) (W_s), the
same three matrices at every t. A stack of L layers,

    h_l(t) = f_h(W_e_l h_{l-1}(t) + W_h_l h_l(t-1) + b_e_l),  h_0(t) = X(t),

unrolls into a grid of L x T hidden nodes with T (L + 2) + L nodes and
T (2L + 1) edges; the shortest path from X(1) to o(T) has T + L edges.

The structure of a graph (:func:`stacked_graph`, :func:`folded_graph`) is
plain Python, so that it can be counted and searched without drawing; the
``draw_*`` functions draw it on a matplotlib axes with patches and arrows
and return what they drew. matplotlib is imported inside the functions
that draw (nothing happens at import), and only host data is used.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

COLORS = {"input": "#cfe2f3", "hidden": "#fce5cd", "initial": "#e0e0e0",
          "output": "#d9ead3"}


class Graph(NamedTuple):
    """A computational graph: where each node sits, and labelled edges.

    Attributes:
        nodes: name -> (x, y, kind), kind in ``COLORS`` or ``"initial"``.
        edges: (source, target, weight name), e.g. ("h(0)", "h(1)",
            "W_h"); a self-loop has source == target.
    """

    nodes: dict[str, tuple[float, float, str]]
    edges: list[tuple[str, str, str]]


class Drawing(NamedTuple):
    """What a ``draw_*`` function added to the axes.

    Attributes:
        nodes: node name -> its circle patch.
        arrows: (source, target) -> its arrow patch.
        labels: (source, target) -> the text naming the edge's weight
            (only the edges that got a label).
    """

    nodes: dict[str, Any]
    arrows: dict[tuple[str, str], Any]
    labels: dict[tuple[str, str], Any]


def _check_size(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def stacked_graph(T: int, L: int = 1, dx: float = 2.0,
                  dy: float = 1.6) -> Graph:
    """The unrolled graph of L stacked Elman layers over T steps.

    Node names: X(t), h_l(t) for l = 1..L and t = 0..T, o(t); with L = 1
    the hidden nodes are h(t) and the weights W_e, W_h, W_s, otherwise
    W_e_l, W_h_l (as the keys of ``rnn.init_stack``). Time runs along x
    (column t at x = t dx), layers along y (row l at y = l dy).

    Returns:
        Graph with T (L + 2) + L nodes and T (2L + 1) edges.
    """
    _check_size(T, "T")
    _check_size(L, "L")

    def h(layer, t):
        return f"h({t})" if L == 1 else f"h_{layer}({t})"

    def w(kind, layer):
        return f"W_{kind}" if L == 1 else f"W_{kind}_{layer}"

    nodes, edges = {}, []
    for layer in range(1, L + 1):
        nodes[h(layer, 0)] = (0.0, layer * dy, "initial")
    for t in range(1, T + 1):
        nodes[f"X({t})"] = (t * dx, 0.0, "input")
        for layer in range(1, L + 1):
            nodes[h(layer, t)] = (t * dx, layer * dy, "hidden")
        nodes[f"o({t})"] = (t * dx, (L + 1) * dy, "output")
        below = f"X({t})"
        for layer in range(1, L + 1):
            edges.append((below, h(layer, t), w("e", layer)))
            edges.append((h(layer, t - 1), h(layer, t), w("h", layer)))
            below = h(layer, t)
        edges.append((below, f"o({t})", "W_s"))
    return Graph(nodes, edges)


def unrolled_graph(T: int) -> Graph:
    """The unrolled graph of one Elman layer: 3T + 1 nodes, 3T edges."""
    return stacked_graph(T, 1)


def folded_graph(dy: float = 1.6) -> Graph:
    """The folded graph: X(t), h(t), o(t) and the cycle h(t) -> h(t)."""
    nodes = {"X(t)": (0.0, 0.0, "input"), "h(t)": (0.0, dy, "hidden"),
             "o(t)": (0.0, 2 * dy, "output")}
    edges = [("X(t)", "h(t)", "W_e"), ("h(t)", "h(t)", "W_h"),
             ("h(t)", "o(t)", "W_s")]
    return Graph(nodes, edges)


def shortest_path(graph: Graph, source: str, target: str) -> list[str]:
    """The nodes of a shortest directed path (breadth-first search).

    Its number of edges is ``len(path) - 1``; ValueError if none exists.
    """
    for name in (source, target):
        if name not in graph.nodes:
            raise ValueError(f"no node {name!r} in the graph")
    after: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b, _ in graph.edges:
        after[a].append(b)
    parent: dict[str, str | None] = {source: None}
    queue = deque([source])
    while queue:
        node = queue.popleft()
        for nxt in after[node]:
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    if target not in parent:
        raise ValueError(f"no path from {source!r} to {target!r}")
    path = [target]
    while parent[path[-1]] is not None:
        path.append(parent[path[-1]])
    return path[::-1]


def math_label(name: str) -> str:
    """Mathtext of a node or weight name: "W_e_2" -> "$W_{e,2}$"."""
    parts = name.split("_")
    if len(parts) == 3 and parts[0] == "W":
        return f"$W_{{{parts[1]},{parts[2]}}}$"
    return f"${name}$"


def draw_graph(ax, graph: Graph, radius: float = 0.42,
               edge_labels: str = "all", fontsize: float = 10) -> Drawing:
    """Draw ``graph`` on ``ax``: a circle per node, an arrow per edge.

    Args:
        ax: a matplotlib Axes (its aspect is set equal, its frame off).
        graph: from :func:`stacked_graph` or :func:`folded_graph`.
        radius: radius of a node, in data units.
        edge_labels: ``"all"`` names the weight on every edge (the same
            name recurs: the weights are shared), ``"first"`` only on the
            first edge of each weight, ``"none"`` on no edge.

    Returns:
        Drawing: the patches and texts added, by node and by edge.
    """
    from matplotlib.patches import Circle, FancyArrowPatch

    if edge_labels not in ("all", "first", "none"):
        raise ValueError("edge_labels must be 'all', 'first' or 'none', "
                         f"got {edge_labels!r}")
    nodes, arrows, labels, seen = {}, {}, {}, set()
    for name, (x, y, kind) in graph.nodes.items():
        circle = Circle((x, y), radius, facecolor=COLORS[kind],
                        edgecolor="black", linewidth=1.0, zorder=2)
        ax.add_patch(circle)
        nodes[name] = circle
        ax.text(x, y, math_label(name), ha="center", va="center",
                fontsize=fontsize, zorder=3)
    for a, b, weight in graph.edges:
        (xa, ya, _), (xb, yb, _) = graph.nodes[a], graph.nodes[b]
        if a == b:  # the cycle of the folded graph, on the right
            start, end = (xa + 0.7 * radius, ya - 0.7 * radius), \
                (xa + 0.7 * radius, ya + 0.7 * radius)
            style, spot = "arc3,rad=1.9", (xa + 2.1 * radius, ya)
        else:
            length = ((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5
            ux, uy = (xb - xa) / length, (yb - ya) / length
            start = (xa + radius * ux, ya + radius * uy)
            end = (xb - radius * ux, yb - radius * uy)
            style = "arc3,rad=0"
            spot = ((xa + xb) / 2 + 0.08 * abs(uy),
                    (ya + yb) / 2 + 0.08 * abs(ux))
        arrow = FancyArrowPatch(start, end, connectionstyle=style,
                                arrowstyle="-|>", mutation_scale=12,
                                linewidth=1.0, color="black",
                                shrinkA=0, shrinkB=0, zorder=1)
        ax.add_patch(arrow)
        arrows[(a, b)] = arrow
        if edge_labels == "all" or (edge_labels == "first"
                                    and weight not in seen):
            horizontal = abs(yb - ya) < 1e-9 and a != b
            labels[(a, b)] = ax.text(
                *spot, math_label(weight), fontsize=0.85 * fontsize,
                ha="center" if horizontal else "left",
                va="bottom" if horizontal else "center", zorder=3)
        seen.add(weight)
    xs = [x for x, _, _ in graph.nodes.values()]
    ys = [y for _, y, _ in graph.nodes.values()]
    pad = 2.5 * radius
    ax.set_xlim(min(xs) - pad, max(xs) + pad + radius)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    ax.set_aspect("equal")
    ax.axis("off")
    return Drawing(nodes, arrows, labels)


def draw_unrolled(ax, T: int, edge_labels: str = "all",
                  **kwargs) -> Drawing:
    """Draw the Elman network unrolled over T steps (3T + 1 nodes, 3T
    arrows, every arrow named by its weight W_e, W_h or W_s)."""
    return draw_graph(ax, unrolled_graph(T), edge_labels=edge_labels,
                      **kwargs)


def draw_folded(ax, **kwargs) -> Drawing:
    """Draw the folded Elman network: 3 nodes, 3 arrows, one a cycle."""
    return draw_graph(ax, folded_graph(), **kwargs)


def draw_stacked(ax, T: int, L: int, edge_labels: str = "first",
                 **kwargs) -> Drawing:
    """Draw L stacked layers unrolled over T steps: T (L + 2) + L nodes,
    T (2L + 1) arrows; by default each weight is named once."""
    return draw_graph(ax, stacked_graph(T, L), edge_labels=edge_labels,
                      **kwargs)
