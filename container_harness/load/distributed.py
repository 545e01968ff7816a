"""Distributed Locust runs: a headless master on this host, N local `--worker` processes each pinned to one
of the load CPUs, and M workers in containers on the engine (container_harness.load.container_workers).

Not Locust's `--processes`: it forks workers that cannot be pinned or measured one by one. Here each worker is
a process of its own, pinned with taskset round-robin over the load CPUs, its CPU read from its own rusage
(os.wait4 on its pid) and its raw times written to its own file (times-<id>-<pid>.tsv), so every worker's
requests, rate and CPU are known, and the master's CPU too. The recorder marks each worker that joined the
master (joined-<id>), so a worker that never joins is named; a worker in a container reports its own CPU.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from container_harness.errors import LoadRunError, format_tail
from container_harness.load.command import headless_options, locust_base, pinned
from container_harness.load.container_workers import ContainerWorkers, bridge_gateway
from container_harness.load.latency import CPU_PREFIX, JOINED_PREFIX, PACED_RATE_ENV, WORKER_ID_ENV
from container_harness.load.worker_image import worker_image
from container_harness.measure.usage import cpuset_cpus
from container_harness.ownership import EngineSession
from container_harness.specs import LoadSpec

_POLL_S = 0.1
_CONTAINER_POLL_S = 1.0  # the engine's API is asked less often than the kernel
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_QUIT_S = 15.0  # how long workers get to quit after the master ended


@dataclass(frozen=True)
class GeneratorProcess:
    """One Locust process of a run: its id ("master", "w1", "c1" …), pid (0 when not local), CPUs, CPU seconds used
    and log."""

    id: str
    pid: int
    cpuset: str | None
    cpu_s: float
    log_path: Path


@dataclass(frozen=True)
class DistributedRun:
    """The master's exit code and every process's figures; elapsed_s from the master's start to its end."""

    returncode: int
    master: GeneratorProcess
    workers: tuple[GeneratorProcess, ...]
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


def free_port(address: str) -> int:
    """A TCP port free on address now, for the master to bind (several runs may share the machine)."""
    with socket.socket() as probe:
        probe.bind((address, 0))
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

    def worker_exit_codes(self) -> dict[str, int]:
        """The exit codes of the workers that have ended (the master left out)."""
        return {id_: code for id_, (code, _) in self.ended.items() if id_ != "master"}

    def figures(self, id_: str) -> GeneratorProcess:
        return GeneratorProcess(id_, self.popen[id_].pid, self.cpusets[id_], self.ended[id_][1], self.logs[id_])


@dataclass(frozen=True)
class _WorkerIds:
    """A run's worker ids by where they run: local processes (w1 …), containers on the engine (c1 …), other hosts."""

    local: list[str]
    containers: list[str]
    remote: list[str]

    @classmethod
    def of(cls, spec: LoadSpec) -> _WorkerIds:
        """The ids spec asks for, numbered from 1 per kind."""
        return cls(
            [f"w{index + 1}" for index in range(spec.local_workers)],
            [f"c{index + 1}" for index in range(spec.workers)],
            list(spec.remote_workers),
        )

    @property
    def started_here(self) -> list[str]:
        """The workers this run starts and waits for (local and container ones)."""
        return self.local + self.containers

    @property
    def everyone(self) -> list[str]:
        """Every worker the master expects, remote ones included."""
        return self.local + self.containers + self.remote


@dataclass(frozen=True)
class _OnEngine:
    """What worker containers need: the address the master binds for them, their image, their manager."""

    bind: str
    image: str
    containers: ContainerWorkers


