"""Exercises of chapter 7: the solutions pass on every backend, and
plausible wrong answers (the largest entry or singular value taken for
the spectral radius, the leak on the wrong term, a transposed W, the
washout forgotten, beta on the wrong matrix, the sample std, ...) fail.
"""

from pathlib import Path

import numpy as np
import pytest

from companion import backend as B
from companion import checks

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "07-esn.md"
SOLVED = solved_functions(SOLUTION)


def _ns(x):
    return B.namespace(x)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(7) == ["7.1", "7.2", "7.3", "7.4", "7.5",
                                     "7.6"]
    assert set(SOLVED) == set(checks.chapter_ids(7))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


# -- mutants of 7.1: the spectral radius -----------------------------------


def _scaled(W, rho, radius):
    return W * (rho / radius)


def radius_max_entry(W, rho):  # max |w_ij|
    return _scaled(W, rho, float(np.max(np.abs(B.to_numpy(W)))))


def radius_largest_singular_value(W, rho):  # ‖W‖_2
    return _scaled(W, rho, float(np.linalg.norm(B.to_numpy(W), 2)))


def radius_largest_real_part(W, rho):  # max Re λ, not max |λ|
    lam = np.linalg.eigvals(B.to_numpy(W))
    return _scaled(W, rho, float(np.max(np.abs(lam.real))))


def radius_inverted(W, rho):  # W · radius / rho
    radius = float(np.max(np.abs(np.linalg.eigvals(B.to_numpy(W)))))
    return W * (radius / rho)


def radius_in_place(W, rho):
    radius = float(np.max(np.abs(np.linalg.eigvals(B.to_numpy(W)))))
    W *= rho / radius
    return W


def radius_none(W, rho):
    W * rho


# -- mutants of 7.2: the leaky update --------------------------------------


def _leaky(W_in, W, b_in, u, x_prev, alpha, keep=None, new=None,
           recurrent=True, transposed=False, bias=True):
    xp = _ns(u)
    Wx = (x_prev @ W if transposed else x_prev @ W.T) if recurrent else 0.0
    x_tilde = xp.tanh(u @ W_in.T + Wx + (b_in if bias else 0.0))
    keep = 1.0 - alpha if keep is None else keep
    new = alpha if new is None else new
    return keep * x_prev + new * x_tilde


def leak_swapped(W_in, W, b_in, u, x_prev, alpha):  # α x + (1-α) x~
    return _leaky(W_in, W, b_in, u, x_prev, alpha, keep=alpha,
                  new=1.0 - alpha)


def leak_on_the_wrong_term(W_in, W, b_in, u, x_prev, alpha):
    # (1 - α) x~ + x(n-1): the leak applied to the new activation only
    return _leaky(W_in, W, b_in, u, x_prev, alpha, keep=1.0,
                  new=1.0 - alpha)


def leak_inside_tanh(W_in, W, b_in, u, x_prev, alpha):
    xp = _ns(u)
    return xp.tanh((1 - alpha) * x_prev
                   + alpha * (u @ W_in.T + x_prev @ W.T + b_in))


def leak_without_recurrence(W_in, W, b_in, u, x_prev, alpha):  # no W x
    return _leaky(W_in, W, b_in, u, x_prev, alpha, recurrent=False)


def leak_W_transposed(W_in, W, b_in, u, x_prev, alpha):  # W^T x(n-1)
    return _leaky(W_in, W, b_in, u, x_prev, alpha, transposed=True)


def leak_without_bias(W_in, W, b_in, u, x_prev, alpha):
    return _leaky(W_in, W, b_in, u, x_prev, alpha, bias=False)


def leak_in_place(W_in, W, b_in, u, x_prev, alpha):
    x_tilde = _ns(u).tanh(u @ W_in.T + x_prev @ W.T + b_in)
    x_prev *= 1.0 - alpha
    return x_prev + alpha * x_tilde


# -- mutants of 7.3: the ridge readout -------------------------------------


def _readout(xs, y, washout, beta, start=None, bias=True, where="SS",
             transpose=True):
    xp = _ns(xs)
    dev = B.device(xs)
    kept = xs[(washout if start is None else start):, ...]
    if bias:
        ones = xp.ones(tuple(kept.shape[:-1]) + (1,), dtype=xs.dtype,
                       device=dev)
        kept = xp.concat([ones, kept], axis=-1)
    S = xp.reshape(kept, (-1, kept.shape[-1]))
    Y = xp.reshape(y[y.shape[0] - kept.shape[0]:, ...], (-1, y.shape[-1]))
    F = S.shape[1]
    A = S.T @ S
    rhs = S.T @ Y
    if where == "SS":
        A = A + beta * xp.eye(F, dtype=xs.dtype, device=dev)
    elif where == "ones":
        A = A + beta * xp.ones((F, F), dtype=xs.dtype, device=dev)
    elif where == "rhs":
        rhs = rhs + beta
    W = xp.linalg.solve(A, rhs)
    return W.T if transpose else W


