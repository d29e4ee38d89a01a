"""Progress bars for conversions that take more than a second or two: on a terminal only, never in a library.

Off unless the CLI turns it on (:func:`configure`): ``convertkit convert`` enables it when stderr is a TTY and
``--quiet`` is not given.  The bar is tqdm's (imported when a bar is made, so ``convertkit --help`` never imports
it), counting the weight bytes read or written, one update per layer or blob; it appears only after
:data:`DELAY` seconds, so quick conversions print nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import IO

__all__ = ["configure", "enabled", "bar", "DELAY"]

#: Seconds before a bar shows (tqdm's ``delay``): conversions faster than this stay silent.
DELAY = 1.5

_stream: IO[str] | None = None


def configure(*, quiet: bool, stream: IO[str] | None) -> bool:
    """Show bars on ``stream`` when it is a terminal and not ``quiet``; returns whether bars are on."""
    global _stream
    tty = stream is not None and hasattr(stream, "isatty") and stream.isatty()
    _stream = stream if tty and not quiet and os.environ.get("TERM") != "dumb" else None
    return _stream is not None


def enabled() -> bool:
    return _stream is not None


@contextlib.contextmanager
def bar(total: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A bar of ``total`` bytes described by ``what``: yields its ``update(n)``, or None when bars are off."""
    if _stream is None or total <= 0:
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        total=total, desc=what, unit="B", unit_scale=True, unit_divisor=1024, file=_stream, delay=DELAY, leave=False
    ) as t:
        yield t.update
