"""Character-level text data for language models (chapters 3, 8).

Texts that ship with Python or with this package, so nothing is
downloaded:

* ``zen_of_python()``: the 19 aphorisms of PEP 20 (``import this``),
  856 characters;
* ``python_docs(n)``: prose of the Python reference documentation kept
  by the standard library for ``help()`` (``pydoc_data.topics``), as
  Python 3.11.7 holds it: a copy ships in ``python_docs.txt.gz`` (PSF
  licence), since every Python version rewrites it and a chapter's
  stored outputs would then depend on the student's Python.

A :class:`CharVocab` maps the V distinct characters to indices 0..V-1;
``lm_batches`` cuts a long index sequence into B parallel streams and
consecutive (T, B) chunks for truncated BPTT, with targets shifted by one:
y(t) = X(t+1), the next character.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import numpy as np

from ..backend import resolve
from ..bptt import Batch


def zen_of_python() -> str:
    """The Zen of Python (PEP 20), as ``import this`` prints it."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


def python_docs(n_chars: int | None = None) -> str:
    """Prose from Python's reference documentation (``pydoc_data``).

    The topics of Python 3.11.7, joined in sorted order, from the copy
    shipped with this package: the same text on every Python version
    (each rewrites its own topics); ``n_chars`` keeps the first
    characters.
    """
    import gzip
    from importlib import resources

    packed = resources.files(__package__).joinpath("python_docs.txt.gz")
    text = gzip.decompress(packed.read_bytes()).decode("utf-8")
    return text if n_chars is None else text[:n_chars]


@dataclass(frozen=True)
class CharVocab:
    """The sorted distinct characters of a text; V = len(chars)."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        """The vocabulary of ``text``."""
        if not text:
            raise ValueError("cannot build a vocabulary from empty text")
        return cls("".join(sorted(set(text))))

    @property
    def V(self) -> int:
        """Vocabulary size."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Indices (host int64 array) of the characters of ``text``."""
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown}")
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, indices) -> str:
        """The text of a sequence of indices."""
        return "".join(self.chars[int(i)] for i in indices)


def one_hot(indices, V: int, xp=None, dtype=None):
    """One-hot vectors (..., V) on the backend from host indices."""
    host = np.asarray(indices)
    if host.size and (host.min() < 0 or host.max() >= V):
        raise ValueError(f"indices must lie in [0, {V}), got "
                         f"[{host.min()}, {host.max()}]")
    be = resolve(xp)
    out = np.eye(V)[host]
    return be.xp.asarray(out, dtype=dtype or be.float_dtype,
                         device=be.device)


def lm_batches(indices, V: int, B: int, T: int, xp=None) -> list[Batch]:
    """Consecutive (T, B) chunks of B parallel streams of a text.

    The text is cut into B streams of equal length (stream b continues
    in batch k+1 where it stopped in batch k, so the hidden state can be
    carried); each Batch has x = one-hot X(t) (T, B, V) and y (T, B), the
    index of the next character.
    """
    data = np.asarray(indices, dtype=np.int64)
    length = (len(data) - 1) // B
    if length < T:
        raise ValueError(f"a text of {len(data)} characters is too short "
                         f"for B = {B} streams of T = {T} steps")
    be = resolve(xp)
    batches = []
    for start in range(0, length - T + 1, T):
        cols = [data[b * length + start: b * length + start + T + 1]
                for b in range(B)]
        chunk = np.stack(cols, axis=1)           # (T + 1, B)
        y = be.xp.asarray(chunk[1:], device=be.device)
        batches.append(Batch(one_hot(chunk[:-1], V, xp=be), y))
    return batches
