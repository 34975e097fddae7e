"""``python -m newsarchive``: the same as the ``newsarchive`` command."""

import sys

from newsarchive.cli import main

sys.exit(main())
