"""``python -m newsarchive.cli``, as the single-module CLI allowed."""

import sys

from .main import main

sys.exit(main())
