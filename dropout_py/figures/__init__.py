"""SVG figures for dropout: networks, weight matrices, learning curves, confusion matrices, digits.

Every function returns a :class:`Figure`: SVG text that shows itself in Jupyter and in the site's
live cells (``_repr_svg_``, ``_repr_html_``) and that :meth:`Figure.save` writes to a file. Pure
Python and NumPy, so it runs unchanged in Pyodide; the same input always gives the same text.

Examples
--------
>>> from dropout_py.figures import network_diagram
>>> fig = network_diagram((3, 4, 2), dropped=[[1], None, None])  # input node i2 dropped
>>> fig.svg.startswith("<svg")
True
"""

from ._figure import Figure
from .confusion import confusion_matrix
from .curves import learning_curves
from .digits import digit_grid
from .lines import line_chart
from .matrix import thinning_steps, weight_matrix
from .network import network_diagram, network_diagram_from, thinned_networks

__all__ = [
    "Figure",
    "confusion_matrix",
    "digit_grid",
    "learning_curves",
    "line_chart",
    "network_diagram",
    "network_diagram_from",
    "thinned_networks",
    "thinning_steps",
    "weight_matrix",
]
