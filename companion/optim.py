"""Optimizers: pure update rules and a small optimizer over a params dict.

Update rules for one parameter θ with gradient g = ∂E/∂θ (chapters 3-8):

    SGD        θ ← θ - η g
    momentum   v ← μ v - η g;               θ ← θ + v
    Adagrad    G ← G + g²;                  θ ← θ - η g / (sqrt(G) + ε)
    Adam       m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²  (step t ≥ 1)
               θ ← θ - η m̂ / (sqrt(v̂) + ε),  m̂ = m/(1-β1^t), v̂ = v/(1-β2^t)

(Polyak 1964 / Sutskever et al. 2013; Duchi et al. 2011; Kingma & Ba 2015.)
The optimizers keep no hidden state: ``state = opt.init(params)``, then
``params, state = opt.step(params, grads, state)`` returns new dicts and
never modifies its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from ._validate import check_positive
from .backend import namespace


def sgd_update(param, grad, lr: float):
    """θ - η g."""
    return param - lr * grad


def momentum_update(param, grad, velocity, lr: float, mu: float):
    """Classical momentum: v ← μ v - η g, θ ← θ + v. Returns (θ, v)."""
    velocity = mu * velocity - lr * grad
    return param + velocity, velocity


def adagrad_update(param, grad, accum, lr: float, eps: float):
    """G ← G + g², θ ← θ - η g / (sqrt(G) + ε). Returns (θ, G)."""
    xp = namespace(param, grad, accum)
    accum = accum + grad * grad
    return param - lr * grad / (xp.sqrt(accum) + eps), accum


def adam_update(param, grad, m, v, t: int, lr: float, beta1: float,
                beta2: float, eps: float):
    """One Adam step number ``t`` (t ≥ 1). Returns (θ, m, v)."""
    if t < 1:
        raise ValueError(f"Adam step number t must be >= 1, got {t}")
    xp = namespace(param, grad, m, v)
    m = beta1 * m + (1.0 - beta1) * grad
    v = beta2 * v + (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1 ** t)
    v_hat = v / (1.0 - beta2 ** t)
    return param - lr * m_hat / (xp.sqrt(v_hat) + eps), m, v


class OptimizerState(NamedTuple):
    """Steps taken so far and per-parameter slots (e.g. ``{"m": {...}}``)."""

    t: int
    slots: dict[str, dict[str, Any]]


def _check_grads(params: Mapping, grads: Mapping) -> None:
    if set(params) != set(grads):
        raise ValueError(
            f"grads must have the keys of params; missing "
            f"{sorted(set(params) - set(grads))}, unexpected "
            f"{sorted(set(grads) - set(params))}")
    for k in params:
        if tuple(params[k].shape) != tuple(grads[k].shape):
            raise ValueError(
                f"grads[{k!r}] has shape {tuple(grads[k].shape)}, "
                f"params[{k!r}] has shape {tuple(params[k].shape)}")


def _zeros_like(params: Mapping) -> dict[str, Any]:
    return {k: namespace(p).zeros_like(p) for k, p in params.items()}


@dataclass(frozen=True)
class SGD:
    """Plain gradient descent θ ← θ - η g."""

    lr: float = 0.1

    def __post_init__(self):
        check_positive(self.lr, "lr")

    def init(self, params: Mapping) -> OptimizerState:
        return OptimizerState(0, {})

    def step(self, params, grads, state: OptimizerState):
        _check_grads(params, grads)
        new = {k: sgd_update(p, grads[k], self.lr) for k, p in params.items()}
        return new, OptimizerState(state.t + 1, {})


@dataclass(frozen=True)
class Momentum:
    """Classical momentum with coefficient ``mu`` in [0, 1)."""

    lr: float = 0.01
    mu: float = 0.9

    def __post_init__(self):
        check_positive(self.lr, "lr")
        if not 0.0 <= self.mu < 1.0:
            raise ValueError(f"mu must be in [0, 1), got {self.mu}")

    def init(self, params: Mapping) -> OptimizerState:
        return OptimizerState(0, {"velocity": _zeros_like(params)})

    def step(self, params, grads, state: OptimizerState):
        _check_grads(params, grads)
        new, vel = {}, {}
        for k, p in params.items():
            new[k], vel[k] = momentum_update(
                p, grads[k], state.slots["velocity"][k], self.lr, self.mu)
        return new, OptimizerState(state.t + 1, {"velocity": vel})


@dataclass(frozen=True)
class Adagrad:
    """Adagrad: per-entry step η / (sqrt(Σ g²) + ε)."""

    lr: float = 0.1
    eps: float = 1e-8

    def __post_init__(self):
        check_positive(self.lr, "lr")
        check_positive(self.eps, "eps")

    def init(self, params: Mapping) -> OptimizerState:
        return OptimizerState(0, {"accum": _zeros_like(params)})

    def step(self, params, grads, state: OptimizerState):
        _check_grads(params, grads)
        new, acc = {}, {}
        for k, p in params.items():
            new[k], acc[k] = adagrad_update(
                p, grads[k], state.slots["accum"][k], self.lr, self.eps)
        return new, OptimizerState(state.t + 1, {"accum": acc})


@dataclass(frozen=True)
class Adam:
    """Adam with bias correction (Kingma & Ba 2015)."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        check_positive(self.lr, "lr")
        check_positive(self.eps, "eps")
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(
                    f"{name} must be in [0, 1), got {getattr(self, name)}")

    def init(self, params: Mapping) -> OptimizerState:
        return OptimizerState(0, {"m": _zeros_like(params),
                                  "v": _zeros_like(params)})

    def step(self, params, grads, state: OptimizerState):
        _check_grads(params, grads)
        t = state.t + 1
        new, m, v = {}, {}, {}
        for k, p in params.items():
            new[k], m[k], v[k] = adam_update(
                p, grads[k], state.slots["m"][k], state.slots["v"][k], t,
                self.lr, self.beta1, self.beta2, self.eps)
        return new, OptimizerState(t, {"m": m, "v": v})
