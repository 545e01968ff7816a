"""The harness when things go wrong: a failing build, a container dying mid-run or mid-benchmark, Ctrl-C at
every stage.

Docker being unreachable is covered by test_generality.py (test_unreachable_engine_is_one_clear_error).
Ctrl-C runs a child pytest on the tiny fixture image in its own process group and sends SIGINT to the group,
as a terminal does; then nothing labelled with the child's session, and no image it built, may remain.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import docker
import pytest

from container_harness.build.base_image import ensure_base_images
from container_harness.build.timer import build_image
from container_harness.errors import BuildError, ContainerExitedError
from container_harness.measure.usage_sampler import idle_stats
from container_harness.ownership import LABEL, MARKER_PREFIX, ORPHANS_LABEL, EngineSession
from container_harness.run.container import RunningContainer, start_container
from container_harness.specs import ImageSpec, RunSpec

pytestmark = pytest.mark.container

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
# Makes (or reuses) local/busybox:stable, a clearly local tag, never one named like the official image.
BASE_PROVIDER = f"sh {TINY / 'provide_base.sh'}"
BUSYBOX = "local/busybox:stable"  # the tag provide_base.sh makes
CHILD_EXIT_TIMEOUT_S = 60
STAGE_TIMEOUT_S = 120
DYING_TIMEOUT_S = 120
CHILD_ARGS = ["-m", "container", "--harness-config", "harness.toml", "-p", "no:cacheprovider"]
# Written by the test into the tiny image's web root (its user's), it tells DYING_ON_FILE to die.
DIE_FILE = "/srv/www/die-now"


def dying_command(until: str) -> list[str]:
    """Serves until the shell command `until` returns, then says why it gives up and exits 7."""
    return [
        "sh",
        "-c",
        f"/usr/local/bin/start.sh & {until}; "
        "echo 'worker 3: out of file descriptors' >&2; echo 'fatal: giving up' >&2; exit 7",
    ]


# The child runs' containers die 2 s in, during whichever check started them (the checks take longer).
DYING_COMMAND = dying_command("sleep 2")
# The parent's dies when the test creates DIE_FILE, after its watcher began.
DYING_ON_FILE = dying_command(f"until [ -e {DIE_FILE} ]; do sleep 0.1; done")

# Each child runs the built-in checks its stage names ([tool.harness] checks), and its own test if any.
CHILD_CONFIG = """
checks = {checks}
dockerfile = "{dockerfile}"
context = "{context}"
tag = "{tag}"
builder = "{builder}"
base_provider = 'sh {tiny}/provide_base.sh'
code_change_path = "{code_change_path}"
report = "out/report.json"
idle_seconds = 4

[run]
port = 8080
health_path = "{health_path}"
health_interval_s = 1

[load]
locustfile = "locustfile.py"
users = 2
spawn_rate = 2
duration_s = {duration_s}
warmup_s = 0
"""

# The child says which session it is before anything else happens.
CHILD_CONFTEST = """
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def announce_session(harness_session):
    Path("session_id.txt").write_text(harness_session.id)
"""

# The parent's tiny image stands in for the build (the checks under test do not need one), and every
# container the checks start dies 2 s later: the plugin's fixtures, with DYING_COMMAND.
DYING_CONFTEST = """
import pytest

from container_harness.image.inspect import inspect_image


@pytest.fixture(scope="session")
def built_image(harness_session):
    return inspect_image(harness_session.client, {image!r}, None)


@pytest.fixture
def start_container(start_container):
    def start(**overrides):
        return start_container(command={command!r}, **overrides)

    return start


@pytest.fixture
def running_container(start_container):
    return start_container()
"""

CHILD_CHECKS = {"benchmarks": ["idle_usage", "load"]}

# Marks its first answered request, so the parent interrupts while the load is running.
CHILD_LOCUSTFILE = """
import os
from pathlib import Path

from locust import HttpUser, constant, task


class Healthz(HttpUser):
    wait_time = constant(0.05)

    @task
    def healthz(self):
        self.client.get("/healthz")
        Path(os.environ["H5_LOAD_STARTED"]).touch()
