"""Our service image against MLServer 1.7.1 (mlserver-lightgbm, one LightGBM model): requests per second and
latency under identical conditions, for the statement "our service serves N x MLServer's requests per second
on the same machine".

    .venv/bin/python benchmarks/mlserver_compare.py --image energy-optimization-api:latest [--image OTHER ...] \\
        --data ../shared/data/Steel_industry_data.csv [--venv /tmp/mlserver-1.7.1] [--rounds 3] [--seconds 10]

All servers start at once, each on CPU 0 with one worker process, and only the measured one runs: the others
are frozen (`docker pause`, SIGSTOP), so they cannot take time from it. wrk (`apt-get install wrk`) runs on
CPU 1 with one thread and 10 connections, a 2 s warm-up before each measured run, rounds interleaved (each
image in the order given, then mlserver, and again). Percentiles are exact, from wrk's own histogram (the
RESULT line of benchmarks/wrk_predict.lua, which benchmarks/wrk_mlserver.lua loads). A run with a non-2xx
answer fails.

- Ours: `docker run --network host --cpuset-cpus 0 -e WEB_CONCURRENCY=1 -e PORT=<free port> IMAGE`,
  POST /predict_onnx with wrk_predict.lua's example request (the image's default model set: LightGBM and
  CatBoost stacked by a linear model, three ONNX sessions per request).
- MLServer: installed into --venv (created with python3.11 when missing, reused when its pins match), with
  httptools added at our image's pin, so that both parse HTTP with httptools and the ratio is not about the
  parser (MLServer keeps its uvloop; ours runs asyncio's loop, equally fast at 10 connections). A LightGBM
  regressor (500 trees, 31 leaves: our image's LightGBM) is trained in that venv on --data, target Usage_kWh,
  on the features service.features.build_features makes of models.dataset's raw rows, and served from a
  temporary model repository by `taskset -c 0 mlserver start`.
  POST /v2/models/steel-energy/infer, V2 protocol, one FP32 row of shape [1, 14] (wrk_mlserver.lua).
  settings.json: parallel_workers 0 (inference in the serving process, no worker pool and no IPC hop: one
  serving process, as ours); metrics_endpoint null (no Prometheus middleware nor metrics server: ours has none);
  debug false (no access log: ours has none); gzip_enabled false (ours does not compress; the answers, a few
  hundred bytes, are below GZip's 500-byte minimum anyway); host 127.0.0.1. gRPC cannot be turned off in
  1.7.1: it listens on a free port and gets no traffic. OMP_NUM_THREADS=1, as our ONNX sessions use one thread.

The container is removed and MLServer's process group ended on exit, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Final

from wrk_runs import run_wrk  # benchmarks/wrk_runs.py, beside this script (standard library only)

ROOT: Final[Path] = Path(__file__).resolve().parents[1]
OURS_SCRIPT: Final[Path] = ROOT / "benchmarks" / "wrk_predict.lua"
MLSERVER_SCRIPT: Final[Path] = ROOT / "benchmarks" / "wrk_mlserver.lua"
SERVER_CPU: Final[str] = "0"
LOAD_CPU: Final[str] = "1"
CONNECTIONS: Final[int] = 10
MLSERVER: Final[str] = "MLServer 1.7.1 + mlserver-lightgbm"
WARMUP_S: Final[float] = 2.0
START_TIMEOUT_S: Final[float] = 120.0
# Installed into --venv; httptools at requirements-api.txt's pin, lightgbm pinned so the model is reproducible.
MLSERVER_PINS: Final[tuple[str, ...]] = (
    "mlserver==1.7.1",
    "mlserver-lightgbm==1.7.1",
    "lightgbm==4.7.0",
    "httptools==0.9.0",
)
# Our image's LightGBM (models/estimators.py LIGHTGBM_PARAMS, which imports CatBoost, absent from the venv).
LIGHTGBM_PARAMS: Final[dict[str, object]] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "seed": 20181231,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
TREES: Final[int] = 500
FIGURES: Final[tuple[str, ...]] = ("rps", "p50_ms", "p95_ms", "p99_ms")


def train_model(data: Path, out: Path) -> None:
    """Fit the LightGBM regressor on the chronological training rows, save model.txt into `out`.

    Runs inside MLServer's venv (LightGBM and pandas are there, not in the project's .venv)."""
    import lightgbm as lgb
    import numpy as np

    from models.dataset import chronological_split, load_steel_csv
    from service.features import build_features

    started = time.perf_counter()
    steel = load_steel_csv(data)
    x, y = build_features(steel.raw), steel.target
    train, test = chronological_split(len(y))
    booster = lgb.train(LIGHTGBM_PARAMS, lgb.Dataset(x[train], y[train]), num_boost_round=TREES)
    booster.save_model(str(out / "model.txt"))
    rmse = float(np.sqrt(np.mean((booster.predict(x[test]) - y[test]) ** 2)))
    print(f"trained {TREES} trees in {time.perf_counter() - started:.1f} s, holdout RMSE {rmse:.3f} kWh", flush=True)


def _lua_request(script: Path) -> tuple[str, str]:
    """The path and body a wrk script sends, read from its one-line `wrk.path = "..."` and `wrk.body = '...'`."""
    text = script.read_text()
    path = re.search(r'^wrk\.path = "([^"]+)"$', text, re.MULTILINE)
    body = re.search(r"^wrk\.body = '([^']+)'$", text, re.MULTILINE)
    if path is None or body is None:
        raise RuntimeError(f"{script}: no one-line wrk.path and wrk.body")
    return path.group(1), body.group(1)


def _ensure_venv(venv: Path) -> None:
    """Create the venv with python3.11 when missing; pip install the pins unless all are there already."""
    python = venv / "bin" / "python"
    if not python.exists():
        if shutil.which("python3.11") is None:
            raise SystemExit("python3.11 not found: it makes MLServer's venv")
        subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {line.lower().replace("_", "-") for line in listed.split()}
    if not set(MLSERVER_PINS) <= installed:
        print(f"installing {' '.join(MLSERVER_PINS)} into {venv}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *MLSERVER_PINS], check=True)


def _model_repository(venv: Path, data: Path, folder: Path, http_port: int, grpc_port: int) -> str:
    """MLServer's repository in `folder`: settings.json, and the trained model with its model-settings.json in a
    folder named after the model (as wrk_mlserver.lua's path names it). Returns that name."""
    path, _ = _lua_request(MLSERVER_SCRIPT)
    name = path.split("/")[3]  # /v2/models/<name>/infer
    (folder / name).mkdir()
    subprocess.run(
        [str(venv / "bin" / "python"), __file__, "--train-into", str(folder / name), "--data", str(data)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    settings = {
        "parallel_workers": 0,
        "metrics_endpoint": None,
        "debug": False,
        "gzip_enabled": False,
        "host": "127.0.0.1",
        "http_port": http_port,
        "grpc_port": grpc_port,
    }
    model = {"name": name, "implementation": "mlserver_lightgbm.LightGBMModel", "parameters": {"uri": "./model.txt"}}
    (folder / "settings.json").write_text(json.dumps(settings, indent=2))
    (folder / name / "model-settings.json").write_text(json.dumps(model, indent=2))
    return name


def _answer(url: str, body: str | None = None) -> bytes | None:
    """The body of a 200 answer to a GET (or a JSON POST of `body`), or None when there is none yet."""
    data = None if body is None else body.encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read() if response.status == 200 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _wait_ready(url: str, alive: Callable[[], bool]) -> None:
    """Poll a GET until it answers 200; `alive()` false or START_TIMEOUT_S past ends the wait with an error."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while _answer(url) is None:
        if not alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200")
        time.sleep(0.2)


def _container_running(name: str) -> bool:
    """Whether the container exists and runs."""
    done = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Running}}", name], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() == "true"


def _measure(script: Path, url: str, seconds: float) -> dict[str, float]:
    """A warm-up, then the measured run; any non-2xx answer fails the benchmark."""
    def wrk(duration: float) -> dict[str, float]:
        return run_wrk(url, cpuset=LOAD_CPU, connections=CONNECTIONS, seconds=duration, script=script)

    for figures in (wrk(WARMUP_S), measured := wrk(seconds)):
        if figures["non2xx"] or not figures["requests"]:
            raise RuntimeError(f"{url}: {figures['requests']:.0f} requests, {figures['non2xx']:.0f} non-2xx")
    return measured


def _table(results: dict[str, list[dict[str, float]]]) -> str:
    """Markdown: per server the median of each figure over the rounds, then each image / mlserver in rps."""
    medians = {
        server: {key: statistics.median(run[key] for run in runs) for key in FIGURES}
        for server, runs in results.items()
    }
    rows = ["| server | rps | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|---:|"]
    for server, figures in medians.items():
        rows.append(
            f"| {server} | {figures['rps']:,.0f} | {figures['p50_ms']:.2f} | {figures['p95_ms']:.2f} "
            f"| {figures['p99_ms']:.2f} |"
        )
    rounds = len(results[MLSERVER])
    ratios = [
        f"{server} / {MLSERVER}, requests per second: **{figures['rps'] / medians[MLSERVER]['rps']:.2f} x** "
        f"(median of {rounds} round(s) each)"
        for server, figures in medians.items()
        if server != MLSERVER
    ]
    return "\n".join([*rows, "", *ratios])


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as Ctrl-C, so the cleanup in `finally` runs."""
    raise KeyboardInterrupt


def _check_prediction(url: str) -> None:
    """wrk_mlserver.lua's request, sent once: it must answer 200 with a number."""
    path, body = _lua_request(MLSERVER_SCRIPT)
    answer = _answer(f"{url}{path}", body)
    outputs = json.loads(answer or b"{}").get("outputs") or [{}]
    prediction = outputs[0].get("data") or [None]
    if not isinstance(prediction[0], float):
        raise RuntimeError(f"MLServer's V2 answer has no prediction: {answer!r}")
    print(f"MLServer answers the V2 request: {prediction[0]:.3f} kWh for the example row", flush=True)


def _rounds(
    urls: dict[str, str], hold: Callable[[str, bool], None], rounds: int, seconds: float
) -> dict[str, list[dict[str, float]]]:
    """Interleaved rounds, every server once in each, in `urls` order; one line per measured run.

    Only the measured server runs: `hold` freezes the others, so their timers and pollers take no time from it.
    """
    results: dict[str, list[dict[str, float]]] = {server: [] for server in urls}
    for server in urls:
        hold(server, True)
    for round_ in range(1, rounds + 1):
        for server, url in urls.items():
            hold(server, False)
            figures = _measure(MLSERVER_SCRIPT if server == MLSERVER else OURS_SCRIPT, url, seconds)
            hold(server, True)
            results[server].append(figures)
            print(
                f"round={round_} server={server} rps={figures['rps']:.0f} p50_ms={figures['p50_ms']:.2f} "
                f"p95_ms={figures['p95_ms']:.2f} p99_ms={figures['p99_ms']:.2f} "
                f"socket_errors={figures['socket_errors']:.0f}",
                flush=True,
            )
    return results


def compare(args: argparse.Namespace) -> None:
    """Start both servers, check they answer, run the interleaved rounds, print lines and the table."""
    # Imported here: the training step runs this file in MLServer's venv, which has no container_harness.
    from container_harness.load.distributed import free_port
    from container_harness.process_group import end_group

    for tool in ("wrk", "docker", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found" + (": apt-get install wrk" if tool == "wrk" else ""))
    _ensure_venv(args.venv)
    signal.signal(signal.SIGTERM, _interrupt)
    containers = [f"mlserver-compare-{os.getpid()}-{index}" for index in range(len(args.image))]
    with tempfile.TemporaryDirectory(prefix="mlserver-compare-") as tmp:
        folder = Path(tmp)
        mlserver: subprocess.Popen[str] | None = None
        try:
            http_port, grpc_port = free_port("127.0.0.1"), free_port("127.0.0.1")
            name = _model_repository(args.venv, args.data, folder, http_port, grpc_port)
            urls: dict[str, str] = {}
            for image, container in zip(args.image, containers, strict=True):
                port = free_port("127.0.0.1")
                subprocess.run(
                    ["docker", "run", "-d", "--name", container, "--network", "host", "--cpuset-cpus", SERVER_CPU,
                     "-e", "WEB_CONCURRENCY=1", "-e", f"PORT={port}", image],
                    stdout=subprocess.DEVNULL,
                    check=True,
                )  # fmt: skip
                urls[image] = f"http://127.0.0.1:{port}"
            with (folder / "mlserver.log").open("w") as log:
                mlserver = started = subprocess.Popen(
                    ["taskset", "-c", SERVER_CPU, str(args.venv / "bin" / "mlserver"), "start", str(folder)],
                    cwd=folder,
                    env={**os.environ, "OMP_NUM_THREADS": "1"},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
            urls[MLSERVER] = f"http://127.0.0.1:{http_port}"
            try:
                for image, container in zip(args.image, containers, strict=True):
                    _wait_ready(f"{urls[image]}/health", partial(_container_running, container))
                _wait_ready(f"{urls[MLSERVER]}/v2/models/{name}/ready", lambda: started.poll() is None)
            except RuntimeError:
                print((folder / "mlserver.log").read_text()[-3000:], file=sys.stderr)
                for container in containers:
                    subprocess.run(["docker", "logs", "--tail", "30", container], check=False)
                raise
            _check_prediction(urls[MLSERVER])
            container_of = dict(zip(args.image, containers, strict=True))

            def hold(server: str, frozen: bool) -> None:
                if server == MLSERVER:
                    os.killpg(started.pid, signal.SIGSTOP if frozen else signal.SIGCONT)
                else:
                    command = ["docker", "pause" if frozen else "unpause", container_of[server]]
                    subprocess.run(command, capture_output=True, check=True)

            results = _rounds(urls, hold, args.rounds, args.seconds)
            print()
            print(_table(results))
        finally:
            if mlserver is not None:
                os.killpg(mlserver.pid, signal.SIGCONT)  # a stopped group would not see end_group's SIGINT
                end_group(mlserver, grace_s=5.0)
            for container in containers:
                subprocess.run(["docker", "unpause", container], capture_output=True, check=False)
            subprocess.run(["docker", "rm", "-f", *containers], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--image", action="append", help="our service image (repeatable), e.g. energy-optimization-api:latest"
    )
    parser.add_argument("--data", type=Path, required=True, help="the UCI steel-industry CSV")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "mlserver-1.7.1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--train-into", type=Path, help=argparse.SUPPRESS)  # the training step, in the venv
    args = parser.parse_args()
    if args.train_into is not None:
        train_model(args.data, args.train_into)
    elif not args.image:
        parser.error("--image is required")
    else:
        try:
            compare(args)
        except KeyboardInterrupt:
            raise SystemExit("interrupted: container removed, MLServer ended") from None


if __name__ == "__main__":
    main()
