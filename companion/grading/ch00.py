"""Exercises of chapter 0 (foundations): specs for ``companion.checks``.

Each spec names the reference in the package and the cases it is checked
on: fixed values, seeded random arrays, edge shapes (T = 1, B = 1, H = 1)
and values that break a naive formula (|z| = 1000). The equations are
those of the notebook ``solutions/00-foundations.md``:

    0.1  σ(z) = 1 / (1 + exp(-z))
    0.2  E = -Σ_b log softmax(z_b)_{y_b},  dE/dz = o - y
    0.3  E = Σ_t Σ_b m_b(t) ½ ‖o_b(t) - y_b(t)‖²,  dE/do = m (o - y)
    0.4  ĝ ← (threshold / ‖ĝ‖) ĝ  if ‖ĝ‖ ≥ threshold
    0.5  one Adam step with bias correction
    0.6  H·D + H·H + H + K·H + K parameters in an Elman layer
    0.7  ∂E/∂θ_i ≈ (E(θ + ε e_i) - E(θ - ε e_i)) / (2ε)
    0.8  the Jacobian of the softmax, ∂o_i/∂z_j = o_i (δ_ij - o_j)
    0.9  the step ε* = (3u|f| / |f'''|)^(1/3) that minimises the error
         bound |f'''| ε² / 6 + u |f| / ε of a central difference, and
         the bound there, |f'''| ε*² / 2
"""

from __future__ import annotations

import numpy as np

from .. import activations, clipping, gradcheck, losses, optim
from ..backend import device, namespace
from .spec import Case, Exercise, register


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _sigmoid_cases():
    big = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])
    return [
        Case("z = ±1000, ±50, ±1, 0", {"z": big}),
        Case("random (T, B, H) = (3, 2, 4)",
             {"z": _rng(1).normal(0.0, 5.0, (3, 2, 4))}),
        Case("T = B = H = 1", {"z": np.array([[[-0.5]]])}),
        Case("B = 1, |z| ≥ 700", {"z": np.array(
            [[-800.0, -710.0, 709.0, 750.0, -1e4]])}),
    ]


register(Exercise(
    "0.1", "a numerically stable sigmoid", activations.sigmoid,
    _sigmoid_cases, atol=0.0))


def _cross_entropy(z, y):
    return tuple(losses.softmax_cross_entropy(z, y))


def _cross_entropy_cases():
    r = _rng(2)
    return [
        Case("B = 1, V = 3", {"z": np.array([[1.0, 2.0, 3.0]]),
                              "y": np.array([2])}),
        Case("random B = 4, V = 5", {"z": r.normal(0.0, 2.0, (4, 5)),
                                     "y": r.integers(0, 5, 4)}),
        Case("logits ±1000", {"z": np.array([[1000.0, 0.0, -1000.0],
                                             [-1000.0, 1000.0, 999.0]]),
                              "y": np.array([1, 2])}),
        Case("B = 3, V = 2", {"z": r.normal(0.0, 1.0, (3, 2)),
                              "y": np.array([0, 1, 1])}),
        Case("V = 1", {"z": np.array([[0.3], [-2.0]]),
                       "y": np.array([0, 0])}),
    ]


register(Exercise(
    "0.2", "softmax cross-entropy of one time step", _cross_entropy,
    _cross_entropy_cases, outputs=("E", "dz")))


def _masked_mse(o, y, mask):
    return tuple(losses.mse(o, y, mask=mask))


def _mse_case(label, seed, T, B, K, lengths):
    r = _rng(seed)
    mask = (np.arange(T)[:, None] < np.asarray(lengths)[None, :])
    return Case(label, {"o": r.normal(0.0, 1.0, (T, B, K)),
                        "y": r.normal(0.0, 1.0, (T, B, K)),
                        "mask": mask.astype(np.float64)})


def _mse_cases():
    return [
        _mse_case("T = B = K = 1", 3, 1, 1, 1, [1]),
        _mse_case("T = 1, B = 3, K = 2, one padded", 4, 1, 3, 2, [1, 0, 1]),
        _mse_case("T = 4, B = 1, K = 3, last step padded", 5, 4, 1, 3, [3]),
        _mse_case("T = 5, B = 3, K = 2, lengths 5, 3, 1", 6, 5, 3, 2,
                  [5, 3, 1]),
        _mse_case("T = 3, B = 3, K = 3, no padding", 7, 3, 3, 3, [3, 3, 3]),
    ]


register(Exercise(
    "0.3", "squared error summed over time, with a mask", _masked_mse,
    _mse_cases, outputs=("E", "do")))