"""

# The build points an interrupt can land on: a large context being sent, a long step, a run of short steps.
SLOW_DOCKERFILE = """ARG BASE_IMAGE=busybox:1.36
FROM ${{BASE_IMAGE}}
RUN echo {token} && sleep 120
"""
BIG_CONTEXT_DOCKERFILE = """ARG BASE_IMAGE=busybox:1.36
FROM ${{BASE_IMAGE}}
COPY big /big
RUN echo {token}
"""
BIG_CONTEXT_BYTES = 400_000_000
# Two 150 MB layers: the export takes seconds. The last step's shell names the token, so the parent sees it end.
EXPORT_DOCKERFILE = """ARG BASE_IMAGE=busybox:1.36
FROM ${{BASE_IMAGE}}
RUN dd if=/dev/urandom of=/one bs=1M count=150 2>/dev/null
RUN dd if=/dev/urandom of=/two bs=1M count=150 2>/dev/null && sleep 1 && echo {token}-last
"""
# An export cut short goes on in the engine after the client has gone: look this long after the child exits.
LATE_EXPORT_S = 15
SHORT_STEPS = 40
SHORT_STEPS_DOCKERFILE = "ARG BASE_IMAGE=busybox:1.36\nFROM ${{BASE_IMAGE}}\n" + "".join(
    f"RUN echo {{token}}-{step}\n" for step in range(SHORT_STEPS)
)


def labelled(client: docker.DockerClient, session_id: str) -> dict[str, list[str]]:
    """Every container, volume and network carrying the session's label."""
    label = {"label": f"{LABEL}={session_id}"}
    return {
        "containers": [c.name for c in client.containers.list(all=True, filters=label)],
        "volumes": [v.name for v in client.volumes.list(filters=label)],
        "networks": [n.name for n in client.networks.list(filters=label)],
    }


def tags_starting(client: docker.DockerClient, prefix: str) -> list[str]:
    return [tag for image in client.images.list() for tag in image.tags if tag.startswith(prefix)]


