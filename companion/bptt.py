"""Backpropagation through time, full and truncated (chapter 3).

The loss of a sequence is a sum over time, E = Σ_t E(o(t), y(t)), and
full BPTT differentiates it exactly: RNNRUN forward over t = 1..T, then
RNNBACK from T down to 1 (``companion.rnn``).

Truncated BPTT (Williams & Peng 1990; the lectures' k-step unrolled
version) cuts the sequence into windows. Every ``stride`` steps, the
network is unrolled over the last ``length`` steps only (length ≥ stride),
starting from the hidden state carried from the earlier forward pass, and
the loss of the ``stride`` new steps is back-propagated through those
``length`` steps; nothing flows back past the window's first step. With
length = stride = T it is full BPTT; with length ≥ T and any stride the
gradients still sum to full BPTT's (each loss term flows back to t = 1).

``train`` runs a training loop (one update per window, clipping, any
optimizer of ``companion.optim``) and ``sample`` generates text from a
character-level language model. ``train_stride1`` runs the lectures'
algorithm as the slide states it: windows of k steps advancing one step
at a time, the error of each window's last step only, e = y - p,
back-propagated through the k copies, their weight changes summed, one
update per window (``last_error_bptt`` is one window).

Every driver takes ``model``, the module of a recurrent layer (default
``companion.rnn``; the gated layers follow the same protocol):
``hidden_forward(params, x, state0, f_h) -> (hs, cache)``,
``backward(params, dz_s, cache) -> Backward(grads, dx, dstate0)``,
``state_at(cache, t)`` (the state after t steps, 0 = the initial one) and
``zero_state(params, B, like)``; the output layer o(t) = f_s(W_s h(t) +
b_s) is ``rnn``'s for every model.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, NamedTuple

import numpy as np

from . import losses, rnn
from ._validate import check_array
from .backend import device, make_rng, namespace, to_numpy
from .clipping import clip_by_global_norm, global_norm

OBJECTIVES = ("cross_entropy", "mse")


class Result(NamedTuple):
    """Loss, gradients (keys of the params), states h(1..T), last state."""

    loss: float
    grads: dict[str, Any]
    hs: Any                  # (T, B, H)
    final: Any               # the model's state after the last step
    dh0: Any = None          # ∂E/∂h(0): the gradient of a trainable h(0)


class Batch(NamedTuple):
    """Inputs (T, B, D), targets ((T, B) classes or (T, B, K)), mask."""

    x: Any
    y: Any
    mask: Any = None


class History(NamedTuple):
    """Per update: mean loss per counted step, gradient norm, clipped."""

    loss: list[float]
    grad_norm: list[float]
    clipped: list[bool]


def full_bptt(params, x, y, h0, objective: str = "cross_entropy",
              f_h: str = "tanh", mask=None, reduction: str = "sum",
              model=rnn) -> Result:
    """E = Σ_t E(o(t), y(t)) and its exact gradient by RNNBACK.

    ``"cross_entropy"``: o(t) = softmax(z_s(t)), y (T, B) class indices;
    ``"mse"``: o(t) = z_s(t), y (T, B, K). ``reduction`` as in
    ``companion.losses`` ("sum": the lectures' E; "batch": mean over B).
    ``h0`` is the model's initial state (for ``rnn``, h(0) of (B, H)).
    """
    return _full_bptt(params, x, y, h0, objective, f_h, mask, reduction,
                      model)[0]


def _full_bptt(params, x, y, h0, objective, f_h, mask, reduction, model):
    """full_bptt and the forward cache (for the states of every step)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, "
                         f"got {objective!r}")
    hs, cache = model.hidden_forward(params, x, h0, f_h)
    z_s, _ = rnn.output_forward(params, hs, "identity")
    if objective == "cross_entropy":
        res = losses.softmax_cross_entropy(z_s, y, mask, reduction)
    else:
        res = losses.mse(z_s, y, mask, reduction)
    # both fuse the output activation: res.grad is dE/dz_s = o - y
    back = model.backward(params, res.grad, cache)
    final = model.state_at(cache, x.shape[0])
    return Result(float(res.loss), back.grads, hs, final, back.dh0), cache