def run_distributed(
    spec: LoadSpec,
    host: str,
    env: dict[str, str],
    out_dir: Path,
    raw_times: Path,
    reports_dir: Path | None,
    engine: EngineSession | None = None,
) -> DistributedRun:
    """Run spec with a master, spec.local_workers local workers, spec.workers worker containers (on engine's
    bridge, which needs engine and a host the containers reach) and the spec.remote_workers that join from
    other hosts (writing into raw_times through a shared mount); raises LoadRunError naming a worker
    that never joined the master within spec.join_timeout_s or died mid-run. Every process is ended and reaped,
    every container removed, before it returns."""
    ids = _WorkerIds.of(spec)
    on_engine = _on_engine(spec, host, engine) if ids.containers else None
    containers = on_engine.containers if on_engine is not None else None
    bind = on_engine.bind if on_engine is not None else spec.master_bind or "127.0.0.1"
    address = (bind, spec.master_port or free_port(bind))
    master = _master_command(spec, host, reports_dir, address, len(ids.everyone))
    processes = _Processes()
    timeout_s = spec.join_timeout_s + spec.run_time_s + 60.0
    started = time.monotonic()
    try:
        processes.start("master", pinned(master, spec.cpuset), env, out_dir / "locust.log", spec.cpuset)
        _start_local_workers(processes, _worker_command(spec, address), ids.local, spec.cpuset, env, out_dir)
        if on_engine is not None:
            container_env = {**spec.env, **{k: v for k, v in env.items() if k == PACED_RATE_ENV}}
            on_engine.containers.start(
                ids.containers, on_engine.image, address, spec.locustfile, raw_times, container_env
            )
        _await_master(processes, containers, started, timeout_s)
        elapsed_s = time.monotonic() - started
        _check_workers(ids, raw_times, processes, containers, spec.join_timeout_s)
    finally:
        processes.kill_all()
        if containers is not None:
            containers.remove()
    elsewhere = tuple(
        GeneratorProcess(id_, 0, None, _reported_cpu_s(raw_times, id_), out_dir / f"locust-{id_}.log")
        for id_ in ids.containers + ids.remote
    )
    return DistributedRun(
        returncode=processes.ended["master"][0],
        master=processes.figures("master"),
        workers=tuple(processes.figures(id_) for id_ in ids.local) + elsewhere,
        elapsed_s=elapsed_s,
    )


def _on_engine(spec: LoadSpec, host: str, engine: EngineSession | None) -> _OnEngine:
    """Ready the worker containers: the bridge address, the workers' image (built through the cache), a manager;
    LoadRunError when there is no engine session or the service is on a loopback address they cannot reach."""
    if engine is None:
        raise LoadRunError("load.workers starts workers on the engine: run_load needs the engine session")
    if urlsplit(host).hostname in _LOOPBACK:
        raise LoadRunError(
            f"worker containers cannot reach the service at {host} (a loopback address of this host)",
            hint="set run.host to the engine's bridge gateway (docker network inspect bridge), e.g. 172.17.0.1",
        )
    return _OnEngine(
        bind=spec.master_bind or bridge_gateway(engine),
        image=worker_image(engine, spec.worker_wheels, spec.worker_base_provider),
        containers=ContainerWorkers(engine),
    )


def _master_command(
    spec: LoadSpec, host: str, reports_dir: Path | None, address: tuple[str, int], expected: int
) -> list[str]:
    """The headless master's command: it binds address and waits for `expected` workers."""
    return [
        *locust_base(spec),
        "--master",
        "--master-bind-host",
        address[0],
        "--master-bind-port",
        str(address[1]),
        "--expect-workers",
        str(expected),
        "--expect-workers-max-wait",
        str(spec.join_timeout_s),
        *headless_options(spec, host, reports_dir),
        *spec.user_classes,
    ]


def _worker_command(spec: LoadSpec, address: tuple[str, int]) -> list[str]:
    """A worker's command: it joins the master at address."""
    return [
        *locust_base(spec),
        "--worker",
        "--master-host",
        address[0],
        "--master-port",
        str(address[1]),
        *spec.user_classes,
    ]


def _start_local_workers(
    processes: _Processes, command: list[str], ids: list[str], cpuset: str | None, env: dict[str, str], out_dir: Path
) -> None:
    """Start each local worker pinned to its CPU (worker_cpusets), with its id in its environment and its own log."""
    for id_, worker_cpuset in zip(ids, worker_cpusets(cpuset, len(ids)), strict=True):
        worker_env = {**env, WORKER_ID_ENV: id_}
        processes.start(id_, pinned(command, worker_cpuset), worker_env, out_dir / f"locust-{id_}.log", worker_cpuset)


