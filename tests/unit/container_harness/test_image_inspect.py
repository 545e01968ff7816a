"""Image facts from captured `docker image inspect` and history payloads, and glob matching of paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import docker
import pytest
from docker.errors import ImageNotFound

from container_harness.errors import BaseImageMissingError, ImageError
from container_harness.image.inspect import ImageFacts, image_facts, inspect_image, matching

PAYLOADS = Path(__file__).parent / "payloads"
BASE_SIZE = 1984234  # the history's oldest entry: the imported local/busybox:stable layer


def _facts() -> ImageFacts:
    attrs = json.loads((PAYLOADS / "image_inspect.json").read_text())
    history = json.loads((PAYLOADS / "image_history.json").read_text())
    return image_facts("tiny:test", attrs, history, "local/busybox:stable", BASE_SIZE, base_layer_count=1)


def test_size_and_size_above_base() -> None:
    facts = _facts()
    assert facts.size_bytes == 1984566
    assert facts.above_base_bytes == 1984566 - BASE_SIZE
    assert facts.above_base_bytes == sum(layer.size_bytes for layer in facts.layers if not layer.from_base)


def test_layers_are_oldest_first_with_their_instruction() -> None:
    facts = _facts()
    assert len(facts.layers) == 10
    assert facts.layers[0].from_base
    assert facts.layers[0].size_bytes == BASE_SIZE
    assert facts.layers[1].created_by.startswith("/bin/sh -c mkdir -p /srv/www")
    assert facts.layers[-1].created_by.endswith('CMD ["/usr/local/bin/start.sh"]')


def test_config_values_in_plain_units() -> None:
    facts = _facts()
    assert facts.user == "10001:10001"
    assert facts.exposed_ports == ["8080/tcp"]
    assert facts.env["GREETING"] == "tiny"
    assert facts.healthcheck == {
        "test": ["CMD-SHELL", "wget -q -T 2 -O /dev/null http://127.0.0.1:8080/healthz || exit 1"],
        "interval_s": 30.0,
        "timeout_s": 3.0,
        "start_period_s": 5.0,
        "retries": 3,
    }
    assert facts.cmd == ["/usr/local/bin/start.sh"]
    assert facts.entrypoint is None
    report = facts.to_report()
    assert report["size_bytes"] == 1984566
    assert report["base_image"] == "local/busybox:stable"
    assert len(report["layers"]) == 10


def test_globs_match_at_any_depth_unless_anchored() -> None:
    paths = {"/srv/www/private.key", "/srv/www/index.html", "/etc/ssl/ca.key", "/data/source.json"}
    assert matching(paths, ["**/*.key"]) == ["/etc/ssl/ca.key", "/srv/www/private.key"]
    assert matching(paths, ["*.key"]) == ["/etc/ssl/ca.key", "/srv/www/private.key"]
    assert matching(paths, ["/srv/*.key"]) == ["/srv/www/private.key"]
    anchored_and_bare = matching(paths, ["/data/source.json", "index.html"])
    assert anchored_and_bare == ["/data/source.json", "/srv/www/index.html"]
    assert matching(paths, ["*.pem"]) == []


class _Engine:
    """A client whose images.get finds only the given references (nothing else is asked before the errors)."""

    def __init__(self, *present: str) -> None:
        self.present = present
        self.images = self

    def get(self, ref: str) -> object:
        if ref not in self.present:
            raise ImageNotFound(f"No such image: {ref}")
        return object()


def test_an_image_not_on_the_engine_is_named_as_missing() -> None:
    client = cast(docker.DockerClient, _Engine())
    with pytest.raises(ImageError, match="image api:dev is not on the engine"):
        inspect_image(client, "api:dev", None)


def test_a_base_image_not_on_the_engine_is_a_missing_base() -> None:
    client = cast(docker.DockerClient, _Engine("api:dev"))
    with pytest.raises(BaseImageMissingError, match="base image local/base:stable of api:dev is not on the engine"):
        inspect_image(client, "api:dev", "local/base:stable")