def readout_no_washout(xs, y, washout, beta):
    return _readout(xs, y, washout, beta, start=0)


def readout_washout_off_by_one(xs, y, washout, beta):
    return _readout(xs, y, washout, beta, start=washout + 1)


def readout_without_bias_column(xs, y, washout, beta):
    return _readout(xs, y, washout, beta, bias=False)


def readout_beta_on_the_right_side(xs, y, washout, beta):  # S^T Y + β
    return _readout(xs, y, washout, beta, where="rhs")


def readout_beta_times_ones(xs, y, washout, beta):  # β 11^T, not β I
    return _readout(xs, y, washout, beta, where="ones")


def readout_not_transposed(xs, y, washout, beta):  # W_out^T (F, K)
    return _readout(xs, y, washout, beta, transpose=False)


def readout_inverse_of_SS_T(xs, y, washout, beta):
    # (S S^T + β I)^{-1}: the Gram matrix of the steps, not the features
    xp = _ns(xs)
    kept = xs[washout:, ...]
    ones = xp.ones(tuple(kept.shape[:-1]) + (1,), dtype=xs.dtype,
                   device=B.device(xs))
    S = xp.reshape(xp.concat([ones, kept], axis=-1), (-1, 1 + xs.shape[-1]))
    Y = xp.reshape(y[washout:, ...], (-1, y.shape[-1]))
    M = S.shape[0]
    A = S @ S.T + beta * xp.eye(M, dtype=xs.dtype, device=B.device(xs))
    return Y.T @ xp.linalg.solve(A, S)


# -- mutants of 7.4: NRMSE ---------------------------------------------------


def _rmse(y, target):
    xp = _ns(y)
    return xp.sqrt(xp.mean((y - target) ** 2))


def nrmse_by_mean(y, target):
    return float(_rmse(y, target) / _ns(y).mean(target))


def nrmse_by_range(y, target):
    xp = _ns(y)
    return float(_rmse(y, target) / (xp.max(target) - xp.min(target)))


def nrmse_sample_std(y, target):  # ddof = 1
    return float(_rmse(y, target) / _ns(y).std(target, correction=1))


def nrmse_mse_over_variance(y, target):  # no square root
    return float(_rmse(y, target) ** 2 / _ns(y).var(target))


def nrmse_std_of_prediction(y, target):  # σ(y), not σ(y*)
    return float(_rmse(y, target) / _ns(y).std(y))


def nrmse_not_normalized(y, target):
    return float(_rmse(y, target))


def nrmse_none(y, target):
    _rmse(y, target)


# -- mutants of 7.5: the radius of the leaky update ------------------------


def _modulus(lam_re, lam_im, alpha):
    xp = _ns(lam_re)
    return xp.sqrt((1.0 - alpha + alpha * lam_re) ** 2
                   + (alpha * lam_im) ** 2)


def radius_shortcut(lam_re, lam_im, alpha):  # 1 - α + α ρ(W)
    xp = _ns(lam_re)
    rho = xp.max(xp.sqrt(lam_re ** 2 + lam_im ** 2))
    return float(1.0 - alpha + alpha * rho)


def radius_without_leak(lam_re, lam_im, alpha):  # ρ(W)
    xp = _ns(lam_re)
    return float(xp.max(xp.sqrt(lam_re ** 2 + lam_im ** 2)))


def radius_alpha_rho(lam_re, lam_im, alpha):  # α ρ(W): the I forgotten
    return alpha * radius_without_leak(lam_re, lam_im, alpha)


def radius_real_parts_only(lam_re, lam_im, alpha):  # Im λ dropped
    xp = _ns(lam_re)
    return float(xp.max(xp.abs(1.0 - alpha + alpha * lam_re)))


def radius_leak_swapped(lam_re, lam_im, alpha):  # |α + (1 - α) λ|
    return float(_ns(lam_re).max(_modulus(lam_re, lam_im, 1.0 - alpha)))


def radius_smallest(lam_re, lam_im, alpha):  # min, not max
    return float(_ns(lam_re).min(_modulus(lam_re, lam_im, alpha)))


# -- mutants of 7.6: the memory curve of a linear reservoir ---------------


def _P(W, w, terms=400):
    P, c = w @ w.T, W @ w
    for _ in range(terms):
        P = P + c @ c.T
        c = W @ c
    return P


