"""The harness's configuration: one typed object read from [tool.harness] or a TOML file, with overrides.

Precedence, highest first: command-line options, ini options, the `--harness-config` file (or the rootdir's
pyproject.toml [tool.harness] table), the defaults below. Relative paths resolve against the directory of the
file the configuration came from, so a config file can sit beside the Dockerfile it describes.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from container_harness.errors import ConfigError, ConfigNotFoundError
from container_harness.specs import AUTO_PROCESSES, HEALTH_PATH_ENV, ImageSpec, LoadSpec, RunSpec


class _Strict(BaseModel):
    """Unknown keys are errors, so a typo in the TOML is reported instead of silently ignored."""

    model_config = ConfigDict(extra="forbid")


# The specs' defaults, read from them so that each is written once (specs.py).
_RUN = RunSpec(port=0)
_LOAD = LoadSpec(locustfile=Path())


class RunConfig(_Strict):
    """How the image's container is started for the checks."""

    port: int
    health_path: str = _RUN.health_path
    env: dict[str, str] = Field(default_factory=dict)
    ready_timeout_s: float = _RUN.ready_timeout_s
    # Probe interval while waiting for Docker's health status; None keeps the image's own HEALTHCHECK interval.
    # An override shortens the wait and is reported (startup.health_interval_s) and named in the summary.
    health_interval_s: float | None = None
    health_timeout_s: float = 120.0
    cpuset: str | None = None
    mem_limit: str | None = None
    cpus: float | None = None
    host: str | None = None  # where published ports are reached (default: testcontainers' engine host)
    bind: str | None = None  # where they are published (default: 127.0.0.1 for a loopback host, else 0.0.0.0)
    network: Literal["host"] | None = None  # "host": no published port, so no docker-proxy in the path


class HealthcheckExpect(_Strict):
    """HEALTHCHECK values the image must declare (unset ones are not checked)."""

    interval_s: float | None = None
    timeout_s: float | None = None
    start_period_s: float | None = None
    retries: int | None = None


class PolicyConfig(_Strict):
    """Rules a team sets for how its images are made, not measurements: on, a breach fails its check; off (the
    default), it is a note with the line that turns the rule on."""

    non_root: bool = False  # the image's USER is not root (image_config)
    healthcheck: bool = False  # the image declares a HEALTHCHECK (docker_health; without one it is skipped)


class ExpectConfig(_Strict):
    """What the built image must look like."""

    uid: int | None = None
    ports: list[str] = Field(default_factory=list)
    healthcheck: HealthcheckExpect | None = None
    files: list[str] = Field(default_factory=list)
    absent_globs: list[str] = Field(default_factory=list)
    # Substrings of build instructions that install dependencies: after a code change they must hit the cache.
    cached_on_code_change: list[str] = Field(
        default_factory=lambda: [
            "pip install",
            "pip wheel",
            "uv sync",
            "poetry install",
            "apt-get",
            "apk add",
            "npm ci",
            "npm install",
            "yarn install",
            "go mod download",
            "cargo fetch",
            "bundle install",
        ]
    )


class UnhealthyConfig(_Strict):
    """A broken configuration (env and/or command) under which the container must end `unhealthy`."""

    env: dict[str, str] = Field(default_factory=dict)
    command: list[str] | None = None


class VolumeConfig(_Strict):
    """A host directory mounted into the container, and the HTTP answer that proves it is used."""

    host: str
    target: str
    read_only: bool = True
    check_path: str
    expect_json: dict[str, Any]
    default_json: dict[str, Any] | None = None
    # "bind" mounts `host` as it is; "copy" mounts a copy of it in a volume labelled with the run, for engines that
    # cannot see the caller's paths (remote engine, harness in a container); "auto" checks which is needed.
    mount: Literal["auto", "bind", "copy"] = "auto"