def _clip(grads, threshold):
    return clipping.clip_by_global_norm(grads, threshold).grads


def _clip_cases():
    r = _rng(8)
    elman = {"W_e": r.normal(0.0, 3.0, (3, 2)),
             "W_h": r.normal(0.0, 3.0, (3, 3)), "b_e": r.normal(0.0, 3.0, 3)}
    return [
        Case("norm below the threshold",
             {"grads": {"W_h": r.normal(0.0, 0.1, (2, 3))},
              "threshold": 5.0}),
        Case("W_e, W_h, b_e, threshold 1", {"grads": elman,
                                            "threshold": 1.0}),
        Case("norm equal to the threshold (3-4-5)",
             {"grads": {"a": np.array([3.0, 0.0]),
                        "b": np.array([[0.0, 4.0]])}, "threshold": 5.0}),
        Case("H = 1", {"grads": {"W_h": np.array([[-7.0]]),
                                 "b_e": np.array([0.5])}, "threshold": 2.0}),
        Case("large gradients, threshold 0.5",
             {"grads": {"W_s": r.normal(0.0, 1e3, (4, 3)),
                        "b_s": r.normal(0.0, 1e3, 4)}, "threshold": 0.5}),
    ]


register(Exercise(
    "0.4", "clipping by the global norm", _clip, _clip_cases))


def _adam(theta, g, m, v, t, lr, beta1, beta2, eps):
    return optim.adam_update(theta, g, m, v, t, lr, beta1, beta2, eps)


def _adam_case(label, seed, shape, t, scale=1.0, lr=0.01, beta1=0.9,
               beta2=0.999, eps=1e-8):
    r = _rng(seed)
    first = t == 1
    return Case(label, {
        "theta": r.normal(0.0, 1.0, shape),
        "g": r.normal(0.0, scale, shape),
        "m": np.zeros(shape) if first else r.normal(0.0, scale, shape),
        "v": (np.zeros(shape) if first
              else r.uniform(0.0, scale * scale, shape)),
        "t": t, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps})


def _adam_cases():
    return [
        _adam_case("first step, m = v = 0", 9, (3, 2), 1),
        _adam_case("step t = 5", 10, (4,), 5),
        _adam_case("step t = 1000, shape (1,)", 11, (1,), 1000),
        _adam_case("small gradients, eps = 1e-3", 12, (2, 2), 3,
                   scale=1e-3, eps=1e-3),
        _adam_case("beta1 = 0.5, beta2 = 0.75, H = 1", 13, (1, 1), 2,
                   beta1=0.5, beta2=0.75),
        _adam_case("lr = 0.1, step t = 2", 15, (3,), 2, lr=0.1),
    ]


register(Exercise(
    "0.5", "one Adam step", _adam, _adam_cases,
    outputs=("theta", "m", "v")))


ELMAN_SHAPES = {"W_e": ("H", "D"), "W_h": ("H", "H"), "b_e": ("H",),
                "W_s": ("K", "H"), "b_s": ("K",)}


def elman_parameter_count(D: int, H: int, K: int) -> int:
    """Entries of W_e (H, D), W_h (H, H), b_e (H,), W_s (K, H), b_s (K,)."""
    sizes = {"D": D, "H": H, "K": K}
    return sum(int(np.prod([sizes[n] for n in shape]))
               for shape in ELMAN_SHAPES.values())


def _count_cases():
    return [Case(f"D = {d}, H = {h}, K = {k}", {"D": d, "H": h, "K": k})
            for d, h, k in ((1, 1, 1), (3, 5, 2), (10, 20, 10),
                            (1, 128, 1), (300, 256, 10000))]


register(Exercise(
    "0.6", "the parameters of an Elman layer", elman_parameter_count,
    _count_cases, exact=True))


def sum_cos3(x):
    """E(x) = Σ cos(3 x) (large curvature: a forward difference is off)."""
    xp = namespace(x)
    return xp.sum(xp.cos(3.0 * x))


def log_sum_exp(x):
    """E(x) = log Σ exp(x) over every entry."""
    xp = namespace(x)
    top = xp.max(x)
    return top + xp.log(xp.sum(xp.exp(x - top)))


def cubic(x):
    """E(x) = Σ x³ + (Σ x)² (couples every entry)."""
    xp = namespace(x)
    return xp.sum(x * x * x) + xp.sum(x) ** 2


def _gradient(f, x, eps):
    return gradcheck.numerical_gradient(f, x, eps)


