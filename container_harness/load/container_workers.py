"""Locust workers as containers on the engine, joined to a master on the host over the default bridge.

Each worker runs the workers' image (container_harness.load.worker_image) with the locustfile's directory
mounted read-only and the run's raw-times directory mounted read-write, so its recorder's raw times, its
joined-<id> mark and its CPU (cpu-<id>, its own rusage written when it quits) land beside the local ones.
They carry the session's label, so the session's clean-up removes them even when the run is cut short.
"""

from __future__ import annotations

import contextlib
import ipaddress
from pathlib import Path

from docker.errors import NotFound
from docker.models.containers import Container

from container_harness.load.latency import RAW_TIMES_DIR_ENV, WORKER_ID_ENV
from container_harness.load.worker_image import PYTHON_IN_IMAGE, RECORDER_IN_IMAGE
from container_harness.ownership import EngineSession


def bridge_gateway(session: EngineSession) -> str:
    """The default bridge's gateway: the host's address as containers on the bridge reach it."""
    config = session.client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    gateway = config.get("Gateway")
    return str(gateway) if gateway else str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


class ContainerWorkers:
    """Started worker containers by id; exit codes as the engine reports them; removed by remove()."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session
        self.containers: dict[str, Container] = {}

    def start(
        self, ids: list[str], image: str, master: tuple[str, int], locustfile: Path, raw_times: Path,
        env: dict[str, str],
    ) -> None:  # fmt: skip
        """Start one worker container per id, connecting to master (address, port)."""
        command = [
            PYTHON_IN_IMAGE, "-m", "locust", "-f", f"{RECORDER_IN_IMAGE},/locust/{locustfile.name}", "--worker",
            "--master-host", master[0], "--master-port", str(master[1]), "--loglevel", "WARNING",
        ]  # fmt: skip
        volumes = {
            str(locustfile.resolve().parent): {"bind": "/locust", "mode": "ro"},
            str(raw_times.resolve()): {"bind": "/times", "mode": "rw"},
        }
        for id_ in ids:
            self.containers[id_] = self._session.client.containers.run(
                image,
                command,
                detach=True,
                name=f"harness-locust-{self._session.id}-{id_}",
                labels=self._session.labels(),
                environment={**env, RAW_TIMES_DIR_ENV: "/times", WORKER_ID_ENV: id_},
                volumes=volumes,
            )

    def exit_codes(self) -> dict[str, int]:
        """The exit code of each worker container that has ended."""
        ended = {}
        for id_, container in self.containers.items():
            container.reload()
            if container.status in ("exited", "dead"):
                ended[id_] = int(container.attrs["State"]["ExitCode"])
        return ended

    def logs(self, id_: str) -> list[str]:
        """The last lines of a worker's output."""
        output: bytes = self.containers[id_].logs(tail=10)
        return output.decode(errors="replace").splitlines()

    def remove(self) -> None:
        """Remove every worker container (ended or not) and its anonymous volumes."""
        for container in self.containers.values():
            with contextlib.suppress(NotFound):
                container.remove(force=True, v=True)
