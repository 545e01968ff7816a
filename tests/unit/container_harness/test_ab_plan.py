"""The A/B's plan comes from the configuration's own mappings: every [load] setting reaches both sides."""

from __future__ import annotations

from pathlib import Path

from container_harness.config import load_config
from container_harness.jobs.ab import plan_of
from container_harness.specs import AUTO_PROCESSES, HEALTH_PATH_ENV

CONFIG = """tag = "tiny:test"
[run]
port = 8080
cpuset = "0-1"
[load]
locustfile = "locustfile.py"
users = 7
processes = "auto"
generator_share = 0.5
join_timeout_s = 9
workers = 2
remote_workers = ["far"]
container_cpuset = "0"
locust_cpuset = "1"
container_env = { WEB_CONCURRENCY = "1" }
[ab]
load_duration_s = 3
load_warmup_s = 1
locust_env = { LOCUST_SEED = "7" }
"""


def test_the_plan_is_the_configured_load_run_with_the_ab_s_short_windows(tmp_path: Path) -> None:
    (tmp_path / "locustfile.py").write_text("")
    (tmp_path / "h.toml").write_text(CONFIG)
    config = load_config(tmp_path, tmp_path / "h.toml")
    plan = plan_of(config)
    assert (plan.load.locustfile, plan.load.users, plan.load.cpuset) == (tmp_path / "locustfile.py", 7, "1")
    assert (plan.load.duration_s, plan.load.warmup_s) == (3.0, 1.0)
    assert plan.load.env == {HEALTH_PATH_ENV: "/health", "LOCUST_SEED": "7"}
    assert (plan.load.processes, plan.load.workers, plan.load.remote_workers) == (AUTO_PROCESSES, 2, ("far",))
    assert (plan.load.generator_share, plan.load.join_timeout_s) == (0.5, 9)
    assert (plan.run.port, plan.run.cpuset, plan.run.env) == (8080, "0", {"WEB_CONCURRENCY": "1"})
