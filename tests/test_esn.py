"""Echo state networks (companion.esn), on every backend.

The lecture's claims as properties: the scaled reservoir has spectral
radius rho; a contracting reservoir forgets its initial state (echo state
property); the ridge readout with beta = 0 is least squares; the leaky
update, the readout vectors, closed-loop generation, NRMSE as defined.
"""

import numpy as np
import pytest

from companion import backend as B
from companion import esn, init


def _np(x):
    return B.to_numpy(x)


def _assert_array(x, shape):
    assert tuple(x.shape) == shape
    assert x.dtype == B.get_backend().float_dtype


@pytest.mark.parametrize("rho, density", [(0.5, 1.0), (1.25, 0.1),
                                          (0.9, 0.3)])
def test_spectral_radius_is_rho(backend, rho, density):
    p = esn.init_reservoir(2, 40, 3, rho=rho, density=density)
    _assert_array(p["W"], (40, 40))
    _assert_array(p["W_in"], (40, 2))
    _assert_array(p["b_in"], (40,))
    assert abs(init.spectral_radius(p["W"]) - rho) < 1e-8
    host = np.linalg.eigvals(_np(p["W"]))
    assert abs(np.max(np.abs(host)) - rho) < 1e-8


def test_reservoir_is_the_same_on_every_backend(backend):
    p = esn.init_reservoir(3, 10, 7, rho=0.8, density=0.5,
                           input_scaling=0.3, bias_scaling=0.2)
    B.set_backend("numpy")
    q = esn.init_reservoir(3, 10, 7, rho=0.8, density=0.5,
                           input_scaling=0.3, bias_scaling=0.2)
    for k in p:
        np.testing.assert_array_equal(_np(p[k]), _np(q[k]))
    assert np.abs(_np(p["W_in"])).max() <= 0.3
    assert np.abs(_np(p["b_in"])).max() <= 0.2


def test_density_keeps_that_fraction_of_entries(backend):
    W = _np(esn.init_reservoir(1, 200, 0, density=0.1)["W"])
    assert 0.09 < np.mean(W != 0) < 0.11