def _curve(W, w, max_delay, P=None, power=None, start=0, solve=True):
    xp = _ns(W)
    P = _P(W, w) if P is None else P
    power = W if power is None else power
    c, cols = w, []
    for k in range(start + max_delay + 1):
        if k >= start:
            cols.append(c)
        c = power @ c
    Wkw = xp.concat(cols, axis=1)
    if not solve:
        return xp.sum(Wkw * Wkw, axis=0) / xp.sum(w * w)
    return xp.sum(Wkw * xp.linalg.solve(P, Wkw), axis=0)


def memory_by_series_sum(W, w, max_delay):  # a right answer (see below)
    return _curve(W, w, max_delay)


def memory_without_P_inverse(W, w, max_delay):  # |W^k w|^2 / |w|^2
    return _curve(W, w, max_delay, solve=False)


def memory_W_transposed(W, w, max_delay):  # (W^T)^k w
    return _curve(W, w, max_delay, power=W.T)


def memory_from_delay_one(W, w, max_delay):  # MC_1..MC_{K+1}
    return _curve(W, w, max_delay, start=1)


def memory_P_one_term(W, w, max_delay):  # P = w w^T + W w w^T W^T
    return _curve(W, w, max_delay, P=_P(W, w, terms=0))


def memory_P_without_transpose(W, w, max_delay):  # W^j w w^T W^j
    P, A = w @ w.T, W
    for _ in range(200):
        P = w @ w.T + A @ P @ A
    return _curve(W, w, max_delay, P=P)


def memory_cumulative(W, w, max_delay):  # running total, not MC_k
    return _ns(W).cumulative_sum(_curve(W, w, max_delay))


MUTANTS = {
    "7.1": [radius_max_entry, radius_largest_singular_value,
            radius_largest_real_part, radius_inverted, radius_in_place,
            radius_none],
    "7.2": [leak_swapped, leak_on_the_wrong_term, leak_inside_tanh,
            leak_without_recurrence, leak_W_transposed, leak_without_bias,
            leak_in_place],
    "7.3": [readout_no_washout, readout_washout_off_by_one,
            readout_without_bias_column, readout_beta_on_the_right_side,
            readout_beta_times_ones, readout_not_transposed,
            readout_inverse_of_SS_T],
    "7.4": [nrmse_by_mean, nrmse_by_range, nrmse_sample_std,
            nrmse_mse_over_variance, nrmse_std_of_prediction,
            nrmse_not_normalized, nrmse_none],
    "7.5": [radius_shortcut, radius_without_leak, radius_alpha_rho,
            radius_real_parts_only, radius_leak_swapped, radius_smallest],
    "7.6": [memory_without_P_inverse, memory_W_transposed,
            memory_from_delay_one, memory_P_one_term,
            memory_P_without_transpose, memory_cumulative],
}
# what the first failing case must say, where it is specific
SAYS = {"radius_in_place": "modified its input W",
        "radius_none": "returned None",
        "leak_in_place": "modified its input x_prev",
        "readout_without_bias_column": "wrong shape",
        "readout_not_transposed": "wrong shape",
        "nrmse_none": "returned None"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(7, MUTANTS, SAYS)


# -- other right answers pass ---------------------------------------------


def readout_by_least_squares_on_augmented_rows(xs, y, washout, beta):
    """Ridge as least squares: [S; sqrt(β) I] W^T = [Y; 0] (host)."""
    S = B.to_numpy(xs)[washout:].reshape(-1, xs.shape[-1])
    S = np.concatenate([np.ones((S.shape[0], 1)), S], axis=1)
    Y = B.to_numpy(y)[washout:].reshape(-1, y.shape[-1])
    F = S.shape[1]
    A = np.concatenate([S, np.sqrt(beta) * np.eye(F)])
    b = np.concatenate([Y, np.zeros((F, Y.shape[1]))])
    return B.asarray(np.linalg.lstsq(A, b, rcond=None)[0].T)


def leaky_radius_from_the_matrix(lam_re, lam_im, alpha):
    """The radius computed from all eigenvalues of the leaky matrix."""
    lam = B.to_numpy(lam_re) + 1j * B.to_numpy(lam_im)
    leaky = (1 - alpha) * np.eye(lam.size) + alpha * np.diag(lam)
    return float(np.max(np.abs(np.linalg.eigvals(leaky))))


@pytest.mark.parametrize("ex, fn", [
    ("7.3", readout_by_least_squares_on_augmented_rows),
    ("7.5", leaky_radius_from_the_matrix),
    ("7.6", memory_by_series_sum)],
    ids=lambda v: getattr(v, "__name__", v))
def test_other_correct_solutions_pass(ex, fn):
    report = checks.grade(ex, fn)
    assert report.verdict == checks.PASSED, report.text()
