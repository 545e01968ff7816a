"""SIGTERM handled like Ctrl-C while a job holds engine objects, so a cancelled CI job still runs its clean-up.

CI runners cancel with SIGTERM, whose default ends the process at once: no `finally`, no fixture teardown, and
every container, image and volume of the run stays on the engine. Within `sigterm_as_interrupt()` SIGTERM raises
KeyboardInterrupt instead, which unwinds through every clean-up on the way out; the previous handler comes back
when the block ends. The plugin holds it for its engine session, and the CLI for each command.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises KeyboardInterrupt; after it the previous handler is back.

    Off the main thread it changes nothing: Python lets only the main thread install signal handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        # None: the previous handler was not installed from Python; the default is the nearest we can restore.
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """The handler: KeyboardInterrupt naming the signal, so the message can say what ended the run."""
    raise KeyboardInterrupt(signal.Signals(signum).name)