def _await_master(processes: _Processes, containers: ContainerWorkers | None, started: float, timeout_s: float) -> None:
    """Poll until the master ends; LoadRunError when a worker dies first or the master runs timeout_s past started."""
    polled = 0.0
    while "master" not in processes.ended:
        processes.poll()
        ended = processes.worker_exit_codes()
        if containers is not None and time.monotonic() - polled > _CONTAINER_POLL_S:
            ended.update(containers.exit_codes())
            polled = time.monotonic()
        died = [id_ for id_, code in ended.items() if code != 0]
        if died:
            raise _died(died, processes, containers)
        if time.monotonic() - started > timeout_s:
            raise LoadRunError(
                f"the Locust master did not finish within {timeout_s:.0f} s; its log: {processes.logs['master']}"
            )
        time.sleep(_POLL_S)


def _check_workers(
    ids: _WorkerIds, raw_times: Path, processes: _Processes, containers: ContainerWorkers | None, join_timeout_s: int
) -> None:
    """After the master ended: LoadRunError when a worker never joined it, or did not quit cleanly within _QUIT_S."""
    missing = [id_ for id_ in ids.everyone if not (raw_times / f"{JOINED_PREFIX}{id_}").exists()]
    if missing:
        raise _never_joined(missing, processes, containers, join_timeout_s)
    ended = _wait_for_workers(processes, containers, len(ids.started_here))
    died = [id_ for id_ in ids.started_here if ended.get(id_) != 0]
    if died:
        raise _died(died, processes, containers)


def _wait_for_workers(processes: _Processes, containers: ContainerWorkers | None, count: int) -> dict[str, int]:
    """Every worker's exit code once all have quit after the master ended, or when _QUIT_S have passed."""
    quit_by = time.monotonic() + _QUIT_S
    while True:
        processes.poll()
        ended = processes.worker_exit_codes()
        if containers is not None:
            ended.update(containers.exit_codes())
        if len(ended) == count or time.monotonic() > quit_by:
            return ended
        time.sleep(_POLL_S)


def _reported_cpu_s(raw_times: Path, id_: str) -> float:
    """The CPU seconds a worker's recorder wrote when it quit (cpu-<id>; a remote one gets _QUIT_S to quit)."""
    path = raw_times / f"{CPU_PREFIX}{id_}"
    quit_by = time.monotonic() + _QUIT_S
    while not path.is_file() and time.monotonic() < quit_by:
        time.sleep(_POLL_S)
    if not path.is_file():
        raise LoadRunError(f"Locust worker {id_} quit without reporting its CPU ({path} is missing)")
    return float(path.read_text())


def _tail(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()[-10:] if path.is_file() else []


def _worker_log(id_: str, processes: _Processes, containers: ContainerWorkers | None) -> list[str]:
    """A worker's last output lines (its log file, or its container's logs)."""
    if id_ in processes.logs:
        return _tail(processes.logs[id_])
    return containers.logs(id_) if containers is not None else []


def _died(ids: list[str], processes: _Processes, containers: ContainerWorkers | None) -> LoadRunError:
    """An error naming the workers that ended with an error (or did not quit) while the run was going on."""
    ended = {id_: code for id_, (code, _) in processes.ended.items()}
    if containers is not None:
        ended.update(containers.exit_codes())
    parts = []
    for id_ in ids:
        how = "did not quit after the run" if id_ not in ended else f"exited with code {ended[id_]}"
        parts.append(f"{id_} {how}\n" + format_tail(_worker_log(id_, processes, containers)))
    return LoadRunError(
        f"Locust worker(s) {', '.join(ids)} died mid-run, so the run's figures are incomplete: " + "; ".join(parts)
    )


def _never_joined(
    ids: list[str], processes: _Processes, containers: ContainerWorkers | None, timeout_s: int
) -> LoadRunError:
    """An error naming the workers that never joined the master, with each one's last output."""
    tails = "\n".join(format_tail(_worker_log(id_, processes, containers), f"{id_}'s output") for id_ in ids)
    return LoadRunError(
        f"Locust worker(s) {', '.join(ids)} never joined the master within {timeout_s} s (load.join_timeout_s)\n"
        + tails + "\n" + format_tail(_tail(processes.logs["master"]), "master's log")
    )
