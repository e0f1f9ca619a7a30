"""Many-to-one: a class for a whole sequence of words (chapter 10).

A batch of B texts of different lengths L_b is right-padded to T =
max L_b: word indices w (T, B) and a mask m(t, b) = 1 for t <= L_b. An
embedding (``companion.embedding``) feeds a recurrent layer (``rnn``,
``lstm`` or ``gru``, passed as ``model``), and one vector per sequence,
a weighted sum of its states, feeds a softmax:

    X(t) = E[w(t)]                          h(t) = layer(X(t), h(t-1))
    s = Σ_t a(t) h(t)                       z = W_s s + b_s
    o = softmax(z)                          E = -(1/B) Σ_b ln o_b[y_b]

with pooling weights a(t, b) that read only the sequence's own steps:

    "last":  a(t, b) = [t = L_b]            the state at its last word
    "mean":  a(t, b) = m(t, b) / L_b        the mean of its L_b states.

Padding sits *after* each text, so the states of its own steps never see
a pad; the pads' states get weight 0. Backward, dz = (o - y)/B, dW_s =
dz^T s, ds = dz W_s, and the layer receives ∂E/∂h(t) = a(t) ds from
outside at every step; its dx goes to the embedding's backward.

The bag-of-words baseline is logistic regression (a softmax over K = 2)
on the word counts c (B, V) of each text: z = W_s c + b_s. It sees which
words occur, not their order.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import embedding, losses, rnn
from ._validate import check_array
from .backend import device, namespace, resolve, to_numpy

POOLS = ("last", "mean")


class Cache(NamedTuple):
    """What the backward pass needs: indices (T, B), pooling weights a
    (T, B), pooled s (B, H), the layer's cache and the model."""

    ids: Any
    a: Any
    s: Any
    layer: Any
    model: Any


class Loss(NamedTuple):
    """E (mean over the batch) and its gradients (keys of the params)."""

    loss: float
    grads: dict


def init_params(V: int, D: int, H: int, K: int, rng, model=rnn,
                xp=None) -> dict[str, Any]:
    """E (V, D), then the layer's keys with W_s (K, H), b_s (K,)."""
    return {"E": embedding.init_params(V, D, rng, xp=xp),
            **model.init_params(D, H, K, rng, xp=xp)}


def layer_params(params) -> dict[str, Any]:
    """The recurrent layer's parameters (everything but E)."""
    return {k: v for k, v in params.items() if k != "E"}


def pool_weights(mask, pool: str):
    """a (T, B) of ``pool`` ("last" or "mean") for a 0/1 mask (T, B)
    whose columns are ones then zeros, each with at least one 1."""
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
    xp = check_array(mask, "mask", ndim=2)
    lengths = xp.sum(mask, axis=0)                      # L_b
    T = mask.shape[0]
    steps = xp.arange(1, T + 1, dtype=mask.dtype, device=device(mask))
    prefix = xp.astype(steps[:, None] <= lengths[None, :], mask.dtype)
    if bool(xp.any(lengths < 1)) or not bool(xp.all(prefix == mask)):
        raise ValueError("mask must hold, in each column (sequence), "
                         "ones for its L >= 1 words then zeros (right "
                         "padding)")
    if pool == "last":
        return xp.astype(steps[:, None] == lengths[None, :], mask.dtype)
    return mask / lengths[None, :]


def forward(params, ids, mask, model=rnn, pool: str = "last",
            f_h: str = "tanh"):
    """Scores z (B, K) of the sequences ids (T, B) with mask (T, B)."""
    check_array(ids, "ids", ndim=2)
    check_array(mask, "mask", shape=tuple(ids.shape))
    a = pool_weights(mask, pool)
    x = embedding.forward(params["E"], ids)             # (T, B, D)
    lp = layer_params(params)
    h0 = model.zero_state(lp, ids.shape[1], x)
    hs, cache = model.hidden_forward(lp, x, h0, f_h)
    xp = namespace(hs)
    s = xp.sum(a[..., None] * hs, axis=0)               # Σ_t a(t) h(t)
    z = s @ params["W_s"].T + params["b_s"]             # W_s s + b_s
    return z, Cache(ids, a, s, cache, model)


def backward(params, dz, cache: Cache) -> dict[str, Any]:
    """Every gradient (keys of params) from dz = ∂E/∂z (B, K)."""
    check_array(dz, "dz", shape=(cache.s.shape[0], params["W_s"].shape[0]))
    xp = namespace(dz)
    grads = {"W_s": dz.T @ cache.s, "b_s": xp.sum(dz, axis=0)}
    ds = dz @ params["W_s"]                             # (B, H)
    dhs = cache.a[..., None] * ds[None, ...]            # a(t) ds, (T,B,H)
    back = cache.model.hidden_backward(layer_params(params), dhs,
                                       cache.layer)
    grads.update(back.grads)
    grads["E"] = embedding.backward(cache.ids, back.dx,
                                    params["E"].shape[0])
    return {k: grads[k] for k in params}


def loss_and_grads(params, ids, mask, y, model=rnn, pool: str = "last",
                   f_h: str = "tanh") -> Loss:
    """Mean cross-entropy over the batch, for class indices y (B,)."""
    z, cache = forward(params, ids, mask, model, pool, f_h)
    res = losses.softmax_cross_entropy(z, y, reduction="mean")
    grads = backward(params, res.grad, cache)
    return Loss(float(res.loss), grads)


# -- the bag-of-words baseline -------------------------------------------


def bow_init(V: int, K: int, xp=None) -> dict[str, Any]:
    """W_s (K, V) and b_s (K,), zero (the loss is convex)."""
    be = resolve(xp)
    return {"W_s": be.xp.zeros((K, V), dtype=be.float_dtype,
                               device=be.device),
            "b_s": be.xp.zeros((K,), dtype=be.float_dtype,
                               device=be.device)}


def bow_forward(params, counts):
    """z = W_s c + b_s for word counts c (B, V)."""
    check_array(counts, "counts", shape=(None, params["W_s"].shape[1]))
    return counts @ params["W_s"].T + params["b_s"]


def bow_loss_and_grads(params, counts, y) -> Loss:
    """Mean cross-entropy of the bag-of-words model and its gradients."""
    z = bow_forward(params, counts)
    res = losses.softmax_cross_entropy(z, y, reduction="mean")
    xp = namespace(z)
    grads = {"W_s": res.grad.T @ counts, "b_s": xp.sum(res.grad, axis=0)}
    return Loss(float(res.loss), grads)


# -- training and evaluation ---------------------------------------------


def fit(params, loss_fn, batches, optimizer, epochs: int):
    """``epochs`` passes of ``optimizer`` over ``batches(epoch)``, a list
    of host index arrays; ``loss_fn(params, idx)`` returns a Loss.

    Returns:
        (params, the mean training loss of each epoch).
    """
    state, history = optimizer.init(params), []
    for epoch in range(epochs):
        total, n = 0.0, 0
        for idx in batches(epoch):
            res = loss_fn(params, idx)
            params, state = optimizer.step(params, res.grads, state)
            total, n = total + res.loss * len(idx), n + len(idx)
        history.append(total / n)
    return params, history


def positive_probability(z) -> Any:
    """o_1 = softmax(z)_1 on the host, (B,): the score of "positive"."""
    xp = namespace(z)
    shifted = z - xp.max(z, axis=1, keepdims=True)
    e = xp.exp(shifted)
    return to_numpy(e[:, 1] / xp.sum(e, axis=1))
