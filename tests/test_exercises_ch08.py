"""Exercises of chapter 8: the solutions pass on every backend, and
plausible wrong answers (a shuffled split, scaling on all the data or
on train + validation, the sample std, an off-by-one split, no intercept,
a transposed W, ln 2 instead of ln, the sum instead of the mean, the
variance without the bias term, the drift's error taken as its bias alone,
p = a / L, p = a^L, ...) fail.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from companion import backend as B
from companion import checks

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLVED = solved_functions(ROOT / "solutions" / "08-applications.md")


def _ns(x):
    return B.namespace(x)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(8) == ["8.1", "8.2", "8.3", "8.4", "8.5"]
    assert set(SOLVED) == set(checks.chapter_ids(8))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


# -- mutants of 8.1 -------------------------------------------------------


def _split(s, n_train, n_val, fit_on=None, correction=0.0, cut=None,
           order=None):
    xp = _ns(s)
    if order is not None:
        s = xp.take(s, B.asarray(order), axis=0)
    n = n_train if cut is None else cut
    parts = (s[:n], s[n:n + n_val], s[n + n_val:])
    ref = parts[0] if fit_on is None else fit_on(s)
    m, sd = xp.mean(ref), xp.std(ref, correction=correction)
    return tuple((p - m) / sd for p in parts)


def split_scaled_on_all(s, n_train, n_val):
    return _split(s, n_train, n_val, fit_on=lambda a: a)


def split_scaled_on_train_and_val(s, n_train, n_val):
    return _split(s, n_train, n_val, fit_on=lambda a: a[:n_train + n_val])


def split_sample_std(s, n_train, n_val):
    return _split(s, n_train, n_val, correction=1.0)


def split_off_by_one(s, n_train, n_val):
    return _split(s, n_train, n_val, cut=n_train + 1)


def split_shuffled(s, n_train, n_val):
    order = np.random.default_rng(0).permutation(s.shape[0])
    return _split(s, n_train, n_val, order=order)


def split_in_place(s, n_train, n_val):
    xp = _ns(s)
    m, sd = xp.mean(s[:n_train]), xp.std(s[:n_train])
    s -= m
    s /= sd
    return s[:n_train], s[n_train:n_train + n_val], s[n_train + n_val:]


# -- mutants of 8.2 -------------------------------------------------------


def _design(X, intercept=True):
    xp = _ns(X)
    if not intercept:
        return X
    ones = xp.ones((X.shape[0], 1), dtype=X.dtype, device=B.device(X))
    return xp.concat([ones, X], axis=1)


def ar_without_intercept(X, Y):
    xp = _ns(X)
    A = _design(X, intercept=False)
    W = xp.linalg.solve(A.T @ A, A.T @ Y).T
    zeros = xp.zeros((Y.shape[1], 1), dtype=X.dtype, device=B.device(X))
    return xp.concat([zeros, W], axis=1)


def ar_not_transposed(X, Y):  # W^T (1 + p, h)
    A = _design(X)
    return _ns(X).linalg.solve(A.T @ A, A.T @ Y)


def ar_intercept_last(X, Y):  # [X, 1] instead of [1, X]
    xp = _ns(X)
    ones = xp.ones((X.shape[0], 1), dtype=X.dtype, device=B.device(X))
    A = xp.concat([X, ones], axis=1)
    return xp.linalg.solve(A.T @ A, A.T @ Y).T


def ar_with_ridge(X, Y):  # an unasked-for penalty β = 1
    xp = _ns(X)
    A = _design(X)
    eye = xp.eye(A.shape[1], dtype=X.dtype, device=B.device(X))
    return xp.linalg.solve(A.T @ A + eye, A.T @ Y).T


def ar_mean_removed_only(X, Y):  # intercept = mean of Y, slopes on raw X
    xp = _ns(X)
    W = xp.linalg.solve(X.T @ X, X.T @ Y).T
    return xp.concat([xp.mean(Y, axis=0)[:, None], W], axis=1)


def ar_none(X, Y):
    _design(X)


# -- mutants of 8.3 -------------------------------------------------------


def _log_o(z):
    xp = _ns(z)
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def _picked(z, y):
    return _ns(z).take_along_axis(_log_o(z), y[..., None], axis=-1)


def ppl_base_2(z, y):  # 2 ** (cross-entropy in nats)
    return 2.0 ** (-float(_ns(z).mean(_picked(z, y))))


def ppl_sum_not_mean(z, y):
    return math.exp(-float(_ns(z).sum(_picked(z, y))))


def ppl_mean_of_exps(z, y):  # mean_t exp(E_t), not exp(mean_t E_t)
    return float(_ns(z).mean(_ns(z).exp(-_picked(z, y))))


def ppl_cross_entropy(z, y):  # the cross-entropy itself
    return -float(_ns(z).mean(_picked(z, y)))


def ppl_next_target(z, y):  # targets shifted by one step
    xp = _ns(z)
    y2 = xp.concat([y[1:, ...], y[:1, ...]], axis=0)
    return math.exp(-float(xp.mean(_picked(z, y2))))


def ppl_no_log_softmax(z, y):  # the raw score taken as log-probability
    xp = _ns(z)
    picked = xp.take_along_axis(z, y[..., None], axis=-1)
    return math.exp(-float(xp.mean(picked)))


# -- mutants of 8.4: the naive and the drift forecasts ---------------------


def mses_variance_only(mu_train, mu_test, var_test):  # the bias forgotten
    return var_test, var_test


def mses_bias_only(mu_train, mu_test, var_test):  # the spread forgotten
    return mu_test ** 2, (mu_test - mu_train) ** 2


def mses_swapped(mu_train, mu_test, var_test):
    return var_test + (mu_test - mu_train) ** 2, var_test + mu_test ** 2


def mses_sign_of_bias(mu_train, mu_test, var_test):  # (μ + c)², not (μ - c)²
    return var_test + mu_test ** 2, var_test + (mu_test + mu_train) ** 2


def mses_std_not_variance(mu_train, mu_test, var_test):
    sd = math.sqrt(var_test)
    return sd + mu_test ** 2, sd + (mu_test - mu_train) ** 2


# -- mutants of 8.5: digits right and strings right ----------------------


def needed_divided(a, L):
    return a / L


def needed_power(a, L):
    return a ** L


def needed_linear(a, L):  # 1 - (1 - a) / L, the small-error guess
    return 1.0 - (1.0 - a) / L


def needed_log(a, L):
    return math.log(a) / L


MUTANTS = {
    "8.1": [split_scaled_on_all, split_scaled_on_train_and_val,
            split_sample_std, split_off_by_one, split_shuffled,
            split_in_place],
    "8.2": [ar_without_intercept, ar_not_transposed, ar_intercept_last,
            ar_with_ridge, ar_mean_removed_only, ar_none],
    "8.3": [ppl_base_2, ppl_sum_not_mean, ppl_mean_of_exps,
            ppl_cross_entropy, ppl_next_target, ppl_no_log_softmax],
    "8.4": [mses_variance_only, mses_bias_only, mses_swapped,
            mses_sign_of_bias, mses_std_not_variance],
    "8.5": [needed_divided, needed_power, needed_linear, needed_log],
}
SAYS = {"split_in_place": "modified its input s",
        "ar_not_transposed": "wrong shape",
        "ar_none": "returned None"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(8, MUTANTS, SAYS)