def processes_with(text: str, *, buildx: bool = False) -> list[int]:
    """Pids of processes whose command line holds `text` (only `docker buildx` ones with buildx)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if (b"buildx" in words or not buildx) and any(text.encode() in word for word in words):
            pids.append(int(cmdline.parent.name))
    return pids


def holding_a_file_of(pgid: int, size: int) -> bool:
    """Whether a process of group `pgid` has a regular file of `size` bytes or more open: the child packing a
    build context that big (the context's file) or sending it (the tar it packed)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(proc.name)) != pgid:
                continue
            if any(fd.stat().st_size >= size for fd in (proc / "fd").iterdir()):
                return True
        except OSError:  # the process or the descriptor went away meanwhile
            continue
    return False


def buildx_running(text: str) -> list[int]:
    """Pids of `docker buildx build` processes whose command line holds `text` (BuildKit runs a build's steps
    outside the engine's containers)."""
    return processes_with(text, buildx=True)


def containers_running(client: docker.DockerClient, text: str) -> list[str]:
    """Ids of containers (labelled or not, e.g. a build's intermediate ones) whose command holds `text`."""
    return [c["Id"] for c in client.api.containers(all=True) if text in (c.get("Command") or "")]


def write_child_project(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tag: str,
    *,
    build: tuple[Path, Path, str] = (TINY / "Dockerfile", TINY, "app/www/index.html"),
    duration_s: int = 120,
    checks: list[str],
    health_path: str = "/healthz",
    builder: str = "auto",
) -> Path:
    """A child project's harness.toml and locustfile; `build` is (dockerfile, context, code_change_path).

    Returns the file the locustfile creates once the load is running.
    """
    dockerfile, context, code_change = build
    config = CHILD_CONFIG.format(
        dockerfile=dockerfile,
        context=context,
        tag=tag,
        tiny=TINY,
        code_change_path=code_change,
        duration_s=duration_s,
        checks=json.dumps(checks),
        health_path=health_path,
        builder=builder,
    )
    (pytester.path / "harness.toml").write_text(config)
    (pytester.path / "locustfile.py").write_text(CHILD_LOCUSTFILE)
    load_started = pytester.path / "load_started"
    monkeypatch.setenv("H5_LOAD_STARTED", str(load_started))
    return load_started


def wait_for(condition: Callable[[], object], what: str, child: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until `condition` is true; fail with the child's output if it ends or takes too long."""
    deadline = time.monotonic() + STAGE_TIMEOUT_S
    while not condition():
        if child.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the child never reached {what}; its output:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def sigint_as_ctrl_c() -> None:
    """In the child, before it starts: SIGINT back to its default, so that Python turns it into Ctrl-C.

    A suite started in the background by a script (`cmd &`, nohup) inherits SIGINT ignored, and so would the child.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def group_alive(pgid: int, within_s: float) -> bool:
    """Whether a process of the group is still there after waiting up to `within_s` for it to end."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope="module")
def tiny_image(harness_session: EngineSession) -> str:
    """The tiny fixture image (busybox httpd with a HEALTHCHECK), built once under this run's session."""
    dockerfile = TINY / "Dockerfile"
    build_args = ensure_base_images(harness_session.client, dockerfile, {}, BASE_PROVIDER, TINY)
    tag = f"harness-failures/tiny:{harness_session.id}"
    spec = ImageSpec(dockerfile=dockerfile, context=TINY, tag=tag, build_args=build_args)
    return build_image(harness_session, spec, nocache=False, kind="cached").image_id


@pytest.mark.parametrize(
    ("builder", "engine_says"),
    [("classic", "returned a non-zero code: 7"), ("buildkit", "exit code: 7")],
)
def test_failing_build_names_the_step_and_its_last_output(
    harness_session: EngineSession, tmp_path: Path, builder: Literal["classic", "buildkit"], engine_says: str
) -> None:
    token = f"h5-build-{secrets.token_hex(4)}"
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE_IMAGE=busybox:1.36\nFROM ${BASE_IMAGE}\nRUN mkdir -p /srv/app\n"
        f'RUN echo "{token}: compiling the assets" && echo "{token}: error: no such file" && exit 7\n'
    )
    build_args = ensure_base_images(harness_session.client, dockerfile, {}, BASE_PROVIDER, tmp_path)
    tag = f"harness-failures/broken:{token}"
    spec = ImageSpec(dockerfile=dockerfile, context=tmp_path, tag=tag, build_args=build_args, builder=builder)

    with pytest.raises(BuildError) as raised:
        build_image(harness_session, spec, nocache=True, kind="full")

    failure = raised.value
    message = str(failure)
    assert failure.step is not None
    assert "RUN echo" in failure.step
    assert token in failure.step
    assert f"{token}: error: no such file" in failure.log_tail
    assert engine_says in message
    assert f"{builder} builder" in message
    assert failure.step in message
    assert f"{token}: compiling the assets" in message
    assert tags_starting(harness_session.client, tag) == []


@pytest.mark.parametrize(
    ("watch", "doing"),
    [
        # The image's HEALTHCHECK runs every 30 s, so the container dies long before it could be healthy.
        (lambda running: running.wait_health("healthy", timeout_s=30), "while waiting for health status healthy"),
        (
            lambda running: idle_stats(running.container, seconds=4),
            "while its idle memory and CPU were sampled for 4 s",
        ),
    ],
    ids=["waiting-for-health", "sampling-idle-stats"],
)
def test_container_dying_while_watched_raises_container_exited_with_its_last_logs(
    harness_session: EngineSession, tiny_image: str, watch: Callable[[RunningContainer], object], doing: str
) -> None:
    spec = RunSpec(port=8080, health_path="/healthz", command=DYING_ON_FILE)

    with start_container(harness_session, tiny_image, spec) as running, ThreadPoolExecutor(max_workers=1) as pool:
        assert running.container.exec_run(["test", "-e", DIE_FILE]).exit_code == 1  # alive, not yet told
        # Submitted as the watch begins, the exec's round trip makes the file appear after it: the container
        # dies while watched however late the CPU lets it start (a 2 s timer could run out before the watch).
        touched = pool.submit(lambda: running.container.exec_run(["touch", DIE_FILE]).exit_code)
        with pytest.raises(ContainerExitedError) as raised:
            watch(running)
        assert touched.result(timeout=60) == 0

    failure = raised.value
    assert failure.exit_code == 7
    assert failure.log_tail[-2:] == ["worker 3: out of file descriptors", "fatal: giving up"]
    assert "exit code 7" in str(failure)
    assert doing in str(failure)
    assert "fatal: giving up" in str(failure)


def test_container_dying_during_the_idle_and_load_checks_fails_both_with_its_last_logs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, harness_session: EngineSession, tiny_image: str
) -> None:
    tag = f"harness-failures/dying-{secrets.token_hex(4)}:latest"
    write_child_project(pytester, monkeypatch, tag, duration_s=4, checks=CHILD_CHECKS["benchmarks"])
    pytester.makeconftest(CHILD_CONFTEST + DYING_CONFTEST.format(image=tiny_image, command=DYING_COMMAND))

    result = pytester.runpytest_subprocess(*CHILD_ARGS, timeout=DYING_TIMEOUT_S)

    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    for doing in ("its idle memory and CPU were sampled for 4 s", "load-testing it with locustfile.py"):
        result.stdout.fnmatch_lines(
            [f"*ContainerExitedError: container * stopped (exited, exit code 7) while {doing}*"]
        )
    # pytest repeats whole messages in its short summary when it runs under CI, so count the long reports only.
    failure_reports = output.split(" FAILURES ")[1].split(" short test summary info ")[0]
    assert failure_reports.count("    fatal: giving up") == 2, output
    session_id = (pytester.path / "session_id.txt").read_text()
    assert labelled(harness_session.client, session_id) == {"containers": [], "volumes": [], "networks": []}


