"""Recurrent layers on NumPy and on a GPU through CuPy, tiny to large.

    make bench-gpu          # on a machine with a CUDA GPU (installs cupy)
    .venv/bin/python benchmarks/numpy_vs_cupy.py [--quick]
    .venv/bin/python benchmarks/numpy_vs_cupy.py --device gpu-proxy

The same companion code (``hidden_forward`` + ``hidden_backward`` of the
Elman RNN, the LSTM and the GRU, forward and backward over T = 50 steps,
D = 64 inputs) runs on the NumPy backend and on the device backend, for
batch sizes B up to 256 and hidden sizes H up to 1024, in float32 and
float64. After one warm-up (CuPy compiles its kernels on first use) each
is timed ``REPEATS`` times in turn, the GPU synchronised before each clock
reading; the speed-up is NumPy's median time over the device's. Where it
is below 1 the GPU does not help: per-step work too small to pay for the
kernel launches of a Python loop over time.

The device is CuPy, and ``benchmarks/results/numpy_vs_cupy.json`` is
written with the machine and the GPU. ``--device gpu-proxy`` runs the
same sweep on array-api-strict to try the script on a machine without a
GPU; its times mean nothing and nothing is written. Without a usable GPU
the script stops with the backend's one-line message.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _machine import describe

from companion import backend, gru, lstm, rnn

T, D = 50, 64
BATCHES = (1, 16, 64, 256)
HIDDEN = (32, 128, 512, 1024)
REPEATS = 3
OUT = Path(__file__).resolve().parent / "results" / "numpy_vs_cupy.json"


def make(kind, B, H, seed=0):
    """Host parameters, inputs, initial state and upstream gradient."""
    rng = np.random.default_rng(seed)
    module = {"rnn": rnn, "lstm": lstm, "gru": gru}[kind]
    extra = {"convention": "pytorch"} if kind == "gru" else {}
    params = module.init_params(D, H, None, seed, xp=np, **extra)
    host = {k: backend.to_numpy(v) for k, v in params.items()}
    x = rng.normal(size=(T, B, D))
    dhs = rng.normal(size=(T, B, H))
    return module, host, x, dhs


def on(name, dtype, module, host, x, dhs):
    """The problem moved to backend ``name`` in ``dtype``."""
    be = backend.set_backend(name, dtype=dtype)
    params = {k: backend.asarray(v) for k, v in host.items()}
    xs = backend.asarray(x)
    s0 = module.zero_state(params, x.shape[1], xs)
    return be, (module, params, xs, s0, backend.asarray(dhs))


def run_once(module, params, x, s0, dhs):
    """One forward and one backward pass over the sequence."""
    _, cache = module.hidden_forward(params, x, s0, "tanh")
    return module.hidden_backward(params, dhs, cache).dx


def timed(be, args):
    """Seconds of one run, the device synchronised before the clock."""
    sync = lambda: None                      # noqa: E731
    if be.name == "cupy":
        import cupy

        sync = cupy.cuda.Device().synchronize
    sync()
    start = time.perf_counter()
    run_once(*args)
    sync()
    return time.perf_counter() - start


def main(argv):
    device = "cupy"
    if "--device" in argv:
        device = argv[argv.index("--device") + 1]
    try:
        gpu = backend.set_backend(device)
    except backend.BackendUnavailableError as err:
        print(f"numpy_vs_cupy: {err}", file=sys.stderr)
        return 2
    batches = BATCHES[:2] if "--quick" in argv else BATCHES
    hidden = HIDDEN[:2] if "--quick" in argv else HIDDEN
    rows = []
    for kind in ("rnn", "lstm", "gru"):
        for dtype in ("float32", "float64"):
            for B in batches:
                for H in hidden:
                    problem = make(kind, B, H)
                    cpu_be, cpu = on("numpy", dtype, *problem)
                    dev_be, dev = on(device, dtype, *problem)
                    check = np.max(np.abs(
                        backend.to_numpy(run_once(*cpu))
                        - backend.to_numpy(run_once(*dev))))
                    times = {"numpy": [], device: []}
                    for _ in range(REPEATS):
                        times["numpy"].append(timed(cpu_be, cpu))
                        times[device].append(timed(dev_be, dev))
                    a = statistics.median(times["numpy"])
                    b = statistics.median(times[device])
                    rows.append({"layer": kind, "dtype": dtype, "T": T,
                                 "B": B, "D": D, "H": H, "numpy_s": a,
                                 "device_s": b, "speedup": a / b,
                                 "max_abs_dx_difference": float(check)})
                    print(f"{kind:4s} {dtype} B={B:3d} H={H:4d}  numpy "
                          f"{a * 1e3:9.2f} ms  {device} {b * 1e3:9.2f} ms"
                          f"  speed-up {a / b:6.2f}  |dx diff| "
                          f"{check:.1e}", flush=True)
                    if gpu.name == "cupy":
                        write(rows)   # a run stopped at its limit keeps these
    backend.set_backend("numpy")
    if gpu.name != "cupy":
        print("(a stand-in device: nothing written)")
        return 0
    print(f"wrote {OUT}")
    return 0


def write(rows) -> None:
    """The rows so far, with the machine and the GPU."""
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    result = {"machine": describe(cupy=cupy.__version__,
                                  gpu=props["name"].decode()),
              "T": T, "D": D, "repeats": REPEATS, "rows": rows}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
