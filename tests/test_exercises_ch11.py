"""Exercises of chapter 11: the solutions pass on every backend, the
references agree with independent oracles (finite differences for 11.2,
the package's bidirectional layer for 11.3), and plausible wrong answers
(the softmax over the batch, no shift, scaled scores, a missing path of
the gradient, the halves swapped or not reversed; for the bidirectional
forward pass, the right-to-left states left in their own order, the
right-to-left layer reading the input left to right, one direction's
weights for both, the halves swapped, the wrong initial state, ...) fail.
The reference of 11.4 is also held to the closed loop written in the
test.
"""

from pathlib import Path

import numpy as np
import pytest

from companion import backend as B
from companion import bidirectional, checks, gradcheck, rnn
from companion.grading import ch11

from exercise_support import mutant_tests, solved_functions

ROOT = Path(__file__).resolve().parent.parent
SOLVED = solved_functions(ROOT / "solutions" / "11-attention.md")


def _ns(x):
    return B.namespace(x)


def test_every_exercise_has_a_solution_and_a_check():
    assert checks.chapter_ids(11) == ["11.1", "11.2", "11.3", "11.4"]
    assert set(SOLVED) == set(checks.chapter_ids(11))


@pytest.mark.parametrize("ex", sorted(SOLVED))
def test_solutions_pass(ex):
    report = checks.grade(ex, SOLVED[ex])
    assert report.verdict == checks.PASSED, report.text()
    assert report.passed == len(report.cases) >= 5


def test_backward_reference_matches_finite_differences(backend):
    rng = np.random.default_rng(0)
    s, hs, dc = (B.asarray(rng.normal(size=shape))
                 for shape in ((2, 3), (4, 2, 3), (2, 3)))
    xp = backend.xp
    ds, dhs = ch11.dot_attention_backward(dc, s, hs)

    def E(p):
        c, _ = ch11.dot_attention(p["s"], p["hs"])
        return xp.sum(c * dc)

    gradcheck.assert_gradients_close(gradcheck.check_gradients(
        E, {"s": s, "hs": hs}, {"s": ds, "hs": dhs}), 1e-7)


def test_concat_reference_is_what_the_layer_hands_on(backend):
    """The two halves feed each layer's backward: the bidirectional
    layer's gradients equal those of both layers on these halves."""
    params = bidirectional.init_params(2, 3, None, 0)
    x = B.asarray(np.random.default_rng(1).normal(size=(4, 2, 2)))
    states = bidirectional.zero_state(params, 2, x)
    _, cache = bidirectional.hidden_forward(params, x, states)
    dhs = B.asarray(np.random.default_rng(2).normal(size=(4, 2, 6)))
    back = bidirectional.hidden_backward(params, dhs, cache)
    dh_f, dh_b = ch11.concat_backward(dhs)
    want = rnn.hidden_backward(bidirectional.direction(params, "bwd"),
                               dh_b, cache.bwd)
    np.testing.assert_allclose(B.to_numpy(back.grads["bwd.W_h"]),
                               B.to_numpy(want.grads["W_h"]), rtol=1e-12)
    want_f = rnn.hidden_backward(bidirectional.direction(params, "fwd"),
                                 dh_f, cache.fwd)
    np.testing.assert_allclose(B.to_numpy(back.grads["fwd.W_e"]),
                               B.to_numpy(want_f.grads["W_e"]), rtol=1e-12)


# -- mutants of 11.1 ------------------------------------------------------


def _softmax(xp, e, axis):
    e = e - xp.max(e, axis=axis, keepdims=True)
    return xp.exp(e) / xp.sum(xp.exp(e), axis=axis, keepdims=True)


def att_softmax_over_batch(s, hs):
    xp = _ns(hs)
    alpha = _softmax(xp, xp.sum(hs * s[None, ...], axis=2), 1)
    return xp.sum(alpha[..., None] * hs, axis=0), alpha


def att_no_shift(s, hs):
    xp = _ns(hs)
    e = xp.exp(xp.sum(hs * s[None, ...], axis=2))
    alpha = e / xp.sum(e, axis=0, keepdims=True)
    return xp.sum(alpha[..., None] * hs, axis=0), alpha


def att_scaled(s, hs):  # Vaswani's 1/sqrt(H): another model
    xp = _ns(hs)
    e = xp.sum(hs * s[None, ...], axis=2) / hs.shape[2] ** 0.5
    alpha = _softmax(xp, e, 0)
    return xp.sum(alpha[..., None] * hs, axis=0), alpha


def att_scores_as_weights(s, hs):  # no softmax
    xp = _ns(hs)
    alpha = xp.sum(hs * s[None, ...], axis=2)
    return xp.sum(alpha[..., None] * hs, axis=0), alpha


def att_last_state(s, hs):  # the plain encoder-decoder's context
    c, alpha = ch11.dot_attention(s, hs)
    return hs[-1, ...], alpha


def att_mean_of_states(s, hs):  # uniform weights
    xp = _ns(hs)
    alpha = xp.ones(hs.shape[:2], dtype=hs.dtype,
                    device=B.device(hs)) / hs.shape[0]
    return xp.mean(hs, axis=0), alpha


# -- mutants of 11.2 ------------------------------------------------------


def _parts(dc, s, hs):
    xp = _ns(hs)
    alpha = ch11.dot_attention(s, hs)[1]
    dalpha = xp.sum(hs * dc[None, ...], axis=2)
    de = alpha * (dalpha - xp.sum(alpha * dalpha, axis=0, keepdims=True))
    return xp, alpha, dalpha, de


