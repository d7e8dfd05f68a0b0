"""The ``taggedartifacts`` logger, made on first use.

``logging`` costs milliseconds to import and ``import taggedartifacts`` must stay
instant, so modules ask for the logger when they log instead of at import.
The library never configures logging; it only logs to this logger.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging


@functools.cache
def logger() -> logging.Logger:
    """The package's logger."""
    import logging

    return logging.getLogger("taggedartifacts")
