"""Print the OpenBLAS kernel NumPy uses; fail if it is not the one asked.

    OPENBLAS_CORETYPE=SkylakeX python .ci/blas_kernel.py

`make test` runs the notebooks under several kernels (they round matrix
products differently); an unknown or unsupported OPENBLAS_CORETYPE makes
OpenBLAS fall back silently to another kernel, and then a pass would test
nothing new. This check turns that into an error.
"""

import os
import sys

import numpy  # noqa: F401  (loads OpenBLAS)
import threadpoolctl


def main() -> int:
    wanted = os.environ.get("OPENBLAS_CORETYPE", "")
    blas = [i for i in threadpoolctl.threadpool_info()
            if i.get("internal_api") == "openblas"]
    if not blas:
        print("NumPy does not use OpenBLAS here (Accelerate, MKL...): "
              "the kernel cannot be chosen, the default is used")
        return 0
    used = blas[0].get("architecture") or "?"
    threads = blas[0].get("num_threads")
    print(f"OpenBLAS kernel {used}, {threads} thread(s)")
    # OpenBLAS reports some forced kernels under another core's name
    aliases = {"prescott": {"prescott", "katmai"}}
    accepted = aliases.get(wanted.lower(), {wanted.lower()})
    if wanted and used.lower() not in accepted:
        print(f"OPENBLAS_CORETYPE={wanted} was asked for but OpenBLAS "
              f"chose {used}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