def inventory(client: docker.DockerClient, base_image: str) -> dict[str, set[str]]:
    """Everything on the engine that rests on the busybox stand-in the children build on (so other work on a
    shared engine does not count), by kind; printed before and after each interrupt."""
    base = client.api.inspect_image(base_image)["RootFS"]["Layers"][0]
    ours = set()
    for summary in client.api.images(all=True):
        try:
            layers = client.api.inspect_image(summary["Id"])["RootFS"]["Layers"]
        except docker.errors.NotFound:
            continue  # removed meanwhile
        if layers and layers[0] == base:
            ours.add(summary["Id"])
    return {
        "containers": {c["Names"][0] for c in client.api.containers(all=True) if c["ImageID"] in ours},
        "images": ours,
        "volumes": {volume.name for volume in client.volumes.list()},
        "networks": {network.name for network in client.networks.list()},
    }


def handed_over(client: docker.DockerClient) -> set[str]:
    """Build-cache images a run handed over to the runs still live (this suite's own, which removes them last)."""
    volumes = client.volumes.list(filters={"label": ORPHANS_LABEL})
    refs = [
        ref.removeprefix("sha256:") for volume in volumes for ref in volume.attrs["Labels"][ORPHANS_LABEL].split(",")
    ]
    images = {summary["Id"] for summary in client.api.images(all=True)}
    return {image for image in images if any(image.removeprefix("sha256:").startswith(ref) for ref in refs)} | {
        volume.name for volume in volumes
    }


@pytest.fixture(scope="module")
def busybox_stand_in() -> str:
    """The stand-in the children build on, made now (the provider keeps it) so that the inventory taken before
    the first child has a base to recognise its images by."""
    subprocess.run(["sh", str(TINY / "provide_base.sh"), BUSYBOX], check=True, capture_output=True, timeout=300)
    return BUSYBOX


POINTS = [
    "context-upload",
    "build-step",
    "buildkit-build-step",
    "buildkit-export",
    "between-short-steps",
    "container-start",
    "load",
]


