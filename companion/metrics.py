"""Caption metrics: corpus BLEU and exact-caption accuracy (chapter 9).

BLEU (Papineni et al. 2002) compares each candidate caption with one or
more reference captions through n-grams. The *modified n-gram precision*
of a corpus clips each n-gram's count in a candidate by the largest
number of times it occurs in one reference of that candidate:

    p_n = Σ_C Σ_{g ∈ n-grams(C)} min(count_C(g), max_R count_R(g))
          / Σ_C Σ_{g ∈ n-grams(C)} count_C(g).

With c the total length of the candidates and r the effective reference
length (for each candidate, the length of the reference closest to its
own; the shorter one on a tie), the brevity penalty and the score are

    BP = 1 if c > r, else exp(1 - r / c),
    BLEU-N = BP · exp(Σ_{n=1}^{N} (1/N) ln p_n),

which is 0 when some p_n is 0 (no smoothing). The sums run over the
whole corpus before the ratio is taken: corpus BLEU is not the mean of
sentence scores. Captions are lists of tokens (words); any hashable
token works.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence


def ngrams(tokens: Sequence, n: int) -> Counter:
    """The n-grams of a token list with their counts."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    tokens = tuple(tokens)
    return Counter(tokens[i:i + n] for i in range(len(tokens) - n + 1))


def modified_precision(references: Sequence[Sequence],
                       candidate: Sequence, n: int) -> tuple[int, int]:
    """(clipped n-gram matches, n-grams) of one candidate."""
    counts = ngrams(candidate, n)
    most: Counter = Counter()
    for ref in references:
        most |= ngrams(ref, n)          # max over references, per n-gram
    clipped = sum(min(c, most[g]) for g, c in counts.items())
    return clipped, sum(counts.values())


def closest_length(references: Sequence[Sequence], c: int) -> int:
    """The reference length closest to c (the shorter one on a tie)."""
    return min((abs(len(r) - c), len(r)) for r in references)[1]


def brevity_penalty(c: int, r: int) -> float:
    """BP = 1 if c > r else exp(1 - r/c) (0 for an empty corpus c = 0)."""
    if c > r:
        return 1.0
    return math.exp(1.0 - r / c) if c > 0 else 0.0


def _check(references, candidates):
    if len(references) != len(candidates):
        raise ValueError(f"references and candidates must have the same "
                         f"length, got {len(references)} and "
                         f"{len(candidates)}")
    for i, refs in enumerate(references):
        if len(refs) == 0 or isinstance(refs[0], str):
            raise ValueError(
                f"references[{i}] must be a non-empty list of token lists "
                f"(one or more references per candidate), got {refs!r}")


def corpus_bleu(references: Sequence[Sequence[Sequence]],
                candidates: Sequence[Sequence], max_n: int = 4) -> float:
    """Corpus BLEU-N: references[i] is the list of references of
    candidates[i]; uniform weights 1/N, brevity penalty, no smoothing."""
    _check(references, candidates)
    if max_n < 1:
        raise ValueError(f"max_n must be >= 1, got {max_n}")
    matched, total = [0] * max_n, [0] * max_n
    c = r = 0
    for refs, cand in zip(references, candidates):
        for n in range(1, max_n + 1):
            m, t = modified_precision(refs, cand, n)
            matched[n - 1] += m
            total[n - 1] += t
        c += len(cand)
        r += closest_length(refs, len(cand))
    if min(matched) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matched, total)) / max_n
    return brevity_penalty(c, r) * math.exp(log_p)


def exact_match(references: Sequence[Sequence[Sequence]],
                candidates: Sequence[Sequence]) -> float:
    """The fraction of candidates equal to one of their references."""
    _check(references, candidates)
    if not candidates:
        raise ValueError("no candidates: the accuracy is undefined")
    hits = sum(any(list(cand) == list(r) for r in refs)
               for refs, cand in zip(references, candidates))
    return hits / len(candidates)
