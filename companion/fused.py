"""The fast path of the LSTM and the GRU over a sequence (chapters 5, 6).

``lstm.hidden_forward`` / ``hidden_backward`` and their ``gru`` peers come
here when f_h is tanh (and the LSTM has no peepholes). The equations are
those of ``lstm`` and ``gru``, step for step; only the arithmetic is
arranged differently, and the tests hold both paths to 1e-12 of each
other in float64:

* the input projections W X(t) + b of every step and every gate are one
  product (T B, D) @ (D, nH) before the loop; after the loop, the weight
  gradients Σ_t dz(t) X(t)^T and Σ_t dz(t) h(t-1)^T are one product each
  over all steps instead of T small ones;
* each step has one product with h(t-1) for all gates (the PyTorch GRU
  too; the lecture GRU needs two, since U_h multiplies r ∘ h(t-1));
* σ is computed through tanh, σ(a) = (1 + tanh(a / 2)) / 2, so that the
  gates and the candidate are one call of tanh on one block;
* the local derivatives (σ' = σ (1 - σ), tanh' = 1 - y², ...) do not
  depend on the gradient, so the LSTM's backward pass forms them for a
  chunk of steps at a time (one call per gate block, the chunk small
  enough to stay in cache); each step is left with a few products by
  dh and dc;
* results go into arrays allocated once, (T, B, ·), not into lists
  stacked at the end;
* dtypes as NumPy promotes them: float32 inputs with float64 parameters
  give float64 states and gradients, as the readable path does.

This module knows neither layer: it takes arrays (and the layer's gate
names or convention) and returns arrays; ``lstm`` and ``gru`` build
their ``Cache``, ``State`` and ``Backward`` from them, so that either
path's backward can follow either path's forward.
"""

from __future__ import annotations

from .backend import device, namespace


def _empty(xp, shape, like, dtype=None):
    """An uninitialised array of ``shape`` on the device of ``like``, in
    ``dtype`` (default: like's)."""
    return xp.empty(shape, dtype=like.dtype if dtype is None else dtype,
                    device=device(like))


def _gate_scales(xp, n_sigma: int, H: int, like, dtype):
    """(a, m, s), each (n_sigma H + H,): tanh(a ∘ z) ∘ m + s is σ(z) on
    the first n_sigma H columns and tanh(z) on the last H."""
    def vec(sig, last):
        return xp.concat([xp.full((n_sigma * H,), sig, dtype=dtype,
                                  device=device(like)),
                          xp.full((H,), last, dtype=dtype,
                                  device=device(like))])
    return vec(0.5, 1.0), vec(0.5, 1.0), vec(0.5, 0.0)


def _ufunc(xp, name: str):
    """xp's function ``name`` if it is a NumPy / CuPy ufunc, which can
    write into an existing array (``out=``); None otherwise (the array
    API, e.g. the GPU proxy, has no ``out=``)."""
    fn = getattr(xp, name)
    return fn if hasattr(fn, "nin") else None


def _into(xp, name: str, out, *args):
    """out[...] = name(*args), in place where xp can (no temporary)."""
    fn = _ufunc(xp, name)
    if fn is not None:
        fn(*args, out=out)
    else:
        out[...] = getattr(xp, name)(*args)


def _result_type(xp, *arrays):
    """The dtype NumPy's promotion gives the arrays together."""
    return xp.result_type(*[a for a in arrays if a is not None])


def _flat(xp, a):
    """(T, B, n) -> (T B, n): the steps as rows of one matrix."""
    return xp.reshape(a, (-1, a.shape[-1]))


def _project(xp, x, W, b=None):
    """x (T, B, D) @ W^T (+ b) as one product: (T, B, rows of W)."""
    z = _flat(xp, x) @ W.T
    if b is not None:
        z += b                               # in place: z is ours
    return xp.reshape(z, tuple(x.shape[:2]) + (W.shape[0],))


def _stack(params, kind, names):
    """The rows of kind_g for g in names, stacked: [W_f; W_i; ...]."""
    return namespace(params[f"{kind}_{names[0]}"]).concat(
        [params[f"{kind}_{g}"] for g in names], axis=0)


# -- LSTM ----------------------------------------------------------------