def test_step_is_the_leaky_update(backend):
    r = np.random.default_rng(0)
    p = esn.init_reservoir(2, 5, 1, bias_scaling=0.5)
    u = r.normal(size=(3, 2))
    x = r.normal(size=(3, 5))
    got = esn.step(p, B.asarray(u), esn.State(B.asarray(x)), alpha=0.3)
    _assert_array(got.x, (3, 5))
    hp = {k: _np(v) for k, v in p.items()}
    want = 0.7 * x + 0.3 * np.tanh(u @ hp["W_in"].T + x @ hp["W"].T
                                   + hp["b_in"])
    np.testing.assert_allclose(_np(got.x), want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("T, Bsz, N", [(1, 1, 1), (6, 3, 4), (5, 1, 8)])
def test_run_stacks_the_steps(backend, T, Bsz, N):
    r = np.random.default_rng(2)
    p = esn.init_reservoir(2, N, 4, rho=0.7)
    u = B.asarray(r.normal(size=(T, Bsz, 2)))
    x0 = B.asarray(r.normal(size=(Bsz, N)))
    xs, final = esn.run(p, u, x0, alpha=0.5)
    _assert_array(xs, (T, Bsz, N))
    state = esn.State(x0)
    for n in range(T):
        state = esn.step(p, u[n, ...], state, 0.5)
        # run's one input product for all n may round differently
        np.testing.assert_allclose(_np(xs[n, ...]), _np(state.x),
                                   rtol=0, atol=1e-13)
    np.testing.assert_array_equal(_np(final.x), _np(xs[-1, ...]))


def test_echo_state_property(backend):
    """Two different x(0), same input: the distance shrinks to ~0."""
    r = np.random.default_rng(3)
    p = esn.init_reservoir(1, 50, 5, rho=0.8)
    u = B.asarray(r.uniform(-1, 1, (300, 1, 1)))
    xa, _ = esn.run(p, u, B.asarray(r.uniform(-1, 1, (1, 50))))
    xb, _ = esn.run(p, u, B.asarray(r.uniform(-1, 1, (1, 50))))
    d = np.linalg.norm(_np(xa) - _np(xb), axis=(1, 2))
    assert d[0] > 1e-2
    assert d[-1] < 1e-10
    assert d[-1] < 1e-8 * d[0]


def test_ridge_with_beta_zero_is_least_squares(backend):
    r = np.random.default_rng(4)
    S, Y = r.normal(size=(40, 6)), r.normal(size=(40, 2))
    W_out = esn.ridge(B.asarray(S), B.asarray(Y), 0.0)
    _assert_array(W_out, (2, 6))
    want = np.linalg.lstsq(S, Y, rcond=None)[0].T
    np.testing.assert_allclose(_np(W_out), want, rtol=1e-10, atol=1e-12)


def test_ridge_solves_the_normal_equations(backend):
    r = np.random.default_rng(5)
    S, Y = r.normal(size=(10, 12)), r.normal(size=(10, 1))
    beta = 0.3
    W_out = _np(esn.ridge(B.asarray(S), B.asarray(Y), beta))
    want = Y.T @ S @ np.linalg.inv(S.T @ S + beta * np.eye(12))
    np.testing.assert_allclose(W_out, want, rtol=1e-10, atol=1e-12)
    # beta > 0 shrinks the weights
    assert np.linalg.norm(W_out) < np.linalg.norm(
        _np(esn.ridge(B.asarray(S), B.asarray(Y), 1e-6)))


@pytest.mark.parametrize("readout, F", [("bias", 5), ("bias+input", 7),
                                        ("state", 4)])
def test_fit_and_predict_recover_a_linear_readout(backend, readout, F):
    """Targets made by a known W_out from the states: fit finds it."""
    r = np.random.default_rng(6)
    p = esn.init_reservoir(2, 4, 8, rho=0.9, bias_scaling=0.3)
    u = B.asarray(r.normal(size=(30, 2, 2)))
    x0 = B.asarray(np.zeros((2, 4)))
    xs, _ = esn.run(p, u, x0)
    true = r.normal(size=(3, F))
    y = esn.features(xs, u, readout) @ B.asarray(true).T
    W_out, final = esn.fit(p, u, y, x0, beta=0.0, washout=5,
                           readout=readout)
    _assert_array(W_out, (3, F))
    np.testing.assert_allclose(_np(W_out), true, rtol=1e-7, atol=1e-8)
    pred, final2 = esn.predict(p, W_out, u, x0, readout=readout)
    _assert_array(pred, (30, 2, 3))
    np.testing.assert_allclose(_np(pred), _np(y), rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(_np(final.x), _np(final2.x))


def test_generate_feeds_outputs_back(backend):
    r = np.random.default_rng(7)
    p = esn.init_reservoir(1, 6, 9, rho=0.9)
    W_out = B.asarray(r.normal(0, 0.1, size=(1, 7)))
    u1 = B.asarray(np.array([[0.5]]))
    x0 = B.asarray(r.normal(size=(1, 6)))
    ys, final = esn.generate(p, W_out, u1, x0, 4, alpha=0.6)
    _assert_array(ys, (4, 1, 1))
    # teacher forcing with the generated outputs gives the same outputs
    u = B.asarray(np.concatenate([[[[0.5]]], _np(ys)[:-1]], axis=0))
    pred, state = esn.predict(p, W_out, u, x0, alpha=0.6)
    np.testing.assert_allclose(_np(pred), _np(ys), rtol=1e-13, atol=0)
    np.testing.assert_allclose(_np(state.x), _np(final.x), rtol=1e-13)


def test_nrmse_is_rmse_over_population_std(backend):
    t = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.5, 2.0, 2.0, 4.0])
    got = esn.nrmse(B.asarray(y), B.asarray(t))
    assert got == pytest.approx(np.sqrt(np.mean((y - t) ** 2))
                                / np.std(t), rel=1e-14)
    assert esn.nrmse(B.asarray(t), B.asarray(t)) == 0.0
    # predicting the mean gives exactly 1
    mean = np.full(4, t.mean())
    assert esn.nrmse(B.asarray(mean), B.asarray(t)) == pytest.approx(1.0)


def test_memory_capacity_is_at_most_N(backend):
    r = np.random.default_rng(8)
    N = 10
    p = esn.init_reservoir(1, N, 1, rho=0.9, input_scaling=0.1)
    u = B.asarray(r.uniform(-0.5, 0.5, (1000, 1, 1)))
    mc = esn.memory_capacity(p, u, 30, beta=1e-10, washout=40)
    assert mc.shape == (30,)
    assert np.all((mc >= 0) & (mc <= 1 + 1e-12))
    assert 0.5 * N < mc.sum() <= N + 0.5
    assert mc[0] > 0.9 > mc[-1]