def ended(text: str) -> Callable[[], bool]:
    """A condition that holds once a process whose command line holds `text` has run and is gone (a build step
    BuildKit runs outside the engine's containers): the moment its build goes on to export."""
    seen = False

    def check() -> bool:
        nonlocal seen
        running = processes_with(text)
        seen = seen or bool(running)
        return seen and not running

    return check


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
@pytest.mark.parametrize("point", POINTS)
def test_an_interrupt_at_any_point_leaves_nothing_on_the_engine(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    harness_session: EngineSession,
    busybox_stand_in: str,
    point: str,
    signum: signal.Signals,
) -> None:
    client = harness_session.client
    token = f"h5-{point}-{secrets.token_hex(4)}"
    tag = f"harness-failures/{token}:latest"
    own_build = {
        "context-upload": BIG_CONTEXT_DOCKERFILE,
        "build-step": SLOW_DOCKERFILE,
        "buildkit-build-step": SLOW_DOCKERFILE,
        "buildkit-export": EXPORT_DOCKERFILE,
        "between-short-steps": SHORT_STEPS_DOCKERFILE,
    }
    if point in own_build:
        (pytester.path / "Dockerfile").write_text(own_build[point].format(token=token))
        if point == "context-upload":
            with (pytester.path / "big").open("wb") as big:
                big.truncate(BIG_CONTEXT_BYTES)  # sparse here, but sent in full
        load_started = write_child_project(
            pytester,
            monkeypatch,
            tag,
            build=(pytester.path / "Dockerfile", pytester.path, "Dockerfile"),
            checks=["full_build"],
            builder="buildkit" if point.startswith("buildkit") else "classic",
        )
    else:
        load_started = write_child_project(
            pytester,
            monkeypatch,
            tag,
            checks=["startup"] if point == "container-start" else ["load"],
            health_path="/never-answers" if point == "container-start" else "/healthz",
        )
    pytester.makeconftest(CHILD_CONFTEST)
    log = pytester.path / "child.log"
    before = inventory(client, busybox_stand_in)
    print(f"engine before: { {kind: len(names) for kind, names in before.items()} }")

    with log.open("wb") as output:
        child = pytester.popen(
            [sys.executable, "-m", "pytest", *CHILD_ARGS],
            stdout=output.fileno(),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=sigint_as_ctrl_c,
        )
        try:
            session_file = pytester.path / "session_id.txt"
            wait_for(session_file.exists, "its session", child, log)
            session_id = session_file.read_text()
            reached: dict[str, Callable[[], object]] = {
                "context-upload": lambda: holding_a_file_of(child.pid, BIG_CONTEXT_BYTES),
                "build-step": lambda: containers_running(client, token),
                "buildkit-build-step": lambda: buildx_running(tag),
                "buildkit-export": ended(f"{token}-last"),
                "between-short-steps": lambda: containers_running(client, f"{token}-2"),
                "container-start": lambda: client.containers.list(filters={"label": f"{LABEL}={session_id}"}),
                "load": load_started.exists,
            }
            wait_for(reached[point], f"the point {point}", child, log)
            if point == "context-upload":
                assert containers_running(client, token) == [], "the build got past its context before the signal"
            os.killpg(child.pid, signum)
            code = child.wait(timeout=CHILD_EXIT_TIMEOUT_S)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)

    output_text = log.read_text()
    if point == "buildkit-export":
        time.sleep(LATE_EXPORT_S)  # a time bound is the point: the engine may tag the image after the run ended
    after = inventory(client, busybox_stand_in)
    new = {kind: sorted(names - before[kind]) for kind, names in after.items()}
    print(f"engine after:  { {kind: len(names) for kind, names in after.items()} }; new: {new}")
    assert code == pytest.ExitCode.INTERRUPTED, output_text[-3000:]
    assert "KeyboardInterrupt" in output_text
    assert labelled(client, session_id) == {"containers": [], "volumes": [], "networks": []}
    assert tags_starting(client, tag.split(":")[0]) == []
    assert containers_running(client, token) == []
    assert buildx_running(tag) == []
    # What the run handed over to live runs (this suite's), and other runs' markers on a shared engine.
    kept = handed_over(client) | {
        name for name in new["volumes"] if name.startswith(MARKER_PREFIX) and name != f"{MARKER_PREFIX}{session_id}"
    }
    assert {kind: [name for name in names if name not in kept] for kind, names in new.items()} == {
        "containers": [], "images": [], "volumes": [], "networks": []
    }  # fmt: skip
    assert not group_alive(child.pid, within_s=10), "processes of the child's group (Locust?) are left"
