"""deploy/k8s/energy-api.yaml: valid against Kubernetes schemas (offline, strict) and wired as documented."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "energy-api.yaml"
KUBERNETES_VERSION = "1.30.0"


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    """The manifest's objects by kind."""
    loaded = [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]
    by_kind = {doc["kind"]: doc for doc in loaded}
    assert len(by_kind) == len(loaded), "one object of each kind expected"
    return by_kind


def _container(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = documents["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_manifest_holds_a_deployment_a_service_and_an_autoscaler(
    documents: dict[str, dict[str, Any]],
) -> None:
    assert {kind: doc["apiVersion"] for kind, doc in documents.items()} == {
        "Deployment": "apps/v1",
        "Service": "v1",
        "HorizontalPodAutoscaler": "autoscaling/v2",
    }


@pytest.mark.parametrize("kind", ["Deployment", "Service", "HorizontalPodAutoscaler"])
def test_every_object_validates_strictly(documents: dict[str, dict[str, Any]], kind: str) -> None:
    kubernetes_validate.validate(documents[kind], KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_a_misspelt_field(documents: dict[str, dict[str, Any]]) -> None:
    broken = copy.deepcopy(documents["Deployment"])
    probe = broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    probe["httpGet"]["paht"] = probe["httpGet"].pop("path")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_probes_ask_health_on_the_serving_port(documents: dict[str, dict[str, Any]]) -> None:
    container = _container(documents)
    port_names = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert port_names == {"http": 8000}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe


def test_pod_runs_non_root_with_a_read_only_root_and_a_writable_tmp(
    documents: dict[str, dict[str, Any]],
) -> None:
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    container = _container(documents)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_resources_are_requested_and_limited(documents: dict[str, dict[str, Any]]) -> None:
    resources = _container(documents)["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_service_and_autoscaler_point_at_the_deployment(documents: dict[str, dict[str, Any]]) -> None:
    deployment = documents["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = documents["Service"]["spec"]["selector"]
    assert selector.items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert documents["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    hpa = documents["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert 1 <= hpa["minReplicas"] < hpa["maxReplicas"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
