"""Local Locust workers: a headless master and N `--worker` processes, each pinned to one of the load CPUs.

Not Locust's `--processes`: it forks workers that cannot be pinned or measured one by one. Here each worker is
a process of its own, pinned with taskset round-robin over the load CPUs, its CPU read from its own rusage
(os.wait4 on its pid) and its raw times written to its own file (times-<pid>.tsv), so every worker's
requests, rate and CPU are known, and the master's CPU too. The recorder marks each worker that joined the
master (joined-<id>), so a worker that never joins is named.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from container_harness.errors import LoadRunError, format_tail
from container_harness.load.command import headless_options, locust_base, pinned
from container_harness.load.latency import JOINED_PREFIX, WORKER_ID_ENV
from container_harness.measure.usage import cpuset_cpus
from container_harness.specs import LoadSpec

_POLL_S = 0.1
_QUIT_S = 15.0  # how long workers get to quit after the master ended


@dataclass(frozen=True)
class LocalProcess:
    """One Locust process of a run: its id ("master", "w1" …), pid, CPUs, CPU seconds used and log."""

    id: str
    pid: int
    cpuset: str | None
    cpu_s: float
    log_path: Path


@dataclass(frozen=True)
class DistributedRun:
    """The master's exit code and every process's figures; elapsed_s from the master's start to its end."""

    returncode: int
    master: LocalProcess
    workers: tuple[LocalProcess, ...]
    elapsed_s: float

    def percent(self, cpu_s: float) -> float:
        """CPU seconds over the run, in % of one core."""
        return cpu_s / self.elapsed_s * 100.0

    @property
    def cpu_percent(self) -> float:
        """Every process's CPU together (master and workers), in % of one core."""
        return self.percent(self.master.cpu_s + sum(worker.cpu_s for worker in self.workers))


def worker_cpusets(cpuset: str | None, count: int) -> list[str | None]:
    """Each worker's CPU: the load CPUs in turn (round-robin when fewer CPUs than workers); None unpinned."""
    if cpuset is None:
        return [None] * count
    cpus = sorted(cpuset_cpus(cpuset))
    return [str(cpus[index % len(cpus)]) for index in range(count)]


def _free_port() -> int:
    """A TCP port free on the loopback now, for the master to bind (several runs may share the machine)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Processes:
    """Started processes by id, reaped one by one with their rusage; kill_all ends and reaps what is left."""

    def __init__(self) -> None:
        self.popen: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.cpusets: dict[str, str | None] = {}
        self.ended: dict[str, tuple[int, float]] = {}  # id -> exit code, CPU seconds

    def start(self, id_: str, command: list[str], env: dict[str, str], log_path: Path, cpuset: str | None) -> None:
        with log_path.open("w") as log:
            self.popen[id_] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.logs[id_], self.cpusets[id_] = log_path, cpuset

    def poll(self, block: bool = False) -> None:
        """Reap every process that has ended (waiting for each with block)."""
        for id_, process in self.popen.items():
            if id_ in self.ended:
                continue
            pid, status, usage = os.wait4(process.pid, 0 if block else os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                self.ended[id_] = (process.returncode, usage.ru_utime + usage.ru_stime)

    def kill_all(self) -> None:
        for id_, process in self.popen.items():
            if id_ not in self.ended:
                process.kill()
        self.poll(block=True)

    def figures(self, id_: str) -> LocalProcess:
        return LocalProcess(id_, self.popen[id_].pid, self.cpusets[id_], self.ended[id_][1], self.logs[id_])


def run_local_workers(
    spec: LoadSpec, host: str, env: dict[str, str], out_dir: Path, raw_times: Path, reports_dir: Path | None
) -> DistributedRun:
    """Run spec with spec.processes local workers; raises LoadRunError naming a worker that never joined the
    master within spec.join_timeout_s or died mid-run. Every process is ended and reaped before it returns."""
    port = _free_port()
    worker_ids = [f"w{index + 1}" for index in range(spec.processes)]
    master = [
        *locust_base(spec),
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(spec.processes),
        "--expect-workers-max-wait",
        str(spec.join_timeout_s),
        *headless_options(spec, host, reports_dir),
        *spec.user_classes,
    ]
    worker = [*locust_base(spec), "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    worker += list(spec.user_classes)
    processes = _Processes()
    timeout_s = spec.join_timeout_s + spec.run_time_s + 60.0
    started = time.monotonic()
    try:
        processes.start("master", pinned(master, spec.cpuset), env, out_dir / "locust.log", spec.cpuset)
        for id_, cpuset in zip(worker_ids, worker_cpusets(spec.cpuset, spec.processes), strict=True):
            worker_env = {**env, WORKER_ID_ENV: id_}
            processes.start(id_, pinned(worker, cpuset), worker_env, out_dir / f"locust-{id_}.log", cpuset)
        while "master" not in processes.ended:
            processes.poll()
            died = [id_ for id_ in worker_ids if id_ in processes.ended and processes.ended[id_][0] != 0]
            if died:
                raise _died(died, processes)
            if time.monotonic() - started > timeout_s:
                raise LoadRunError(f"the Locust master did not finish within {timeout_s:.0f} s; its log: "
                                   f"{processes.logs['master']}")
            time.sleep(_POLL_S)
        elapsed_s = time.monotonic() - started
        missing = [id_ for id_ in worker_ids if not (raw_times / f"{JOINED_PREFIX}{id_}").exists()]
        if missing:
            raise _never_joined(missing, processes, spec.join_timeout_s)
        quit_by = time.monotonic() + _QUIT_S
        while len(processes.ended) < len(processes.popen) and time.monotonic() < quit_by:
            processes.poll()
            time.sleep(_POLL_S)
        died = [id_ for id_ in worker_ids if id_ not in processes.ended or processes.ended[id_][0] != 0]
        if died:
            raise _died(died, processes)
    finally:
        processes.kill_all()
    return DistributedRun(
        returncode=processes.ended["master"][0],
        master=processes.figures("master"),
        workers=tuple(processes.figures(id_) for id_ in worker_ids),
        elapsed_s=elapsed_s,
    )


def _tail(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()[-10:] if path.is_file() else []


def _died(ids: list[str], processes: _Processes) -> LoadRunError:
    """An error naming the workers that ended with an error (or did not quit) while the run was going on."""
    parts = []
    for id_ in ids:
        ended = processes.ended.get(id_)
        how = "did not quit after the run" if ended is None else f"exited with code {ended[0]}"
        parts.append(f"{id_} (pid {processes.popen[id_].pid}) {how}\n" + format_tail(_tail(processes.logs[id_])))
    return LoadRunError(
        f"Locust worker(s) {', '.join(ids)} died mid-run, so the run's figures are incomplete: " + "; ".join(parts)
    )


def _never_joined(ids: list[str], processes: _Processes, timeout_s: int) -> LoadRunError:
    """An error naming the workers that never joined the master."""
    logs = ", ".join(str(processes.logs[id_]) for id_ in ids)
    return LoadRunError(
        f"Locust worker(s) {', '.join(ids)} never joined the master within {timeout_s} s "
        f"(load.join_timeout_s); their logs: {logs}\n" + format_tail(_tail(processes.logs["master"]), "master's log")
    )
