"""Echo state networks on NumPy and on a GPU through CuPy, up to 50 000 units.

    .venv/bin/python benchmarks/esn_numpy_vs_cupy.py           # CuPy
    .venv/bin/python benchmarks/esn_numpy_vs_cupy.py --device gpu-proxy

The same companion code builds a reservoir (sparse W from 500 units: SciPy
on the CPU, CuPy's sparse matrices on the GPU; its spectral radius on the
host), drives it over Mackey-Glass, fits the ridge readout and predicts,
on the NumPy backend (every core) and on the device, for reservoir sizes N
up to 50 000. At large N a fixed number of recurrent connections per unit
(``DEGREE``) keeps W sparse, as large reservoirs are built; the ridge
readout then has more features than training rows and is solved in its
dual form (``esn.ridge``). Each size is timed ``REPEATS`` times in turn on
both backends, the GPU synchronised before each clock reading; the
speed-up is NumPy's median time over the device's, and the NRMSE of both
predictions is written beside it (they must agree: same draws, float64).

Results are written after every size to
``benchmarks/results/esn_numpy_vs_cupy.json`` (CuPy only), so a run
stopped at its time limit keeps the sizes it finished. ``--device
gpu-proxy`` tries the script on a machine without a GPU (small sizes,
nothing written).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _machine import describe

from companion import backend, esn
from companion.data.mackey_glass import mackey_glass

SIZES = (100, 1000, 5000, 20000, 50000)
QUICK_SIZES = (100, 600)
DEGREE = 10            # recurrent connections per unit, on average
RHO, ALPHA, BETA, WASHOUT = 1.25, 0.3, 1e-5, 100
SAMPLES, TRAIN = 2200, 1500
REPEATS = 3
OUT = Path(__file__).resolve().parent / "results" / "esn_numpy_vs_cupy.json"


def config(N: int, seed: int = 0) -> esn.Config:
    return esn.Config(N=N, rho=RHO, alpha=ALPHA, beta=BETA, washout=WASHOUT,
                      density=min(0.1, DEGREE / N), input_scaling=1.0,
                      readout="bias", seed=seed)


def run(name: str, N: int, series):
    """(prediction on the host, seconds) for create + fit + predict."""
    be = backend.set_backend(name)
    sync = lambda: None                      # noqa: E731
    if be.name == "cupy":
        import cupy

        sync = cupy.cuda.Device().synchronize
    x = backend.asarray(series.reshape(-1, 1, 1))
    sync()
    start = time.perf_counter()
    net = esn.ESN.create(1, config(N))
    fitted, state = net.fit(x[:TRAIN, ...], x[1:TRAIN + 1, ...],
                            net.zero_state(1))
    pred, _ = fitted.predict(x[TRAIN + 1:-1, ...], state)
    sync()
    seconds = time.perf_counter() - start
    return backend.to_numpy(pred)[:, 0, 0], seconds


def main(argv) -> int:
    device = argv[argv.index("--device") + 1] if "--device" in argv \
        else "cupy"
    try:
        backend.set_backend(device)
    except backend.BackendUnavailableError as err:
        print(f"esn_numpy_vs_cupy: {err}", file=sys.stderr)
        return 2
    sizes = QUICK_SIZES if device != "cupy" else SIZES
    series = mackey_glass(SAMPLES)
    target = series[TRAIN + 2:]
    rows = []
    for N in sizes:
        run(device, min(N, 200), series)     # warm-up: CuPy compiles
        times = {"numpy": [], device: []}
        preds = {}
        for _ in range(REPEATS):
            for name in ("numpy", device):
                preds[name], seconds = run(name, N, series)
                times[name].append(seconds)
        a = statistics.median(times["numpy"])
        b = statistics.median(times[device])
        row = {"N": N, "density": config(N).density, "numpy_s": a,
               "device_s": b, "speedup": a / b,
               "nrmse_numpy": esn.nrmse(preds["numpy"], target),
               "nrmse_device": esn.nrmse(preds[device], target),
               "max_abs_prediction_difference":
                   float(np.max(np.abs(preds["numpy"] - preds[device])))}
        rows.append(row)
        print(f"N = {N:6d}  numpy {a:8.3f} s  {device} {b:8.3f} s  "
              f"speed-up {a / b:6.2f}  NRMSE {row['nrmse_numpy']:.3e} / "
              f"{row['nrmse_device']:.3e}", flush=True)
        if device == "cupy":
            write(rows)
    backend.set_backend("numpy")
    if device != "cupy":
        print("(a stand-in device: nothing written)")
    return 0


def write(rows) -> None:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    result = {"task": f"Mackey-Glass one-step prediction, fit on {TRAIN} "
                      f"pairs after a washout of {WASHOUT}",
              "config": {"rho": RHO, "alpha": ALPHA, "beta": BETA,
                         "degree": DEGREE, "readout": "[1; x(n)]"},
              "timing": "create + fit + predict, median of "
                        f"{REPEATS}, numpy and device in turn",
              "machine": describe(cupy=cupy.__version__,
                                  gpu=props["name"].decode()),
              "rows": rows}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
