"""Recurrent layers, forward + backward: companion against PyTorch (CPU).

    .venv/bin/pip install -e ".[bench]"     # torch, for this script only
    .venv/bin/python benchmarks/recurrent_vs_torch.py [--quick]

For each layer (Elman RNN, LSTM, GRU in PyTorch's convention, which is the
one torch.nn.GRU computes), each dtype (float32, float64) and each shape
(T, B, D, H), both libraries run one forward pass over the sequence and one
backward pass from the same upstream gradient of the hidden states, in the
same process, with the same number of threads: torch's
``set_num_threads`` gets ``OMP_NUM_THREADS`` (the variable NumPy's BLAS
reads), or the machine's cores when it is not set.
After one warm-up of each, the two run in turn ``REPEATS`` times (ours,
theirs, ours, ...), so that a change in the machine's load reaches both;
each time is the median of its runs and the ratio the median of the
per-pair ratios companion / torch (below 1: companion is faster). Writes
``benchmarks/results/recurrent_vs_torch_<threads>thread.json`` with the
machine.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _machine import describe

from companion import backend, gru, lstm, rnn

SHAPES = [(100, 32, 32, 64), (100, 64, 128, 256), (50, 128, 256, 512)]
REPEATS = 11
RESULTS = Path(__file__).resolve().parent / "results"


def companion_step(model, params, x, s0, dhs):
    """One forward and one backward pass of a companion layer."""
    hs, cache = model.hidden_forward(params, x, s0, "tanh")
    model.hidden_backward(params, dhs, cache)


def torch_step(module, x, s0, dhs):
    """One forward and one backward pass of a torch layer."""
    for p in module.parameters():
        p.grad = None
    out, _ = module(x, s0)
    out.backward(dhs)


def build(kind, T, B, D, H, dtype, seed=0):
    """Both layers with the same weights, inputs and upstream gradient."""
    import torch

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, D))
    dhs = rng.normal(size=(T, B, H))
    tdt = {"float32": torch.float32, "float64": torch.float64}[dtype]
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM,
           "gru": torch.nn.GRU}[kind]
    module = cls(D, H).to(tdt)
    w = {k: v.detach().numpy().astype(np.float64)
         for k, v in module.named_parameters()}
    xt = torch.tensor(x, dtype=tdt, requires_grad=True)
    h0 = torch.zeros(1, B, H, dtype=tdt)
    ts0 = (h0, h0.clone()) if kind == "lstm" else h0
    be = backend.set_backend("numpy", dtype=dtype)
    a = backend.asarray
    b = w["bias_ih_l0"] + w["bias_hh_l0"]
    if kind == "rnn":
        model = rnn
        params = {"W_e": a(w["weight_ih_l0"]), "W_h": a(w["weight_hh_l0"]),
                  "b_e": a(b)}
        s0 = backend.zeros((B, H))
    elif kind == "lstm":
        model = lstm
        names = ("i", "f", "c", "o")  # torch's row order: i, f, g, o
        params = {}
        for g, name in enumerate(names):
            rows = slice(g * H, (g + 1) * H)
            params[f"W_{name}"] = a(w["weight_ih_l0"][rows])
            params[f"U_{name}"] = a(w["weight_hh_l0"][rows])
            params[f"b_{name}"] = a(b[rows])
        s0 = lstm.State(backend.zeros((B, H)), backend.zeros((B, H)))
    else:
        model = gru
        params = {}
        for g, name in enumerate(("r", "z")):
            rows = slice(g * H, (g + 1) * H)
            params[f"W_{name}"] = a(w["weight_ih_l0"][rows])
            params[f"U_{name}"] = a(w["weight_hh_l0"][rows])
            params[f"b_{name}"] = a(b[rows])
        rows = slice(2 * H, 3 * H)
        params["W_h"] = a(w["weight_ih_l0"][rows])
        params["U_h"] = a(w["weight_hh_l0"][rows])
        params["b_in"] = a(w["bias_ih_l0"][rows])
        params["b_hn"] = a(w["bias_hh_l0"][rows])
        s0 = backend.zeros((B, H))
    mine = (model, params, a(x), s0, a(dhs))
    theirs = (module, xt, ts0, torch.tensor(dhs, dtype=tdt))
    assert be.name == "numpy"
    # the two compute the same function: compare the states once
    hs, _ = model.hidden_forward(params, a(x), s0, "tanh")
    ref, _ = module(xt, ts0)
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(backend.to_numpy(hs),
                               ref.detach().numpy(), rtol=tol, atol=tol)
    return mine, theirs


def paired_times(mine, theirs):
    """Medians of interleaved runs and the median per-pair ratio."""
    companion_step(*mine)                    # warm-up
    torch_step(*theirs)
    ours, ref = [], []
    for _ in range(REPEATS):
        for fn, args, times in ((companion_step, mine, ours),
                                (torch_step, theirs, ref)):
            start = time.perf_counter()
            fn(*args)
            times.append(time.perf_counter() - start)
    ratio = statistics.median(a / b for a, b in zip(ours, ref))
    return statistics.median(ours), statistics.median(ref), ratio


def main(argv):
    import torch

    shapes = SHAPES[:2] if "--quick" in argv else SHAPES
    threads = int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    rows = []
    for kind in ("rnn", "lstm", "gru"):
        for dtype in ("float32", "float64"):
            for T, B, D, H in shapes:
                mine, theirs = build(kind, T, B, D, H, dtype)
                ours, ref, ratio = paired_times(mine, theirs)
                rows.append({"layer": kind, "dtype": dtype,
                             "T": T, "B": B, "D": D, "H": H,
                             "companion_s": ours, "torch_s": ref,
                             "ratio": ratio})
                print(f"{kind:4s} {dtype} T={T:3d} B={B:3d} D={D:3d} "
                      f"H={H:3d}  companion {ours * 1e3:8.1f} ms  "
                      f"torch {ref * 1e3:8.1f} ms  ratio {ratio:5.2f}",
                      flush=True)
    backend.set_backend("numpy")
    result = {"machine": describe(threads=threads, torch=torch.__version__),
              "repeats": REPEATS, "rows": rows}
    out = RESULTS / f"recurrent_vs_torch_{threads}thread.json"
    RESULTS.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
