"""companion.metrics: BLEU against the worked examples of Papineni et al.
(2002) and against hand-worked corpora (arithmetic written out below);
exact-caption accuracy."""

import math

import pytest

from companion import metrics

# Papineni et al. 2002, section 2.1, Example 1 (punctuation dropped)
CAND_1 = ("It is a guide to action which ensures that the military always "
          "obeys the commands of the party").split()
CAND_2 = ("It is to insure the troops forever hearing the activity "
          "guidebook that party direct").split()
REFS = [("It is a guide to action that ensures that the military will "
         "forever heed Party commands").split(),
        ("It is the guiding principle which guarantees the military forces "
         "always being under the command of the Party").split(),
        ("It is the practical guide for the army always to heed the "
         "directions of the party").split()]


def test_paper_modified_unigram_and_bigram_precisions():
    # "Candidate 1 achieves a modified unigram precision of 17/18; whereas
    # Candidate 2 achieves a modified unigram precision of 8/14"
    assert metrics.modified_precision(REFS, CAND_1, 1) == (17, 18)
    assert metrics.modified_precision(REFS, CAND_2, 1) == (8, 14)
    # "Candidate 1 achieves a modified bigram precision of 10/17, whereas
    # the lower quality Candidate 2 achieves a modified bigram precision
    # of 1/13"
    assert metrics.modified_precision(REFS, CAND_1, 2) == (10, 17)
    assert metrics.modified_precision(REFS, CAND_2, 2) == (1, 13)


def test_paper_clipping_example():
    # "the" x 7 against two references: clipped to 2 ("Modified Unigram
    # Precision = 2/7")
    refs = ["the cat is on the mat".split(),
            "there is a cat on the mat".split()]
    assert metrics.modified_precision(refs, ["the"] * 7, 1) == (2, 7)


# hand-worked corpus, sentence A: candidate "three one four one" (c = 4),
# reference "three one four one five" (r = 5). Every n-gram of the
# candidate is in the reference: p1 = 4/4, p2 = 3/3, p3 = 2/2, p4 = 1/1.
# c <= r, so BP = exp(1 - 5/4) = exp(-1/4); BLEU-4 = exp(-1/4).
A = (["three one four one five".split()], "three one four one".split())
# sentence B: candidate "two one two one two" (c = 5), reference
# "one two one two" (r = 4): c > r, so BP = 1.
# unigrams: two x3, one x2; ref one x2, two x2 -> min(3,2)+min(2,2) = 4/5
# bigrams: (two one) x2, (one two) x2; ref (one two) x2, (two one) x1
#   -> 1 + 2 = 3/4
# trigrams: (two one two) x2, (one two one) x1; ref one each -> 2/3
# 4-grams: (two one two one), (one two one two); ref the second -> 1/2
# BLEU-4 = (4/5 * 3/4 * 2/3 * 1/2) ** (1/4) = (1/5) ** (1/4)
Bs = (["one two one two".split()], "two one two one two".split())


def test_hand_worked_sentences():
    assert metrics.corpus_bleu([A[0]], [A[1]]) == pytest.approx(
        math.exp(-0.25), rel=1e-12)
    assert metrics.corpus_bleu([Bs[0]], [Bs[1]]) == pytest.approx(
        0.2 ** 0.25, rel=1e-12)


def test_corpus_sums_before_the_ratio():
    # A and B together: p1 = (4+4)/(4+5) = 8/9, p2 = (3+3)/(3+4) = 6/7,
    # p3 = (2+2)/(2+3) = 4/5, p4 = (1+1)/(1+2) = 2/3; c = 9 = r = 5 + 4,
    # so BP = exp(1 - 9/9) = 1 and BLEU-4 = (384/945) ** (1/4) ~ 0.7984,
    # not the mean of the two sentence scores (~ 0.7238)
    score = metrics.corpus_bleu([A[0], Bs[0]], [A[1], Bs[1]])
    assert score == pytest.approx((384 / 945) ** 0.25, rel=1e-12)
    assert abs(score - (math.exp(-0.25) + 0.2 ** 0.25) / 2) > 0.05


def test_closest_reference_length_and_brevity_penalty():
    refs = [["a"] * 3, ["a"] * 7]
    assert metrics.closest_length(refs, 4) == 3
    assert metrics.closest_length(refs, 5) == 3      # tie: the shorter
    assert metrics.closest_length(refs, 6) == 7
    assert metrics.brevity_penalty(5, 4) == 1.0
    assert metrics.brevity_penalty(4, 4) == 1.0      # exp(1 - 1) = 1
    assert metrics.brevity_penalty(2, 4) == pytest.approx(math.exp(-1.0))
    assert metrics.brevity_penalty(0, 4) == 0.0


def test_zero_precision_gives_zero_and_bleu_n():
    # no 4-gram at all in a corpus of short captions: BLEU-4 is 0 while
    # BLEU-1 = 1 (identical unigrams, c = r)
    refs, cands = [[["one", "two"]]], [["one", "two"]]
    assert metrics.corpus_bleu(refs, cands) == 0.0
    assert metrics.corpus_bleu(refs, cands, max_n=1) == 1.0
    assert metrics.corpus_bleu(refs, cands, max_n=2) == 1.0


def test_exact_match():
    refs = [[["one"]], [["two", "three"]], [["four"], ["five"]]]
    cands = [["one"], ["two"], ["five"]]
    assert metrics.exact_match(refs, cands) == pytest.approx(2 / 3)


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        metrics.corpus_bleu([[["a"]]], [["a"], ["b"]])
    with pytest.raises(ValueError, match="list of token lists"):
        metrics.corpus_bleu([["a", "b"]], [["a", "b"]])
    with pytest.raises(ValueError, match="max_n"):
        metrics.corpus_bleu([[["a"]]], [["a"]], max_n=0)
    with pytest.raises(ValueError, match="n must be"):
        metrics.ngrams(["a"], 0)
    with pytest.raises(ValueError, match="undefined"):
        metrics.exact_match([], [])