def test_esn_object_holds_no_state(backend):
    cfg = esn.Config(N=8, rho=0.9, alpha=0.5, washout=3, seed=1)
    net = esn.ESN.create(1, cfg)
    assert net.W_out is None
    r = np.random.default_rng(9)
    u = B.asarray(r.normal(size=(20, 1, 1)))
    fitted, state = net.fit(u, u, net.zero_state())
    assert net.W_out is None and fitted.W_out is not None
    a, sa = fitted.predict(u, state)
    b, sb = fitted.predict(u, state)
    np.testing.assert_array_equal(_np(a), _np(b))
    np.testing.assert_array_equal(_np(sa.x), _np(sb.x))
    g, _ = fitted.generate(u[0, ...], state, 3)
    _assert_array(g, (3, 1, 1))
    with pytest.raises(ValueError, match="no readout"):
        net.predict(u, state)


def test_bad_input_is_named(backend):
    p = esn.init_reservoir(2, 4, 0)
    x0 = B.asarray(np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"\(T >= 1, B, D = 2\)"):
        esn.run(p, B.asarray(np.zeros((3, 1, 5))), x0)
    with pytest.raises(ValueError, match="alpha"):
        esn.run(p, B.asarray(np.zeros((3, 1, 2))), x0, alpha=1.5)
    with pytest.raises(ValueError, match="x0 must have shape"):
        esn.run(p, B.asarray(np.zeros((3, 2, 2))), x0)
    with pytest.raises(ValueError, match="density"):
        esn.init_reservoir(1, 4, 0, density=0.0)
    with pytest.raises(ValueError, match="beta"):
        esn.ridge(B.asarray(np.ones((3, 2))), B.asarray(np.ones((3, 1))),
                  -1.0)
    with pytest.raises(ValueError, match="washout"):
        esn.fit(p, B.asarray(np.zeros((3, 1, 2))),
                B.asarray(np.zeros((3, 1, 1))), x0, washout=3)
    with pytest.raises(ValueError, match="K = D"):
        esn.generate(p, B.asarray(np.zeros((1, 5))),
                     B.asarray(np.zeros((1, 2))), x0, 2)
    with pytest.raises(ValueError, match="readout"):
        esn.features(x0, readout="input")
    with pytest.raises(ValueError, match="target must have shape"):
        esn.nrmse(B.asarray(np.zeros(3)), B.asarray(np.zeros(4)))


# -- reservoirs at scale: sparse W ---------------------------------------


def test_sparse_reservoir_has_the_entries_of_the_dense_one(backend):
    kw = dict(rho=1.1, density=0.2, input_scaling=0.4, bias_scaling=0.1)
    dense = esn.init_reservoir(2, 60, 3, sparse=False, **kw)
    sparse = esn.init_reservoir(2, 60, 3, sparse=True, **kw)
    assert not esn.is_sparse(dense["W"])
    # a sparse type where the backend has one, dense on the GPU proxy
    assert esn.is_sparse(sparse["W"]) == (backend.name != "gpu-proxy")
    np.testing.assert_allclose(_np(sparse["W"]), _np(dense["W"]),
                               rtol=1e-12, atol=0)
    for key in ("W_in", "b_in"):
        np.testing.assert_array_equal(_np(sparse[key]), _np(dense[key]))
    assert sparse["W"].dtype == backend.float_dtype


def test_large_sparse_reservoirs_are_the_default():
    assert esn.is_sparse(esn.init_reservoir(1, esn.SPARSE_MIN_N, 0,
                                            density=0.1, xp=np)["W"])
    assert not esn.is_sparse(esn.init_reservoir(
        1, esn.SPARSE_MIN_N - 1, 0, density=0.1, xp=np)["W"])
    assert not esn.is_sparse(esn.init_reservoir(
        1, esn.SPARSE_MIN_N, 0, density=1.0, xp=np)["W"])


@pytest.mark.parametrize("N, density, seed", [(600, 0.1, 0), (300, 0.05, 1),
                                              (120, 0.5, 2), (800, 0.02, 3),
                                              (500, 0.1, 4)])
def test_sparse_radius_is_the_dense_one(N, density, seed):
    """ARPACK's largest |λ| (asked to 1e-10) against all N eigenvalues:
    the radius, not a close rival (those differ by 1e-4 and more)."""
    p = esn.init_reservoir(1, N, seed, rho=1.25, density=density,
                           sparse=True, xp=np)
    dense = p["W"].toarray()
    want = np.max(np.abs(np.linalg.eigvals(dense)))
    assert abs(want - 1.25) < 1e-9
    assert esn.spectral_radius(p["W"]) == pytest.approx(want, rel=1e-9)
    assert esn.spectral_radius(dense) == pytest.approx(want, rel=1e-12)


