"""companion.lstm against torch.nn.LSTM + torch.nn.Linear (chapter 5).

PyTorch is an oracle, not a dependency. ``fixtures/lstm_torch.npz`` holds
float64 cases computed by ``fixtures/make_lstm_fixtures.py`` (one layer and
2-layer stacks, edge cases T = 1, B = 1, H = 1, non-zero biases); these
tests need only NumPy. PyTorch stacks the gates in the order i, f, g, o,
so its parameters map onto the lecture's as

    W_i, W_f, W_c, W_o = rows [0:H], [H:2H], [2H:3H], [3H:4H] of weight_ih,
    U_i, U_f, U_c, U_o = the same rows of weight_hh,
    b_g = bias_ih[rows of g] + bias_hh[rows of g],
    W_s = linear.weight,  b_s = linear.bias,

(layer l of a stack: W_f_l from weight_ih_l{l-1}, ...). The forward pass
gives z_s(t) = W_s h(t) + b_s and (h(T), c(T)), and the backward pass from
dz_s = G, the upstream gradient of E = Σ G ∘ z_s, gives the gradients
torch's autograd found; torch's stacked gradients are the course's
per-gate gradients stacked in the same order, and both torch biases have
the gradient of b_g. Where torch is importable, a freshly drawn
configuration is compared live, and the committed file is checked against
the generator.
"""

import json

import numpy as np
import pytest

from companion import backend as B
from companion import lstm

import torch_fixtures
from torch_fixtures import (FIXTURES, assert_same_fixture, case_arrays,
                            cases, load_fixtures, max_relative_error)

NPZ = FIXTURES / "lstm_torch.npz"
RTOL = 1e-10
MAX_BYTES = 100_000
TORCH_ORDER = ("i", "f", "c", "o")  # torch's i, f, g, o


FIXTURE = load_fixtures(NPZ)
CASES = cases(FIXTURE)


def torch_names(layers: int) -> list[str]:
    """PyTorch's parameter names for an LSTM of ``layers`` + a Linear."""
    names = [f"{kind}_{part}_l{l}" for l in range(layers)
             for kind, part in (("weight", "ih"), ("weight", "hh"),
                                ("bias", "ih"), ("bias", "hh"))]
    return names + ["linear.weight", "linear.bias"]


def gate_rows(H: int) -> dict[str, slice]:
    """The rows of each gate in torch's stacked (4H, ·) tensors."""
    return {g: slice(k * H, (k + 1) * H) for k, g in enumerate(TORCH_ORDER)}


def course_params(case, layers: int, H: int) -> dict[str, np.ndarray]:
    """The lecture's W_g, U_g, b_g (per layer), W_s, b_s from torch's."""
    params = {}
    for l in range(1, layers + 1):
        suffix = "" if layers == 1 else f"_{l}"
        rows = gate_rows(H)
        for g in ("f", "i", "o", "c"):         # the course's order
            r = rows[g]
            params[f"W_{g}{suffix}"] = case[f"weight_ih_l{l - 1}"][r]
            params[f"U_{g}{suffix}"] = case[f"weight_hh_l{l - 1}"][r]
            # only the sum of the two biases enters the gate
            params[f"b_{g}{suffix}"] = (case[f"bias_ih_l{l - 1}"][r]
                                        + case[f"bias_hh_l{l - 1}"][r])
    params["W_s"] = case["linear.weight"]
    params["b_s"] = case["linear.bias"]
    return params


def torch_grads(grads, layers: int) -> dict[str, np.ndarray]:
    """The course's gradients (host) stacked as torch's, by torch name."""
    out = {}
    for l in range(1, layers + 1):
        suffix = "" if layers == 1 else f"_{l}"

        def stacked(kind):
            return np.concatenate([grads[f"{kind}_{g}{suffix}"]
                                   for g in TORCH_ORDER], axis=0)

        out[f"weight_ih_l{l - 1}"] = stacked("W")
        out[f"weight_hh_l{l - 1}"] = stacked("U")
        out[f"bias_ih_l{l - 1}"] = out[f"bias_hh_l{l - 1}"] = stacked("b")
    out["linear.weight"], out["linear.bias"] = grads["W_s"], grads["b_s"]
    return out


def run_course(case, config):
    """The LSTM forward and backward (or their stacked versions).

    Returns backend arrays: z_s (T, B, K), the list of final States, the
    dict of gradients, dx (T, B, D) and the list of State(dh_l(0),
    dc_l(0)).
    """
    layers, H = config["layers"], config["H"]
    p = {k: B.asarray(v)
         for k, v in course_params(case, layers, H).items()}
    x, G = B.asarray(case["x"]), B.asarray(case["G"])
    s0 = [lstm.State(B.asarray(case["h0"][l]), B.asarray(case["c0"][l]))
          for l in range(layers)]
    if layers == 1:
        z_s, final, cache = lstm.forward(p, x, s0[0])
        back = lstm.backward(p, G, cache)
        return z_s, [final], back.grads, back.dx, [back.dh0]
    z_s, finals, caches = lstm.stack_forward(p, x, s0)
    back = lstm.stack_backward(p, G, caches)
    return z_s, finals, back.grads, back.dx, back.dh0


