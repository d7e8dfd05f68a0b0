"""``python -m taggedartifacts``: the command line."""

import sys

from taggedartifacts._cli import main

sys.exit(main())