def lstm_forward(params, names, x, h0, c0):
    """h(1..T) of a tanh LSTM without peepholes (``lstm`` equations);
    ``names``: the gates with weights, ("f", "i", "o", "c") or coupled
    ("f", "o", "c").

    Returns:
        (hs, cs) (T + 1, B, H) from h(0), c(0); acts (T, B, nH), the σ
        gates in the order of ``names`` then the candidate c̃ in the last
        H columns; tc = tanh(c(t)) (T, B, H).
    """
    xp = namespace(x)
    T, B, _ = x.shape
    n, H = len(names), params["U_f"].shape[0]
    k = (n - 1) * H                          # the σ columns: f, (i), o
    W, U = _stack(params, "W", names), _stack(params, "U", names)
    b = _stack(params, "b", names)
    dt = _result_type(xp, x, h0, c0, W, U, b)
    # rows of the σ gates halved once: tanh then gives tanh(z / 2)
    # exactly (a power of two), and σ(z) = tanh(z / 2) / 2 + 1 / 2
    a, m, s = _gate_scales(xp, n - 1, H, x, dt)
    zx = _project(xp, x, W * a[:, None], b * a)
    U = (U * a[:, None]).T
    hs, cs = _empty(xp, (T + 1, B, H), x, dt), _empty(xp, (T + 1, B, H), x, dt)
    tc = _empty(xp, (T, B, H), x, dt)
    if zx.dtype != dt:                       # h(0) or c(0) wider than x, W
        zx = xp.astype(zx, dt)
    acts = zx               # step t's activations replace its projections
    hs[0, ...], cs[0, ...] = h0, c0
    h, c = hs[0, ...], cs[0, ...]
    for t in range(T):
        g = acts[t, ...]                     # holds a (W X(t) + b)
        g += h @ U                           # a (W X(t) + U h(t-1) + b)
        _into(xp, "tanh", g, g)
        g *= m
        g += s                               # [f, i, o] = σ(.), c̃ = tanh(.)
        f, o = g[:, :H], g[:, k - H:k]
        i = g[:, H:2 * H] if n == 4 else 1.0 - f
        c_t = cs[t + 1, ...]
        _into(xp, "multiply", c_t, f, c)
        c_t += i * g[:, k:]                  # c(t) = f ∘ c(t-1) + i ∘ c̃
        _into(xp, "tanh", tc[t, ...], c_t)
        _into(xp, "multiply", hs[t + 1, ...], o, tc[t, ...])
        h, c = hs[t + 1, ...], c_t           # h(t) = o ∘ tanh(c(t))
    return hs, cs, acts, tc


# the LSTM backward forms its local derivatives for this many entries of
# dz (steps x B x 4H) at a time
LOCAL_CHUNK = 1 << 16


def _lstm_local(xp, names, cache, t0, t1, dz, ao):
    """Steps t0..t1-1 of the LSTM's local derivatives, which do not depend
    on the gradient: dz[t] gets, per gate block, the factor that turns dc
    (or dh, for o) into dz; ao[t] = o ∘ (1 - tanh²(c)), dh's share of dc.
    One call per block over many steps instead of many small ones."""
    n = len(names)
    H = cache.f.shape[-1]
    f, o, g = cache.f[t0:t1, ...], cache.o[t0:t1, ...], cache.g[t0:t1, ...]
    i, tc = cache.i[t0:t1, ...], cache.tc[t0:t1, ...]
    # ∂c/∂f = c(t-1), less c̃ when coupled (i = 1 - f)
    blocks = {"f": (cache.cs[t0:t1, ...] - g if n == 3
                    else cache.cs[t0:t1, ...]) * f * (1.0 - f),
              "o": tc * o * (1.0 - o),       # dz_o = dh ∘ this
              "c": i * (1.0 - g * g)}
    if n == 4:
        blocks["i"] = g * i * (1.0 - i)
    for j, name in enumerate(names):
        dz[t0:t1, :, j * H:(j + 1) * H] = blocks[name]
    ao[t0:t1, ...] = o * (1.0 - tc * tc)


