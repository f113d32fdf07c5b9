"""``python -m analysis`` runs the command line (same as the ``analysis`` script)."""

import sys

from .cli import main

sys.exit(main())
