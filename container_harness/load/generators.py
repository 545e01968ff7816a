"""Choosing the number of load generators (pure): how many a client-bound run would take, and the next count
to try when `load.processes = "auto"` looks for enough to keep each one under a CPU share.

A generator's CPU grows with the rate it sends, so a run whose container used a fraction s of its CPUs would
need its generators' total CPU divided by s to load the service fully; spread over generators each under
`share` of a core, that is the count. A generator at its ceiling hides how much more it would use, so the
estimate is a floor then, and "auto" measures again with the new count.
"""

from __future__ import annotations

import math

from container_harness.specs import DEFAULT_SHARE


def generators_needed(generator_cpu_percent: float, cpu_saturation: float, share: float = DEFAULT_SHARE) -> int:
    """Generators, each under `share` of a core, that would load the service's CPUs fully, going by a run whose
    generators used generator_cpu_percent (% of one core, all together) while the container used
    cpu_saturation of its CPUs."""
    if cpu_saturation <= 0:
        raise ValueError("the container used no CPU: its saturation says nothing about the load it could take")
    return max(1, math.ceil(generator_cpu_percent / cpu_saturation / (100.0 * share)))


def next_count(count: int, busiest_percent: float, cpus: int, share: float = DEFAULT_SHARE) -> int | None:
    """The next number of generators to try after `count` of them ran with the busiest at busiest_percent (% of
    one core), or None when count is enough (the busiest is under `share`) or no more load CPUs remain."""
    if busiest_percent < share * 100.0 or count >= cpus:
        return None
    return min(cpus, max(count + 1, math.ceil(count * busiest_percent / (share * 100.0))))
