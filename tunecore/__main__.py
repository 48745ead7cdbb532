"""``python -m tunecore`` runs the command line."""

import sys

from tunecore.cli import main

sys.exit(main())
