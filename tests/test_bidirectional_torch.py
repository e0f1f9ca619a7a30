"""companion.bidirectional against torch's ``bidirectional=True`` (ch. 11).

PyTorch is an oracle, not a dependency. ``fixtures/bidirectional_torch.npz``
holds float64 cases computed by ``fixtures/make_bidirectional_fixtures.py``
from ``torch.nn.RNN``, ``torch.nn.LSTM`` and ``torch.nn.GRU`` with
``bidirectional=True`` and a ``torch.nn.Linear(2H, K)``; these tests need
only NumPy. Torch's ``<name>_l0`` parameters are the course's ``fwd.*``,
its ``<name>_l0_reverse`` the ``bwd.*``, mapped gate by gate:

* RNN: W_e = weight_ih, W_h = weight_hh, b_e = bias_ih + bias_hh;
* LSTM (torch's rows i, f, g, o): W_i, W_f, W_c, W_o from weight_ih, the
  U_* likewise from weight_hh, b_* the sums of both biases' rows;
* GRU (rows r, z, n; the course's "pytorch" convention): W_r, W_z, W_h,
  U_* likewise, b_r and b_z the sums, b_in and b_hn torch's n rows.

A summed bias receives the same gradient as each of its two halves.
Where torch is importable, fresh configurations are compared live and
the committed file is checked against the generator.
"""

import json

import numpy as np
import pytest

from companion import backend as B
from companion import bidirectional, gru, lstm, rnn

import torch_fixtures
from torch_fixtures import (FIXTURES, assert_same_fixture, case_arrays,
                            cases, load_fixtures, max_relative_error)

NPZ = FIXTURES / "bidirectional_torch.npz"
RTOL = 1e-10
MAX_BYTES = 150_000
MODELS = {"rnn": rnn, "lstm": lstm, "gru": gru}
# course gate -> row block of torch's stacked weights
ROWS = {"rnn": {"e": 0},
        "lstm": {"i": 0, "f": 1, "c": 2, "o": 3},
        "gru": {"r": 0, "z": 1, "h": 2}}

FIXTURE = load_fixtures(NPZ)
CASES = cases(FIXTURE)


def _block(a, k: int, H: int):
    return a[k * H:(k + 1) * H, ...]


def course_direction(get, cell: str, H: int, sfx: str, grads=False):
    """One direction's course params (or grads) from torch's arrays
    ``get(name)``; sfx is "" or "_reverse"."""
    w_ih, w_hh = get(f"weight_ih_l0{sfx}"), get(f"weight_hh_l0{sfx}")
    b_ih, b_hh = get(f"bias_ih_l0{sfx}"), get(f"bias_hh_l0{sfx}")
    out = {}
    for gate, k in ROWS[cell].items():
        W, U = ("W_e", "W_h") if cell == "rnn" else (f"W_{gate}",
                                                      f"U_{gate}")
        out[W], out[U] = _block(w_ih, k, H), _block(w_hh, k, H)
        bias = "b_e" if cell == "rnn" else f"b_{gate}"
        if cell == "gru" and gate == "h":
            out["b_in"], out["b_hn"] = _block(b_ih, k, H), _block(b_hh, k, H)
        elif grads:
            # both halves of a summed bias receive its gradient
            np.testing.assert_allclose(_block(b_ih, k, H),
                                       _block(b_hh, k, H), rtol=1e-12,
                                       atol=1e-15)
            out[bias] = _block(b_ih, k, H)
        else:
            out[bias] = _block(b_ih, k, H) + _block(b_hh, k, H)
    return out


def course(case, config, grads=False) -> dict[str, np.ndarray]:
    """All the course's params (or torch's grads) of a case by key."""
    prefix = "grad/" if grads else ""

    def get(name):
        return case[prefix + name]

    out = {}
    for name, sfx in (("fwd", ""), ("bwd", "_reverse")):
        part = course_direction(get, config["cell"], config["H"], sfx,
                                grads)
        out.update({f"{name}.{k}": v for k, v in part.items()})
    out["W_s"], out["b_s"] = get("linear.weight"), get("linear.bias")
    return out


def initial_states(case, cell: str, which: str = ""):
    """bidirectional.States from the (2, B, H) arrays h0 (and c0)."""
    def at(d):
        h = B.asarray(case[f"{which}h0"][d])
        if cell != "lstm":
            return h
        return lstm.State(h, B.asarray(case[f"{which}c0"][d]))
    return bidirectional.States(at(0), at(1))


def run_course(case, config):
    """Forward and backward of the course's layer on the backend."""
    model = MODELS[config["cell"]]
    params = {k: B.asarray(v) for k, v in course(case, config).items()}
    z_s, finals, cache = bidirectional.forward(
        params, B.asarray(case["x"]),
        initial_states(case, config["cell"]), model)
    back = bidirectional.backward(params, B.asarray(case["G"]), cache,
                                  model)
    return params, z_s, finals, back


