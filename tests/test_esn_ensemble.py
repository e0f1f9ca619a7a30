"""companion.esn_ensemble: E stacked reservoirs compute, each, what
companion.esn computes for that reservoir alone (the oracle), with the
leak rate, input scaling and input of each; bad input is refused."""

import numpy as np
import pytest

from companion import backend as B
from companion import esn
from companion import esn_ensemble as ens

N, D, T = 7, 1, 40
ALPHAS = (0.3, 1.0, 0.05)
SCALINGS = (0.5, 2.0, 1.0)


def _members():
    return [esn.init_reservoir(D, N, seed, rho=1.1, density=0.5,
                               input_scaling=s, bias_scaling=0.2)
            for seed, s in enumerate(SCALINGS)]


def _inputs(E=len(ALPHAS), seed=0):
    rng = np.random.default_rng(seed)
    return B.asarray(rng.uniform(-1, 1, (T, E, D)))


def test_stack_shapes_and_dtype():
    p = ens.stack(_members())
    assert tuple(p["W_in"].shape) == (3, N, D)
    assert tuple(p["W"].shape) == (3, N, N)
    assert tuple(p["b_in"].shape) == (3, N)
    assert p["W"].dtype == _members()[0]["W"].dtype


def test_run_equals_each_reservoir_alone():
    members, u = _members(), _inputs()
    rng = np.random.default_rng(1)
    x0 = B.asarray(rng.uniform(-1, 1, (3, N)))
    xs, x = ens.run(ens.stack(members), u, x0, ALPHAS)
    assert tuple(xs.shape) == (T, 3, N) and tuple(x.shape) == (3, N)
    for e, (p, a) in enumerate(zip(members, ALPHAS)):
        want, last = esn.run(p, u[:, e:e + 1, :], x0[e:e + 1, :], a)
        np.testing.assert_allclose(B.to_numpy(xs[:, e, :]),
                                   B.to_numpy(want)[:, 0, :], atol=1e-12)
        np.testing.assert_allclose(B.to_numpy(x[e, :]),
                                   B.to_numpy(last.x)[0], atol=1e-12)


def test_shared_input_and_zero_state():
    members = _members()
    u = _inputs(E=1)
    xs, _ = ens.run(ens.stack(members), u, alpha=0.5)
    for e, p in enumerate(members):
        want, _ = esn.run(p, u, B.zeros((1, N)), 0.5)
        np.testing.assert_allclose(B.to_numpy(xs[:, e, :]),
                                   B.to_numpy(want)[:, 0, :], atol=1e-12)


def test_fit_predict_generate_equal_each_reservoir_alone():
    members, u = _members(), _inputs()
    y = B.asarray(np.roll(B.to_numpy(u), -1, axis=0))
    stacked = ens.stack(members)
    W_out, x = ens.fit(stacked, u, y, None, ALPHAS, beta=1e-3, washout=5)
    assert tuple(W_out.shape) == (3, D, 1 + N)
    pred, _ = ens.predict(stacked, W_out, u, x, ALPHAS)
    gen, _ = ens.generate(stacked, W_out, u[-1, ...], x, 6, ALPHAS)
    assert tuple(pred.shape) == (T, 3, D) and tuple(gen.shape) == (6, 3, D)
    errors = ens.nrmse(pred, y)
    assert errors.shape == (3,)
    for e, (p, a) in enumerate(zip(members, ALPHAS)):
        ue, ye = u[:, e:e + 1, :], y[:, e:e + 1, :]
        w, st = esn.fit(p, ue, ye, B.zeros((1, N)), a, 1e-3, 5)
        np.testing.assert_allclose(B.to_numpy(W_out[e, ...]), B.to_numpy(w),
                                   rtol=1e-9, atol=1e-10)
        pe, _ = esn.predict(p, w, ue, st.x, a)
        np.testing.assert_allclose(B.to_numpy(pred[:, e, :]),
                                   B.to_numpy(pe)[:, 0, :], atol=1e-9)
        assert abs(errors[e] - esn.nrmse(pe, ye)) < 1e-9
        ge, _ = esn.generate(p, w, u[-1, e:e + 1, :], st.x, 6, a)
        np.testing.assert_allclose(B.to_numpy(gen[:, e, :]),
                                   B.to_numpy(ge)[:, 0, :], atol=1e-9)


def test_ridge_with_beta_zero_is_least_squares():
    rng = np.random.default_rng(3)
    S, Y = rng.normal(size=(2, 30, 4)), rng.normal(size=(2, 30, 2))
    W = B.to_numpy(ens.ridge(B.asarray(S), B.asarray(Y), 0.0))
    for e in range(2):
        want = np.linalg.lstsq(S[e], Y[e], rcond=None)[0].T
        np.testing.assert_allclose(W[e], want, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 1.5, (0.3, 0.3)])
def test_bad_alpha_is_refused(alpha):
    with pytest.raises(ValueError, match="alpha"):
        ens.run(ens.stack(_members()), _inputs(), alpha=alpha)


def test_bad_inputs_are_refused():
    stacked = ens.stack(_members())
    with pytest.raises(ValueError, match=r"u must have shape"):
        ens.run(stacked, B.asarray(np.zeros((T, 2, D))))
    bad = B.to_numpy(_inputs()).copy()
    bad[3, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ens.run(stacked, B.asarray(bad))
    with pytest.raises(ValueError, match="x0 must have shape"):
        ens.run(stacked, _inputs(), B.zeros((2, N)))
    with pytest.raises(ValueError, match="non-empty"):
        ens.stack([])
    sparse = esn.init_reservoir(1, 600, 0, density=0.01)
    if esn.is_sparse(sparse["W"]):
        with pytest.raises(ValueError, match="sparse"):
            ens.stack([sparse])
    with pytest.raises(ValueError, match="washout"):
        ens.fit(stacked, _inputs(), _inputs(), washout=T)
    with pytest.raises(ValueError, match="n must be"):
        W_out = B.zeros((3, D, 1 + N))
        ens.generate(stacked, W_out, _inputs()[0, ...], B.zeros((3, N)), 0)
