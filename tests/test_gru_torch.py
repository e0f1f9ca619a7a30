"""companion.gru against torch.nn.GRU and against torch autograd (ch. 6).

PyTorch is an oracle, not a dependency. ``fixtures/gru_torch.npz`` holds
float64 cases computed by ``fixtures/make_gru_fixtures.py``; these tests
need only NumPy. Two kinds of case:

* ``pytorch``: ``torch.nn.GRU`` + ``torch.nn.Linear`` (non-zero biases,
  one layer and a 2-layer stack, T = 1, B = 1, H = 1), compared with the
  course's "pytorch" convention. PyTorch stacks the gates r, z, n:

      W_r, W_z, W_h = weight_ih[0:H], [H:2H], [2H:3H]   (U_* from
      weight_hh),  b_r = bias_ih[0:H] + bias_hh[0:H],  b_z likewise,
      b_in = bias_ih[2H:3H],  b_hn = bias_hh[2H:3H].

  The gradients of b_r and b_z equal those of both torch biases' rows;
  those of b_in and b_hn are torch's rows [2H:3H] of bias_ih and bias_hh.
* ``lecture``: the lectures' equations re-implemented in torch and
  differentiated by autograd, compared key by key with the course's
  "lecture" convention.

Where torch is importable, fresh configurations are compared live, and
the committed file is checked against the generator.
"""

import json

import numpy as np
import pytest

from companion import backend as B
from companion import gru

import torch_fixtures
from torch_fixtures import (FIXTURES, assert_same_fixture, case_arrays,
                            cases, load_fixtures, max_relative_error)

NPZ = FIXTURES / "gru_torch.npz"
RTOL = 1e-10
MAX_BYTES = 100_000


FIXTURE = load_fixtures(NPZ)
CASES = cases(FIXTURE)


def torch_names(layers: int) -> list[str]:
    """PyTorch's parameter names for a GRU of ``layers`` + a Linear."""
    names = [f"{kind}_{part}_l{l}" for l in range(layers)
             for kind, part in (("weight", "ih"), ("weight", "hh"),
                                ("bias", "ih"), ("bias", "hh"))]
    return names + ["linear.weight", "linear.bias"]


def lecture_names(layers: int) -> list[str]:
    """The course's keys of a lecture-convention GRU (+ W_s, b_s)."""
    suffixes = [""] if layers == 1 else [f"_{l}" for l in
                                         range(1, layers + 1)]
    return [k + s for s in suffixes for k in gru.KEYS["lecture"]] + \
        ["W_s", "b_s"]


def _rows(a, gate: int, H: int):
    return a[gate * H:(gate + 1) * H, ...]


def course_params(case, config) -> dict[str, np.ndarray]:
    """The course's parameters of a case (mapped from torch's names)."""
    layers = config["layers"]
    if config["convention"] == "lecture":
        return {k: case[k] for k in lecture_names(layers)}
    H, params = config["H"], {}
    for l in range(1, layers + 1):
        s = "" if layers == 1 else f"_{l}"
        w_ih, w_hh = case[f"weight_ih_l{l - 1}"], case[f"weight_hh_l{l - 1}"]
        b_ih, b_hh = case[f"bias_ih_l{l - 1}"], case[f"bias_hh_l{l - 1}"]
        for name, gate in (("z", 1), ("r", 0)):   # torch's order: r, z, n
            params[f"W_{name}{s}"] = _rows(w_ih, gate, H)
            params[f"U_{name}{s}"] = _rows(w_hh, gate, H)
            params[f"b_{name}{s}"] = _rows(b_ih, gate, H) + \
                _rows(b_hh, gate, H)
        params[f"W_h{s}"] = _rows(w_ih, 2, H)
        params[f"U_h{s}"] = _rows(w_hh, 2, H)
        params[f"b_in{s}"] = _rows(b_ih, 2, H)
        params[f"b_hn{s}"] = _rows(b_hh, 2, H)
    params["W_s"], params["b_s"] = case["linear.weight"], case["linear.bias"]
    return {k: params[k] for k in _ordered(params, layers)}


def _ordered(params, layers):
    """Keys in gru.init_stack's order (per layer, then W_s, b_s)."""
    suffixes = [""] if layers == 1 else [f"_{l}" for l in
                                         range(1, layers + 1)]
    return [k + s for s in suffixes for k in gru.KEYS["pytorch"]] + \
        ["W_s", "b_s"]