def lstm_backward(params, names, dhs, cache, dstate_T=None):
    """``lstm.hidden_backward`` for a tanh LSTM without peepholes.

    ``cache``: any object with the arrays x, hs, cs, f, i, o, g, tc of a
    forward pass (``lstm.Cache``); ``dstate_T``: None or (dh, dc) reaching
    h(T), c(T).

    Returns:
        (grads {W_g, U_g, b_g for g in names}, dx (T, B, D), dh(0),
        dc(0)).
    """
    xp = namespace(dhs)
    T, B, H = dhs.shape
    n = len(names)
    U = _stack(params, "U", names)
    dt = _result_type(xp, dhs, cache.hs, cache.f, U,
                      *(() if dstate_T is None else dstate_T))
    dz = _empty(xp, (T, B, n * H), dhs, dt)
    ao = _empty(xp, (T, B, H), dhs, dt)
    dh, dc = _empty(xp, (B, H), dhs, dt), _empty(xp, (B, H), dhs, dt)
    dh_next = xp.zeros((B, H), dtype=dt, device=device(dhs))
    dc_next = xp.zeros((B, H), dtype=dt, device=device(dhs))
    if dstate_T is not None:                 # copies: the caller's stay
        dh_next[...], dc_next[...] = dstate_T
    # the local derivatives in chunks of steps that stay in cache
    chunk = max(1, LOCAL_CHUNK // (B * n * H))
    o_cols = slice((n - 2) * H, (n - 1) * H)     # o: dz_o = dh ∘ ...
    dc_cols = [slice(j * H, (j + 1) * H) for j in range(n) if j != n - 2]
    lo = T
    for t in reversed(range(T)):
        if t < lo:                           # the next chunk, t down
            lo = max(0, t + 1 - chunk)
            _lstm_local(xp, names, cache, lo, t + 1, dz, ao)
        _into(xp, "add", dh, dhs[t, ...], dh_next)   # output + step t+1
        _into(xp, "multiply", dc, dh, ao[t, ...])    # through tanh(c(t))
        dc += dc_next
        z = dz[t, ...]
        for cols in dc_cols:                 # dz_f, dz_i, dz_c: by dc
            block = z[:, cols]
            block *= dc
        block = z[:, o_cols]
        block *= dh
        _into(xp, "multiply", dc_next, dc, cache.f[t, ...])  # the carousel
        dh_next = z @ U                      # Σ_g U_g^T dz_g
    flat = _flat(xp, dz)
    dW = flat.T @ _flat(xp, cache.x)         # Σ_t dz(t) X(t)^T
    dU = flat.T @ _flat(xp, cache.hs[:-1, ...])  # Σ_t dz(t) h(t-1)^T
    db = xp.sum(flat, axis=0)
    grads = {}
    for j, name in enumerate(names):
        rows = slice(j * H, (j + 1) * H)
        grads.update({f"W_{name}": dW[rows, :], f"U_{name}": dU[rows, :],
                      f"b_{name}": db[rows]})
    dx = _project(xp, dz, _stack(params, "W", names).T)
    return grads, dx, dh_next, dc_next


# -- GRU -----------------------------------------------------------------


def gru_forward(params, x, h0, lecture: bool):
    """h(1..T) of a tanh GRU (``gru`` equations), in the lecture's
    convention (``lecture``) or PyTorch's.

    Returns:
        hs (T + 1, B, H) from h(0); zrc (T, B, 3H), the gates z, r and the
        candidate side by side; inner (T, B, H), r(t) ∘ h(t-1) (lecture)
        or U_h h(t-1) + b_hn (PyTorch).
    """
    xp = namespace(x)
    T, B, _ = x.shape
    H = params["U_h"].shape[0]
    bias = params["b_h"] if lecture else params["b_in"]
    W = _stack(params, "W", "zrh")
    b = xp.concat([params["b_z"], params["b_r"], bias])
    dt = _result_type(xp, x, h0, W, b, params["U_z"], params["U_r"],
                      params["U_h"], params.get("b_hn"))
    # z's and r's rows halved once (exact): tanh gives tanh(a / 2) and
    # σ(a) = tanh(a / 2) / 2 + 1 / 2
    a, _, _ = _gate_scales(xp, 2, H, x, dt)
    zx = _project(xp, x, W * a[:, None], b * a)
    U_zr, U_h = 0.5 * _stack(params, "U", "zr").T, params["U_h"].T
    if not lecture:                          # one product for z, r and n
        U_zrh = xp.concat([U_zr, U_h], axis=1)
    hs = _empty(xp, (T + 1, B, H), x, dt)
    zrc = _empty(xp, (T, B, 3 * H), x, dt)
    inner = _empty(xp, (T, B, H), x, dt)
    h = h0
    hs[0, ...] = h
    for t in range(T):
        zx_t = zx[t, ...]
        if lecture:
            zr = h @ U_zr
        else:
            zh = h @ U_zrh
            zr = zh[:, :2 * H]
            in_t = zh[:, 2 * H:] + params["b_hn"]  # U_h h(t-1) + b_hn
        zr += zx_t[:, :2 * H]
        # z(t), r(t) = σ(W X(t) + U h(t-1) + b)
        g = xp.tanh(zr)
        g *= 0.5
        g += 0.5
        z, r = g[:, :H], g[:, H:]
        if lecture:
            in_t = r * h                     # r(t) ∘ h(t-1)
            c = xp.tanh(zx_t[:, 2 * H:] + in_t @ U_h)
            h = h + z * (c - h)              # (1 - z) h(t-1) + z h~(t)
        else:
            c = xp.tanh(zx_t[:, 2 * H:] + r * in_t)
            h = c + z * (h - c)              # (1 - z) n(t) + z h(t-1)
        zrc[t, :, :2 * H], zrc[t, :, 2 * H:] = g, c
        inner[t, ...], hs[t + 1, ...] = in_t, h
    return hs, zrc, inner


def gru_backward(params, dhs, cache, dh_T, lecture: bool):
    """``gru.hidden_backward`` for a tanh GRU in either convention.

    ``cache``: any object with the arrays x, hs, z, r, c, inner of a
    forward pass (``gru.Cache``); ``dh_T``: None or the gradient reaching
    h(T).

    Returns:
        (grads {W_g, U_g, b_... of the convention}, dx (T, B, D), dh(0)).
    """
    xp = namespace(dhs)
    T, B, H = dhs.shape
    dt = _result_type(xp, dhs, cache.hs, cache.z, params["U_h"], dh_T)
    # lecture: da = [da_z, da_r, da_c]; pytorch: [da_z, da_r, d_inner],
    # the gradients reaching the rows of [U_z; U_r; U_h] (d_inner: at
    # U_h h(t-1) + b_hn), and da_c apart
    da, da_c_all = _empty(xp, (T, B, 3 * H), dhs, dt), None
    if lecture:
        U = _stack(params, "U", "zr")
    else:
        U = _stack(params, "U", "zrh")
        da_c_all = _empty(xp, (T, B, H), dhs, dt)
    dh_next = (xp.zeros((B, H), dtype=dt, device=device(dhs))
               if dh_T is None else dh_T)
    for t in reversed(range(T)):
        z, r, c = cache.z[t, ...], cache.r[t, ...], cache.c[t, ...]
        h_prev = cache.hs[t, ...]
        dh = dhs[t, ...] + dh_next           # output + step t+1
        if lecture:   # h = h(t-1) + z (h~ - h(t-1)), h~ = tanh(a_c)
            da_c = dh * z * (1.0 - c * c)
            da_z = dh * (c - h_prev) * z * (1.0 - z)
            d_inner = da_c @ params["U_h"]   # ∂E/∂(r ∘ h(t-1))
            da_r = d_inner * h_prev * r * (1.0 - r)
            da[t, ...] = xp.concat([da_z, da_r, da_c], axis=1)
            dh_next = dh * (1.0 - z) + d_inner * r + da[t, :, :2 * H] @ U
        else:         # h = n + z (h(t-1) - n), n = tanh(a_c)
            da_c = dh * (1.0 - z) * (1.0 - c * c)
            da_z = dh * (h_prev - c) * z * (1.0 - z)
            d_inner = da_c * r               # ∂E/∂(U_h h(t-1) + b_hn)
            da_r = da_c * cache.inner[t, ...] * r * (1.0 - r)
            da[t, ...] = xp.concat([da_z, da_r, d_inner], axis=1)
            da_c_all[t, ...] = da_c
            dh_next = dh * z + da[t, ...] @ U    # Σ_g U_g^T da_g
    flat, X = _flat(xp, da), _flat(xp, cache.x)
    h_prev = _flat(xp, cache.hs[:-1, ...])
    zr = flat[:, :2 * H]
    grads = {"b_z": xp.sum(flat[:, :H], axis=0),
             "b_r": xp.sum(flat[:, H:2 * H], axis=0)}
    if lecture:
        dW = flat.T @ X                      # Σ_t da(t) X(t)^T, all gates
        dU = zr.T @ h_prev                   # Σ_t da(t) h(t-1)^T, z and r
        grads["U_h"] = flat[:, 2 * H:].T @ _flat(xp, cache.inner)
        grads["b_h"] = xp.sum(flat[:, 2 * H:], axis=0)
        dx = _project(xp, da, _stack(params, "W", "zrh").T)
    else:
        da_c = _flat(xp, da_c_all)
        dW = xp.concat([zr.T @ X, da_c.T @ X], axis=0)
        dU = flat.T @ h_prev                 # all three in one product
        grads["U_h"] = dU[2 * H:, :]
        grads["b_in"] = xp.sum(da_c, axis=0)
        grads["b_hn"] = xp.sum(flat[:, 2 * H:], axis=0)
        dx = (_project(xp, da[..., :2 * H], _stack(params, "W", "zr").T)
              + _project(xp, da_c_all, params["W_h"].T))
    for j, name in enumerate("zrh"):
        grads[f"W_{name}"] = dW[j * H:(j + 1) * H, :]
    grads["U_z"], grads["U_r"] = dU[:H, :], dU[H:2 * H, :]
    return grads, dx, dh_next
