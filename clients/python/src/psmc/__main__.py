"""``python -m psmc …``: the psmc command line (see psmc.cli)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
