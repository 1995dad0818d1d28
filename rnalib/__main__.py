"""`python -m rnalib`: the command line (``rnalib.cli.main``; ``.venv/bin/rnalib`` is the same)."""
import sys

from rnalib.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
