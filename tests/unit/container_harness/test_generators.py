"""How many load generators a run needs, and how "auto" steps towards enough."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from container_harness.config import HarnessConfig
from container_harness.load.generators import generators_needed, next_count
from container_harness.specs import AUTO_PROCESSES


def test_a_client_bound_run_needs_its_generator_cpu_scaled_to_a_full_service() -> None:
    # One Locust process at 95 % of a core while the container used 60 % of its CPUs: 158 % of a core for a
    # full service, three generators under 70 % each.
    assert generators_needed(95.0, 0.6, share=0.7) == 3
    assert generators_needed(30.0, 0.9, share=0.7) == 1


def test_a_container_without_cpu_gives_no_estimate() -> None:
    with pytest.raises(ValueError, match="used no CPU"):
        generators_needed(50.0, 0.0)


def test_auto_adds_generators_until_the_busiest_is_under_the_share_or_cpus_run_out() -> None:
    assert next_count(1, 99.0, cpus=4, share=0.7) == 2
    assert next_count(2, 90.0, cpus=8, share=0.7) == 3  # 2 x 90 % spread under 70 % each
    assert next_count(4, 100.0, cpus=6, share=0.5) == 6  # 8 would do, 6 CPUs remain
    assert next_count(2, 50.0, cpus=4, share=0.7) is None
    assert next_count(2, 99.0, cpus=2, share=0.7) is None


def test_processes_auto_is_read_from_the_configuration_and_anything_else_refused() -> None:
    config = HarnessConfig.model_validate({"tag": "x:y", "run": {"port": 80}, "load": {"processes": "auto"}})
    assert config.load.processes == AUTO_PROCESSES
    with pytest.raises(ValidationError, match="processes"):
        HarnessConfig.model_validate({"tag": "x:y", "run": {"port": 80}, "load": {"processes": "many"}})