def back_no_softmax_jacobian(dc, s, hs):  # de = α ∘ dα only
    xp, alpha, dalpha, _ = _parts(dc, s, hs)
    de = alpha * dalpha
    return (xp.sum(de[..., None] * hs, axis=0),
            alpha[..., None] * dc[None, ...] + de[..., None] * s[None, ...])


def back_no_score_path(dc, s, hs):  # h_j only through the mean
    xp, alpha, _, de = _parts(dc, s, hs)
    return (xp.sum(de[..., None] * hs, axis=0),
            alpha[..., None] * dc[None, ...])


def back_no_mean_path(dc, s, hs):  # h_j only through its score
    xp, alpha, _, de = _parts(dc, s, hs)
    return xp.sum(de[..., None] * hs, axis=0), de[..., None] * s[None, ...]


def back_ds_through_mean(dc, s, hs):  # ds = Σ α_j h_j... a wrong chain
    xp, alpha, _, de = _parts(dc, s, hs)
    return (xp.sum(alpha[..., None] * hs, axis=0) * dc,
            alpha[..., None] * dc[None, ...] + de[..., None] * s[None, ...])


def back_weights_fixed(dc, s, hs):  # treats α as a constant
    xp, alpha, _, _ = _parts(dc, s, hs)
    return xp.zeros_like(s), alpha[..., None] * dc[None, ...]


# -- mutants of 11.3 ------------------------------------------------------


def concat_not_reversed(dhs):
    H = dhs.shape[2] // 2
    return dhs[..., :H], dhs[..., H:]


def concat_swapped(dhs):
    xp, H = _ns(dhs), dhs.shape[2] // 2
    return xp.flip(dhs[..., H:], axis=0), dhs[..., :H]


def concat_both_reversed(dhs):
    xp, H = _ns(dhs), dhs.shape[2] // 2
    return xp.flip(dhs[..., :H], axis=0), xp.flip(dhs[..., H:], axis=0)


def concat_interleaved(dhs):  # even and odd columns
    xp = _ns(dhs)
    return dhs[..., ::2], xp.flip(dhs[..., 1::2], axis=0)


def concat_flipped_batch(dhs):  # reversed along B, not T
    xp, H = _ns(dhs), dhs.shape[2] // 2
    return dhs[..., :H], xp.flip(dhs[..., H:], axis=1)


# -- mutants of 11.4: a bidirectional Elman layer, forward ----------------


def _bidi(params, x, h0_f, h0_b, order="aligned", reads="reversed",
          bwd="bwd", first="f", h0="own"):
    """The right forward pass with one switch for each usual mistake."""
    xp = _ns(x)
    T = x.shape[0]

    def run(d, steps, h):
        out = {}
        for t in steps:
            h = xp.tanh(x[t, ...] @ params[f"{d}.W_e"].T
                        + h @ params[f"{d}.W_h"].T + params[f"{d}.b_e"])
            out[t] = h
        return out

    f = run("fwd", range(T), h0_f)
    back = range(T - 1, -1, -1) if reads == "reversed" else range(T)
    b = run(bwd, back, h0_b if h0 == "own" else h0_f)
    hf = xp.stack([f[t] for t in range(T)])
    if order == "aligned":
        hb = xp.stack([b[t] for t in range(T)])
    else:                               # the pass's own step order
        hb = xp.stack([b[t] for t in back])
    halves = [hf, hb] if first == "f" else [hb, hf]
    return xp.concat(halves, axis=2)


def bidi_not_realigned(params, x, h0_f, h0_b):
    return _bidi(params, x, h0_f, h0_b, order="own")


def bidi_backward_reads_forward(params, x, h0_f, h0_b):
    return _bidi(params, x, h0_f, h0_b, reads="forward")


def bidi_one_weights(params, x, h0_f, h0_b):  # fwd.* for both passes
    return _bidi(params, x, h0_f, h0_b, bwd="fwd")


def bidi_halves_swapped(params, x, h0_f, h0_b):
    return _bidi(params, x, h0_f, h0_b, first="b")


def bidi_same_initial_state(params, x, h0_f, h0_b):
    return _bidi(params, x, h0_f, h0_b, h0="fwd")


def test_bidirectional_reference_is_the_loop_written_out(backend):
    """11.4's reference (the package's layer) against two plain loops."""
    case = ch11._bidi_cases()[0].inputs
    args = {k: ({n: B.asarray(a) for n, a in v.items()}
                if isinstance(v, dict) else B.asarray(v))
            for k, v in case.items()}
    want = _bidi(**args)
    got = ch11.bidirectional_forward(**args)
    assert float(_ns(got).max(_ns(got).abs(got - want))) < 1e-12


MUTANTS = {
    "11.1": [att_softmax_over_batch, att_no_shift, att_scaled,
             att_scores_as_weights, att_last_state, att_mean_of_states],
    "11.2": [back_no_softmax_jacobian, back_no_score_path,
             back_no_mean_path, back_ds_through_mean, back_weights_fixed],
    "11.3": [concat_not_reversed, concat_swapped, concat_both_reversed,
             concat_interleaved, concat_flipped_batch],
    "11.4": [bidi_not_realigned, bidi_backward_reads_forward,
             bidi_one_weights, bidi_halves_swapped,
             bidi_same_initial_state],
}
SAYS = {}


# every exercise has >= 4 mutants, and each is rejected
test_every_exercise_has_mutants, test_mutants_are_rejected = \
    mutant_tests(11, MUTANTS, SAYS)
