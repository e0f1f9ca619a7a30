"""Echo state network: companion.esn against reservoirpy (chapter 7).

    .venv/bin/pip install reservoirpy      # the peer, for this script only
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/esn_vs_reservoirpy.py

The configuration of reservoirpy's README on Mackey-Glass: N = 100 units,
spectral radius 1.25, leak rate 0.3, ridge 1e-5, warm-up (washout) 100,
fit on the first 500 one-step pairs, then run on the next inputs from the
state reached. Both get the same series (``companion.data.mackey_glass``,
2000 samples, tau = 17) and the same hyper-parameters: recurrent density
0.1 (reservoirpy's rc_connectivity), input scaling 1, no reservoir bias,
a readout with a bias, [1; x(n)] (reservoirpy's Ridge fit_bias). Their
random matrices differ (reservoirpy: W normal, W_in ±1 on 10 % of the
entries; companion: uniform), so the NRMSE depends on the draw: both are
run on several seeds and reported as mean ± std. NRMSE is computed by
``companion.esn.nrmse`` on both predictions (RMSE / population std of the
target). Time: fit + predict (reservoir built beforehand), the median of
``REPEATS`` runs per seed, in one process. Writes
``benchmarks/results/esn_vs_reservoirpy.json``.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
from _machine import describe

from companion import backend, esn
from companion.data.mackey_glass import mackey_glass

SEEDS = range(10)
REPEATS = 5
N, RHO, ALPHA, BETA, WARMUP, DENSITY = 100, 1.25, 0.3, 1e-5, 100, 0.1
TRAIN = 500
OUT = Path(__file__).resolve().parent / "results" / "esn_vs_reservoirpy.json"


def ours(series, seed):
    """(prediction (T_test,), seconds for fit + predict), companion.esn."""
    backend.set_backend("numpy")
    cfg = esn.Config(N=N, rho=RHO, alpha=ALPHA, beta=BETA, washout=WARMUP,
                     density=DENSITY, input_scaling=1.0, bias_scaling=0.0,
                     readout="bias", seed=seed)
    net = esn.ESN.create(1, cfg)
    x = backend.asarray(series.reshape(-1, 1, 1))
    start = time.perf_counter()
    fitted, state = net.fit(x[:TRAIN, ...], x[1:TRAIN + 1, ...],
                            net.zero_state(1))
    pred, _ = fitted.predict(x[TRAIN + 1:-1, ...], state)
    seconds = time.perf_counter() - start
    return backend.to_numpy(pred)[:, 0, 0], seconds


def theirs(series, seed):
    """(prediction (T_test,), seconds for fit + predict), reservoirpy."""
    from reservoirpy.nodes import Reservoir, Ridge

    x = series.reshape(-1, 1)
    reservoir = Reservoir(units=N, lr=ALPHA, sr=RHO, rc_connectivity=DENSITY,
                          seed=seed)
    model = reservoir >> Ridge(ridge=BETA)
    start = time.perf_counter()
    model.fit(x[:TRAIN], x[1:TRAIN + 1], warmup=WARMUP)
    pred = model.run(x[TRAIN + 1:-1])
    seconds = time.perf_counter() - start
    return np.asarray(pred)[:, 0], seconds


def main() -> dict:
    """Run both on every seed; print and write the summary."""
    import reservoirpy

    series = mackey_glass(2000)
    target = series[TRAIN + 2:]
    rows = {"companion": {"nrmse": [], "seconds": []},
            "reservoirpy": {"nrmse": [], "seconds": []}}
    for seed in SEEDS:
        for name, run in (("companion", ours), ("reservoirpy", theirs)):
            times = []
            for _ in range(REPEATS):
                pred, seconds = run(series, seed)
                times.append(seconds)
            rows[name]["nrmse"].append(esn.nrmse(pred, target))
            rows[name]["seconds"].append(statistics.median(times))
    summary = {}
    for name, row in rows.items():
        summary[name] = {
            "nrmse_mean": float(np.mean(row["nrmse"])),
            "nrmse_std": float(np.std(row["nrmse"])),
            "seconds_median": float(np.median(row["seconds"])),
            "nrmse_per_seed": [round(v, 6) for v in row["nrmse"]]}
    ratio = (summary["companion"]["seconds_median"]
             / summary["reservoirpy"]["seconds_median"])
    result = {
        "task": "Mackey-Glass (tau = 17, companion.data.mackey_glass, "
                "2000 samples), one-step prediction: fit on 500 pairs, "
                f"test on {len(target)}",
        "config": {"N": N, "rho": RHO, "alpha": ALPHA, "beta": BETA,
                   "warmup": WARMUP, "density": DENSITY,
                   "input_scaling": 1.0, "reservoir_bias": 0.0,
                   "readout": "[1; x(n)]"},
        "nrmse_definition": "sqrt(mean((y - y*)^2)) / std(y*), population "
                            "std (companion.esn.nrmse, on both)",
        "seeds": list(SEEDS), "repeats_per_seed": REPEATS,
        "timing": "fit + predict, median over repeats, then over seeds",
        **summary,
        "time_ratio_companion_over_reservoirpy": ratio,
        "machine": describe(reservoirpy=reservoirpy.__version__),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name in ("companion", "reservoirpy"):
        s = summary[name]
        print(f"{name:12s} NRMSE {s['nrmse_mean']:.5f} ± "
              f"{s['nrmse_std']:.5f}   fit + predict "
              f"{1e3 * s['seconds_median']:.1f} ms")
    print(f"time ratio companion / reservoirpy: {ratio:.2f}")
    print(f"written to {OUT}")
    return result


if __name__ == "__main__":
    main()
