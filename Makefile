# Recurrent Neural Networks from Scratch: set-up, book and tests.
#   make book       create .venv, install, execute every chapter, build HTML
#   make test       create .venv if needed, install, run the whole pipeline
#   make notebooks  re-execute every paired notebook (authors, after edits)
#   make lab        install JupyterLab and open it on exercises/
#   make pdf        the book as one PDF (after make book; needs chromium)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
NOTEBOOK_DIRS := $(wildcard book solutions exercises)

# Outputs must not depend on the machine: one BLAS thread unless a target
# says otherwise, the NumPy backend unless a target says otherwise.
# (MPLBACKEND stays unset: kernels then store figures inline; set to Agg,
# they would store none.)
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# The OpenBLAS kernels (x86-64) the notebooks are checked under. The kernels
# round matrix products differently (FMA, vector width), as a student's
# laptop, Apple's Accelerate or cuBLAS do: a stored output must survive all
# of them. The first is set for every target, whatever the environment
# exports; test-nbval runs again under the second, with two threads.
# AVX-512 machines check SkylakeX (their default), others Prescott (SSE3).
ifeq ($(shell uname -m),x86_64)
BLAS_KERNELS ?= Haswell $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null \
	&& echo SkylakeX || echo Prescott)
export OPENBLAS_CORETYPE := $(firstword $(BLAS_KERNELS))
else
BLAS_KERNELS ?= default
unexport OPENBLAS_CORETYPE
endif
CONSTRAINTS := .ci/constraints.txt

NBVAL := $(BIN)/python -m pytest -p no:cacheprovider --nbval \
	--nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	--ignore=book/_build -n $(JOBS) --dist loadfile -q

.PHONY: install book test test-unit test-nbval test-book notebooks \
	exercises check-math bench bench-gpu test-gpu clean lock refresh \
	lab pdf test-browser browser-tools gpu-kit gpu-check gpu-rehearsal

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS) .ci/ipython_kernel_config.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[book,test]"
	install -D -m 644 .ci/ipython_kernel_config.py \
		$(VENV)/etc/ipython/ipython_kernel_config.py
	touch $@

book: $(STAMP)
	COMPANION_BACKEND=numpy $(BIN)/jupyter-book build book \
		--builder html -W -n --keep-going
	@echo
	@echo "The book is built: open $(CURDIR)/book/_build/html/index.html"

test: test-unit test-nbval test-book test-browser
	@echo "make test: every stage passed"

# 1 + 2. unit tests on every backend, and the .md/.ipynb pairing check
test-unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n $(JOBS) -q tests

# 3. every committed notebook re-executed and compared with its stored
#    outputs: under NumPy with each OpenBLAS kernel (the second pass with
#    two threads), then under the GPU proxy
test-nbval: $(STAMP)
	@set -e; threads=1; for kernel in $(BLAS_KERNELS); do \
	  if [ "$$kernel" = default ]; then unset OPENBLAS_CORETYPE; \
	  else export OPENBLAS_CORETYPE=$$kernel; fi; \
	  export OPENBLAS_NUM_THREADS=$$threads OMP_NUM_THREADS=$$threads; \
	  echo "== nbval, NumPy backend, $$threads thread(s):"; \
	  $(BIN)/python .ci/blas_kernel.py; \
	  COMPANION_BACKEND=numpy $(NBVAL) $(NOTEBOOK_DIRS); \
	  threads=2; \
	done
	@echo "== nbval, GPU proxy:"
	COMPANION_BACKEND=gpu-proxy $(NBVAL) $(NOTEBOOK_DIRS)

# 4. the book built from a clean tree with execution, warnings as errors
test-book: $(STAMP)
	rm -rf book/_build
	COMPANION_BACKEND=numpy $(BIN)/jupyter-book build book \
		--builder html -W -n --keep-going

# 5. the built book in headless Chromium, network off (.ci/check_book.py):
#    math, overflow at 1280 px, split outputs, links, downloads, dropdowns.
#    Without Chromium it says so and passes, unless BROWSER_REQUIRED=1 (CI).
test-browser: $(STAMP)
	@test -f book/_build/html/index.html || $(MAKE) test-book
	@if $(BIN)/python -c "import sys, shutil; sys.exit(not any(map( \
	    shutil.which, ('chromium', 'chromium-browser', 'google-chrome'))))" \
	  || [ -n "$$CHROMIUM" ]; then $(MAKE) --no-print-directory browser-tools; fi
	$(BIN)/python .ci/check_book.py book/_build/html

# Playwright drives the system's Chromium (its own browser download unused)
PLAYWRIGHT := playwright==1.65.2
browser-tools: $(STAMP)
	@$(BIN)/python -c "import playwright" 2>/dev/null \
	  || $(BIN)/python -m pip install --quiet "$(PLAYWRIGHT)"

# 6. authors: regenerate exercises/ and the book's exercise pages from
#    solutions/, then rewrite every .ipynb from its .md and execute it
notebooks: $(STAMP)
	$(BIN)/python .ci/make_exercises.py --no-execute
	COMPANION_BACKEND=numpy $(BIN)/python .ci/notebooks.py refresh \
		$(NOTEBOOK_DIRS)

# authors: re-execute the notebooks named, e.g.
#   make refresh NB="book/04-vanishing-exploding.md"
refresh: $(STAMP)
	COMPANION_BACKEND=numpy $(BIN)/python .ci/notebooks.py refresh $(NB)

# authors: after editing solutions/ only
exercises: $(STAMP)
	COMPANION_BACKEND=numpy $(BIN)/python .ci/make_exercises.py