def test_sparse_reservoir_draws_as_the_dense_one():
    """The same seed gives the same W_in, b_in and the same W up to the
    two radii (ARPACK against all eigenvalues)."""
    kw = dict(rho=1.1, density=0.2, bias_scaling=0.3, xp=np)
    sparse = esn.init_reservoir(2, 90, 5, sparse=True, **kw)
    dense = esn.init_reservoir(2, 90, 5, sparse=False, **kw)
    np.testing.assert_allclose(sparse["W"].toarray(), dense["W"],
                               rtol=1e-10, atol=0)
    for key in ("W_in", "b_in"):
        np.testing.assert_array_equal(sparse[key], dense[key])


@pytest.mark.parametrize("readout", esn.READOUTS)
def test_sparse_and_dense_reservoirs_fit_alike(backend, readout):
    r = np.random.default_rng(11)
    kw = dict(rho=0.9, density=0.2, bias_scaling=0.2)
    dense = esn.init_reservoir(2, 40, 6, sparse=False, **kw)
    sparse = esn.init_reservoir(2, 40, 6, sparse=True, **kw)
    u = B.asarray(r.normal(size=(60, 3, 2)))
    y = B.asarray(r.normal(size=(60, 3, 2)))
    x0 = B.asarray(r.normal(size=(3, 40)))
    outs = []
    for p in (dense, sparse):
        W_out, state = esn.fit(p, u, y, x0, alpha=0.4, beta=1e-6,
                               washout=10, readout=readout)
        pred, _ = esn.predict(p, W_out, u, x0, alpha=0.4, readout=readout)
        gen, _ = esn.generate(p, W_out, u[0, ...], x0, 3, alpha=0.4,
                              readout=readout)
        outs.append([_np(W_out), _np(state.x), _np(pred), _np(gen)])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("readout", esn.READOUTS)
def test_one_sequence_on_a_sparse_reservoir(backend, readout):
    """B = 1 on a sparse W (NumPy: SciPy's kernel called directly, into
    buffers): the states of esn.step one at a time, and the fit of the
    same reservoir stored dense."""
    r = np.random.default_rng(13)
    kw = dict(rho=0.95, density=0.1, bias_scaling=0.3)
    sparse = esn.init_reservoir(1, 60, 4, sparse=True, **kw)
    dense = esn.init_reservoir(1, 60, 4, sparse=False, **kw)
    u = B.asarray(r.normal(size=(200, 1, 1)))
    y = B.asarray(r.normal(size=(200, 1, 1)))
    x0 = B.asarray(r.normal(size=(1, 60)))
    xs, last = esn.run(sparse, u, x0, alpha=0.3)
    state = esn.State(x0)
    for n in range(200):
        state = esn.step(sparse, u[n, ...], state, alpha=0.3)
        np.testing.assert_allclose(_np(xs[n, ...]), _np(state.x),
                                   rtol=0, atol=1e-13)
    np.testing.assert_array_equal(_np(last.x), _np(xs[-1, ...]))
    fits = [esn.fit(p, u, y, x0, 0.3, 1e-3, 5, readout)
            for p in (sparse, dense)]
    for a, b in zip(*fits):
        a, b = (a.x, b.x) if isinstance(a, esn.State) else (a, b)
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-9, atol=1e-10)


def test_fit_writes_the_features_of_run(backend):
    """fit's in-place readout vectors are features() of run's states."""
    r = np.random.default_rng(12)
    p = esn.init_reservoir(2, 7, 3, rho=0.8)
    u = B.asarray(r.normal(size=(25, 2, 2)))
    y = B.asarray(r.normal(size=(25, 2, 2)))
    x0 = B.asarray(r.normal(size=(2, 7)))
    xp = B.get_backend().xp
    for readout in esn.READOUTS:
        xs, _ = esn.run(p, u, x0, 0.7)
        rr = esn.features(xs[4:, ...], u[4:, ...], readout)
        S = xp.reshape(rr, (-1, rr.shape[-1]))
        want = esn.ridge(S, xp.reshape(y[4:, ...], (-1, 2)), 1e-3)
        got, _ = esn.fit(p, u, y, x0, 0.7, 1e-3, 4, readout)
        np.testing.assert_array_equal(_np(got), _np(want))


def test_ridge_dual_form_is_the_primal_one(backend):
    """2 M <= F: the (M, M) system gives the W_out of the (F, F) one."""
    r = np.random.default_rng(13)
    S, Y = r.normal(size=(15, 40)), r.normal(size=(15, 2))
    got = _np(esn.ridge(B.asarray(S), B.asarray(Y), 1e-2))
    want = np.linalg.solve(S.T @ S + 1e-2 * np.eye(40), S.T @ Y).T
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


# -- bad input: one clear error naming the argument -----------------------


