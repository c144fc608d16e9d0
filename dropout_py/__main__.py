"""``python -m dropout_py`` runs the ``dropout-py`` command line."""

import sys

from dropout_py.cli import main

if __name__ == "__main__":
    sys.exit(main())
