"""companion.checks and companion.grading: the checker, the bulk grader
and the exercises generator.

The checker must accept the solutions of ``solutions/`` and correct code
in other styles, under NumPy, the GPU proxy and float32, whatever state
the notebook is in (``np.seterr``, the global RNG); reject every
deliberately wrong implementation below (a dropped term, a transposed
axis, an off-by-one, a wrong sign or convention, a naive softmax on
scores of ±1000, an ignored argument, a function that writes into its
input array, list or dict, one returning the wrong type or dtype, None,
or raising); grade "uses the reference implementation" a function that
calls the package's solution; and hold against the cheats (reading the
expected answer, patching the checker, forging the result, escaping the
time limit), since the student's code runs in a child process. The bulk
grader must grade a class whatever its submissions do (hostile, renamed,
truncated, garbled, hung), one row per exercise, with the right exit
status and gradebook; ``exercises/`` must be exactly what
``.ci/make_exercises.py`` makes of ``solutions/``.
"""

import importlib.util
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from companion import backend, checks
from companion.grading import bulk, scan, spec

from exercise_support import solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "00-foundations.md"


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_exercises", ROOT / ".ci" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_exercises = _load_generator()
SOLVED = solved_functions(SOLUTION)


# -- the generator: one source, no drift -----------------------------------


def test_exercises_are_generated_from_solutions():
    pairs = make_exercises.pairs()
    assert pairs, "no MyST notebook under solutions/"
    for solution, exercise in pairs:
        assert exercise.exists(), f"{exercise} missing: run make exercises"
        want = make_exercises.generate(solution.read_text(encoding="utf-8"))
        assert exercise.read_text(encoding="utf-8") == want, (
            f"{exercise.relative_to(ROOT)} is not what .ci/"
            "make_exercises.py makes of its solution: run make exercises "
            "(never edit exercises/ by hand)")
    generated = {e for _, e in pairs}
    orphans = [p for p in (ROOT / "exercises").glob("**/*.md")
               if p not in generated]
    assert not orphans, f"exercises without a solution: {orphans}"


def test_book_pages_are_generated_from_solutions():
    """book/exercises/X.md is what the generator makes of solutions/X.md:
    the exercises shown in the book cannot drift from the notebooks."""
    for solution, exercise in make_exercises.pairs():
        page = make_exercises.BOOK_PAGES / exercise.relative_to(
            make_exercises.EXERCISES)
        notebook = str(exercise.relative_to(ROOT).with_suffix(".ipynb"))
        want = make_exercises.book_page(
            solution.read_text(encoding="utf-8"), notebook)
        assert page.exists(), f"{page} missing: run make exercises"
        assert page.read_text(encoding="utf-8") == want, (
            f"{page.relative_to(ROOT)} is stale: run make exercises")
        # every exercise appears with its stub and a closed solution
        text = solution.read_text(encoding="utf-8")
        n = len(re.findall(r"(?m)^## Exercise ", text))
        assert n > 0 and want.count(":::{exercise}") == n
        assert want.count(":class: dropdown") == n
        assert want.count("raise NotImplementedError(") == n
        assert make_exercises.BEGIN not in want


def test_generate_replaces_solutions_and_keeps_the_rest():
    text = SOLUTION.read_text(encoding="utf-8")
    out = make_exercises.generate(text)
    assert "BEGIN SOLUTION" not in out and "END SOLUTION" not in out
    assert "xp.exp(-xp.abs(z))" in text and "xp.exp(-xp.abs(z))" not in out
    stubs = re.findall(r'NotImplementedError\(\s*"Exercise (\d+\.\d+):', out)
    assert stubs == [f"0.{k}" for k in range(1, 10)]
    for line in ("def sigmoid(z):", '    """σ(z) = 1 / (1 + exp(-z)) '
                 "element-wise, without overflow.", 'check("0.7", '
                 "central_difference)", "kernelspec:"):
        assert line in out
    assert max(map(len, out.splitlines())) <= 79


SMALL = """# T

<!-- BEGIN SOLUTION -->
solved
<!-- END SOLUTION -->

## Exercise 3.2: a `thing`

```{code-cell} ipython3
def f(x):
    \"\"\"Doc.\"\"\"
    y = 1
    # BEGIN SOLUTION
    return x + y
    # END SOLUTION
```
"""


def test_generate_on_a_small_notebook():
    assert make_exercises.generate(SMALL) == (
        "# T\n\n## Exercise 3.2: a `thing`\n\n```{code-cell} ipython3\n"
        'def f(x):\n    """Doc."""\n    y = 1\n'
        '    raise NotImplementedError("Exercise 3.2: a thing")\n```\n')


@pytest.mark.parametrize("broken", [
    SMALL.replace("    # END SOLUTION\n", ""),
    SMALL.replace("    # BEGIN SOLUTION\n", ""),
    SMALL.replace("## Exercise 3.2: a `thing`", "## Something"),
    SMALL.replace("<!-- END SOLUTION -->\n", ""),
    SMALL.replace("    return x + y\n", "    # BEGIN SOLUTION\n"),
], ids=["no-end", "no-begin", "no-heading", "markdown-open", "nested"])
def test_generate_rejects_broken_markers(broken):
    with pytest.raises(ValueError, match="line"):
        make_exercises.generate(broken)


# -- the checker accepts the solutions, rejects the mutants ----------------


def test_every_exercise_has_a_solution_and_a_check():
    assert set(SOLVED) == set(checks.chapter_ids(0))
    assert checks.chapter_ids(0) == [f"0.{k}" for k in range(1, 10)]


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 4


def _ns(x):
    return backend.namespace(x)


def sigmoid_naive(z):  # exp(-z) overflows: 0 where σ(z) ≈ 4e-309 > 0
    return 1.0 / (1.0 + _ns(z).exp(-z))


def sigmoid_ratio(z):  # e^z / (1 + e^z): inf / inf = NaN for z = 1000
    xp = _ns(z)
    return xp.exp(z) / (1.0 + xp.exp(z))


def sigmoid_sign(z):
    xp = _ns(z)
    return 1.0 / (1.0 + xp.exp(z))


def sigmoid_both_branches(z):  # e = exp(-z) overflows for z = -1000
    xp = _ns(z)
    e = xp.exp(-z)
    return xp.where(z >= 0, 1.0 / (1.0 + e), 1.0 / (1.0 + 1.0 / e))