def windows(T: int, length: int, stride: int | None = None):
    """The windows of truncated BPTT as (start, new, end) triples.

    Steps [start, end) are unrolled; the loss of steps [new, end) is
    counted (each step exactly once over all windows).
    """
    stride = length if stride is None else stride
    for name, value in (("T", T), ("length", length), ("stride", stride)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if stride > length:
        raise ValueError(f"stride ({stride}) must not exceed the window "
                         f"length ({length}): steps would get no gradient")
    out, new = [], 0
    while new < T:
        end = min(T, new + stride)
        out.append((max(0, end - length), new, end))
        new = end
    return out


def truncated_bptt(params, x, y, h0, length: int, stride: int | None = None,
                   objective: str = "cross_entropy", f_h: str = "tanh",
                   mask=None, reduction: str = "sum", model=rnn) -> Result:
    """Truncated BPTT over a whole sequence; gradients summed over windows.

    Args:
        length: steps unrolled per window (k).
        stride: steps between two windows (default: length, disjoint).

    Returns:
        Result(loss E, grads, states h(1..T)).
    """
    if reduction not in ("sum", "batch"):
        raise ValueError("truncated BPTT adds window losses: reduction "
                         f"must be 'sum' or 'batch', got {reduction!r}")
    check_array(x, "x", ndim=3)
    xp = namespace(x)
    T, B = x.shape[0], x.shape[1]
    states, hs = [h0], []                 # states after 0, 1, ... steps
    total, grads = 0.0, {k: xp.zeros_like(v) for k, v in params.items()}
    for start, new, end in windows(T, length, stride):
        counted = _counting_mask(xp, device(x), start, new, end, B, x.dtype)
        if mask is not None:
            counted = counted * xp.astype(mask[start:end, ...], x.dtype)
        res, cache = _full_bptt(params, x[start:end, ...],
                                y[start:end, ...], states[start], objective,
                                f_h, counted, reduction, model)
        total += res.loss
        grads = {k: grads[k] + res.grads[k] for k in grads}
        states += [model.state_at(cache, t + 1 - start)
                   for t in range(new, end)]
        hs += [res.hs[t - start, ...] for t in range(new, end)]
    return Result(total, grads, xp.stack(hs, axis=0), states[-1])


def _counting_mask(xp, dev, start, new, end, B, dtype):
    """0 for steps already counted by an earlier window, 1 for new ones."""
    old = xp.zeros((new - start, B), dtype=dtype, device=dev)
    fresh = xp.ones((end - new, B), dtype=dtype, device=dev)
    return xp.concat([old, fresh], axis=0)


def train(params, batches: Iterable, optimizer, *,
          objective: str = "cross_entropy", f_h: str = "tanh",
          window: int | None = None, clip: float | None = None,
          carry_state: bool = False, progress: bool | None = None,
          desc: str = "training", model=rnn):
    """Train an Elman layer: one optimizer update per BPTT window.

    For each batch (x, y[, mask]) the disjoint windows of ``window`` steps
    are visited in order (None: the whole sequence, full BPTT); each
    gives E (mean over the batch, summed over its counted steps), its
    gradient, clipping by the global norm if ``clip`` is set (the lectures'
    threshold rule), and one ``optimizer.step``. The hidden state is
    carried between windows, and between batches if ``carry_state``.

    Args:
        params: dict of the Elman layer's parameters (not modified).
        batches: iterable of :class:`Batch` or (x, y[, mask]) tuples.
        optimizer: e.g. ``optim.Adam(1e-2)``.
        progress: show a tqdm bar (None: only on a terminal).

    Returns:
        (new params, History).
    """
    from tqdm import tqdm

    state = optimizer.init(params)
    history = History([], [], [])
    h, batch = None, None
    items = list(batches)
    bar = tqdm(items, desc=desc, disable=_quiet(progress), unit="batch")
    for item in bar:
        x, y, mask = Batch(*item)
        xp = namespace(x)
        B = x.shape[1]
        if h is None or not carry_state or batch != B:
            h, batch = model.zero_state(params, B, x), B
        for start, end in _spans(x.shape[0], window):
            m = None if mask is None else mask[start:end, ...]
            res = full_bptt(params, x[start:end, ...], y[start:end, ...],
                            h, objective, f_h, m, "batch", model)
            counted = (end - start) if m is None else \
                float(xp.sum(xp.astype(m, x.dtype))) / B
            history.loss.append(res.loss / max(counted, 1e-300))
            grads, norm, clipped = _clip(res.grads, clip)
            history.grad_norm.append(norm)
            history.clipped.append(clipped)
            params, state = optimizer.step(params, grads, state)
            h = res.final
        bar.set_postfix(loss=f"{history.loss[-1]:.4f}")
    return params, history


def last_error_bptt(params, x, y, h, objective: str = "cross_entropy",
                    f_h: str = "tanh", model=rnn) -> Result:
    """One window of the lectures' BPTT: the error of its last step only.

    The k steps of ``x`` (k, B, D) run from the context ``h``; the loss
    E(o(k), y(k)) (mean over B) is back-propagated through the k copies
    and RNNBACK sums each weight's changes over them. dE/dz_s = p - y = -e.
    """
    xp = namespace(x)
    k, B = x.shape[0], x.shape[1]
    last = _counting_mask(xp, device(x), 0, k - 1, k, B, x.dtype)
    return full_bptt(params, x, y, h, objective, f_h, last, "batch", model)


def train_stride1(params, x, y, k: int, optimizer, *, passes: int = 1,
                  objective: str = "cross_entropy", f_h: str = "tanh",
                  clip: float | None = None, model=rnn):
    """The lectures' BPTT: a window of k steps at every step, one error.

    For t = 0 .. n - k: the window x[t : t+k] runs from the context h,
    its last step's error is back-propagated through the k copies
    (``last_error_bptt``), the summed change updates the weights, and the
    context advances one step, h = f(h, a[t]), with the new weights.
    ``x`` (n, B, D), ``y`` (n, B): y[t] is the target of step t (the
    slide's y[t+k] is the target that follows a[t+k-1]). Returns
    (new params, History), one entry per window.
    """
    n = x.shape[0]
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"k must be an int in [1, n = {n}], got {k!r}")
    state, history = optimizer.init(params), History([], [], [])
    for _ in range(passes):                       # until convergence
        h = model.zero_state(params, x.shape[1], x)   # h = 0, the context
        for t in range(n - k + 1):                # for t from 0 to n - k
            res = last_error_bptt(params, x[t:t + k, ...],
                                  y[t:t + k, ...], h, objective, f_h, model)
            history.loss.append(res.loss)         # the window's one error
            grads, norm, clipped = _clip(res.grads, clip)
            history.grad_norm.append(norm)
            history.clipped.append(clipped)
            params, state = optimizer.step(params, grads, state)  # update
            _, cache = model.hidden_forward(params, x[t:t + 1, ...], h, f_h)
            h = model.state_at(cache, 1)          # h = f(h, a[t])
    return params, history


