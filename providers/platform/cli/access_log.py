"""``bcdr serve``'s access log: the server's log records as lines on stderr.

Always holds: one line a request, with its UTC time; what the server refuses or cannot read
is prefixed with its level; the server never logs a token or a query string.
"""

from __future__ import annotations

import logging
import time

from sdk.cli import Output


class AccessLines(logging.Handler):
    """``bcdr serve``'s log on stderr: one access line per request, and what the server
    refuses or cannot read (the server never logs a token or a query string)."""

    def __init__(self, out: Output) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
        self.out.print(f"{when} {level}{record.getMessage()}", err=True)
