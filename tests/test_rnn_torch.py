"""companion.rnn against torch.nn.RNN + torch.nn.Linear (chapters 1-3).

PyTorch is an oracle, not a dependency. ``fixtures/rnn_torch.npz`` holds
float64 cases computed by ``fixtures/make_rnn_fixtures.py`` (tanh and relu,
one layer and a 2-layer stack, edge cases T = 1, B = 1, H = 1, non-zero
biases); these tests need only NumPy. PyTorch's parameters map onto the
lecture's as

    W_e = weight_ih,  W_h = weight_hh,  b_e = bias_ih + bias_hh,
    W_s = linear.weight,  b_s = linear.bias,

(layer l of a stack: W_e_l = weight_ih_l{l-1}, ...), so that RNNRUN gives
z_s(t) = W_s h(t) + b_s and h(T), and RNNBACK from dz_s = G, the upstream
gradient of E = Σ G ∘ z_s, gives the gradients torch's autograd found.
Only the sum of the two biases enters, hence db_e equals both torch bias
gradients. Where torch is importable, a freshly drawn configuration is
compared live, and the committed file is checked against the generator.
"""

import json

import numpy as np
import pytest

from companion import backend as B
from companion import rnn

import torch_fixtures
from torch_fixtures import (FIXTURES, assert_same_fixture, case_arrays,
                            cases, load_fixtures, max_relative_error)

NPZ = FIXTURES / "rnn_torch.npz"
RTOL = 1e-10
MAX_BYTES = 100_000


FIXTURE = load_fixtures(NPZ)
CASES = cases(FIXTURE)


def torch_names(layers: int) -> list[str]:
    """PyTorch's parameter names for an RNN of ``layers`` + a Linear."""
    names = [f"{kind}_{part}_l{l}" for l in range(layers)
             for kind, part in (("weight", "ih"), ("weight", "hh"),
                                ("bias", "ih"), ("bias", "hh"))]
    return names + ["linear.weight", "linear.bias"]


def course_params(case, layers: int) -> dict[str, np.ndarray]:
    """The lecture's W_e, W_h, b_e (per layer), W_s, b_s from torch's."""
    params = {}
    for l in range(1, layers + 1):
        suffix = "" if layers == 1 else f"_{l}"
        params["W_e" + suffix] = case[f"weight_ih_l{l - 1}"]
        params["W_h" + suffix] = case[f"weight_hh_l{l - 1}"]
        # only the sum of the two biases enters z_h(t)
        params["b_e" + suffix] = (case[f"bias_ih_l{l - 1}"]
                                  + case[f"bias_hh_l{l - 1}"])
    params["W_s"] = case["linear.weight"]
    params["b_s"] = case["linear.bias"]
    return params


def grad_pairs(layers: int) -> list[tuple[str, str]]:
    """(course gradient key, torch gradient key); db_e appears twice."""
    pairs = []
    for l in range(1, layers + 1):
        suffix = "" if layers == 1 else f"_{l}"
        pairs += [("W_e" + suffix, f"weight_ih_l{l - 1}"),
                  ("W_h" + suffix, f"weight_hh_l{l - 1}"),
                  ("b_e" + suffix, f"bias_ih_l{l - 1}"),
                  ("b_e" + suffix, f"bias_hh_l{l - 1}")]
    return pairs + [("W_s", "linear.weight"), ("b_s", "linear.bias")]