def torch_grads(case, config) -> dict[str, np.ndarray]:
    """Torch's gradients mapped onto the course's keys (and checks that
    the two halves of a summed gate bias received the same gradient)."""
    layers = config["layers"]
    if config["convention"] == "lecture":
        return {k: case[f"grad/{k}"] for k in lecture_names(layers)}
    H, grads = config["H"], {}
    for l in range(1, layers + 1):
        s = "" if layers == 1 else f"_{l}"
        g = {part: case[f"grad/{part}_l{l - 1}"] for part in
             ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        for name, gate in (("z", 1), ("r", 0)):
            grads[f"W_{name}{s}"] = _rows(g["weight_ih"], gate, H)
            grads[f"U_{name}{s}"] = _rows(g["weight_hh"], gate, H)
            np.testing.assert_allclose(_rows(g["bias_ih"], gate, H),
                                       _rows(g["bias_hh"], gate, H),
                                       rtol=1e-12, atol=1e-15)
            grads[f"b_{name}{s}"] = _rows(g["bias_ih"], gate, H)
        grads[f"W_h{s}"] = _rows(g["weight_ih"], 2, H)
        grads[f"U_h{s}"] = _rows(g["weight_hh"], 2, H)
        grads[f"b_in{s}"] = _rows(g["bias_ih"], 2, H)
        grads[f"b_hn{s}"] = _rows(g["bias_hh"], 2, H)
    grads["W_s"] = case["grad/linear.weight"]
    grads["b_s"] = case["grad/linear.bias"]
    return grads


def run_course(case, config):
    """The course's GRU (or stack) forward and backward on the backend."""
    params = course_params(case, config)
    p = {k: B.asarray(v) for k, v in params.items()}
    x, G = B.asarray(case["x"]), B.asarray(case["G"])
    h0s = [B.asarray(case["h0"][l]) for l in range(config["layers"])]
    if config["layers"] == 1:
        z_s, final, cache = gru.forward(p, x, h0s[0])
        back = gru.backward(p, G, cache)
        return params, z_s, [final.h], back.grads, back.dx, [back.dh0]
    z_s, finals, caches = gru.stack_forward(p, x, h0s)
    back = gru.stack_backward(p, G, caches)
    return params, z_s, [s.h for s in finals], back.grads, back.dx, \
        back.dh0


def assert_parity(case, config, backend) -> float:
    """Compare the course with torch; return the largest relative error."""
    T, batch, D = config["T"], config["B"], config["D"]
    H, K, layers = config["H"], config["K"], config["layers"]
    params, z_s, h_T, grads, dx, dh0 = run_course(case, config)
    float64 = backend.xp.float64
    # shapes and dtypes first
    assert tuple(z_s.shape) == (T, batch, K) and z_s.dtype == float64
    assert [tuple(h.shape) for h in h_T] == [(batch, H)] * layers
    assert tuple(dx.shape) == (T, batch, D) and dx.dtype == float64
    assert [tuple(d.shape) for d in dh0] == [(batch, H)] * layers
    assert list(grads) == list(params)
    for k, v in params.items():
        assert tuple(grads[k].shape) == v.shape, k
        assert grads[k].dtype == float64, k
    # then the values
    compared = [("z_s", B.to_numpy(z_s), case["z_s"]),
                ("h_n", np.stack([B.to_numpy(h) for h in h_T]),
                 case["h_n"]),
                ("x", B.to_numpy(dx), case["grad/x"]),
                ("h0", np.stack([B.to_numpy(d) for d in dh0]),
                 case["grad/h0"])]
    want = torch_grads(case, config)
    compared += [(f"grad {k}", B.to_numpy(grads[k]), want[k])
                 for k in params]
    worst = 0.0
    for label, got, ref in compared:
        assert got.shape == ref.shape, label
        np.testing.assert_allclose(got, ref, rtol=RTOL, atol=0,
                                   err_msg=label)
        worst = max(worst, max_relative_error(got, ref))
    return worst


def test_fixture_file_is_small_and_complete():
    assert NPZ.stat().st_size < MAX_BYTES
    meta = json.loads(str(FIXTURE["meta"]))
    assert meta["dtype"] == "float64" and meta["torch_version"]
    kinds = {(c["convention"], c["layers"]) for c in CASES.values()}
    assert kinds == {("pytorch", 1), ("pytorch", 2), ("lecture", 1),
                     ("lecture", 2)}
    for conv in gru.CONVENTIONS:
        sizes = [(c["T"], c["B"], c["D"], c["H"]) for c in CASES.values()
                 if c["convention"] == conv]
        for axis in (0, 1, 3):               # edge cases T, B, H = 1
            assert any(s[axis] == 1 for s in sizes), (conv, axis)
    expected = {"meta"}
    for name, c in CASES.items():
        names = (torch_names(c["layers"]) if c["convention"] == "pytorch"
                 else lecture_names(c["layers"]))
        keys = names + ["x", "h0", "G", "z_s", "h_n"] + [
            f"grad/{n}" for n in names + ["x", "h0"]]
        expected |= {f"{name}/{k}" for k in keys}
        case = case_arrays(FIXTURE, name)
        assert all(case[k].dtype == np.float64 for k in keys), name
        assert case["x"].shape == (c["T"], c["B"], c["D"])
        assert case["h0"].shape == (c["layers"], c["B"], c["H"])
        for n in names:
            if "bias" in n or n.startswith("b_"):
                assert np.all(case[n] != 0), f"{name}/{n} has a zero"
    assert set(FIXTURE) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_with_torch_fixture(backend, name):
    worst = assert_parity(case_arrays(FIXTURE, name), CASES[name], backend)
    assert worst < RTOL


# -- live: only where torch is importable --------------------------------


def generator():
    """The fixture script as a module (skips without torch)."""
    return torch_fixtures.generator("make_gru_fixtures")


@pytest.mark.parametrize("convention", gru.CONVENTIONS)
@pytest.mark.parametrize("layers", [1, 2])
def test_live_parity_on_a_fresh_configuration(backend, convention, layers):
    gen = generator()
    seed = 2000 + 10 * layers + gru.CONVENTIONS.index(convention)
    rng = np.random.default_rng(seed)
    T, batch, D, H, K = (int(n) for n in rng.integers(1, 7, size=5))
    config = gen.Config(convention, T, batch, D, H, K, layers, seed)
    worst = assert_parity(gen.make_case(config), config._asdict(), backend)
    assert worst < RTOL


def test_fixture_matches_the_generator_now():
    gen = generator()
    assert_same_fixture(gen.make_all(), FIXTURE)
