"""The engine session the plugin's run holds, and the changes to the process that last exactly as long.

While it is held, SIGTERM tears down like Ctrl-C (container_harness.interrupts), testcontainers starts no Ryuk
reaper, and a sampler watches what other containers use; ending it removes what the run labelled and undoes
each change, so a run that never asks for the engine changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from testcontainers.core.config import testcontainers_config

from container_harness.config import HarnessConfig
from container_harness.engine import connect, engine_facts
from container_harness.interrupts import sigterm_as_interrupt
from container_harness.measure.contention import ContentionSampler, Window, window
from container_harness.ownership import LABEL, EngineSession, new_session, sweep_note
from container_harness.report.results import Results
from container_harness.run.reach import plan_reach


class EngineLifetime:
    """The run's engine session, from the first test that needs it to the end of the run."""

    def __init__(self) -> None:
        self.engine: EngineSession | None = None
        self._keep_images: list[str] = []
        self._sampler: ContentionSampler | None = None
        self._cpus = 1
        self._changes = ExitStack()  # what holding the engine changed in the process, undone by end()

    def open(self, config: HarnessConfig, results: Results) -> EngineSession:
        """Connect (EngineUnavailableError when the engine cannot be reached), start a labelled session after
        sweeping killed runs, hold it, and record the engine, the session id and how containers are reached."""
        client = connect()
        engine = new_session(client, keep=config.keep, prune_build_cache=config.prune_build_cache)
        self._hold(engine)
        self._keep_images = [config.tag] if config.keep_image else []
        if (swept := sweep_note(engine.swept)) is not None:
            results.note(swept)
        results.record("environment.engine", engine_facts(client))
        results.record("environment.session_id", engine.id)
        results.record("environment.reach", plan_reach(config.run.host, config.run.bind).to_report())
        return engine

    def _hold(self, engine: EngineSession) -> None:
        """From now on SIGTERM tears down like Ctrl-C, Ryuk stays off and other containers' CPU is sampled."""
        self.engine = engine
        self._changes.enter_context(ryuk_disabled())
        self._changes.enter_context(sigterm_as_interrupt())
        self._cpus = int(engine.client.info().get("NCPU") or 1)
        sampler = self._sampler = ContentionSampler(engine.client, (LABEL, engine.id)).start()
        self._changes.callback(sampler.stop)

    def end(self) -> None:
        """Remove everything labelled with the run (the kept image excepted) and undo the changes; idempotent."""
        engine, self.engine = self.engine, None
        try:
            if engine is not None:
                engine.cleanup(keep_images=self._keep_images)
        finally:
            self._changes.close()

    def contention(self, start: float, stop: float) -> Window | None:
        """What other containers used of the engine's CPUs between two times, or None before the engine."""
        if self._sampler is None:
            return None
        return window(self._sampler.samples, start, stop, self._cpus)


@contextmanager
def ryuk_disabled() -> Iterator[None]:
    """testcontainers starts no Ryuk reaper within the block (it would outlive our own clean-up rules).

    Set on testcontainers' config object: it reads TESTCONTAINERS_RYUK_DISABLED once and keeps the answer, so
    setting the variable after anything asked has no effect. Its previous setting is back after the block.
    """
    previous = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = True
    try:
        yield
    finally:
        testcontainers_config.ryuk_disabled = previous
