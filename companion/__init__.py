"""companion: every algorithm of "Recurrent Neural Networks from Scratch".

One module per lecture concept; import what a chapter needs, e.g.
``from companion import backend, activations, losses``. Importing the
package does no work and never imports CuPy; choose the array backend with
``backend.set_backend("cupy")`` or the ``COMPANION_BACKEND`` variable.
"""

__version__ = "0.1.0"
