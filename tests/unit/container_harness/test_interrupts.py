"""The one interrupt handler: SIGTERM as KeyboardInterrupt within the block, the previous handler after it."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from container_harness.interrupts import sigterm_as_interrupt


class Recorded(Exception):
    """Raised by the stand-in previous handler, so a SIGTERM the block missed cannot end this test process."""


def _previous(signum: int, frame: FrameType | None) -> None:
    raise Recorded(signum)


@pytest.fixture
def previous_handler() -> Iterator[None]:
    """A handler of our own in place of the default, restored afterwards."""
    original = signal.signal(signal.SIGTERM, _previous)
    yield
    signal.signal(signal.SIGTERM, original)


@pytest.mark.usefixtures("previous_handler")
def test_sigterm_within_the_block_is_a_keyboard_interrupt_naming_the_signal() -> None:
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is _previous


@pytest.mark.usefixtures("previous_handler")
def test_the_previous_handler_is_back_after_a_block_that_ends_normally() -> None:
    with sigterm_as_interrupt():
        assert signal.getsignal(signal.SIGTERM) is not _previous
    assert signal.getsignal(signal.SIGTERM) is _previous
    with pytest.raises(Recorded):
        os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.usefixtures("previous_handler")
def test_off_the_main_thread_the_block_changes_nothing() -> None:
    seen: list[object] = []

    def inside() -> None:
        with sigterm_as_interrupt():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=inside)
    thread.start()
    thread.join()
    assert seen == [_previous]
