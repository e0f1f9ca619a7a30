"""Echo state network: companion.esn against reservoirpy (chapter 7).

    .venv/bin/pip install -e ".[bench]"    # reservoirpy, for this script only
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/esn_vs_reservoirpy.py

Mackey-Glass (``companion.data.mackey_glass``, tau = 17, 3000 samples),
one-step prediction: fit on the first 2000 one-step pairs after a warm-up
(washout) of 100, then predict the next 998 from the state reached. The
hyper-parameters of reservoirpy's introduction, on both: spectral radius
1.25, leak rate 0.3, ridge 1e-5, recurrent density 0.1 (reservoirpy's
rc_connectivity), input scaling 1, no reservoir bias, a readout with a
bias, [1; x(n)] (reservoirpy's Ridge fit_bias), at every reservoir size N
in ``SIZES``.

Time: the whole of it on both sides, building the reservoir (its random
matrices and their spectral radius), fitting and predicting
(reservoirpy builds its matrices lazily, inside ``fit``; the companion in
``ESN.create``). The two run in turn on each seed (ours, theirs) in one
process; each time is the median over the seeds, and the ratio is
companion / reservoirpy (below 1: the companion is faster). Their random
matrices differ (reservoirpy: W normal, W_in ±1 on 10 % of the entries;
companion: uniform), so the NRMSE depends on the draw: it is reported as
mean ± std over the seeds, computed by ``companion.esn.nrmse`` on both
predictions (RMSE / population std of the target). Fewer seeds at the
largest sizes, where one run takes minutes (``SEEDS``). Writes
``benchmarks/results/esn_vs_reservoirpy.json``.
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

from companion import backend, esn
from companion.data.mackey_glass import mackey_glass

SIZES = (100, 500, 1000, 2000, 5000)
SEEDS = {100: 5, 500: 5, 1000: 3, 2000: 3, 5000: 2}   # seeds 0, 1, ...
RHO, ALPHA, BETA, WARMUP, DENSITY = 1.25, 0.3, 1e-5, 100, 0.1
SAMPLES, TRAIN = 3000, 2000
OUT = Path(__file__).resolve().parent / "results" / "esn_vs_reservoirpy.json"


def ours(series, N, seed):
    """(prediction (T_test,), (wall, CPU) seconds for create + fit +
    predict)."""
    backend.set_backend("numpy")
    x = backend.asarray(series.reshape(-1, 1, 1))
    start, cpu = time.perf_counter(), time.process_time()
    cfg = esn.Config(N=N, rho=RHO, alpha=ALPHA, beta=BETA, washout=WARMUP,
                     density=DENSITY, input_scaling=1.0, bias_scaling=0.0,
                     readout="bias", seed=seed)
    net = esn.ESN.create(1, cfg)
    fitted, state = net.fit(x[:TRAIN, ...], x[1:TRAIN + 1, ...],
                            net.zero_state(1))
    pred, _ = fitted.predict(x[TRAIN + 1:-1, ...], state)
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    return backend.to_numpy(pred)[:, 0, 0], seconds


def theirs(series, N, seed):
    """(prediction (T_test,), (wall, CPU) seconds for create + fit +
    predict)."""
    from reservoirpy.nodes import Reservoir, Ridge

    x = series.reshape(-1, 1)
    start, cpu = time.perf_counter(), time.process_time()
    reservoir = Reservoir(units=N, lr=ALPHA, sr=RHO, rc_connectivity=DENSITY,
                          seed=seed)
    model = reservoir >> Ridge(ridge=BETA)
    model.fit(x[:TRAIN], x[1:TRAIN + 1], warmup=WARMUP)
    pred = model.run(x[TRAIN + 1:-1])
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    return np.asarray(pred)[:, 0], seconds


def main(argv) -> list:
    """Run both on every size and seed; print and write the summary."""
    import reservoirpy

    sizes = [int(a) for a in argv] or list(SIZES)
    series = mackey_glass(SAMPLES)
    target = series[TRAIN + 2:]
    rows = []
    for N in sizes:
        runs = {name: {"nrmse": [], "seconds": [], "cpu_seconds": []}
                for name in ("companion", "reservoirpy")}
        load = os.getloadavg()
        for seed in range(SEEDS.get(N, 3)):
            for name, run in (("companion", ours), ("reservoirpy", theirs)):
                pred, seconds = run(series, N, seed)
                runs[name]["nrmse"].append(esn.nrmse(pred, target))
                runs[name]["seconds"].append(seconds[0])
                runs[name]["cpu_seconds"].append(seconds[1])
        row = {"N": N, "seeds": len(runs["companion"]["nrmse"]),
               "load_average_1min": [load[0], os.getloadavg()[0]]}
        for name, r in runs.items():
            row[name] = {"seconds_median": statistics.median(r["seconds"]),
                         "nrmse_mean": float(np.mean(r["nrmse"])),
                         "nrmse_std": float(np.std(r["nrmse"])),
                         "cpu_seconds_median":
                             statistics.median(r["cpu_seconds"]),
                         "seconds": [round(v, 4) for v in r["seconds"]],
                         "cpu_seconds": [round(v, 4)
                                         for v in r["cpu_seconds"]],
                         "nrmse_per_seed": [round(v, 7) for v in r["nrmse"]]}
        c, t = row["companion"], row["reservoirpy"]
        row["time_ratio"] = c["seconds_median"] / t["seconds_median"]
        row["cpu_ratio"] = c["cpu_seconds_median"] / t["cpu_seconds_median"]
        rows.append(row)
        write(rows, reservoirpy.__version__, len(target))
        print(f"N = {N:5d} ({row['seeds']} seeds): companion "
              f"{c['seconds_median']:8.2f} s NRMSE {c['nrmse_mean']:.2e} ± "
              f"{c['nrmse_std']:.1e} | reservoirpy {t['seconds_median']:8.2f}"
              f" s NRMSE {t['nrmse_mean']:.2e} ± {t['nrmse_std']:.1e} | "
              f"ratio {row['time_ratio']:.2f} (CPU time "
              f"{row['cpu_ratio']:.2f})", flush=True)
    print(f"written to {OUT}")
    return rows


def write(rows, version: str, tested: int) -> None:
    """The summary so far, written after each size (a long run that is
    stopped keeps the sizes it finished)."""
    result = {
        "task": f"Mackey-Glass (tau = 17, companion.data.mackey_glass, "
                f"{SAMPLES} samples), one-step prediction: fit on {TRAIN} "
                f"pairs, test on {tested}",
        "config": {"rho": RHO, "alpha": ALPHA, "beta": BETA,
                   "warmup": WARMUP, "density": DENSITY,
                   "input_scaling": 1.0, "reservoir_bias": 0.0,
                   "readout": "[1; x(n)]"},
        "nrmse_definition": "sqrt(mean((y - y*)^2)) / std(y*), population "
                            "std (companion.esn.nrmse, on both)",
        "timing": "create + fit + predict on both sides (reservoirpy "
                  "initialises inside fit), one run per seed, the two "
                  "interleaved; median over seeds; wall and CPU time "
                  "(process_time: the same on an idle machine with one "
                  "thread, less disturbed by other load)",
        "rows": rows,
        "machine": describe(reservoirpy=version),
        "load": "load_average_1min: the machine's 1-minute load average "
                "(os.getloadavg) before and after each size; with more "
                "runnable jobs than cores the wall times stretch and the "
                "CPU times are the figures to compare",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
