"""``python -m alloy``: the command line (``alloy.cli``)."""

import sys

from .cli import main

sys.exit(main())