def assert_parity(case, config, backend) -> float:
    """Compare the course with torch; return the largest relative error."""
    T, batch, D = config["T"], config["B"], config["D"]
    H, K, layers = config["H"], config["K"], config["layers"]
    z_s, finals, grads, dx, d0 = run_course(case, config)
    float64 = backend.xp.float64
    # shapes and dtypes first
    assert tuple(z_s.shape) == (T, batch, K) and z_s.dtype == float64
    states = [a for s in finals + d0 for a in s]
    assert [tuple(a.shape) for a in states] == [(batch, H)] * 4 * layers
    assert all(a.dtype == float64 for a in states)
    assert tuple(dx.shape) == (T, batch, D) and dx.dtype == float64
    params = course_params(case, layers, H)
    assert list(grads) == list(params)
    for k, v in params.items():
        assert tuple(grads[k].shape) == v.shape, k
        assert grads[k].dtype == float64, k
    # then the values

    def host(states, field):
        return np.stack([B.to_numpy(getattr(s, field)) for s in states])

    compared = [("z_s", B.to_numpy(z_s), case["z_s"]),
                ("h_n", host(finals, "h"), case["h_n"]),
                ("c_n", host(finals, "c"), case["c_n"]),
                ("x", B.to_numpy(dx), case["grad/x"]),
                ("h0", host(d0, "h"), case["grad/h0"]),
                ("c0", host(d0, "c"), case["grad/c0"])]
    mine = torch_grads({k: B.to_numpy(v) for k, v in grads.items()},
                       layers)
    compared += [(name, mine[name], case[f"grad/{name}"])
                 for name in torch_names(layers)]
    worst = 0.0
    for label, got, want in compared:
        assert got.shape == want.shape, label
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0,
                                   err_msg=label)
        worst = max(worst, max_relative_error(got, want))
    return worst


def test_fixture_file_is_small_and_complete():
    assert NPZ.stat().st_size < MAX_BYTES
    meta = json.loads(str(FIXTURE["meta"]))
    assert meta["dtype"] == "float64" and meta["torch_version"]
    assert {c["layers"] for c in CASES.values()} == {1, 2}
    sizes = [(c["T"], c["B"], c["D"], c["H"]) for c in CASES.values()]
    assert (5, 3, 4, 6) in sizes
    for axis in (0, 1, 3):                   # edge cases T, B, H = 1
        assert any(s[axis] == 1 for s in sizes)
    expected = {"meta"}
    for name, c in CASES.items():
        names = torch_names(c["layers"])
        keys = names + ["x", "h0", "c0", "G", "z_s", "h_n", "c_n"] + [
            f"grad/{n}" for n in names + ["x", "h0", "c0"]]
        expected |= {f"{name}/{k}" for k in keys}
        case = case_arrays(FIXTURE, name)
        assert all(case[k].dtype == np.float64 for k in keys), name
        assert case["x"].shape == (c["T"], c["B"], c["D"])
        for state in ("h0", "c0"):
            assert case[state].shape == (c["layers"], c["B"], c["H"])
        assert case["G"].shape == (c["T"], c["B"], c["K"])
        assert case["weight_ih_l0"].shape == (4 * c["H"], c["D"])
        for n in names:
            if n.startswith("bias") or n == "linear.bias":
                assert np.all(case[n] != 0), f"{name}/{n} has a zero"
    assert set(FIXTURE) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_with_torch_fixture(backend, name):
    config = CASES[name]
    worst = assert_parity(case_arrays(FIXTURE, name), config, backend)
    assert worst < RTOL


def test_gate_order_matters():
    """Read in the course's order f, i, o, c, torch's rows give other
    outputs: the mapping above is not a no-op."""
    name = "T5B3D4H6K3_L1"
    case, config = case_arrays(FIXTURE, name), CASES[name]
    H = config["H"]
    p = course_params(case, 1, H)
    wrong = dict(p)
    wrong["W_i"], wrong["W_f"] = p["W_f"], p["W_i"]
    s0 = lstm.State(B.asarray(case["h0"][0]), B.asarray(case["c0"][0]))
    z_s, _, _ = lstm.forward({k: B.asarray(v) for k, v in wrong.items()},
                             B.asarray(case["x"]), s0)
    assert tuple(z_s.shape) == case["z_s"].shape
    assert max_relative_error(B.to_numpy(z_s), case["z_s"]) > 1e-3


# -- live: only where torch is importable --------------------------------


def generator():
    """The fixture script as a module (skips without torch)."""
    return torch_fixtures.generator("make_lstm_fixtures")


@pytest.mark.parametrize("layers", [1, 2])
def test_live_parity_on_a_fresh_configuration(backend, layers):
    gen = generator()
    seed = 2000 + layers
    rng = np.random.default_rng(seed)
    T, batch, D, H, K = (int(n) for n in rng.integers(1, 7, size=5))
    config = gen.Config(T, batch, D, H, K, layers, seed)
    worst = assert_parity(gen.make_case(config), config._asdict(),
                          backend)
    assert worst < RTOL


def test_fixture_matches_the_generator_now():
    gen = generator()
    assert_same_fixture(gen.make_all(), FIXTURE)