def _gradient_cases():
    r = _rng(14)
    return [
        Case("Σ cos(3x), x of shape (5,)",
             {"f": sum_cos3, "x": r.uniform(-1.0, 1.0, 5), "eps": 1e-6}),
        Case("log Σ exp(x), x of shape (2, 3)",
             {"f": log_sum_exp, "x": r.normal(0.0, 1.0, (2, 3)),
              "eps": 1e-6}),
        Case("Σ x³ + (Σ x)², x of shape (1,)",
             {"f": cubic, "x": np.array([0.7]), "eps": 1e-5}),
        Case("Σ x³ + (Σ x)², x of shape (3, 1, 2)",
             {"f": cubic, "x": r.normal(0.0, 1.0, (3, 1, 2)),
              "eps": 1e-6}),
        Case("Σ x³ + (Σ x)², eps = 0.01 (the step shows: error ε²)",
             {"f": cubic, "x": r.normal(0.0, 1.0, (2, 2)), "eps": 1e-2}),
    ]


register(Exercise(
    "0.7", "a central-difference gradient", _gradient, _gradient_cases,
    rtol=1e-7, atol=1e-9))


# -- 0.8 the Jacobian of the softmax (a derivation) ------------------------


def softmax_jacobian(z):
    """Reference of 0.8: J[b] = diag(o_b) - o_b o_bᵀ, o = softmax(z).

    Built from the outer product (not from ``softmax_backward``):
    ``tests/test_checks.py`` holds it to central differences.
    """
    xp = namespace(z)
    o = activations.softmax(z, axis=-1)                    # (B, V)
    eye = xp.eye(z.shape[-1], dtype=z.dtype, device=device(z))
    return o[:, :, None] * eye - o[:, :, None] * o[:, None, :]


def _jacobian_cases():
    r = _rng(16)
    return [
        Case("B = 1, V = 3", {"z": np.array([[1.0, 2.0, 3.0]])}),
        Case("random B = 4, V = 5", {"z": r.normal(0.0, 2.0, (4, 5))}),
        Case("logits ±1000", {"z": np.array([[1000.0, 0.0, -1000.0],
                                             [-1000.0, 1000.0, 999.0]])}),
        Case("equal logits, B = 2, V = 4", {"z": np.full((2, 4), 0.5)}),
        Case("B = 3, V = 2", {"z": r.normal(0.0, 1.0, (3, 2))}),
        Case("V = 1", {"z": np.array([[0.3], [-2.0]])}),
    ]


register(Exercise(
    "0.8", "the Jacobian of the softmax", softmax_jacobian,
    _jacobian_cases))


# -- 0.9 the best step of a central difference (predict first) -------------


def best_step(f_x, f3_x, u):
    """Reference of 0.9: the minimum of E(ε) = |f'''| ε²/6 + u |f| / ε.

    dE/dε = |f'''| ε / 3 - u |f| / ε² = 0 at ε*³ = 3 u |f| / |f'''|;
    the bound is then evaluated at ε* term by term (not simplified).
    """
    f, f3 = abs(float(f_x)), abs(float(f3_x))
    eps_star = (3.0 * u * f / f3) ** (1.0 / 3.0)
    return eps_star, f3 * eps_star ** 2 / 6.0 + u * f / eps_star


DOUBLE, SINGLE = 2.0 ** -53, 2.0 ** -24  # unit roundoffs of float64, 32


def _step_cases():
    return [
        Case("exp at x = 0: f = f''' = 1, float64",
             {"f_x": 1.0, "f3_x": 1.0, "u": DOUBLE}),
        Case("x³ at x = 2: f = 8, f''' = 6",
             {"f_x": 8.0, "f3_x": 6.0, "u": DOUBLE}),
        Case("sin at x = 1: f''' = -cos 1 < 0",
             {"f_x": float(np.sin(1.0)), "f3_x": -float(np.cos(1.0)),
              "u": DOUBLE}),
        Case("f = -3, f''' = 1e-3 (nearly quadratic)",
             {"f_x": -3.0, "f3_x": 1e-3, "u": DOUBLE}),
        Case("f = 1e6, f''' = 50", {"f_x": 1e6, "f3_x": 50.0,
                                    "u": DOUBLE}),
        Case("exp at x = 0 in float32 (u = 2^-24)",
             {"f_x": 1.0, "f3_x": 1.0, "u": SINGLE}),
    ]


register(Exercise(
    "0.9", "the best step of a central difference", best_step,
    _step_cases, outputs=("eps_star", "error_star"), rtol=1e-9,
    atol=0.0))