class LoadConfig(_Strict):
    """Settings of the load checks; unknown keys are errors, like everywhere else."""

    enabled: bool = True
    locustfile: str | None = None
    users: int = _LOAD.users
    spawn_rate: float = _LOAD.spawn_rate
    duration_s: float = _LOAD.duration_s
    warmup_s: float = _LOAD.warmup_s
    # Above 1: a Locust master and this many local workers, pinned round-robin to locust_cpuset; "auto" (stored as
    # AUTO_PROCESSES): as many as keep each under generator_share of a core, found by short runs.
    processes: int = Field(default=_LOAD.processes, ge=0)
    generator_share: float = Field(default=_LOAD.generator_share, gt=0, le=1)
    join_timeout_s: int = Field(default=_LOAD.join_timeout_s, ge=1)  # how long the master waits for its workers
    workers: int = Field(default=_LOAD.workers, ge=0)  # Locust workers started as containers on the engine
    worker_wheels: str = str(_LOAD.worker_wheels)  # Locust's wheels for the workers' image; pip download fills it
    remote_workers: list[str] = Field(default_factory=list)  # ids of workers joining from other hosts
    master_bind: str | None = None  # where the master listens (an address the remote workers reach)
    master_port: int | None = None  # the master's port (what the remote workers are told)
    container_cpuset: str | None = None
    locust_cpuset: str | None = None
    container_env: dict[str, str] = Field(default_factory=dict)
    health_floor: bool = False
    locust_reports: bool = False  # keep Locust's own CSV and HTML reports in the reports directory
    pin_proxy: bool = False  # pin the port's docker-proxy to locust_cpuset, beside the load generator
    curve: bool = False  # also measure the latency-throughput curve (test_load_curve, `container-harness curve`)
    curve_fractions: list[float] = Field(default_factory=lambda: [0.25, 0.5, 0.75, 0.9, 1.0])
    curve_p99_limit_ms: float | None = None  # the knee's p99 limit; default 3x the p99 at the lowest rate


    @field_validator("processes", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        return AUTO_PROCESSES if value == "auto" else value


class AbConfig(_Strict):
    """The same-run A/B comparison (`container-harness ab`): rounds, tolerance and the short per-round runs."""

    baseline: str | None = None  # in pytest: the image the built one is compared with (--harness-ab-baseline)
    rounds: int = Field(default=6, ge=2)
    threshold: float = Field(default=0.05, gt=0, lt=1)
    max_ci_width: float = Field(default=0.2, gt=0)
    confidence: float = Field(default=0.95, ge=0.5, lt=1)
    starts_per_round: int = Field(default=1, ge=1)
    idle_seconds: float = Field(default=2.0, gt=0)
    load_duration_s: float = Field(default=6.0, gt=0)
    load_warmup_s: float = Field(default=2.0, ge=0)
    # Environment for Locust on both sides (the locustfile's payload seed, its scenario): identical by design.
    locust_env: dict[str, str] = Field(default_factory=dict)
    # Paths (relative to the repository's top level) a --baseline-ref build uses when present; git lacks them.
    untracked_inputs: list[str] = Field(default_factory=list)


class HarnessConfig(_Strict):
    """Everything the checks need to know about one image; `root` anchors its relative paths."""

    root: Path = Path(".")
    dockerfile: str = "Dockerfile"
    context: str = "."
    tag: str
    target: str | None = None
    build_args: dict[str, str] = Field(default_factory=dict)
    base_provider: str | None = None
    code_change_path: str | None = None
    dependency_change_path: str | None = None
    builder: Literal["auto", "buildkit", "classic"] = "auto"
    classic_dockerfile: str | None = None
    prune_build_cache: bool = False
    keep_image: bool = False
    keep: bool = False
    build_repeats: int = Field(default=1, ge=1)
    start_repeats: int = Field(default=5, ge=1)
    idle_seconds: float = Field(default=5.0, gt=0)
    idle_settle_s: float = Field(default=1.0, ge=0)  # idle sampling starts this long after the first 2xx
    # A check measured while other containers used at least this share of the engine's CPUs is "contended".
    contention_cpu_share: float = Field(default=0.25, gt=0, le=1)
    budgets: str | None = None
    report: str = "reports/report.json"
    markdown_report: str | None = None
    baseline: str | None = None  # a report.json that report.md shows each figure's change against
    run: RunConfig
    expect: ExpectConfig = Field(default_factory=ExpectConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    unhealthy: UnhealthyConfig | None = None
    volume: VolumeConfig | None = None
    load: LoadConfig = Field(default_factory=LoadConfig)
    # Built-in checks to run, by name (None: every check the configuration supports).
    checks: list[str] | None = None
    ab: AbConfig = Field(default_factory=AbConfig)

    def path(self, relative: str) -> Path:
        """A configured path resolved against the configuration's directory."""
        return (self.root / relative).resolve()

    @property
    def report_path(self) -> Path:
        """Where report.json goes."""
        return self.path(self.report)

    @property
    def markdown_path(self) -> Path:
        """Where the Markdown summary goes (beside report.json unless configured)."""
        if self.markdown_report:
            return self.path(self.markdown_report)
        return self.report_path.with_suffix(".md")

    @property
    def baseline_path(self) -> Path | None:
        """The baseline report.json for report.md's changes, if any."""
        return self.path(self.baseline) if self.baseline else None

    @property
    def budgets_path(self) -> Path | None:
        """The budgets TOML, if any."""
        return self.path(self.budgets) if self.budgets else None


def load_config(
    rootdir: Path,
    config_file: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    pyproject: dict[str, Any] | None = None,
) -> HarnessConfig:
    """Read [tool.harness] from config_file (top level or under [tool.harness]) or rootdir/pyproject.toml.

    overrides are dotted keys ("run.port", "load.enabled") applied on top; None values are ignored. pyproject is
    rootdir/pyproject.toml already parsed (the plugin reads it once to decide whether to activate), used instead
    of reading the file again when there is no config_file.
    """
    source = config_file if config_file is not None else rootdir / "pyproject.toml"
    data = pyproject if pyproject is not None and config_file is None else _read_toml(source)
    table = _harness_table(data, source, required_table=config_file is None)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(table, dotted, value)
    table.setdefault("root", str(source.resolve().parent))
    try:
        return HarnessConfig.model_validate(table)
    except ValidationError as exc:
        raise ConfigError(f"invalid harness configuration in {source}:\n{_describe(exc)}") from exc


def _read_toml(source: Path) -> dict[str, Any]:
    """A TOML file's document; a missing, unreadable or invalid file is a ConfigError that says which."""
    try:
        return tomllib.loads(source.read_text())
    except FileNotFoundError as exc:
        raise ConfigNotFoundError(
            f"no harness configuration: {source.resolve()} does not exist", looked_for=source.resolve()
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"no harness configuration: cannot read {source}: {exc.strerror or exc}",
            hint="pass a readable TOML file, or add a [tool.harness] table to the rootdir's pyproject.toml",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source} is not valid TOML: {exc}", hint="fix the TOML syntax at the line and column named above"
        ) from exc


def _harness_table(data: dict[str, Any], source: Path, required_table: bool) -> dict[str, Any]:
    """A copy of the document's [tool.harness] table (overrides edit it); a dedicated file may also hold the keys
    at top level."""
    table = data.get("tool", {}).get("harness")
    if table is not None:
        return copy.deepcopy(table)
    if required_table:
        raise ConfigNotFoundError(f"{source.resolve()} has no [tool.harness] table", looked_for=source.resolve())
    return copy.deepcopy(data)


def _set_dotted(table: dict[str, Any], dotted: str, value: Any) -> None:
    """Set table["a"]["b"] for "a.b", creating sub-tables as needed."""
    *parents, leaf = dotted.split(".")
    node = table
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _describe(exc: ValidationError) -> str:
    """One line per problem: dotted key and what is wrong."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"    {where}: {error['msg']}")
    return "\n".join(lines)


def image_spec(config: HarnessConfig) -> ImageSpec:
    """What to build, with paths resolved."""
    return ImageSpec(
        dockerfile=config.path(config.dockerfile),
        context=config.path(config.context),
        tag=config.tag,
        build_args=dict(config.build_args),
        target=config.target,
        code_change_path=config.code_change_path,
        base_provider=config.base_provider,
        dependency_change_path=config.dependency_change_path,
        builder=config.builder,
        classic_dockerfile=config.path(config.classic_dockerfile) if config.classic_dockerfile else None,
    )


def run_spec(config: HarnessConfig, **overrides: Any) -> RunSpec:
    """How to run the image: the [run] table, then overrides (RunSpec fields); `env` is merged into it."""
    run = config.run
    fields: dict[str, Any] = {
        "port": run.port,
        "health_path": run.health_path,
        "env": dict(run.env),
        "ready_timeout_s": run.ready_timeout_s,
        "cpuset": run.cpuset,
        "mem_limit": run.mem_limit,
        "nano_cpus": int(run.cpus * 1e9) if run.cpus else None,
        "host": run.host,
        "bind": run.bind,
        "network": run.network,
    }
    fields.update({key: value for key, value in overrides.items() if key != "env"})
    fields["env"].update(overrides.get("env", {}))
    return RunSpec(**fields)


def load_pinning(config: HarnessConfig) -> dict[str, Any]:
    """run_spec overrides for the container under load: [load]'s container_env, and its container_cpuset when
    set (else [run]'s cpuset stays), so the service never shares CPUs with the load generator."""
    load = config.load
    return {"env": load.container_env, **({"cpuset": load.container_cpuset} if load.container_cpuset else {})}


def load_spec(config: HarnessConfig, env: dict[str, str] | None = None) -> LoadSpec:
    """The configured closed-loop load run (the locustfile resolved), with run.health_path in Locust's
    environment (HEALTH_PATH_ENV) and any extra environment."""
    load = config.load
    if not load.locustfile:
        raise ConfigError("load checks need a locustfile: set [tool.harness.load] locustfile")
    return LoadSpec(
        locustfile=config.path(load.locustfile),
        users=load.users,
        spawn_rate=load.spawn_rate,
        duration_s=load.duration_s,
        warmup_s=load.warmup_s,
        processes=load.processes,
        generator_share=load.generator_share,
        cpuset=load.locust_cpuset,
        join_timeout_s=load.join_timeout_s,
        workers=load.workers,
        worker_wheels=config.path(load.worker_wheels),
        worker_base_provider=config.base_provider,
        remote_workers=tuple(load.remote_workers),
        master_bind=load.master_bind,
        master_port=load.master_port,
        env={HEALTH_PATH_ENV: config.run.health_path, **(env or {})},
    )
