"""What an exercise is: its cases, its reference and how to compare.

Every exercise of ``exercises/`` is registered by id ("C.k": chapter C,
exercise k) from a module ``companion/grading/chCC.py`` with the
reference implementation from ``companion``, a generator of fixed and
seeded random cases and how to compare (``rtol``/``atol``, or exactly).
This module imports nothing of the checker or the grader: both import it.

Two tables complete a spec:

* :data:`FUNCTIONS`, the name of the function the student completes in
  the exercise notebook (``tests/test_checks.py`` checks it against
  ``exercises/``): the bulk grader grades the function of that name as the
  exercise's own cell defined it, whatever the check cell names;
* :data:`REFERENCES`, the functions of the package that solve the
  exercise (relative to ``companion``): a student's function that calls
  one of them is graded "uses the reference implementation". Other calls
  into the package are allowed (4.x may call ``rnn.forward``, 1.4 too).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

TIME_LIMIT = 5.0  # seconds per case


@dataclass(frozen=True)
class Case:
    """One call: a label and the named arguments, as host data.

    NumPy arrays (also inside dicts and lists) are moved to the backend
    for each call; other values (ints, floats, lists, functions) are
    passed as fresh copies.
    """

    label: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Exercise:
    """An exercise: id, title, reference, cases and tolerances.

    Attributes:
        id: "C.k", e.g. "0.2"; chapter C's notebook is ``CC-*.ipynb``.
        title: what the student writes, e.g. "one Adam step".
        reference: called with the same arguments as the student's code.
        cases: returns the list of :class:`Case` (seeded, deterministic).
        outputs: names of the outputs when the function returns a tuple.
        rtol, atol: tolerances of floating results; ``exact`` for
            integer answers (e.g. a number of parameters).
        time_limit: seconds a case may run before "took too long".
    """

    id: str
    title: str
    reference: Callable[..., Any]
    cases: Callable[[], list[Case]]
    outputs: tuple[str, ...] = ()
    rtol: float = 1e-9
    atol: float = 1e-12
    exact: bool = False
    time_limit: float = TIME_LIMIT

    @property
    def function(self) -> str:
        """The name of the student's function in the exercise notebook."""
        return FUNCTIONS.get(self.id, "")

    @property
    def references(self) -> tuple[str, ...]:
        """The package functions a solution must not call."""
        return REFERENCES.get(self.id, ())


FUNCTIONS = {
    "0.1": "sigmoid", "0.2": "softmax_cross_entropy_step",
    "0.3": "masked_mse", "0.4": "clip_by_global_norm", "0.5": "adam_step",
    "0.6": "elman_parameter_count", "0.7": "central_difference",
    "0.8": "softmax_jacobian", "0.9": "best_step",
    "1.1": "elman_step", "1.2": "rnn_forward",
    "1.3": "stack_parameter_count", "1.4": "many_to_one_loss",
    "1.5": "one_to_many_linear", "1.6": "rnnrun_multiply_adds",
    "2.1": "linear_unrolled", "2.2": "stacked_forward",
    "2.3": "unrolled_graph_size", "3.1": "step_backward",
    "3.2": "rnn_backward", "3.3": "windows", "3.4": "truncated_gradient",
    "3.5": "window_gradient", "3.6": "dz_s_softmax_mse",
    "3.7": "predicted_steps",
    "4.1": "step_jacobian", "4.2": "jacobian_norms",
    "4.3": "adding_batch", "4.4": "copy_baseline", "5.1": "lstm_step",
    "5.2": "lstm_step_backward", "5.3": "lstm_parameter_count",
    "5.4": "lstm_stack_step", "5.5": "carousel_steps",
    "6.1": "gru_step", "6.2": "gru_step_backward",
    "6.3": "gru_parameter_count", "6.4": "lecture_to_pytorch",
    "6.5": "gru_half_life", "7.1": "scale_to_radius",
    "7.2": "leaky_step", "7.3": "ridge_readout", "7.4": "nrmse",
    "8.1": "split_and_scale", "8.2": "fit_ar", "8.3": "perplexity",
    "9.1": "modified_precision", "9.2": "bleu_from_counts",
    "9.3": "image_state_backward",
    "7.5": "leaky_radius", "7.6": "linear_memory_curve",
    "8.4": "forecast_mses", "8.5": "digit_accuracy_needed",
    "11.1": "dot_attention", "11.2": "dot_attention_backward",
    "11.3": "concat_backward", "11.4": "bidirectional_forward",
    "2.4": "power_from_eigs", "2.5": "transient_peak",
    "4.5": "fold_weight", "4.6": "fixed_point_slope",
    "4.7": "layer_norm_backward",
    "10.1": "embedding_backward", "10.2": "mean_pool_backward",
    "10.3": "last_states",
}

