"""companion.viz: the graphs drawn in chapter 2 have the right structure.

The drawings are counted on an Agg figure: one circle per node, one arrow
per edge, the weight named on the edges asked for, and the texts on the
axes are exactly the node names and the edge labels.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from companion import viz  # noqa: E402


@pytest.fixture
def ax():
    fig, axes = plt.subplots()
    yield axes
    plt.close(fig)


def _counts(ax):
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    return len(circles), len(arrows), len(ax.texts)


@pytest.mark.parametrize("T", [1, 2, 5])
def test_unrolled_counts_and_labels(ax, T):
    d = viz.draw_unrolled(ax, T)
    assert len(d.nodes) == 3 * T + 1
    assert len(d.arrows) == len(d.labels) == 3 * T
    assert _counts(ax) == (3 * T + 1, 3 * T, 3 * T + 1 + 3 * T)
    texts = sorted(t.get_text() for t in ax.texts)
    # every weight named once per time step: shared, not T different ones
    for weight in ("$W_e$", "$W_h$", "$W_s$"):
        assert texts.count(weight) == T
    for t in range(1, T + 1):
        for name in (f"$X({t})$", f"$h({t})$", f"$o({t})$"):
            assert texts.count(name) == 1
    assert texts.count("$h(0)$") == 1
    assert d.labels[("h(0)", "h(1)")].get_text() == "$W_h$"
    assert d.labels[(f"h({T})", f"o({T})")].get_text() == "$W_s$"


def test_unrolled_edges_follow_the_recurrence():
    g = viz.unrolled_graph(3)
    assert sorted(g.edges) == sorted(
        [(f"X({t})", f"h({t})", "W_e") for t in (1, 2, 3)]
        + [(f"h({t - 1})", f"h({t})", "W_h") for t in (1, 2, 3)]
        + [(f"h({t})", f"o({t})", "W_s") for t in (1, 2, 3)])
    # time runs left to right, inputs below states below outputs
    xs = [g.nodes[f"h({t})"][0] for t in range(4)]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert g.nodes["X(2)"][1] < g.nodes["h(2)"][1] < g.nodes["o(2)"][1]


def test_folded_has_a_cycle(ax):
    d = viz.draw_folded(ax)
    assert set(d.nodes) == {"X(t)", "h(t)", "o(t)"}
    assert set(d.arrows) == {("X(t)", "h(t)"), ("h(t)", "h(t)"),
                             ("h(t)", "o(t)")}
    assert d.labels[("h(t)", "h(t)")].get_text() == "$W_h$"
    assert _counts(ax) == (3, 3, 6)


@pytest.mark.parametrize("T, L", [(1, 1), (4, 3), (2, 5)])
def test_stacked_counts(ax, T, L):
    d = viz.draw_stacked(ax, T, L)
    assert len(d.nodes) == T * (L + 2) + L
    assert len(d.arrows) == T * (2 * L + 1)
    # "first": each of W_e_l, W_h_l (l = 1..L) and W_s named once
    assert len(d.labels) == 2 * L + 1
    assert _counts(ax) == (len(d.nodes), len(d.arrows),
                           len(d.nodes) + 2 * L + 1)
    path = viz.shortest_path(viz.stacked_graph(T, L), "X(1)", f"o({T})")
    assert len(path) - 1 == T + L


def test_stacked_layer_inputs():
    g = viz.stacked_graph(2, 3)
    assert ("h_1(2)", "h_2(2)", "W_e_2") in g.edges  # same step, below
    assert ("h_3(1)", "h_3(2)", "W_h_3") in g.edges  # same layer, before
    assert ("h_3(2)", "o(2)", "W_s") in g.edges      # output: top layer
    assert not [e for e in g.edges if e[0] == "X(1)" and e[1] != "h_1(1)"]
    assert viz.math_label("W_e_2") == "$W_{e,2}$"


@pytest.mark.parametrize("mode, count", [("all", 12), ("none", 0)])
def test_edge_label_modes(ax, mode, count):
    d = viz.draw_unrolled(ax, 4, edge_labels=mode)
    assert len(d.labels) == count
    assert len(ax.texts) == 13 + count


def test_bad_arguments(ax):
    with pytest.raises(ValueError, match="T must be a positive int"):
        viz.stacked_graph(0)
    with pytest.raises(ValueError, match="L must be a positive int"):
        viz.stacked_graph(3, 2.0)
    with pytest.raises(ValueError, match="edge_labels"):
        viz.draw_unrolled(ax, 2, edge_labels="some")
    with pytest.raises(ValueError, match="no path"):
        viz.shortest_path(viz.unrolled_graph(3), "o(3)", "X(1)")
    with pytest.raises(ValueError, match="no node 'h\\(9\\)'"):
        viz.shortest_path(viz.unrolled_graph(3), "X(1)", "h(9)")