def sigmoid_in_place(z):
    xp = _ns(z)
    e = xp.exp(-xp.abs(z))
    z[...] = xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return z


def sigmoid_tanh(z):
    return _ns(z).tanh(z)


def _log_softmax(z, axis=-1):
    xp = _ns(z)
    s = z - xp.max(z, axis=axis, keepdims=True)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


def _one_hot(y, z, shift=0):
    xp = _ns(z)
    ks = xp.arange(shift, z.shape[-1] + shift, device=backend.device(z))
    return xp.astype(y[:, None] == ks, z.dtype)


def ce_naive(z, y):  # no max subtracted: exp(1000) = inf
    xp = _ns(z)
    o = xp.exp(z) / xp.sum(xp.exp(z), axis=-1, keepdims=True)
    t = _one_hot(y, z)
    return -xp.sum(t * xp.log(o)), o - t


def ce_sign(z, y):
    xp = _ns(z)
    logp, t = _log_softmax(z), _one_hot(y, z)
    return -xp.sum(t * logp), t - xp.exp(logp)


def ce_mean(z, y):  # the mean over the batch, not the lectures' sum
    xp = _ns(z)
    logp, t = _log_softmax(z), _one_hot(y, z)
    return -xp.sum(t * logp) / z.shape[0], (xp.exp(logp) - t) / z.shape[0]


def ce_no_target(z, y):  # dz = o: the one-hot target never subtracted
    xp = _ns(z)
    logp, t = _log_softmax(z), _one_hot(y, z)
    return -xp.sum(t * logp), xp.exp(logp)


def ce_off_by_one(z, y):  # classes numbered from 1
    xp = _ns(z)
    logp, t = _log_softmax(z), _one_hot(y, z, shift=1)
    return -xp.sum(t * logp), xp.exp(logp) - t


def ce_batch_axis(z, y):  # softmax over the batch axis (transposed)
    xp = _ns(z)
    logp, t = _log_softmax(z, axis=0), _one_hot(y, z)
    return -xp.sum(t * logp), xp.exp(logp) - t


def ce_none(z, y):
    _log_softmax(z)


def mse_no_half(o, y, mask):
    xp = _ns(o)
    d = o - y
    return xp.sum(mask * xp.sum(d * d, axis=-1)), d * mask[..., None]


def mse_no_mask(o, y, mask):
    xp = _ns(o)
    d = o - y
    return 0.5 * xp.sum(d * d), d


def mse_grad_unmasked(o, y, mask):
    xp = _ns(o)
    d = o - y
    return 0.5 * xp.sum(mask * xp.sum(d * d, axis=-1)), d


def mse_mean_over_time(o, y, mask):
    xp = _ns(o)
    d = o - y
    T = o.shape[0]
    return (0.5 * xp.sum(mask * xp.sum(d * d, axis=-1)) / T,
            d * mask[..., None] / T)


def mse_mask_transposed(o, y, mask):
    xp = _ns(o)
    d = o - y
    m = xp.permute_dims(mask, (1, 0))[..., None]
    return 0.5 * xp.sum(m * d * d), m * d


def mse_raises(o, y, mask):
    raise ValueError("shapes do not match")


def _norm(grads):
    return sum(float(_ns(g).sum(g * g)) for g in grads.values()) ** 0.5


def clip_each(grads, threshold):  # each array by its own norm
    out = {}
    for k, g in grads.items():
        n = float(_ns(g).sum(g * g)) ** 0.5
        out[k] = g * (threshold / n) if n >= threshold else g
    return out


def clip_entries(grads, threshold):  # element-wise, turns the direction
    return {k: _ns(g).clip(g, -threshold, threshold)
            for k, g in grads.items()}


def clip_inverted(grads, threshold):  # norm / threshold
    n = _norm(grads)
    scale = n / threshold if n >= threshold else 1.0
    return {k: g * scale for k, g in grads.items()}


def clip_no_sqrt(grads, threshold):  # the squared norm as the norm
    n = _norm(grads) ** 2
    scale = threshold / n if n >= threshold else 1.0
    return {k: g * scale for k, g in grads.items()}


def clip_in_place(grads, threshold):
    n = _norm(grads)
    if n >= threshold:
        for g in grads.values():
            g *= threshold / n
    return grads


def clip_tuple(grads, threshold):
    n = _norm(grads)
    scale = threshold / n if n >= threshold else 1.0
    return tuple(g * scale for g in grads.values())


