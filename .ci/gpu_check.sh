#!/usr/bin/env bash
# The GPU check in one command, for a CUDA machine with no network.
#
#   make gpu-kit                      # here, where the package index is
#   bash .ci/gpu_check.sh [RESULTS]   # there, in the working tree + .gpu-kit
#
# Installs the kit's wheels offline (pip --no-index, into a folder on
# PYTHONPATH: the image's own NumPy, CuPy and SciPy stay the ones tested),
# then, each step under its own time limit, logged, and continuing past a
# failure so that one run gives every result:
#   1. every unit test, the CuPy cases included;
#   2. every notebook executed under CuPy and compared with its stored
#      outputs (tests/nbval_sanitize_gpu.cfg: the last printed digit);
#   3. the NumPy-vs-CuPy sweep of the recurrent layers and the ESN.
# RESULTS (default: $OUT where set, else gpu-results/) receives the logs, the
# JUnit reports, the sweep's JSON and summary.txt; the exit status is 0 only
# if every step passed.
#
# Rehearsal on a machine without a GPU (what `make gpu-rehearsal` does): a
# Python with the GPU image's packages, no network (unshare -n), and
# GPU_BACKEND=gpu-proxy standing in for CuPy.
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS=${1:-${OUT:-gpu-results}}
BACKEND=${GPU_BACKEND:-cupy}
PY=${GPU_PYTHON:-python3}
JOBS=${GPU_JOBS:-8}
SITE=${GPU_SITE:-/tmp/companion-site}
SCALE=${GPU_TIME_SCALE:-1}   # the rehearsal on 2 CPU cores needs longer limits
mkdir -p "$RESULTS"
SUMMARY="$RESULTS/summary.txt"
: > "$SUMMARY"
START=$(date +%s)
status=0

note() { echo "$*" | tee -a "$SUMMARY"; }

step() {  # step NAME LIMIT_SECONDS COMMAND...
    local name=$1 limit=$(( $2 * SCALE )); shift 2
    local t0=$(date +%s)
    echo "== $name (limit ${limit}s)"
    timeout --kill-after=10 "$limit" "$@" > "$RESULTS/$name.log" 2>&1
    local rc=$?
    tail -n 5 "$RESULTS/$name.log"
    note "$name: $([ $rc = 0 ] && echo passed || echo "FAILED (exit $rc)") in $(( $(date +%s) - t0 )) s"
    [ $rc = 0 ] || status=1
}

note "gpu check: backend $BACKEND, $(date -u +%FT%TZ), $(uname -m), $($PY --version 2>&1)"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
    --format=csv,noheader | sed 's/^/GPU: /' | tee -a "$SUMMARY"

# 0. the kit, offline
if ! ls .gpu-kit/wheels/*.whl > /dev/null 2>&1; then
    note "no .gpu-kit/wheels: run make gpu-kit where the package index is reachable"
    exit 2
fi
rm -rf "$SITE"
if ! $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --target "$SITE" .gpu-kit/wheels/*.whl > "$RESULTS/install.log" 2>&1; then
    note "install: FAILED (see install.log)"; tail -n 20 "$RESULTS/install.log"; exit 2
fi
export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONHASHSEED=0 PYDEVD_DISABLE_FILE_VALIDATION=1 MPLBACKEND=
$PY - <<'EOF' 2>&1 | tee -a "$SUMMARY"
import importlib
for name in ("numpy", "scipy", "cupy", "sklearn", "array_api_compat",
             "array_api_strict", "nbval", "jupytext", "ipykernel",
             "companion"):
    try:
        module = importlib.import_module(name)
        print(f"{name} {getattr(module, '__version__', '')}")
    except Exception as err:
        print(f"{name}: not importable ({type(err).__name__})")
EOF

# 1. unit tests, every backend there is (but the packaging test, which
#    builds a wheel into a fresh venv that borrows site-packages: the kit
#    lives on PYTHONPATH, which that test strips; CI runs it)
step unit-tests 120 $PY -m pytest -p no:cacheprovider -q -n "$JOBS" \
    --ignore=tests/test_package_install.py \
    --junitxml="$RESULTS/unit-tests.xml" tests

# 2. every notebook under the device backend against the stored outputs
cat tests/nbval_sanitize.cfg tests/nbval_sanitize_gpu.cfg > "$RESULTS/sanitize.cfg"
NOTEBOOKS=$(ls -d book solutions exercises 2> /dev/null)
step notebooks 200 env COMPANION_BACKEND="$BACKEND" $PY -m pytest \
    -p no:cacheprovider -v --nbval --nbval-current-env \
    --nbval-sanitize-with "$RESULTS/sanitize.cfg" --ignore=book/_build \
    -n "$JOBS" --dist loadfile --junitxml="$RESULTS/notebooks.xml" $NOTEBOOKS

# 3. NumPy (every core) against the device, tiny to large
CORES=$(getconf _NPROCESSORS_ONLN)
SWEEP_ARGS=()
[ "$BACKEND" = cupy ] || SWEEP_ARGS=(--device "$BACKEND" --quick)
for bench in benchmarks/numpy_vs_cupy.py benchmarks/esn_numpy_vs_cupy.py; do
    [ -f "$bench" ] || continue
    name=sweep-$(basename "$bench" .py)
    step "$name" 75 env OMP_NUM_THREADS="$CORES" OPENBLAS_NUM_THREADS="$CORES" \
        $PY "$bench" "${SWEEP_ARGS[@]}"
done
cp benchmarks/results/*cupy*.json "$RESULTS/" 2> /dev/null

note "gpu check: $([ $status = 0 ] && echo 'every step passed' || echo 'some step FAILED') in $(( $(date +%s) - START )) s"
exit $status
