"""The machine's busy share from /proc/stat, as the kernel writes it (first line captured on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from container_harness.measure.host_cpu import HostCpu, busy_and_total

STAT = "cpu  326260 0 99693 76557 1588 0 3785 1268 0 0\ncpu0 163130 0 49846 38278 794 0 1892 634 0 0\n"


def test_busy_is_everything_but_idle_and_iowait() -> None:
    assert busy_and_total(STAT) == (326260 + 99693 + 3785 + 1268, 326260 + 99693 + 76557 + 1588 + 3785 + 1268)


def test_share_busy_over_a_span(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 0 100 0 0 0 0 0 0\n")
    with HostCpu(stat) as host:
        stat.write_text("cpu  190 0 0 110 0 0 0 0 0 0\n")
    assert host.saturation == pytest.approx(0.9)