def adam_no_correction(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return theta - lr * m / (_ns(v).sqrt(v) + eps), m, v


def adam_t_minus_one(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    mh, vh = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
    return theta - lr * mh / (_ns(v).sqrt(vh) + eps), m, v


def adam_eps_inside(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    mh, vh = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * mh / _ns(v).sqrt(vh + eps), m, v


def adam_ascent(theta, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    mh, vh = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta + lr * mh / (_ns(v).sqrt(vh) + eps), m, v


def adam_old_moments(theta, g, m, v, t, lr, beta1, beta2, eps):
    mh, vh = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    new = theta - lr * mh / (_ns(v).sqrt(vh) + eps)
    return new, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g


def adam_in_place(theta, g, m, v, t, lr, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    mh, vh = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * mh / (_ns(v).sqrt(vh) + eps), m, v


def count_no_biases(D, H, K):
    return H * D + H * H + K * H


def count_no_output_bias(D, H, K):
    return H * D + H * H + H + K * H


def count_square_input(D, H, K):  # W_h counted as (H, D)
    return H * D + H * D + H + K * H + K


def count_off_by_one(D, H, K):
    return (H + 1) * D + H * H + H + K * H + K


def count_float(D, H, K):
    return float(H * D + H * H + H + K * H + K)


def count_none(D, H, K):
    H * D + H * H + H + K * H + K


def _indices(x):
    return itertools.product(*map(range, x.shape))


def grad_forward(f, x, eps):  # one-sided: error of order eps
    xp = _ns(x)
    p, grad = xp.asarray(x, copy=True), xp.zeros_like(x)
    base = float(f(p))
    for i in _indices(x):
        old = float(p[i])
        p[i] = old + eps
        grad[i] = (float(f(p)) - base) / eps
        p[i] = old
    return grad


def grad_no_two(f, x, eps):  # divides by eps, not 2 eps
    xp = _ns(x)
    p, grad = xp.asarray(x, copy=True), xp.zeros_like(x)
    for i in _indices(x):
        old = float(p[i])
        p[i] = old + eps
        up = float(f(p))
        p[i] = old - eps
        grad[i] = (up - float(f(p))) / eps
        p[i] = old
    return grad


def grad_swapped(f, x, eps):  # E(θ - ε) - E(θ + ε)
    return -checks.exercises()["0.7"].reference(f, x, eps)


def grad_moves_x(f, x, eps):  # perturbs the caller's x, never restores
    xp = _ns(x)
    grad = xp.zeros_like(x)
    for i in _indices(x):
        old = float(x[i])
        x[i] = old + eps
        up = float(f(x))
        x[i] = old - eps
        grad[i] = (up - float(f(x))) / (2 * eps)
    return grad


def grad_raises(f, x, eps):
    return f(x, eps)


def _softmax(z):
    xp = _ns(z)
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def _eye(z):
    return _ns(z).eye(z.shape[-1], dtype=z.dtype, device=backend.device(z))


def jac_no_diagonal(z):  # -o_i o_j everywhere: δ_ij o_i forgotten
    o = _softmax(z)
    return -o[:, :, None] * o[:, None, :]


def jac_entrywise(z):  # o_i (1 - o_i) on the diagonal, as for a sigmoid
    o = _softmax(z)
    return _eye(z) * (o * (1.0 - o))[:, :, None]


def jac_sign(z):  # o oᵀ - diag(o)
    o = _softmax(z)
    return o[:, :, None] * o[:, None, :] - _eye(z) * o[:, :, None]


def jac_of_log_softmax(z):  # δ_ij - o_j: the Jacobian of log o
    o = _softmax(z)
    return _eye(z) - o[:, None, :] + 0.0 * o[:, :, None]


def jac_naive_softmax(z):  # no max subtracted: exp(1000) = inf
    xp = _ns(z)
    e = xp.exp(z)
    o = e / xp.sum(e, axis=-1, keepdims=True)
    return o[:, :, None] * (_eye(z) - o[:, None, :])


def jac_batch_axis(z):  # the softmax taken over the batch axis
    xp = _ns(z)
    e = xp.exp(z - xp.max(z, axis=0, keepdims=True))
    o = e / xp.sum(e, axis=0, keepdims=True)
    return o[:, :, None] * (_eye(z) - o[:, None, :])


def jac_summed_over_batch(z):  # one (V, V) matrix for the whole batch
    o = _softmax(z)
    return _ns(z).sum(o[:, :, None] * (_eye(z) - o[:, None, :]), axis=0)


def _step(f_x, f3_x, u, rounding=1.0, truncation=1 / 6, balance=False):
    """0.9 with switches for the usual mistakes (defaults: right)."""
    f, f3 = abs(f_x), abs(f3_x)
    if balance:  # the two terms set equal instead of dE/dε = 0
        eps = (rounding * u * f / (truncation * f3)) ** (1 / 3)
    else:  # dE/dε = 2 t f3 ε - r u f / ε² = 0
        eps = (rounding * u * f / (2 * truncation * f3)) ** (1 / 3)
    return eps, truncation * f3 * eps ** 2 + rounding * u * f / eps


def step_balanced(f_x, f3_x, u):  # |f'''| ε²/6 = u |f|/ε, not dE/dε = 0
    return _step(f_x, f3_x, u, balance=True)


def step_no_sixth(f_x, f3_x, u):  # the truncation error taken as |f'''| ε²
    return _step(f_x, f3_x, u, truncation=1.0)


def step_rounding_2u(f_x, f3_x, u):  # 2u |f| / ε: the 2 of 2ε dropped
    return _step(f_x, f3_x, u, rounding=2.0)


def step_sqrt_u(f_x, f3_x, u):  # the forward difference's √u rule
    eps = (u * abs(f_x) / abs(f3_x)) ** 0.5
    return eps, abs(f3_x) * eps ** 2 / 6 + u * abs(f_x) / eps


def step_rule_of_thumb(f_x, f3_x, u):  # ε* = u^(1/3), f and f''' ignored
    eps = u ** (1 / 3)
    return eps, eps ** 2 / 2


def step_truncation_only(f_x, f3_x, u):  # E(ε*) without the rounding
    eps = _step(f_x, f3_x, u)[0]
    return eps, abs(f3_x) * eps ** 2 / 6


def step_no_abs(f_x, f3_x, u):  # signs kept: a negative f''' breaks it
    eps = (3.0 * u * f_x / f3_x) ** (1.0 / 3.0)
    return eps, f3_x * eps ** 2 / 2


MUTANTS = {
    "0.1": [sigmoid_naive, sigmoid_ratio, sigmoid_sign, sigmoid_both_branches,
            sigmoid_in_place, sigmoid_tanh],
    "0.2": [ce_naive, ce_sign, ce_mean, ce_no_target, ce_off_by_one,
            ce_batch_axis, ce_none],
    "0.3": [mse_no_half, mse_no_mask, mse_grad_unmasked,
            mse_mean_over_time, mse_mask_transposed, mse_raises],
    "0.4": [clip_each, clip_entries, clip_inverted, clip_no_sqrt,
            clip_in_place, clip_tuple],
    "0.5": [adam_no_correction, adam_t_minus_one, adam_eps_inside,
            adam_ascent, adam_old_moments, adam_in_place],
    "0.6": [count_no_biases, count_no_output_bias, count_square_input,
            count_off_by_one, count_float, count_none],
    "0.7": [grad_forward, grad_no_two, grad_swapped, grad_moves_x,
            grad_raises],
    "0.8": [jac_no_diagonal, jac_entrywise, jac_sign, jac_of_log_softmax,
            jac_naive_softmax, jac_batch_axis, jac_summed_over_batch],
    "0.9": [step_balanced, step_no_sixth, step_rounding_2u, step_sqrt_u,
            step_rule_of_thumb, step_truncation_only, step_no_abs],
}
# what the first failing case must say, where it is specific
SAYS = {"sigmoid_in_place": "modified its input z",
        "clip_in_place": "grads",
        "adam_in_place": "modified its input m",
        "grad_moves_x": "modified its input x",
        "ce_none": "returned None", "count_none": "returned None",
        "mse_raises": "raised ValueError: shapes do not match",
        "grad_raises": "raised TypeError",
        "count_float": "expected an integer",
        "clip_tuple": "expected a dict",
        "ce_naive": "max |error| inf",
        "jac_naive_softmax": "max |error| inf",
        "jac_summed_over_batch": "wrong shape",
        "step_no_abs": "sin at x = 1"}


def test_every_exercise_has_mutants():
    assert set(MUTANTS) == set(checks.chapter_ids(0))


@pytest.mark.parametrize("ex, mutant", [
    (ex, m) for ex, ms in MUTANTS.items() for m in ms],
    ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_mutants_are_rejected(ex, mutant):
    report = checks.grade(ex, mutant, scan_source=False)
    assert report.verdict == checks.FAILED, report.text()
    assert report.passed < len(report.cases)
    assert SAYS.get(mutant.__name__, "") in report.message, report.text()


def test_a_mutant_that_is_only_wrong_sometimes_passes_some_cases(backend):
    # averaging over the batch is right for B = 1 only: the report says
    # which cases passed and names the output that differs
    report = checks.grade("0.2", ce_mean)
    verdicts = dict(report.cases)
    assert verdicts["B = 1, V = 3"] == checks.PASSED
    assert verdicts["random B = 4, V = 5"].startswith("E: max |error|")


def sigmoid_by_sign(z):  # one branch per sign, selected by a mask
    xp = _ns(z)
    positive = xp.astype(z >= 0, z.dtype)
    e = xp.exp(-xp.abs(z))
    return positive / (1.0 + e) + (1.0 - positive) * e / (1.0 + e)


def ce_log_sum_exp(z, y):  # E = Σ_b (-z_{b,y_b} + log Σ_j exp z_bj)
    xp = _ns(z)
    top = xp.max(z, axis=1, keepdims=True)
    lse = top[:, 0] + xp.log(xp.sum(xp.exp(z - top), axis=1))
    t = _one_hot(y, z)
    o = xp.exp(z - top) / xp.sum(xp.exp(z - top), axis=1, keepdims=True)
    return xp.sum(lse - xp.sum(t * z, axis=1)), o - t


def mse_loop_over_time(o, y, mask):  # one step at a time, as in BPTT
    xp = _ns(o)
    E, grads = 0.0, []
    for t in range(o.shape[0]):
        d = (o[t, ...] - y[t, ...]) * mask[t, ...][:, None]
        E = E + 0.5 * float(xp.sum(d * d))
        grads.append(d)
    return E, xp.stack(grads)


def adam_reordered(theta, g, m, v, t, lr, beta1, beta2, eps):
    m2 = m * beta1 + g * (1 - beta1)
    v2 = v * beta2 + (g ** 2) * (1 - beta2)
    step = (m2 / (1 - beta1 ** t)) / (_ns(v).sqrt(v2 / (1 - beta2 ** t))
                                      + eps)
    return theta - step * lr, m2, v2


def grad_with_basis(f, x, eps):  # f(x ± ε e_i) with a one-hot e_i
    xp = _ns(x)
    grad = xp.zeros_like(x)
    for i in _indices(x):
        e = xp.zeros_like(x)
        e[i] = eps
        grad[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return grad


def jac_by_loops(z):  # the two cases of the quotient rule, entry by entry
    xp = _ns(z)
    o = _softmax(z)
    B, V = z.shape
    J = xp.zeros((B, V, V), dtype=z.dtype, device=backend.device(z))
    for i in range(V):
        for j in range(V):
            if i == j:
                J[:, i, j] = o[:, i] * (1.0 - o[:, i])
            else:
                J[:, i, j] = -o[:, i] * o[:, j]
    return J


def step_by_terms(f_x, f3_x, u):  # E(ε*) summed term by term
    eps = (3 * u * abs(f_x) / abs(f3_x)) ** (1 / 3)
    return eps, abs(f3_x) * eps * eps / 6 + u * abs(f_x) / eps


@pytest.mark.parametrize("ex, fn", [
    ("0.1", sigmoid_by_sign), ("0.2", ce_log_sum_exp),
    ("0.3", mse_loop_over_time), ("0.5", adam_reordered),
    ("0.7", grad_with_basis), ("0.8", jac_by_loops),
    ("0.9", step_by_terms)], ids=lambda v: getattr(v, "__name__", v))
def test_other_correct_solutions_pass(ex, fn):
    report = checks.grade(ex, fn)
    assert report.verdict == checks.PASSED, report.text()


# -- 0.8, 0.9: the references against independent oracles -----------------


def test_softmax_jacobian_reference_against_central_differences():
    """Each row of the reference of 0.8 is the central-difference
    gradient of one o_i (exercise 0.7's method, 0.7's reference)."""
    import numpy as np
    from companion import activations, gradcheck
    from companion.grading.ch00 import _jacobian_cases, softmax_jacobian

    for case in _jacobian_cases():  # NumPy arrays: NumPy's namespace
        z = case.inputs["z"]
        J = softmax_jacobian(z)
        assert J.shape == z.shape + z.shape[-1:]
        for b in range(z.shape[0]):
            for i in range(z.shape[1]):
                num = gradcheck.numerical_gradient(
                    lambda v: activations.softmax(v)[i], z[b])
                np.testing.assert_allclose(J[b, i], num, rtol=1e-7,
                                           atol=1e-9, err_msg=case.label)


def test_cross_entropy_through_the_jacobian():
    """The solution of 0.8 says: Jᵀ (-y / o) = o - y, and at the logits
    (1000, 0, -1000) with y = (0, 0, 1) the product is 0 · ∞ = NaN."""
    import numpy as np
    from companion.grading.ch00 import softmax_jacobian

    r = np.random.default_rng(3)
    z, y = r.normal(0.0, 2.0, (4, 5)), np.eye(5)[[0, 3, 3, 4]]
    o = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    J = softmax_jacobian(z)
    np.testing.assert_allclose(np.einsum("bij,bi->bj", J, -y / o), o - y,
                               rtol=1e-12, atol=1e-14)
    z, y = np.array([[1000.0, 0.0, -1000.0]]), np.array([[0.0, 0.0, 1.0]])
    J = softmax_jacobian(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        o = np.exp(z - z.max())
        chained = np.einsum("bij,bi->bj", J, -y / o)
    assert o[0, 2] == 0.0 and np.isnan(chained[0, 2])
    assert np.array_equal(o - y, [[1.0, 0.0, -1.0]])


def test_best_step_reference_minimises_the_bound():
    """The closed form of 0.9 against a dense search over ε."""
    import numpy as np
    from companion.grading.ch00 import _step_cases, best_step

    for case in _step_cases():
        f, f3, u = (case.inputs[k] for k in ("f_x", "f3_x", "u"))
        eps_star, error_star = best_step(f, f3, u)
        grid = eps_star * np.geomspace(0.1, 10.0, 100001)
        bound = abs(f3) * grid ** 2 / 6 + u * abs(f) / grid
        at = int(np.argmin(bound))
        assert grid[at] == pytest.approx(eps_star, rel=1e-4), case.label
        assert bound[at] == pytest.approx(error_star, rel=1e-8), case.label


def test_central_difference_errors_stay_under_the_bound():
    """The cell after 0.9's check: the measured error of the central
    difference of p(x) = 1 + x + x²/2 + x³/6 at 0 is at most E(ε)."""
    def p(x):
        return 1.0 + x * (1.0 + x * (0.5 + x / 6.0))

    u = 2.0 ** -53
    for k in range(1, 16):
        eps = 10.0 ** -k
        error = abs((p(eps) - p(-eps)) / (2.0 * eps) - 1.0)
        assert error <= eps ** 2 / 6 + u / eps, k


# -- what a check prints ---------------------------------------------------


def _printed(capsys, ex, fn):
    checks.check(ex, fn)
    return capsys.readouterr().out


def test_output_is_the_same_on_every_backend(capsys):
    texts = {}
    for name in ("numpy", "gpu-proxy"):
        backend.set_backend(name)
        texts[name] = "".join(
            _printed(capsys, ex, fn) for ex, fns in MUTANTS.items()
            for fn in [SOLVED[ex], fns[0]])
    assert texts["numpy"] == texts["gpu-proxy"]
    assert "0x" not in texts["numpy"] and "numpy" not in texts["numpy"]


def test_not_implemented_and_bad_arguments_print_a_message(backend, capsys):
    assert _printed(capsys, "0.1", _stub) == (
        "Exercise 0.1: a numerically stable sigmoid\n"
        "  not implemented yet: complete the function and run this cell "
        "again\n")
    out = _printed(capsys, "0.99", _stub)
    assert out.startswith("check('0.99', ...): there is no exercise "
                          "'0.99'")
    assert "0.1, 0.2" in out
    out = _printed(capsys, "0.1", "sigmoid")
    assert out == ("check('0.1', ...): expected the function you wrote for "
                   "exercise 0.1, got a value of type str\n")
    with pytest.raises(KeyError):
        checks.grade("0.99", _stub)


def test_a_passing_check_prints_every_case(backend, capsys):
    out = _printed(capsys, "0.6", SOLVED["0.6"]).splitlines()
    assert out[0] == "Exercise 0.6: the parameters of an Elman layer"
    assert out[1] == "  D = 1, H = 1, K = 1: passed"
    assert out[-1] == "  5/5 cases passed"


def _stub(z):
    raise NotImplementedError("Exercise 0.1: a numerically stable sigmoid")


# -- the time limit and the child process ----------------------------------


def test_a_slow_function_takes_too_long_and_stops():
    def forever(D, H, K):
        while True:
            pass

    report = checks.grade("0.6", forever, time_limit=0.2)
    assert report.verdict == checks.FAILED
    assert report.cases == [("D = 1, H = 1, K = 1",
                             "took too long (more than 0.2 s)")]


def test_the_time_limit_cannot_be_escaped():
    # a bare except around the loop swallowed the old checker's alarm;
    # a loop inside C never saw it: the child is killed by its parent
    def bare_except(D, H, K):
        while True:
            try:
                while True:
                    pass
            except:  # noqa: E722
                pass

    def loop_in_c(D, H, K):
        return sum(itertools.repeat(1, 10 ** 13))

    for fn in (bare_except, loop_in_c):
        start = time.monotonic()
        report = checks.grade("0.6", fn, time_limit=0.3)
        assert time.monotonic() - start < 5.0
        assert report.message.endswith("took too long (more than 0.3 s)")


def test_the_time_limit_holds_outside_the_main_thread():
    box = {}

    def spin(D, H, K):
        while True:
            pass

    worker = threading.Thread(target=lambda: box.update(
        report=checks.grade("0.6", spin, time_limit=0.2)))
    worker.start()
    worker.join(10)
    assert box["report"].message.endswith("took too long (more than 0.2 s)")


def test_a_function_that_ends_its_process_or_eats_memory_costs_a_case():
    def exits(D, H, K):
        os._exit(3)

    def sys_exit(D, H, K):
        sys.exit(0)

    def eats_memory(D, H, K):
        return len(bytearray(1 << 40))  # 1 TiB: the child's limit says no

    def kills_itself(D, H, K):
        os.kill(os.getpid(), signal.SIGSEGV)

    assert checks.grade("0.6", exits).message.endswith(
        "exited (status 3) before returning")
    assert "raised SystemExit" in checks.grade("0.6", sys_exit).message
    assert "raised MemoryError" in checks.grade("0.6", eats_memory).message
    assert "segmentation fault" in checks.grade("0.6", kills_itself).message


# -- cheats: the student's code runs in a child, the verdict here ----------


def sigmoid_calls_the_reference(z):
    from companion import activations
    return activations.sigmoid(z)


_alias = None


def sigmoid_through_an_alias(z):  # the alias is set in another "cell"
    return _alias(z)


def sigmoid_reads_the_answer(z):
    # the old checker computed the reference first: it was on the stack
    frame = sys._getframe()
    while frame is not None:
        for name in ("want", "expected", "reference"):
            value = frame.f_locals.get(name)
            if hasattr(value, "shape") and value.shape == z.shape:
                return value
        frame = frame.f_back
    return z * 0.0


def sigmoid_patches_the_checker(z):
    # through sys.modules, which the scan for the reference does not read
    modules = sys.modules
    modules["companion.grading.compare"].compare = lambda *a, **k: ""
    modules["companion.grading.checker"].compare = lambda *a, **k: ""
    modules["companion.grading.checker"].judge = lambda *a, **k: None
    registry = modules["companion.grading.spec"].REGISTRY
    object.__setattr__(registry["0.1"], "rtol", 1e9)
    object.__setattr__(registry["0.1"], "atol", 1e9)
    return z * 0.0


def sigmoid_forges_the_result(z):  # writes straight into the pipe
    for fd in range(3, 64):
        try:
            os.write(fd, (10).to_bytes(8, "big") + b'["passed"]')
        except OSError:
            pass
    return z * 0.0


def test_cheats_fail(capsys):
    global _alias
    from companion import activations

    _alias = activations.sigmoid
    assert checks.grade("0.1", activations.sigmoid).verdict == \
        checks.USES_REFERENCE
    for fn in (sigmoid_calls_the_reference, sigmoid_through_an_alias,
               lambda z: __import__("companion").activations.sigmoid(z)):
        report = checks.grade("0.1", fn)
        assert report.verdict == checks.USES_REFERENCE, report.text()
    assert "it calls activations.sigmoid" in checks.grade(
        "0.1", sigmoid_through_an_alias).message
    for fn in (sigmoid_reads_the_answer, sigmoid_patches_the_checker,
               sigmoid_forges_the_result):
        report = checks.grade("0.1", fn)
        assert report.verdict == checks.FAILED, report.text()
        assert report.passed == 0, report.text()
    # nothing of the patching reached this process
    assert spec.exercises()["0.1"].rtol == 1e-9
    assert checks.grade("0.1", SOLVED["0.1"]).verdict == checks.PASSED


def test_other_package_calls_are_allowed():
    # 1.4 may call rnn.forward, 3.4 bptt.windows: only each exercise's own
    # reference is flagged
    assert scan.forbidden(spec.exercises()["1.4"]) == {
        "companion.losses.softmax_cross_entropy"}
    assert "companion.rnn.forward" in scan.forbidden(spec.exercises()["1.2"])
    for ex, name in spec.FUNCTIONS.items():
        assert spec.exercises()[ex].function == name
        for dotted in scan.forbidden(spec.exercises()[ex]):
            assert callable(scan.resolve_object(dotted)), dotted


def test_the_function_names_are_those_of_the_exercise_notebooks():
    names = {}
    for md in sorted((ROOT / "exercises").glob("*.md")):
        text = md.read_text(encoding="utf-8")
        for found in re.finditer(r'check\("([\d.]+)", (\w+)\)', text):
            names[found.group(1)] = found.group(2)
    assert names == spec.FUNCTIONS


# -- state of the notebook, return types, the GPU proxy --------------------


def test_notebook_state_changes_neither_the_reference_nor_the_verdict():
    import numpy as np

    solved = {}
    for md in sorted((ROOT / "solutions").glob("*.md")):
        solved.update(solved_functions(md))
    assert sorted(solved) == sorted(spec.FUNCTIONS)
    old = np.seterr(all="raise")
    np.random.seed(12345)
    try:
        backend.set_backend("numpy", dtype="float32")
        for ex, fn in sorted(solved.items()):
            report = checks.grade(ex, fn)
            assert report.verdict == checks.PASSED, report.text()
    finally:
        np.seterr(**old)


def sigmoid_np(z):  # NumPy on the input: fine on NumPy, not on a GPU
    import numpy as np
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_float32(z):
    xp = _ns(z)
    z = xp.astype(z, xp.float32)
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_list(z):
    return [SOLVED["0.1"](row) for row in z]


def test_every_check_runs_on_the_gpu_proxy_too():
    backend.set_backend("numpy")
    report = checks.grade("0.1", sigmoid_np)
    assert report.verdict == checks.FAILED
    assert report.message.split(": ", 1)[1].startswith(
        "on the GPU proxy, raised"), report.text()


def test_return_types_and_dtypes_are_checked():
    assert "returned an array of float32, expected float64" in \
        checks.grade("0.1", sigmoid_float32).message
    assert "returned a list of 7 values, expected an array" in \
        checks.grade("0.1", sigmoid_list).message

    def clip_returns_its_input(grads, threshold):
        new = SOLVED["0.4"](grads, threshold)
        grads.clear()
        grads.update(new)
        return grads

    def clip_same_dict(grads, threshold):  # nothing to clip: same dict
        new = SOLVED["0.4"](grads, threshold)
        norm = sum(float(_ns(g).sum(g * g)) for g in grads.values()) ** 0.5
        return grads if norm < threshold else new

    text = checks.grade("0.4", clip_returns_its_input).text()
    assert "modified its input grads['W_e']" in text
    assert "returned the dict it was given (grads)" in text
    assert ("returned the dict it was given (grads), expected a new dict"
            in checks.grade("0.4", clip_same_dict).message)


# -- the gradebook: the bulk grader ----------------------------------------


def test_chapter_and_functions_come_from_the_content(tmp_path):
    import jupytext

    nb = jupytext.read(ROOT / "solutions" / "01-recurrent-networks.md")
    assert bulk.chapter_of(nb) == 1
    cells = bulk.exercise_cells(nb, checks.chapter_ids(1))
    assert sorted(cells) == checks.chapter_ids(1)
    for ex, index in cells.items():
        assert f"def {spec.FUNCTIONS[ex]}(" in nb.cells[index].source
    assert bulk.chapter_of(jupytext.reads("# notes\n", fmt="md")) is None
    assert bulk._defines("sigmoid = lambda z: z", "sigmoid")
    assert not bulk._defines("def helper(z):\n    sigmoid = z", "sigmoid")


def test_cli_usage_errors(tmp_path, capsys):
    assert bulk.main([]) == 2
    assert bulk.main([str(tmp_path / "nothing.ipynb")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert bulk.main([str(tmp_path)]) == 2
    assert "no .ipynb notebook" in capsys.readouterr().err


def _notebook(path, cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:")
                else nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _solution_cells(md, drop_checks=True):
    import jupytext

    cells = []
    for cell in jupytext.read(md).cells:
        if drop_checks and cell.source.startswith("check("):
            continue
        cells.append(("md:" if cell.cell_type == "markdown" else "")
                     + cell.source)
    return cells


def test_a_class_is_graded_whatever_its_submissions_do(tmp_path):
    """Hostile, broken and hung submissions cost their own rows only."""
    room = tmp_path / "class"
    honest = room / "b-ana" / "homework.ipynb"    # renamed, checks deleted
    unsolved = room / "c-bob" / "mine.ipynb"      # chapter 1, renamed
    victims = [honest, unsolved]
    # eve is graded first: she attacks the others, the grader, the rules
    eve = _solution_cells(ROOT / "solutions" / "00-foundations.md", False)
    index = {c: i for i, c in enumerate(eve)}

    def replace(start, new):
        at = next(i for c, i in index.items() if c.startswith(start))
        eve[at] = new

    replace("def sigmoid(", "from companion import activations as act\n"
            "def sigmoid(z):\n    return act.sigmoid(z)")
    replace('check("0.2"', 'check("0.2", lambda z, y: None)')
    replace("def softmax_cross_entropy_step(", (
        "from companion import losses\n"
        "def softmax_cross_entropy_step(z, y):\n"
        "    raise NotImplementedError\n"
        "def ok(z, y):\n    return tuple(losses.softmax_cross_entropy(z, y))"))
    replace('check("0.3"', (
        "import companion.grading.checker as C, companion.grading.compare"
        " as K, os, json\n"
        "C.judge = lambda *a, **k: None; K.compare = lambda *a, **k: ''\n"
        f"for p in {[str(v) for v in victims]!r}:\n"
        "    open(p, 'w').write('{garbage')\n"
        f"os.makedirs({str(unsolved.parent / 'companion')!r}, "
        "exist_ok=True)\n"
        f"open({str(unsolved.parent / 'companion' / '__init__.py')!r}, 'w')"
        ".write('raise SystemExit')\n"
        "import subprocess; subprocess.Popen(['sleep', '600'])\n"
        "check('0.3', masked_mse)"))
    replace("def masked_mse(", (
        "def masked_mse(o, y, mask):\n"
        "    import sys\n"
        "    sys.modules['companion.grading.compare'].compare = "
        "lambda *a, **k: ''\n"
        "    return 0.0, o"))
    replace("import itertools", (
        "def central_difference(f, x, eps):\n"
        "    import os\n    os._exit(0)"))
    _notebook(room / "a-eve" / "00-foundations.ipynb", eve)
    _notebook(honest, _solution_cells(ROOT / "solutions" /
                                      "00-foundations.md"))
    _notebook(unsolved, _solution_cells(ROOT / "exercises" /
                                        "01-recurrent-networks.md"))
    whole = (ROOT / "exercises" / "00-foundations.ipynb").read_text()
    (room / "d-trunc.ipynb").write_text(whole[:len(whole) // 2])
    (room / "e-garbled.ipynb").write_bytes(bytes(range(256)) * 4)
    _notebook(room / "f-notes.ipynb", ["md:# my notes", "x = 1"])
    _notebook(room / "g-hang.ipynb", [
        "md:## Exercise 0.1: a numerically stable sigmoid",
        "while True:\n    try:\n        pass\n    except:\n        pass"])
    gradebook = tmp_path / "grades.csv"
    run = subprocess.run(
        [sys.executable, "-m", "companion.checks", str(room),
         "--gradebook", str(gradebook), "--cell-timeout", "4"],
        cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert run.returncode == 3, run.stdout + run.stderr
    import csv

    rows = list(csv.DictReader(gradebook.open(encoding="utf-8")))
    got = {(r["student"], r["exercise"]): r for r in rows}
    verdict = {k: r["verdict"] for k, r in got.items()}
    eve_ = "a-eve/00-foundations"
    assert verdict[(eve_, "0.1")] == checks.USES_REFERENCE
    assert got[(eve_, "0.1")]["first problem"] == \
        "it calls activations.sigmoid"
    assert verdict[(eve_, "0.2")] == checks.TODO
    assert verdict[(eve_, "0.3")] == checks.FAILED
    assert verdict[(eve_, "0.7")] == checks.FAILED
    assert got[(eve_, "0.7")]["first problem"].endswith(
        "exited (status 0) before returning")
    assert [verdict[(eve_, ex)] for ex in ("0.4", "0.5", "0.6")] == \
        [checks.PASSED] * 3
    assert [verdict[("b-ana/homework", ex)] for ex in
            checks.chapter_ids(0)] == [checks.PASSED] * 9
    assert [verdict[("c-bob/mine", ex)] for ex in checks.chapter_ids(1)] \
        == [checks.TODO] * len(checks.chapter_ids(1))
    for name in ("d-trunc", "e-garbled", "f-notes"):
        assert verdict[(name, "-")] == bulk.GRADER_ERROR
    assert "cannot read" in got[("d-trunc", "-")]["first problem"]
    assert "no exercise of the course" in got[("f-notes", "-")][
        "first problem"]
    assert verdict[("g-hang", "0.1")] == bulk.GRADER_ERROR
    assert set(rows[0]) == set(bulk.COLUMNS)
    # rows printed as each notebook finished, one line per row
    printed = [line for line in run.stdout.splitlines()
               if line.startswith(str(room))]
    assert len(printed) == len(rows)


def test_cli_exit_status_is_0_when_everything_passed():
    run = subprocess.run(
        [sys.executable, "-m", "companion.checks",
         "solutions/02-unrolling.ipynb"], cwd=ROOT, capture_output=True,
        text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line.split() for line in run.stdout.splitlines()
            if line.startswith("solutions/")]
    assert [row[1:3] for row in rows] == [
        [ex, "passed"] for ex in checks.chapter_ids(2)]


# -- the classic mistakes of every chapter that the old cases let pass -----


SOLVED_ALL = {}
for _md in sorted((ROOT / "solutions").glob("*.md")):
    SOLVED_ALL.update(solved_functions(_md))


def _rnn_outputs(params, x, h0, softmax):
    xp, h, outs = _ns(x), h0, []
    for t in range(x.shape[0]):
        h = xp.tanh(x[t, ...] @ params["W_e"].T + h @ params["W_h"].T
                    + params["b_e"])
        outs.append(softmax(h @ params["W_s"].T + params["b_s"]))
    return outs, h


def _naive_softmax(z):  # no max subtraction: exp(1000) = inf
    e = _ns(z).exp(z)
    return e / _ns(z).sum(e, axis=-1, keepdims=True)


def _stable_softmax(z):
    xp = _ns(z)
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def rnn_forward_naive_softmax(params, x, h0):
    outs, h = _rnn_outputs(params, x, h0, _naive_softmax)
    return _ns(x).stack(outs, axis=0), h


def rnn_forward_list_of_arrays(params, x, h0):
    return _rnn_outputs(params, x, h0, _stable_softmax)


def many_to_one_naive_softmax(params, x, h0, y):
    xp = _ns(x)
    outs, _ = _rnn_outputs(params, x, h0, lambda z: z)
    z = outs[-1]
    o = _naive_softmax(z)
    onehot = xp.astype(y[:, None] == xp.arange(
        z.shape[1], device=backend.device(z))[None, :], z.dtype)
    E = xp.sum(-xp.sum(onehot * z, axis=1)
               + xp.log(xp.sum(xp.exp(z), axis=1)))
    dz = xp.stack([xp.zeros_like(z)] * (x.shape[0] - 1) + [o - onehot])
    return E, dz


def perplexity_naive_softmax(z, y):
    xp = _ns(z)
    log_o = xp.log(_naive_softmax(z))
    picked = xp.take_along_axis(log_o, y[..., None], axis=-1)
    return float(xp.exp(-xp.mean(picked)))


def central_difference_eps_ignored(f, x, eps):
    return SOLVED_ALL["0.7"](f, x, 1e-6)


def adam_lr_ignored(theta, g, m, v, t, lr, beta1, beta2, eps):
    return SOLVED_ALL["0.5"](theta, g, m, v, t, 0.01, beta1, beta2, eps)


def stack_count_extends_sizes(D, sizes, K):
    sizes.insert(0, D)  # H_0 = D, in the caller's list
    count = sum(h * sizes[i] + h * h + h
                for i, h in enumerate(sizes[1:]))
    return count + K * sizes[-1] + K


def stacked_forward_keeps_states(params, x, h0s):
    xp, inputs = _ns(x), x
    for l in range(1, len(h0s) + 1):
        states = []
        for t in range(x.shape[0]):
            h0s[l - 1] = xp.tanh(inputs[t, ...] @ params[f"W_e_{l}"].T
                                 + h0s[l - 1] @ params[f"W_h_{l}"].T
                                 + params[f"b_e_{l}"])
            states.append(h0s[l - 1])
        inputs = xp.stack(states, axis=0)
    return inputs @ params["W_s"].T + params["b_s"]


@pytest.mark.parametrize("ex, mutant, says", [
    ("1.2", rnn_forward_naive_softmax, "max |error| inf"),
    ("1.4", many_to_one_naive_softmax, "max |error| inf"),
    ("8.3", perplexity_naive_softmax, "max |error| inf"),
    ("1.2", rnn_forward_list_of_arrays,
     "o: returned a list of 8 values, expected an array"),
    ("0.7", central_difference_eps_ignored, "eps = 0.01"),
    ("0.5", adam_lr_ignored, "lr = 0.1"),
    ("1.3", stack_count_extends_sizes, "modified its input sizes"),
    ("2.2", stacked_forward_keeps_states, "modified its input h0s[0]"),
], ids=lambda v: getattr(v, "__name__", None))
def test_the_mistakes_that_passed_before_fail(ex, mutant, says):
    report = checks.grade(ex, mutant, scan_source=False)
    assert report.verdict == checks.FAILED, report.text()
    assert says in report.text(), report.text()


def test_every_scalar_argument_changes_the_answer_somewhere():
    """A function that ignores an argument (uses a fixed eps, lr, ...)
    fails some case: for every number an exercise takes, putting the
    value of another case in its place changes some reference result."""
    from companion.grading.checker import reference
    from companion.grading.compare import compare

    for ex in spec.exercises().values():
        cases = ex.cases()
        for name, first in cases[0].inputs.items():
            if isinstance(first, bool) or not isinstance(first,
                                                         (int, float)):
                continue
            values = {c.inputs[name] for c in cases}
            assert len(values) > 1, (ex.id, name, "never varies")
            for other in values:
                caught = False
                for case in cases:
                    if case.inputs[name] == other:
                        continue
                    swapped = dict(case.inputs, **{name: other})
                    try:
                        wrong = reference(ex, swapped)
                    except Exception:  # noqa: BLE001 (a mutant raising)
                        caught = True
                        break
                    if compare(wrong, reference(ex, case.inputs), ex):
                        caught = True
                        break
                assert caught, (ex.id, name, other)


def test_without_fork_the_cases_run_in_a_thread(monkeypatch):
    # Windows: same verdicts for honest and wrong code; a hung function
    # is abandoned after its time limit
    monkeypatch.delattr(os, "fork")
    assert checks.grade("0.1", SOLVED["0.1"]).verdict == checks.PASSED
    assert checks.grade("0.1", sigmoid_naive).verdict == checks.FAILED
    stop = threading.Event()

    def spin(D, H, K):
        while not stop.is_set():
            pass

    report = checks.grade("0.6", spin, time_limit=0.2)
    stop.set()
    assert report.message.endswith("took too long (more than 0.2 s)")


@pytest.mark.parametrize("data", [
    {"t": "array", "dtype": "|O", "shape": [1], "data": ""},
    {"t": "array", "dtype": "<f8", "shape": [2], "data": "AAAA"},
    {"t": "pickle", "v": "gASV"}, {"t": "int", "v": "x"}, [1, 2],
    {"t": "dict", "k": [1], "v": [{"t": "py", "v": None}]},
])
def test_the_results_sent_back_are_plain_data(data):
    from companion.grading import wire

    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_a_partial_or_a_class_around_the_reference_is_found():
    import functools

    from companion import activations

    global _alias
    _alias = functools.partial(activations.sigmoid)
    assert checks.grade("0.1", sigmoid_through_an_alias).verdict == \
        checks.USES_REFERENCE

    class Wrapper:
        @staticmethod
        def run(z):
            return activations.sigmoid(z)

    assert checks.grade("0.1", Wrapper.run).verdict == \
        checks.USES_REFERENCE


def test_a_check_says_when_the_gpu_proxy_is_missing(monkeypatch):
    from companion.grading import isolate

    monkeypatch.setattr(isolate, "backends", lambda: ["numpy"])
    text = checks.grade("0.6", SOLVED["0.6"]).text()
    assert text.endswith("(on NumPy only: the GPU proxy needs "
                         "array-api-strict, pip install -e '.[test]')")
    monkeypatch.undo()
    assert "array-api-strict" not in checks.grade(
        "0.6", SOLVED["0.6"]).text()
