"""The machine a benchmark ran on, as written beside its results."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ('' where unreadable)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor()
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def describe(**versions) -> dict:
    """Platform, CPU model and count, Python, NumPy, its BLAS and the
    kernel OpenBLAS chose, the thread variables, and any extra
    ``name=version`` given."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')}"
    except (TypeError, KeyError):
        blas = "unknown"
    try:  # the OpenBLAS kernel in use (OPENBLAS_CORETYPE can force one)
        from threadpoolctl import threadpool_info
        kernel = ", ".join(sorted({str(pool.get("architecture"))
                                   for pool in threadpool_info()
                                   if pool.get("internal_api") == "openblas"}))
    except ImportError:
        kernel = "unknown"
    return {"platform": platform.platform(), "cpu": cpu_model(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "blas": blas, "blas_kernel": kernel,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            **versions}
