"""The progress callback of long work: ``progress(description, done, total)``.

Providers call it from apply and delete steps; the engine's CLI draws it. Always holds:
``done`` never decreases for one description and never passes ``total`` (0 when unknown).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
