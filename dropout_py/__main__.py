"""``python -m dropout_py`` runs the ``dropout-py`` command line."""

import sys

from dropout_py.cli import main

sys.exit(main())
