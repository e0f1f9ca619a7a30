"""Exercises of chapter 9: the solutions pass on every backend, and
plausible wrong answers (no clipping, clipping by the sum over the
references, n-grams that wrap or stop early, the arithmetic mean of the
precisions, no brevity penalty or its inverse, tanh' as 1 - h, the mean
over the batch, a transposed dW_v, ...) fail.
"""

import math
from collections import Counter
from pathlib import Path

from companion import backend as B
from companion import checks

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLVED = solved_functions(ROOT / "solutions" / "09-captioning.md")


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(9) == ["9.1", "9.2", "9.3"]
    assert set(SOLVED) == set(checks.chapter_ids(9))


def test_solutions_pass():
    for ex in sorted(SOLVED):
        report = checks.grade(ex, SOLVED[ex])
        assert report.verdict == checks.PASSED, report.text()
        assert report.passed == len(report.cases) >= 5


# -- mutants of 9.1 ---------------------------------------------------------


def _grams(words, n, stop=1):
    return Counter(tuple(words[i:i + n])
                   for i in range(len(words) - n + stop))


def _precision(references, candidate, n, combine, stop=1):
    counts = _grams(candidate, n, stop)
    limit = combine([_grams(r, n, stop) for r in references])
    return (sum(min(k, limit[g]) for g, k in counts.items()),
            sum(counts.values()))


def _max(counters):
    out = Counter()
    for c in counters:
        out |= c
    return out


def precision_unclipped(references, candidate, n):
    counts = _grams(candidate, n)
    seen = _max(_grams(r, n) for r in references)
    return sum(k for g, k in counts.items() if g in seen), \
        sum(counts.values())


def precision_sum_of_references(references, candidate, n):
    return _precision(references, candidate, n,
                      lambda cs: sum(cs, Counter()))


def precision_first_reference(references, candidate, n):
    return _precision(references[:1], candidate, n, _max)


def precision_misses_last_ngram(references, candidate, n):
    return _precision(references, candidate, n, _max, stop=0)


def precision_distinct_ngrams(references, candidate, n):
    counts = _grams(candidate, n)
    most = _max(_grams(r, n) for r in references)
    return sum(1 for g in counts if most[g]), len(counts)


def precision_unigrams_always(references, candidate, n):
    return _precision(references, candidate, 1, _max)


# -- mutants of 9.2 ---------------------------------------------------------


def _bp(c, r):
    return 1.0 if c > r else math.exp(1.0 - r / c)


def bleu_arithmetic_mean(matched, total, c, r):
    if min(matched) == 0:
        return 0.0
    return _bp(c, r) * sum(m / t for m, t in zip(matched, total)) \
        / len(matched)


def bleu_no_penalty(matched, total, c, r):
    if min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total))
    return math.exp(log_p / len(matched))


def bleu_inverted_penalty(matched, total, c, r):
    if min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total))
    bp = 1.0 if c > r else math.exp(1.0 - c / r)
    return bp * math.exp(log_p / len(matched))


def bleu_product_not_root(matched, total, c, r):
    if min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total))
    return _bp(c, r) * math.exp(log_p)


def bleu_fixed_four(matched, total, c, r):  # divides by 4 whatever N is
    if min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total))
    return _bp(c, r) * math.exp(log_p / 4)


def bleu_penalty_always(matched, total, c, r):  # exp(1 - r/c) even if c > r
    if min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total))
    return math.exp(1.0 - r / c) * math.exp(log_p / len(matched))


# -- mutants of 9.3 ---------------------------------------------------------


def _ns(*a):
    return B.namespace(*a)


def state_no_tanh_derivative(v, h0, dh0):
    return dh0.T @ v, _ns(v).sum(dh0, axis=0)


def state_derivative_one_minus_h(v, h0, dh0):
    da = dh0 * (1.0 - h0)
    return da.T @ v, _ns(v).sum(da, axis=0)


def state_batch_mean(v, h0, dh0):
    da = dh0 * (1.0 - h0 * h0)
    return da.T @ v / v.shape[0], _ns(v).mean(da, axis=0)


def state_transposed(v, h0, dh0):
    da = dh0 * (1.0 - h0 * h0)
    return v.T @ da, _ns(v).sum(da, axis=0)


def state_sigmoid_derivative(v, h0, dh0):
    da = dh0 * h0 * (1.0 - h0)
    return da.T @ v, _ns(v).sum(da, axis=0)


def state_bias_first_row(v, h0, dh0):
    da = dh0 * (1.0 - h0 * h0)
    return da.T @ v, da[0, ...]


MUTANTS = {
    "9.1": [precision_unclipped, precision_sum_of_references,
            precision_first_reference, precision_misses_last_ngram,
            precision_distinct_ngrams, precision_unigrams_always],
    "9.2": [bleu_arithmetic_mean, bleu_no_penalty, bleu_inverted_penalty,
            bleu_product_not_root, bleu_fixed_four,
            bleu_penalty_always],
    "9.3": [state_no_tanh_derivative, state_derivative_one_minus_h,
            state_batch_mean, state_transposed, state_sigmoid_derivative,
            state_bias_first_row],
}
SAYS = {"state_transposed": "wrong shape"}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(9, MUTANTS, SAYS)