def run_course(case, config):
    """RNNRUN and RNNBACK (or their stacked versions) on the backend.

    Returns backend arrays: z_s (T, B, K), the list of h_l(T) (B, H), the
    dict of gradients, dx (T, B, D) and the list of dh_l(0) (B, H).
    """
    layers, f_h = config["layers"], config["nonlinearity"]
    p = {k: B.asarray(v) for k, v in course_params(case, layers).items()}
    x, G = B.asarray(case["x"]), B.asarray(case["G"])
    h0s = [B.asarray(case["h0"][l]) for l in range(layers)]
    if layers == 1:
        z_s, final, cache = rnn.forward(p, x, h0s[0], f_h, "identity")
        back = rnn.backward(p, G, cache)
        return z_s, [final.h], back.grads, back.dx, [back.dh0]
    z_s, finals, caches = rnn.stack_forward(p, x, h0s, f_h, "identity")
    back = rnn.stack_backward(p, G, caches)
    return z_s, [s.h for s in finals], back.grads, back.dx, back.dh0


def assert_parity(case, config, backend) -> float:
    """Compare the course with torch; return the largest relative error."""
    T, batch, D = config["T"], config["B"], config["D"]
    H, K, layers = config["H"], config["K"], config["layers"]
    z_s, h_T, grads, dx, dh0 = run_course(case, config)
    float64 = backend.xp.float64
    # shapes and dtypes first
    assert tuple(z_s.shape) == (T, batch, K) and z_s.dtype == float64
    assert [tuple(h.shape) for h in h_T] == [(batch, H)] * layers
    assert all(h.dtype == float64 for h in h_T)
    assert tuple(dx.shape) == (T, batch, D) and dx.dtype == float64
    assert [tuple(d.shape) for d in dh0] == [(batch, H)] * layers
    assert all(d.dtype == float64 for d in dh0)
    params = course_params(case, layers)
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
    compared += [(f"{mine} vs {theirs}", B.to_numpy(grads[mine]),
                  case[f"grad/{theirs}"])
                 for mine, theirs in grad_pairs(layers)]
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
    kinds = {(c["nonlinearity"], c["layers"]) for c in CASES.values()}
    assert kinds == {("tanh", 1), ("relu", 1), ("tanh", 2), ("relu", 2)}
    sizes = [(c["T"], c["B"], c["D"], c["H"]) for c in CASES.values()]
    assert (5, 3, 4, 6) in sizes
    for axis in (0, 1, 3):                   # edge cases T, B, H = 1
        assert any(s[axis] == 1 for s in sizes)
    expected = {"meta"}
    for name, c in CASES.items():
        names = torch_names(c["layers"])
        keys = names + ["x", "h0", "G", "z_s", "h_n"] + [
            f"grad/{n}" for n in names + ["x", "h0"]]
        expected |= {f"{name}/{k}" for k in keys}
        case = case_arrays(FIXTURE, name)
        assert all(case[k].dtype == np.float64 for k in keys), name
        assert case["x"].shape == (c["T"], c["B"], c["D"])
        assert case["h0"].shape == (c["layers"], c["B"], c["H"])
        assert case["G"].shape == (c["T"], c["B"], c["K"])
        for n in names:
            if n.startswith("bias") or n == "linear.bias":
                assert np.all(case[n] != 0), f"{name}/{n} has a zero"
    assert set(FIXTURE) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_with_torch_fixture(backend, name):
    config = CASES[name]
    worst = assert_parity(case_arrays(FIXTURE, name), config, backend)
    assert worst < RTOL


# -- live: only where torch is importable --------------------------------


def generator():
    """The fixture script as a module (skips without torch)."""
    return torch_fixtures.generator("make_rnn_fixtures")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 2])
def test_live_parity_on_a_fresh_configuration(backend, nonlinearity,
                                              layers):
    gen = generator()
    seed = 1000 + 10 * layers + ["tanh", "relu"].index(nonlinearity)
    rng = np.random.default_rng(seed)
    T, batch, D, H, K = (int(n) for n in rng.integers(1, 7, size=5))
    config = gen.Config(nonlinearity, T, batch, D, H, K, layers, seed)
    worst = assert_parity(gen.make_case(config), config._asdict(),
                          backend)
    assert worst < RTOL


def test_fixture_matches_the_generator_now():
    gen = generator()
    assert_same_fixture(gen.make_all(), FIXTURE)
