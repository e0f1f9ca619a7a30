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
character-level language model.
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
    """Loss, gradients (keys of the params) and the states h(1..T)."""

    loss: float
    grads: dict[str, Any]
    hs: Any                  # (T, B, H)


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
              f_h: str = "tanh", mask=None,
              reduction: str = "sum") -> Result:
    """E = Σ_t E(o(t), y(t)) and its exact gradient by RNNBACK.

    ``"cross_entropy"``: o(t) = softmax(z_s(t)), y (T, B) class indices;
    ``"mse"``: o(t) = z_s(t), y (T, B, K). ``reduction`` as in
    ``companion.losses`` ("sum": the lectures' E; "batch": mean over B).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, "
                         f"got {objective!r}")
    hs, cache = rnn.hidden_forward(params, x, h0, f_h)
    z_s, _ = rnn.output_forward(params, hs, "identity")
    if objective == "cross_entropy":
        res = losses.softmax_cross_entropy(z_s, y, mask, reduction)
    else:
        res = losses.mse(z_s, y, mask, reduction)
    # both fuse the output activation: res.grad is dE/dz_s = o - y
    back = rnn.backward(params, res.grad, cache)
    return Result(float(res.loss), back.grads, hs)


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
                   mask=None, reduction: str = "sum") -> Result:
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
    states = [h0]                            # h(0), h(1), ... carried
    total, grads = 0.0, {k: xp.zeros_like(v) for k, v in params.items()}
    for start, new, end in windows(T, length, stride):
        counted = _counting_mask(xp, device(x), start, new, end, B, x.dtype)
        if mask is not None:
            counted = counted * xp.astype(mask[start:end, ...], x.dtype)
        res = full_bptt(params, x[start:end, ...], y[start:end, ...],
                        states[start], objective, f_h, counted, reduction)
        total += res.loss
        grads = {k: grads[k] + res.grads[k] for k in grads}
        states += [res.hs[t - start, ...] for t in range(new, end)]
    return Result(total, grads, xp.stack(states[1:], axis=0))


def _counting_mask(xp, dev, start, new, end, B, dtype):
    """0 for steps already counted by an earlier window, 1 for new ones."""
    old = xp.zeros((new - start, B), dtype=dtype, device=dev)
    fresh = xp.ones((end - new, B), dtype=dtype, device=dev)
    return xp.concat([old, fresh], axis=0)


def train(params, batches: Iterable, optimizer, *,
          objective: str = "cross_entropy", f_h: str = "tanh",
          window: int | None = None, clip: float | None = None,
          carry_state: bool = False, progress: bool | None = None,
          desc: str = "training"):
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
    h = None
    items = list(batches)
    bar = tqdm(items, desc=desc, disable=_quiet(progress), unit="batch")
    for item in bar:
        x, y, mask = Batch(*item)
        xp = namespace(x)
        B, H = x.shape[1], params["W_h"].shape[0]
        if h is None or not carry_state or tuple(h.shape) != (B, H):
            h = xp.zeros((B, H), dtype=x.dtype, device=device(x))
        for start, end in _spans(x.shape[0], window):
            m = None if mask is None else mask[start:end, ...]
            res = full_bptt(params, x[start:end, ...], y[start:end, ...],
                            h, objective, f_h, m, reduction="batch")
            counted = (end - start) if m is None else \
                float(xp.sum(xp.astype(m, x.dtype))) / B
            history.loss.append(res.loss / max(counted, 1e-300))
            grads, norm, clipped = _clip(res.grads, clip)
            history.grad_norm.append(norm)
            history.clipped.append(clipped)
            params, state = optimizer.step(params, grads, state)
            h = res.hs[-1, ...]
        bar.set_postfix(loss=f"{history.loss[-1]:.4f}")
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
           temperature: float = 1.0) -> list[int]:
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
    xp = namespace(params["W_e"])
    V, H = params["W_s"].shape[0], params["W_h"].shape[0]
    if params["W_e"].shape[1] != V:
        raise ValueError("sample needs one-hot inputs: W_e must have "
                         f"D = V = {V} columns, has {params['W_e'].shape[1]}")
    if min(prompt) < 0 or max(prompt) >= V:
        raise ValueError(f"prompt indices must lie in [0, {V})")
    dev, dtype = device(params["W_e"]), params["W_e"].dtype
    eye = xp.eye(V, dtype=dtype, device=dev)
    state = rnn.State(xp.zeros((1, H), dtype=dtype, device=dev))
    out, symbol = [], None
    for step in range(len(prompt) + n - 1):
        symbol = prompt[step] if step < len(prompt) else out[-1]
        state, _ = rnn.step_forward(params, eye[symbol:symbol + 1, :],
                                    state, f_h)
        if step >= len(prompt) - 1:
            z = to_numpy(state.h @ params["W_s"].T + params["b_s"])[0]
            p = np.exp((z - z.max()) / temperature)
            cdf = np.cumsum(p / p.sum())
            out.append(int(min(np.searchsorted(cdf, rng.random()), V - 1)))
    return out