def _quiet(progress: bool | None) -> bool:
    if progress is None:
        import sys
        return not sys.stderr.isatty()
    return not progress


def _spans(T: int, window: int | None):
    """[start, end) of the consecutive windows of one update each."""
    if window is None:
        return [(0, T)]
    return [(s, min(T, s + window)) for s in range(0, T, window)]


def _clip(grads, threshold):
    if threshold is None:
        return grads, global_norm(grads), False
    if not math.isfinite(global_norm(grads)):
        return grads, float("inf"), False  # let the caller see it diverge
    return tuple(clip_by_global_norm(grads, threshold))


def sample(params, prompt: list[int], n: int, rng, f_h: str = "tanh",
           temperature: float = 1.0, model=rnn) -> list[int]:
    """Generate n symbols from a character-level language model.

    The prompt's one-hot symbols are fed in order; then, repeatedly, the
    next symbol is drawn from o(t) = softmax(z_s(t) / temperature) (on the
    host, with ``rng``) and fed back as X(t+1). Returns the n new indices.
    """
    if not prompt:
        raise ValueError("prompt must hold at least one symbol index")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    rng = make_rng(rng)
    xp = namespace(params["W_s"])
    V = params["W_s"].shape[0]
    if min(prompt) < 0 or max(prompt) >= V:
        raise ValueError(f"prompt indices must lie in [0, {V})")
    dev, dtype = device(params["W_s"]), params["W_s"].dtype
    eye = xp.eye(V, dtype=dtype, device=dev)
    state = model.zero_state(params, 1, eye)
    out = []
    for step in range(len(prompt) + n - 1):
        symbol = prompt[step] if step < len(prompt) else out[-1]
        hs, cache = model.hidden_forward(
            params, eye[symbol:symbol + 1, None, :], state, f_h)
        state = model.state_at(cache, 1)
        if step >= len(prompt) - 1:
            z = to_numpy(hs[0, ...] @ params["W_s"].T + params["b_s"])[0]
            p = np.exp((z - z.max()) / temperature)
            cdf = np.cumsum(p / p.sum())
            out.append(int(min(np.searchsorted(cdf, rng.random()), V - 1)))
    return out