def _pairs(states, cell):
    """[(name, (2, B, H) host array)] for h (and c) of States."""
    def stacked(attr):
        return np.stack([B.to_numpy(getattr(s, attr, s) if attr else s)
                         for s in states])
    if cell == "lstm":
        return [("h", stacked("h")), ("c", stacked("c"))]
    return [("h", stacked(None))]


def assert_parity(case, config, backend) -> float:
    """Compare the course with torch; return the largest relative error."""
    T, batch, D = config["T"], config["B"], config["D"]
    H, K, cell = config["H"], config["K"], config["cell"]
    params, z_s, finals, back = run_course(case, config)
    float64 = backend.xp.float64
    assert tuple(z_s.shape) == (T, batch, K) and z_s.dtype == float64
    assert tuple(back.dx.shape) == (T, batch, D)
    assert list(back.grads) == list(params)
    for k, v in params.items():
        assert tuple(back.grads[k].shape) == tuple(v.shape), k
        assert back.grads[k].dtype == float64, k
    compared = [("z_s", B.to_numpy(z_s), case["z_s"]),
                ("grad x", B.to_numpy(back.dx), case["grad/x"])]
    for (s, got), (_, dgot) in zip(_pairs(finals, cell),
                                   _pairs(back.dh0, cell)):
        compared += [(f"{s}_n", got, case[f"{s}_n"]),
                     (f"grad {s}0", dgot, case[f"grad/{s}0"])]
    want = course(case, config, grads=True)
    compared += [(f"grad {k}", B.to_numpy(back.grads[k]), want[k])
                 for k in params]
    worst = 0.0
    for label, got, ref in compared:
        assert got.shape == ref.shape, label
        np.testing.assert_allclose(got, ref, rtol=RTOL, atol=1e-13,
                                   err_msg=label)
        worst = max(worst, max_relative_error(got, ref))
    return worst


def test_fixture_file_is_small_and_complete():
    assert NPZ.stat().st_size < MAX_BYTES
    meta = json.loads(str(FIXTURE["meta"]))
    assert meta["dtype"] == "float64" and meta["torch_version"]
    assert {c["cell"] for c in CASES.values()} == set(MODELS)
    for cell in MODELS:
        sizes = [(c["T"], c["B"], c["H"]) for c in CASES.values()
                 if c["cell"] == cell]
        for axis in range(3):                # edge cases T, B, H = 1
            assert any(s[axis] == 1 for s in sizes), (cell, axis)
    for name, c in CASES.items():
        case = case_arrays(FIXTURE, name)
        assert all(v.dtype == np.float64 for v in case.values()), name
        assert case["x"].shape == (c["T"], c["B"], c["D"])
        assert case["h0"].shape == (2, c["B"], c["H"])
        for n in ("bias_ih_l0", "bias_hh_l0_reverse", "linear.bias"):
            assert np.all(case[n] != 0), f"{name}/{n} has a zero"


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_with_torch_fixture(backend, name):
    worst = assert_parity(case_arrays(FIXTURE, name), CASES[name], backend)
    assert worst < RTOL


def test_the_reverse_direction_matters():
    # an oracle that ran both directions left to right would fail here:
    # swapping the two directions' parameters changes the outputs
    name = "gru_T5B3D3H4K2"
    case, config = case_arrays(FIXTURE, name), CASES[name]
    params = {k: B.asarray(v) for k, v in course(case, config).items()}
    swapped = {("bwd" + k[3:] if k.startswith("fwd") else
                "fwd" + k[3:] if k.startswith("bwd") else k): v
               for k, v in params.items()}
    z_s, _, _ = bidirectional.forward(
        swapped, B.asarray(case["x"]), initial_states(case, "gru"), gru)
    assert not np.allclose(B.to_numpy(z_s), case["z_s"], rtol=1e-3)


# -- live: only where torch is importable --------------------------------


def generator():
    """The fixture script as a module (skips without torch)."""
    return torch_fixtures.generator("make_bidirectional_fixtures")


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_live_parity_on_a_fresh_configuration(backend, cell):
    gen = generator()
    seed = 3000 + sorted(MODELS).index(cell)
    rng = np.random.default_rng(seed)
    T, batch, D, H, K = (int(n) for n in rng.integers(1, 7, size=5))
    config = gen.Config(cell, T, batch, D, H, K, seed)
    worst = assert_parity(gen.make_case(config), config._asdict(), backend)
    assert worst < RTOL


def test_fixture_matches_the_generator_now():
    gen = generator()
    assert_same_fixture(gen.make_all(), FIXTURE)