# The package's own solution of each exercise ("module.function" under
# companion). Every exercise also may not call into companion.grading or
# companion.checks (other than ``check``): see ``scan.ALWAYS``.
REFERENCES = {
    "0.1": ("activations.sigmoid",),
    "0.2": ("losses.softmax_cross_entropy",),
    "0.3": ("losses.mse",),
    "0.4": ("clipping.clip_by_global_norm",),
    "0.5": ("optim.adam_update",),
    "0.7": ("gradcheck.numerical_gradient",),
    "0.8": ("activations.softmax_backward",
            "activations.log_softmax_backward"),
    "1.1": ("rnn.step_forward",),
    "1.2": ("rnn.forward", "rnn.stack_forward"),
    "1.3": ("rnn.init_stack",),
    "1.4": ("losses.softmax_cross_entropy",),
    "1.5": ("rnn.forward", "rnn.hidden_forward"),
    "2.2": ("rnn.stack_forward",),
    "2.3": ("viz.stacked_graph", "viz.shortest_path"),
    "3.1": ("rnn.step_backward",),
    "3.2": ("rnn.backward", "bptt.full_bptt"),
    "3.3": ("bptt.windows",),
    "3.4": ("bptt.truncated_bptt",),
    "3.5": ("bptt.last_error_bptt", "bptt.train_stride1"),
    "4.1": ("gradnorms.step_jacobian",),
    "4.2": ("gradnorms.jacobian_norms",),
    "4.3": ("data.tasks.adding_batch",),
    "4.4": ("data.tasks.copy_baseline",),
    "5.1": ("lstm.step_forward", "lstm.forward"),
    "5.2": ("lstm.step_backward", "lstm.backward"),
    "5.3": ("lstm.init_params",),
    "5.4": ("lstm.step_forward", "lstm.stack_forward"),
    "6.1": ("gru.step_forward", "gru.forward"),
    "6.2": ("gru.step_backward", "gru.backward"),
    "6.3": ("gru.parameter_count", "gru.init_params"),
    "7.1": ("init.scale_to_spectral_radius",),
    "7.2": ("esn.step", "esn.run"),
    "7.3": ("esn.ridge",),
    "7.4": ("esn.nrmse",),
    "8.1": ("data.series.time_split", "data.series.fit_scaler",
            "data.series.scale"),
    "8.2": ("data.series.fit_ar",),
    "9.1": ("metrics.modified_precision", "metrics.ngrams"),
    "9.2": ("metrics.corpus_bleu", "metrics.brevity_penalty"),
    "9.3": ("captioning.loss_and_grads",),
    "11.3": ("bidirectional.hidden_backward",),
    "11.4": ("bidirectional.hidden_forward", "bidirectional.forward"),
    "4.5": ("bifurcation.fold_weight", "bifurcation.fold_bias"),
    "4.6": ("bifurcation.fixed_point_slope",),
    "4.7": ("layernorm.normalise_backward",),
    "10.1": ("embedding.backward",),
    "10.2": ("classify.pool_weights", "classify.backward"),
    "10.3": ("classify.pool_weights", "classify.forward"),
}

REGISTRY: dict[str, Exercise] = {}
_loaded = False


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to the registry (ids are unique)."""
    if exercise.id in REGISTRY:
        raise ValueError(f"exercise {exercise.id} is registered twice")
    REGISTRY[exercise.id] = exercise
    return exercise


def exercises() -> dict[str, Exercise]:
    """Every registered exercise by id (imports the spec modules once)."""
    global _loaded
    if not _loaded:
        _loaded = True
        here = os.path.dirname(os.path.abspath(__file__))
        for info in pkgutil.iter_modules([here]):
            if info.name.startswith("ch") and info.name[2:].isdigit():
                importlib.import_module(f"{__package__}.{info.name}")
    return REGISTRY


def chapter_ids(chapter: int) -> list[str]:
    """The ids of chapter ``chapter``'s exercises, in order."""
    ids = [i for i in exercises() if i.split(".")[0] == str(chapter)]
    return sorted(ids, key=lambda i: int(i.split(".")[1]))