# authors: the built book shows rendered math offline (needs chromium)
check-math: $(STAMP)
	$(BIN)/python .ci/check_math.py book/_build/html

# speed against peers (torch, reservoirpy: the bench extra), ratios in
# benchmarks/results/: the recurrent layers with every core (BLAS and torch
# alike; getconf, since nproc obeys OMP_NUM_THREADS) and with one thread
CORES = $$(getconf _NPROCESSORS_ONLN)
# NumPy runs the machine's own OpenBLAS kernel here, as the peers run theirs:
# the kernel forced for the notebooks' reproducibility is not the one a
# reader's NumPy would pick (the kernel is written beside the results)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	env -u OPENBLAS_CORETYPE OMP_NUM_THREADS=$(CORES) OPENBLAS_NUM_THREADS=$(CORES) \
		$(BIN)/python benchmarks/recurrent_vs_torch.py
	env -u OPENBLAS_CORETYPE $(BIN)/python benchmarks/recurrent_vs_torch.py
	env -u OPENBLAS_CORETYPE $(BIN)/python benchmarks/esn_vs_reservoirpy.py
	$(BIN)/python benchmarks/table.py

# CuPy for CUDA 12 by default; make test-gpu CUDA=13 for a CUDA 13 machine
CUDA ?= 12

# on a machine with a CUDA GPU: NumPy (every core) against CuPy, tiny to
# large sizes, results in benchmarks/results/numpy_vs_cupy.json
bench-gpu: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[gpu-cuda$(CUDA)]"
	OMP_NUM_THREADS=$(CORES) OPENBLAS_NUM_THREADS=$(CORES) \
		$(BIN)/python benchmarks/numpy_vs_cupy.py

# on a machine with a CUDA GPU: every unit test (CuPy cases included) and
# every notebook under CuPy, compared with the stored NumPy outputs
test-gpu: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[gpu-cuda$(CUDA)]"
	$(BIN)/python -m pytest -p no:cacheprovider -q tests
	cat tests/nbval_sanitize.cfg tests/nbval_sanitize_gpu.cfg \
		> $(VENV)/nbval_sanitize_cupy.cfg
	COMPANION_BACKEND=cupy $(NBVAL) \
		--nbval-sanitize-with $(VENV)/nbval_sanitize_cupy.cfg \
		$(NOTEBOOK_DIRS)

# students: JupyterLab on exercises/ with the course's kernel (the .venv's
# Python, registered as the "python3" kernel that the notebooks name, ahead
# of any other on this machine); offline once installed
LAB_STAMP := $(VENV)/.lab-installed
$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[book,test,lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (RNN course)"
	touch $@

LAB_ARGS ?=
lab: $(LAB_STAMP)
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(BIN)/jupyter lab \
		--ServerApp.root_dir=exercises \
		--LabApp.news_url=None \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
		--LabApp.extension_manager=readonly \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# the whole book as one PDF, book/_build/rnn-from-scratch.pdf: the
# single-page HTML (from the environment `make book` left: nothing is
# executed again) printed by headless Chromium once MathJax has rendered
PDF := book/_build/rnn-from-scratch.pdf
pdf: $(STAMP)
	@test -f book/_build/html/index.html || $(MAKE) book
	COMPANION_BACKEND=numpy $(BIN)/jupyter-book build book \
		--builder singlehtml --keep-going
	$(MAKE) --no-print-directory browser-tools
	$(BIN)/python .ci/print_pdf.py book/_build/singlehtml/intro.html $(PDF)

# authors: after a deliberate upgrade of a package in .venv, rewrite the lock
lock:
	bash .ci/lock.sh

# the GPU check, prepared here for a CUDA machine with no network (Python
# 3.12, NumPy, CuPy and SciPy of its own): the wheels it lacks, < 60 MiB
gpu-kit: $(STAMP)
	$(BIN)/python .ci/gpu_kit.py --python 3.12

# there: make gpu-check, or without make: bash .ci/gpu_check.sh (unit
# tests, notebooks under CuPy, sweeps; results in $$OUT or gpu-results/)
gpu-check:
	bash .ci/gpu_check.sh


# Rehearsed here without network (unshare -n, as root) on a Python 3.12
# that holds only the GPU image's packages, the GPU proxy for CuPy.
REHEARSAL := .gpu-rehearsal
PYTHON312 ?= python3.12
# the proxy on 2 CPU cores is much slower than CuPy on a GPU machine
REHEARSAL_SCALE ?= 6
gpu-rehearsal: gpu-kit
	test -x $(REHEARSAL)/bin/python || $(PYTHON312) -m venv $(REHEARSAL)
	$(REHEARSAL)/bin/python -m pip install --quiet numpy scipy matplotlib \
		pytest pytest-xdist hypothesis tqdm threadpoolctl pyyaml \
		markdown-it-py attrs packaging pygments psutil coverage \
		typing-extensions python-dateutil setuptools wheel scikit-learn
	rm -rf gpu-results/rehearsal
	unshare -n sh -c 'ip link set lo up && GPU_PYTHON=$(REHEARSAL)/bin/python \
		GPU_BACKEND=gpu-proxy GPU_JOBS=2 GPU_TIME_SCALE=$(REHEARSAL_SCALE) \
		GPU_SITE=/tmp/companion-rehearsal-site \
		bash .ci/gpu_check.sh gpu-results/rehearsal'

clean:
	rm -rf book/_build .pytest_cache .hypothesis
