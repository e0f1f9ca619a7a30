"""Chapter 4 exercises: the solutions pass, plausible mistakes do not.

Each exercise of ``solutions/04-vanishing-exploding.md`` is graded on
every backend: the solved function must pass every case, and each wrong
implementation below (W_h transposed, 1 - z² for tanh'(z), a missing
diag, the ReLU derivative, the product of Jacobians in the wrong order,
the Frobenius norm, an off-by-one marker or lag, all values summed, the
mask at the wrong step, a mutated input, a missing return, a lost sign in
the bifurcation condition, the slope of the fixed point without its
feedback term, the layer-norm backward without its mean or σ terms, ...)
must fail.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from companion import backend as B
from companion import checks

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "04-vanishing-exploding.md"
SOLVED = solved_functions(SOLUTION)


def _ns(x):
    return B.namespace(x)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(4) == ["4.1", "4.2", "4.3", "4.4", "4.5",
                                     "4.6", "4.7"]
    assert set(SOLVED) == set(checks.chapter_ids(4))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


# -- mutants of 4.1: the Jacobian of one step ------------------------------


def jacobian_W_h_transposed(W_h, z_h):
    return (1.0 - _ns(z_h).tanh(z_h) ** 2)[:, :, None] * W_h.T


def jacobian_one_minus_z_squared(W_h, z_h):  # tanh' taken as 1 - z²
    return (1.0 - z_h * z_h)[:, :, None] * W_h


def jacobian_without_diag(W_h, z_h):  # f_h' forgotten
    xp = _ns(z_h)
    return xp.ones_like(z_h)[:, :, None] * W_h


def jacobian_relu_derivative(W_h, z_h):  # [z > 0] for tanh'
    xp = _ns(z_h)
    return xp.astype(z_h > 0, z_h.dtype)[:, :, None] * W_h


def jacobian_columns_scaled(W_h, z_h):  # W_h diag(f'): the wrong side
    return (1.0 - _ns(z_h).tanh(z_h) ** 2)[:, None, :] * W_h


def jacobian_first_sequence_only(W_h, z_h):  # (H, H), not (B, H, H)
    return (1.0 - _ns(z_h).tanh(z_h[0, ...]) ** 2)[:, None] * W_h


def jacobian_in_place(W_h, z_h):
    xp = _ns(z_h)
    z_h[...] = 1.0 - xp.tanh(z_h) ** 2
    return z_h[:, :, None] * W_h


def jacobian_none(W_h, z_h):
    (1.0 - _ns(z_h).tanh(z_h) ** 2)[:, :, None] * W_h


# -- mutants of 4.2: the norm of a product of Jacobians --------------------


def _norms(W_h, hs, order="right", norm="spectral", offset=1,
           deriv=True):
    xp = _ns(hs)
    T = hs.shape[0] - 1
    out, P = [], None
    for lag in range(1, T + 1):
        h = hs[T - lag + offset, ...]
        d = 1.0 - h * h if deriv else xp.ones_like(h)
        J = d[:, :, None] * W_h
        if P is None:
            P = J
        else:
            P = P @ J if order == "right" else J @ P
        ord_ = 2 if norm == "spectral" else "fro"
        out.append(np.linalg.norm(B.to_numpy(P), ord=ord_, axis=(-2, -1)))
    return np.stack(out)


def norms_wrong_order(W_h, hs):  # J(T-ℓ+1) ··· J(T)
    return _norms(W_h, hs, order="left")


def norms_frobenius(W_h, hs):
    return _norms(W_h, hs, norm="fro")


def norms_state_off_by_one(W_h, hs):  # f' of h(j - 1) in J(j)
    return _norms(W_h, hs, offset=0)


def norms_without_derivative(W_h, hs):  # W_h^ℓ
    return _norms(W_h, hs, deriv=False)


def norms_by_time_not_lag(W_h, hs):  # row t - 1 for the step t
    return _norms(W_h, hs)[::-1]


def norms_powers_of_one_step(W_h, hs):  # ‖J(T)‖^ℓ: submultiplicative bound
    first = _norms(W_h, hs)[0]
    lags = np.arange(1, hs.shape[0])[:, None]
    return first[None, :] ** lags


# -- mutants of 4.3: the adding problem ----------------------------------


def _adding(values, first, second, shift=0, target="marked", mask_at=-1,
            channels=(0, 1), y_every_step=False):
    xp = _ns(values)
    T, n = values.shape
    steps = xp.arange(T, device=B.device(values))[:, None]
    m = xp.astype((steps == first[None, :] + shift)
                  | (steps == second[None, :]), values.dtype)
    parts = [values, m]
    x = xp.stack([parts[channels[0]], parts[channels[1]]], axis=2)
    total = (xp.sum(values * m, axis=0) if target == "marked"
             else xp.sum(values, axis=0))
    last = xp.astype(steps == (T + mask_at) % T, values.dtype)
    y_last = xp.astype(steps == T - 1, values.dtype)
    ones = xp.ones_like(values)
    y = (ones * total) if y_every_step else y_last * total
    return x, y[..., None], last * ones


def adding_marker_off_by_one(values, first, second):
    return _adding(values, first, second, shift=1)


def adding_sums_all_values(values, first, second):
    return _adding(values, first, second, target="all")


def adding_mask_at_first_step(values, first, second):
    return _adding(values, first, second, mask_at=0)


def adding_channels_swapped(values, first, second):
    return _adding(values, first, second, channels=(1, 0))


def adding_target_at_every_step(values, first, second):
    return _adding(values, first, second, y_every_step=True)


def adding_without_mask(values, first, second):
    return _adding(values, first, second)[:2]


# -- mutants of 4.4: the copy baseline ------------------------------------


def baseline_blank_in_alphabet(T, n, A):  # uniform over A + 1 classes
    return n * math.log(A + 1) / (T + 2 * n)


def baseline_over_T(T, n, A):  # divided by the lag, not the length
    return n * math.log(A) / T


def baseline_per_recall_step(T, n, A):  # ln A, not averaged over time
    return math.log(A)


def baseline_length_off(T, n, A):  # T + n steps
    return n * math.log(A) / (T + n)


def baseline_log2(T, n, A):  # bits, not nats
    return n * math.log2(A) / (T + 2 * n)


# -- mutants of 4.5: the saddle-node weight ---------------------------------


def _bisect(f, target, lo=1.0, hi=2.0, tol=1e-13):
    while f(hi) < target:
        lo, hi = hi, 2 * hi
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return 0.5 * (lo + hi)


def _s(w):
    return math.sqrt(1.0 - 1.0 / w)


def fold_plus_atanh(b):  # w s + atanh(s): a sign lost
    return _bisect(lambda w: w * _s(w) + math.atanh(_s(w)), -b)


def fold_pitchfork(b):  # w* = 1, the b = 0 answer
    return 1.0


def fold_slope_at_zero(b):  # the slope condition at h = 0 only
    return 1.0 / (1.0 - b * b)


def fold_loose(b):  # bisection stopped at 1e-3
    return _bisect(lambda w: w * _s(w) - math.atanh(_s(w)), -b, tol=1e-3)


def fold_tanh_not_atanh(b):  # tanh(s) for atanh(s)
    return _bisect(lambda w: w * _s(w) - math.tanh(_s(w)), -b)


# -- mutants of 4.6: the fixed point and its slope ---------------------------


def _upper(w, b, start=1.0, steps=None):
    h, k = start, 0
    while True:
        new = math.tanh(w * h + b)
        k += 1
        if abs(new - h) <= 1e-15 or (steps and k >= steps):
            return new
        h = new


def slope_no_denominator(w, b):  # the feedback through w dh*/dw dropped
    h = _upper(w, b)
    return h, h * (1 - h * h)


def slope_plus_sign(w, b):  # 1 + w (1 - h²) in the denominator
    h = _upper(w, b)
    return h, h * (1 - h * h) / (1 + w * (1 - h * h))


def slope_lower_fixed_point(w, b):  # iterated from h = -1
    h = _upper(w, b, start=-1.0)
    return h, h * (1 - h * h) / (1 - w * (1 - h * h))


def slope_with_respect_to_b(w, b):  # dh*/db, not dh*/dw
    h = _upper(w, b)
    return h, (1 - h * h) / (1 - w * (1 - h * h))


def slope_ten_iterations(w, b):  # h after 10 steps, not the fixed point
    h = _upper(w, b, steps=10)
    return h, h * (1 - h * h) / (1 - w * (1 - h * h))


# -- mutants of 4.7: the backward pass of layer normalisation ----------------


def _ln(dz, g, a, eps, mean_term=True, hat_term=True, scale=True):
    xp = _ns(a)
    mu = xp.mean(a, axis=1, keepdims=True)
    inv = 1.0 / xp.sqrt(xp.mean((a - mu) ** 2, axis=1, keepdims=True) + eps)
    a_hat = (a - mu) * inv
    d_hat = dz * g
    da = d_hat
    if mean_term:
        da = da - xp.mean(d_hat, axis=1, keepdims=True)
    if hat_term:
        da = da - a_hat * xp.mean(d_hat * a_hat, axis=1, keepdims=True)
    if scale:
        da = da * inv
    return da, xp.sum(dz * a_hat, axis=0), xp.sum(dz, axis=0)


def ln_without_mean_term(dz, g, a, eps):  # μ treated as a constant
    return _ln(dz, g, a, eps, mean_term=False)


def ln_without_sigma_term(dz, g, a, eps):  # σ treated as a constant
    return _ln(dz, g, a, eps, hat_term=False)


def ln_without_inv_std(dz, g, a, eps):  # the 1/σ factor forgotten
    return _ln(dz, g, a, eps, scale=False)


def ln_dg_not_summed(dz, g, a, eps):  # dg per row, (B, H)
    da, _, db = _ln(dz, g, a, eps)
    xp = _ns(a)
    a_hat = (a - xp.mean(a, axis=1, keepdims=True)) / xp.sqrt(
        xp.var(a, axis=1, keepdims=True) + eps)
    return da, dz * a_hat, db


def ln_db_times_g(dz, g, a, eps):  # db = Σ dz ∘ g
    da, dg, _ = _ln(dz, g, a, eps)
    return da, dg, _ns(a).sum(dz * g, axis=0)


def ln_eps_ignored(dz, g, a, eps):  # sqrt(σ²) only
    return _ln(dz, g, a, 0.0)


MUTANTS = {
    "4.1": [jacobian_W_h_transposed, jacobian_one_minus_z_squared,
            jacobian_without_diag, jacobian_relu_derivative,
            jacobian_columns_scaled, jacobian_first_sequence_only,
            jacobian_in_place, jacobian_none],
    "4.2": [norms_wrong_order, norms_frobenius, norms_state_off_by_one,
            norms_without_derivative, norms_by_time_not_lag,
            norms_powers_of_one_step],
    "4.3": [adding_marker_off_by_one, adding_sums_all_values,
            adding_mask_at_first_step, adding_channels_swapped,
            adding_target_at_every_step, adding_without_mask],
    "4.4": [baseline_blank_in_alphabet, baseline_over_T,
            baseline_per_recall_step, baseline_length_off, baseline_log2],
    "4.5": [fold_plus_atanh, fold_pitchfork, fold_slope_at_zero, fold_loose,
            fold_tanh_not_atanh],
    "4.6": [slope_no_denominator, slope_plus_sign, slope_lower_fixed_point,
            slope_with_respect_to_b, slope_ten_iterations],
    "4.7": [ln_without_mean_term, ln_without_sigma_term, ln_without_inv_std,
            ln_dg_not_summed, ln_db_times_g, ln_eps_ignored],
}
# what the first failing case must say, where it is specific
SAYS = {"jacobian_in_place": "modified its input z_h",
        "jacobian_none": "returned None",
        "jacobian_first_sequence_only": "wrong shape",
        "adding_without_mask": "expected a tuple (x, y, mask)",
        "adding_mask_at_first_step": "mask: max |error|",
        "adding_sums_all_values": "y: max |error|",
        "ln_dg_not_summed": "wrong shape"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(4, MUTANTS, SAYS)


# -- other right answers pass ---------------------------------------------


def jacobian_via_diag_matmul(W_h, z_h):
    """diag(d) as a matrix, then a batched product: slower, but right."""
    xp = _ns(z_h)
    H = W_h.shape[0]
    eye = xp.eye(H, dtype=z_h.dtype, device=B.device(z_h))
    D = (1.0 - xp.tanh(z_h) ** 2)[:, :, None] * eye
    return D @ W_h


def norms_on_device(W_h, hs):
    """The norms from xp.linalg.matrix_norm, returned on the backend."""
    xp = _ns(hs)
    T = hs.shape[0] - 1
    out, P = [], None
    for lag in range(1, T + 1):
        h = hs[T - lag + 1, ...]
        J = (1.0 - h * h)[:, :, None] * W_h
        P = J if P is None else P @ J
        out.append(xp.linalg.matrix_norm(P, ord=2))
    return xp.stack(out)


@pytest.mark.parametrize("ex, fn", [
    ("4.1", jacobian_via_diag_matmul), ("4.2", norms_on_device)],
    ids=lambda v: getattr(v, "__name__", v))
def test_other_correct_solutions_pass(ex, fn):
    report = checks.grade(ex, fn)
    assert report.verdict == checks.PASSED, report.text()
