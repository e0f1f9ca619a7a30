"""Print the committed benchmark results as one table of ratios.

    .venv/bin/python benchmarks/table.py        (the last step of make bench)

Reads ``benchmarks/results/*.json``: companion / torch time ratios per
layer, dtype, shape and thread count; the ESN's time ratio and NRMSE
against reservoirpy; NumPy / CuPy speed-ups where a GPU run is there.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def recurrent(path: Path) -> None:
    """Ratio companion / torch for each layer and dtype, shapes across."""
    data = json.loads(path.read_text(encoding="utf-8"))
    m = data["machine"]
    print(f"\nRNN / LSTM / GRU forward + backward, companion / torch "
          f"(below 1: companion faster), {m['threads']} thread(s), "
          f"{m['cpu']} x {m['cpus']}, torch {m['torch']}:")
    shapes = sorted({(r["T"], r["B"], r["D"], r["H"]) for r in data["rows"]},
                    key=lambda s: s[1] * s[3])
    print(f"{'layer':6s}{'dtype':9s}" + "".join(
        f"{'(%d,%d,%d,%d)' % s:>20s}" for s in shapes))
    cells = {(r["layer"], r["dtype"], (r["T"], r["B"], r["D"], r["H"])):
             r["ratio"] for r in data["rows"]}
    for layer in ("rnn", "lstm", "gru"):
        for dtype in ("float32", "float64"):
            row = [cells.get((layer, dtype, s)) for s in shapes]
            print(f"{layer:6s}{dtype:9s}" + "".join(
                f"{'-' if v is None else format(v, '.2f'):>20s}"
                for v in row))


def esn(path: Path) -> None:
    """Time ratio and NRMSE of the ESN against reservoirpy, by size."""
    data = json.loads(path.read_text(encoding="utf-8"))
    print(f"\nESN create + fit + predict on Mackey-Glass vs reservoirpy "
          f"{data['machine']['reservoirpy']}, companion / reservoirpy "
          f"(goal: 0.6 or less), one thread:")
    print(f"{'N':>6s}{'seeds':>6s}{'ratio':>7s}{'CPU':>6s}   NRMSE companion"
          f" vs reservoirpy (mean ± std)")
    for r in data["rows"]:
        c, t = r["companion"], r["reservoirpy"]
        cpu = f"{r['cpu_ratio']:6.2f}" if "cpu_ratio" in r else f"{'':6s}"
        print(f"{r['N']:6d}{r['seeds']:6d}{r['time_ratio']:7.2f}{cpu}   "
              f"{c['nrmse_mean']:.2e} ± {c['nrmse_std']:.1e} vs "
              f"{t['nrmse_mean']:.2e} ± {t['nrmse_std']:.1e}")


def gpu(path: Path) -> None:
    """NumPy / CuPy speed-up for each layer, dtype and size."""
    data = json.loads(path.read_text(encoding="utf-8"))
    print(f"\nNumPy / CuPy speed-up (above 1: the GPU helps), "
          f"{data['machine']['gpu']}:")
    for r in data["rows"]:
        print(f"{r['layer']:6s}{r['dtype']:9s}B={r['B']:4d} H={r['H']:5d}"
              f"{r['speedup']:10.2f}")


def main() -> None:
    for path in sorted(RESULTS.glob("recurrent_vs_torch_*thread.json")):
        recurrent(path)
    if (RESULTS / "esn_vs_reservoirpy.json").exists():
        esn(RESULTS / "esn_vs_reservoirpy.json")
    if (RESULTS / "numpy_vs_cupy.json").exists():
        gpu(RESULTS / "numpy_vs_cupy.json")
    else:
        print("\nNumPy vs CuPy: no results yet (make bench-gpu on a machine "
              "with a CUDA GPU)")


if __name__ == "__main__":
    main()
