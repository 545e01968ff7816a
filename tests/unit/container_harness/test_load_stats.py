"""Exact load figures from a raw-times file: warm-up cut by time, percentiles, rate and failures."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest

from container_harness.errors import LoadRunError
from container_harness.load.latency import RawRequest, parse_raw_times, read_raw_times, summarize


def _line(start: float, ms: float, ok: bool = True, name: str = "/predict_onnx") -> str:
    return f"{start:.6f}\t{name}\t{ms:.3f}\t{int(ok)}\n"


def _run(tmp_path: Path) -> Path:
    """A 12 s run at 10 requests/s: 2 s of slow warm-up, then times 1..100 ms, one failure in the warm-up."""
    start = 1_700_000_000.0
    lines = [_line(start + i * 0.1, 500.0, ok=i != 3) for i in range(20)]
    lines += [_line(start + 2.0 + i * 0.1, float(1 + i % 100)) for i in range(100)]
    path = tmp_path / "times.tsv"
    path.write_text("".join(reversed(lines)))  # several processes append in any order
    return path


def test_warmup_is_cut_by_time_from_the_first_request(tmp_path: Path) -> None:
    stats = summarize(read_raw_times(_run(tmp_path)), warmup_s=2.0)
    assert stats.requests == 100
    assert max(stats.response_times_ms) == 100.0


def test_percentiles_are_exact_over_the_measured_window(tmp_path: Path) -> None:
    stats = summarize(read_raw_times(_run(tmp_path)), warmup_s=2.0)
    times = numpy.arange(1, 101, dtype=float)
    assert stats.p50_ms == pytest.approx(numpy.percentile(times, 50))
    assert stats.p95_ms == pytest.approx(numpy.percentile(times, 95))
    assert stats.p99_ms == pytest.approx(numpy.percentile(times, 99))


def test_rate_is_measured_requests_over_the_window(tmp_path: Path) -> None:
    stats = summarize(read_raw_times(_run(tmp_path)), warmup_s=2.0)
    assert stats.window_s == pytest.approx(9.9)
    assert stats.rps == pytest.approx(100 / 9.9)


def test_failures_count_the_warmup_too(tmp_path: Path) -> None:
    stats = summarize(read_raw_times(_run(tmp_path)), warmup_s=2.0)
    assert stats.failures == 1


def test_without_warmup_every_request_counts(tmp_path: Path) -> None:
    stats = summarize(read_raw_times(_run(tmp_path)), warmup_s=0.0)
    assert stats.requests == 120
    assert stats.p99_ms == 500.0


def test_blank_lines_are_ignored_and_names_kept() -> None:
    records = parse_raw_times(["\n", _line(1.0, 2.5, name="/predict_onnx/batch"), ""])
    assert records == [RawRequest(start=1.0, name="/predict_onnx/batch", response_ms=2.5, ok=True)]


def test_malformed_line_is_named() -> None:
    with pytest.raises(LoadRunError, match=r"times.tsv line 2 .*'1.0\\t/x'") as raised:
        parse_raw_times([_line(0.0, 1.0), "1.0\t/x\n"], source="times.tsv")
    assert "recorder" in raised.value.hint


def test_no_requests_is_an_error() -> None:
    with pytest.raises(LoadRunError, match="recorded no requests") as raised:
        summarize([], warmup_s=1.0)
    assert "locustfile's host, tasks" in raised.value.hint


def test_warmup_longer_than_the_run_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LoadRunError, match=r"no request started after the 30 s warm-up") as raised:
        summarize(read_raw_times(_run(tmp_path)), warmup_s=30.0)
    assert raised.value.hint == "raise load.duration_s or lower load.warmup_s"


def test_a_single_measured_request_is_too_few_for_a_rate() -> None:
    records = parse_raw_times([_line(0.0, 1.0), _line(2.0, 1.0)])  # the second one sent as the window opens
    with pytest.raises(LoadRunError, match=r"only 1 request\(s\) after the warm-up") as raised:
        summarize(records, warmup_s=2.0)
    assert "load.duration_s" in raised.value.hint


def test_each_endpoint_gets_exact_percentiles_of_its_own_requests() -> None:
    lines = [_line(float(i), float(i), name="/a") for i in range(1, 101)]
    lines += [_line(float(i), 1000.0 + i, name="/b") for i in range(1, 11)]
    stats = summarize(parse_raw_times(lines), warmup_s=0.0)
    a, b = stats.endpoints["/a"], stats.endpoints["/b"]
    assert (a.requests, b.requests) == (100, 10)
    assert a.p90_ms == pytest.approx(numpy.percentile(numpy.arange(1, 101), 90))
    assert b.p50_ms == pytest.approx(1005.5)
    assert (a.max_ms, b.max_ms) == (100.0, 1010.0)
    assert stats.max_ms == 1010.0
    assert a.rps + b.rps == pytest.approx(stats.rps)


def test_a_directory_of_per_process_files_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "times-1.tsv").write_text(_line(1.0, 1.0) + _line(2.0, 2.0))
    (tmp_path / "times-2.tsv").write_text(_line(1.5, 3.0))
    (tmp_path / "other.log").write_text("not raw times\n")
    assert sorted(r.response_ms for r in read_raw_times(tmp_path)) == [1.0, 2.0, 3.0]


def test_paced_lines_keep_when_they_were_sent_and_the_rate_follows_it() -> None:
    # Intended every 10 ms from t=0, but each was sent 20 ms apart: the rate is the sent one, the latency the
    # intended one's (it grows with the backlog).
    lines = [f"{i * 0.01:.6f}\t/x\t{20.0 + i * 10.0:.3f}\t1\t{i * 0.02:.6f}\n" for i in range(101)]
    records = parse_raw_times(lines)
    assert records[1].sent == 0.02
    stats = summarize(records, warmup_s=0.0)
    assert stats.rps == pytest.approx(101 / 2.0)
    assert stats.max_ms == 1020.0
