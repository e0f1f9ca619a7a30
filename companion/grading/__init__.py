"""Exercises and their grading, apart from the course's algorithms.

* :mod:`.spec`: what an exercise is (cases, reference, tolerances), the
  registry, the name of each exercise's function and the package
  functions that solve it; ``ch00`` ... ``ch11`` register the exercises
  of each chapter.
* :mod:`.checker`: ``check("0.2", fn)`` in a notebook (re-exported by
  ``companion.checks``), the verdict of one exercise.
* :mod:`.isolate`: runs the student's function in a forked child,
  limited in time and memory; :mod:`.wire`: the plain data it sends back.
* :mod:`.compare`: the comparison with the reference, in words.
* :mod:`.scan`: calls of the package's own solution.
* :mod:`.bulk`: ``python -m companion.checks``, a class's notebooks.

Imports go one way: spec ← compare, wire ← isolate ← checker ← bulk.
"""
