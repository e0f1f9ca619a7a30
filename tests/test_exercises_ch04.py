"""Chapter 4 exercises: the solutions pass, plausible mistakes do not.

Each exercise of ``solutions/04-vanishing-exploding.md`` is graded on
every backend: the solved function must pass every case, and each wrong
implementation below (W_h transposed, 1 - z² for tanh'(z), a missing
diag, the ReLU derivative, the product of Jacobians in the wrong order,
the Frobenius norm, an off-by-one marker or lag, all values summed, the
mask at the wrong step, a mutated input, a missing return, ...) must fail.
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
    assert checks.chapter_ids(4) == ["4.1", "4.2", "4.3", "4.4"]
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
}
# what the first failing case must say, where it is specific
SAYS = {"jacobian_in_place": "modified its input z_h",
        "jacobian_none": "returned None",
        "jacobian_first_sequence_only": "wrong shape",
        "adding_without_mask": "expected a tuple (x, y, mask)",
        "adding_mask_at_first_step": "mask: max |error|",
        "adding_sums_all_values": "y: max |error|"}


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
