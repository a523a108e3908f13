"""``python -m autoreg.cli ...``: the same as the ``autoreg`` command."""

import sys

from autoreg.cli import main

if __name__ == "__main__":
    sys.exit(main())
