"""Exercises of chapter 10: the solutions pass on every backend, and
plausible wrong answers (the last occurrence of a word overwriting the
others, the mean instead of the sum, a transposed result, dividing by T
instead of each text's length, forgetting the mask, the state at step T
or one step off, ...) fail.
"""

from pathlib import Path

from companion import backend as B
from companion import checks

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLVED = solved_functions(ROOT / "solutions" / "10-sentiment.md")


def _ns(x):
    return B.namespace(x)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(10) == ["10.1", "10.2", "10.3"]
    assert set(SOLVED) == set(checks.chapter_ids(10))


def test_solutions_pass():
    for ex in sorted(SOLVED):
        report = checks.grade(ex, SOLVED[ex])
        assert report.verdict == checks.PASSED, report.text()
        assert report.passed == len(report.cases) >= 5


# -- mutants of 10.1 ------------------------------------------------------


def _one_hot(ids, V, dtype):
    xp = _ns(ids)
    flat = xp.reshape(ids, (-1,))
    return xp.astype(flat[:, None] == xp.arange(V, device=B.device(ids)),
                     dtype)


def emb_mean_not_sum(ids, dx, V):  # each row divided by its count
    xp = _ns(dx)
    oh = _one_hot(ids, V, dx.dtype)
    rows = oh.T @ xp.reshape(dx, (-1, dx.shape[-1]))
    return rows / xp.maximum(xp.sum(oh, axis=0), 1.0)[:, None]


def emb_last_occurrence_wins(ids, dx, V):  # overwrite, not accumulate
    xp = _ns(dx)
    oh = _one_hot(ids, V, dx.dtype)
    N = oh.shape[0]
    pos = xp.arange(1, N + 1, dtype=dx.dtype, device=B.device(dx))
    last = xp.max(oh * pos[:, None], axis=0)          # 1-based, 0 if unused
    keep = xp.astype(pos[:, None] == last[None, :], dx.dtype) * oh
    return keep.T @ xp.reshape(dx, (-1, dx.shape[-1]))


def emb_transposed(ids, dx, V):
    xp = _ns(dx)
    return (_one_hot(ids, V, dx.dtype).T
            @ xp.reshape(dx, (-1, dx.shape[-1]))).T


def emb_first_step_only(ids, dx, V):  # only t = 1 reaches E
    return _one_hot(ids[:1, ...], V, dx.dtype).T @ dx[0, ...]


def emb_rows_of_present_words(ids, dx, V):  # Σ dx put on every word seen
    xp = _ns(dx)
    oh = _one_hot(ids, V, dx.dtype)
    total = xp.sum(xp.reshape(dx, (-1, dx.shape[-1])), axis=0)
    seen = xp.astype(xp.sum(oh, axis=0) > 0, dx.dtype)
    return seen[:, None] * total[None, :]


# -- mutants of 10.2 ------------------------------------------------------


def _lengths(mask):
    return _ns(mask).sum(mask, axis=0)


def pool_divide_by_T(mask, ds):
    return (mask / mask.shape[0])[..., None] * ds[None, ...]


def pool_no_mask(mask, ds):  # pads get ds / L too
    xp = _ns(ds)
    w = xp.ones_like(mask) / _lengths(mask)[None, :]
    return w[..., None] * ds[None, ...]


def pool_sum_not_mean(mask, ds):
    return mask[..., None] * ds[None, ...]


def pool_ds_everywhere_over_T(mask, ds):
    xp = _ns(ds)
    return xp.ones_like(mask)[..., None] * ds[None, ...] / mask.shape[0]


def pool_last_step_only(mask, ds):  # the backward of "last", not "mean"
    xp = _ns(ds)
    steps = xp.arange(1, mask.shape[0] + 1, dtype=mask.dtype,
                      device=B.device(mask))
    a = xp.astype(steps[:, None] == _lengths(mask)[None, :], ds.dtype)
    return a[..., None] * ds[None, ...]


# -- mutants of 10.3 ------------------------------------------------------


def _at(hs, mask, shift=0, index=None):
    xp = _ns(hs)
    T = hs.shape[0]
    steps = xp.arange(1, T + 1, dtype=mask.dtype, device=B.device(mask))
    target = _lengths(mask) + shift if index is None else index
    a = xp.astype(steps[:, None] == target, hs.dtype)
    return xp.sum(a[..., None] * hs, axis=0)


def last_at_T(hs, mask):
    return hs[-1, ...]


def last_one_step_early(hs, mask):
    return _at(hs, mask, shift=-1)


def last_one_step_late(hs, mask):
    return _at(hs, mask, shift=1)


def last_first_state(hs, mask):
    return hs[0, ...]


def last_mean_of_states(hs, mask):
    xp = _ns(hs)
    return xp.sum(mask[..., None] * hs, axis=0) / _lengths(mask)[:, None]


MUTANTS = {
    "10.1": [emb_mean_not_sum, emb_last_occurrence_wins, emb_transposed,
             emb_first_step_only, emb_rows_of_present_words],
    "10.2": [pool_divide_by_T, pool_no_mask, pool_sum_not_mean,
             pool_ds_everywhere_over_T, pool_last_step_only],
    "10.3": [last_at_T, last_one_step_early, last_one_step_late,
             last_first_state, last_mean_of_states],
}
SAYS = {"emb_transposed": "wrong shape"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(10, MUTANTS, SAYS)