def test_nan_or_inf_is_refused(backend):
    p = esn.init_reservoir(1, 5, 0)
    x0 = B.asarray(np.zeros((1, 5)))
    good = np.linspace(-1, 1, 20).reshape(20, 1, 1)
    bad = good.copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match=r"^u holds 1 NaN"):
        esn.fit(p, B.asarray(bad), B.asarray(good), x0, washout=2)
    with pytest.raises(ValueError, match=r"^y holds 1 NaN"):
        esn.fit(p, B.asarray(good), B.asarray(bad), x0, washout=2)
    W_out, _ = esn.fit(p, B.asarray(good), B.asarray(good), x0, washout=2)
    with pytest.raises(ValueError, match=r"^u holds 1 NaN"):
        esn.predict(p, W_out, B.asarray(bad), x0)
    inf = good.copy()
    inf[3] = np.inf
    with pytest.raises(ValueError, match=r"^u holds 1 NaN or infinite"):
        esn.run(p, B.asarray(inf), x0)
    with pytest.raises(ValueError, match=r"^x0 holds"):
        esn.run(p, B.asarray(good), B.asarray(np.full((1, 5), np.nan)))
    with pytest.raises(ValueError, match=r"^u_first holds"):
        esn.generate(p, W_out, B.asarray(np.array([[np.nan]])), x0, 2)
    with pytest.raises(ValueError, match=r"^W_out holds"):
        esn.predict(p, W_out * np.nan, B.asarray(good), x0)


def test_wrong_shapes_are_blamed_on_the_argument(backend):
    p = esn.init_reservoir(1, 5, 0)
    x0 = B.asarray(np.zeros((1, 5)))
    y = B.asarray(np.zeros((20, 1, 1)))
    with pytest.raises(ValueError, match=r"^u must have 3 dimensions, got "
                                         r"shape \(20,\)"):
        esn.fit(p, B.asarray(np.zeros(20)), y, x0)
    with pytest.raises(ValueError, match=r"^y must have 3 dimensions"):
        esn.fit(p, B.asarray(np.zeros((20, 1, 1))), B.asarray(np.zeros(20)),
                x0)
    with pytest.raises(ValueError, match=r"^y must have shape \(T, B, K\)"):
        esn.fit(p, B.asarray(np.zeros((20, 1, 1))),
                B.asarray(np.zeros((19, 1, 1))), x0)
    with pytest.raises(ValueError, match=r"^W_out must have shape \(\*, 6\)"):
        esn.predict(p, B.asarray(np.zeros((1, 5))), y, x0)


def test_lists_fractions_and_empty_series_are_refused(backend):
    p = esn.init_reservoir(1, 5, 0)
    x0 = B.asarray(np.zeros((1, 5)))
    u = B.asarray(np.zeros((20, 1, 1)))
    with pytest.raises(TypeError, match=r"^u must be an array, got list"):
        esn.fit(p, [[[0.0]]] * 20, u, x0)
    with pytest.raises(TypeError, match=r"^y must be an array, got list"):
        esn.fit(p, u, [[[0.0]]] * 20, x0)
    with pytest.raises(TypeError, match=r"^u must be an array, got list"):
        esn.run(p, [[[0.0]]], x0)
    with pytest.raises(TypeError, match=r"^washout must be an int.*2\.5"):
        esn.fit(p, u, u, x0, washout=2.5)
    with pytest.raises(TypeError, match=r"^washout must be an int"):
        esn.ESN(esn.Config(N=5, washout=1.5), p).fit(u, u, esn.State(x0))
    empty = B.asarray(np.zeros((0, 1, 1)))
    with pytest.raises(ValueError, match=r"^u must have shape \(T >= 1, B, "
                                         r"D = 1\), got \(0, 1, 1\)"):
        esn.fit(p, empty, empty, x0)
    with pytest.raises(ValueError, match=r"^u must have shape \(T >= 1"):
        esn.predict(p, B.asarray(np.zeros((1, 6))), empty, x0)
    with pytest.raises(TypeError, match=r"^u must be a floating array"):
        esn.run(p, B.asarray(np.zeros((3, 1, 1), dtype=np.int64)), x0)


def test_large_ridge_by_cholesky_is_the_lu_one():
    r = np.random.default_rng(14)
    S, Y = r.normal(size=(700, esn.SPARSE_MIN_N)), r.normal(size=(700, 2))
    A = S.T @ S + 1e-3 * np.eye(S.shape[1])
    want = np.linalg.solve(A, S.T @ Y).T
    np.testing.assert_allclose(esn.ridge(S, Y, 1e-3), want, rtol=1e-9,
                               atol=1e-12)
