"""The sanitizer rules nbval applies to stored and fresh outputs.

The rules are read with nbval's own parser from the committed files:
``nbval_sanitize.cfg`` for every run, plus ``nbval_sanitize_gpu.cfg`` for
the CuPy run (``make test-gpu``), which must accept a difference in the
last printed digit of a decimal number and nothing more.
"""

import re
from pathlib import Path

import pytest

plugin = pytest.importorskip("nbval.plugin")

HERE = Path(__file__).resolve().parent


def sanitizer(*names):
    text = "".join((HERE / name).read_text(encoding="utf-8")
                   for name in names)
    rules = plugin.get_sanitize_patterns(text)
    assert rules, f"no rules read from {names}"

    def apply(s):
        for regex, replace in rules:
            s = re.sub(regex, replace, s)
        return s
    return apply


CPU = ("nbval_sanitize.cfg",)
GPU = ("nbval_sanitize.cfg", "nbval_sanitize_gpu.cfg")


@pytest.mark.parametrize("stored, fresh, files, same", [
    # what every run forgives: addresses, timings, float tails
    ("<Line2D at 0x7f3a2c>", "<Line2D at 0x55aa01>", CPU, True),
    ("0.12345678901234", "0.12345678901299", CPU, True),
    ("loss 0.1622", "loss 0.1623", CPU, False),
    # the CuPy run: the last printed digit only
    ("loss 0.1622", "loss 0.1623", GPU, True),
    ("train 1.7923 / held-out 1.8101", "train 1.7924 / held-out 1.8100",
     GPU, True),
    ("loss 0.1629", "loss 0.1630", GPU, False),
    ("loss 0.1622", "loss 0.1612", GPU, False),
    ("1150 parameters", "1151 parameters", GPU, False),
    ("error 7.1e-14", "error 7.3e-14", GPU, False),
    ("shape (100, 64, 256)", "shape (100, 64, 255)", GPU, False),
])
def test_what_the_sanitizers_forgive(stored, fresh, files, same):
    clean = sanitizer(*files)
    assert (clean(stored) == clean(fresh)) is same, (clean(stored),
                                                     clean(fresh))
