# IPython kernels of the course's environment (installed by `make install`
# as .venv/etc/ipython/ipython_kernel_config.py, which every kernel started
# from .venv reads: the book's build, nbval, `make refresh`, `make lab`).
#
# Figures are PNG at twice their pixel density, shown at their nominal
# size ("retina"): sharp on high-DPI screens, the same size on the page.
# nbval compares neither PNG data nor output metadata, so stored notebooks
# stay valid whichever format made their figures.
c.InlineBackend.figure_formats = {"retina"}  # noqa: F821 - traitlets config
