"""deploy/kubernetes and deploy/Dockerfile: valid for their tools, and true to the app
(the paths the probes ask for are served, every setting named is a real one, the ports
agree), with the security and durability a user relies on."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from service.cli.main import build_parser
from service.settings import ENV_PREFIX, Settings
from tests.deployfiles import (
    DEPLOY,
    KUBE,
    KUBE_VERSIONS,
    NOT_MANIFESTS,
    container,
    documents,
    manifest_files,
    objects,
    pod_spec,
    run,
    tool,
    yaml_file,
)
from tests.helpers import AppClient


def _validate(*paths: Path, version: str) -> tuple[int, str]:
    done = run(tool("kubernetes-validate"), "--strict", "-k", version, *map(str, paths))
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_manifests_pass_the_kubernetes_schemas(version: str) -> None:
    code, out = _validate(*manifest_files(), version=version)
    assert code == 0, out
    # Every object was checked against a schema, not passed over for want of one.
    assert out.count("passed for resource") == sum(len(documents(p)) for p in manifest_files())


def test_the_validator_refuses_a_misspelt_field_and_a_wrong_type(tmp_path: Path) -> None:
    text = (KUBE / "api.yaml").read_text(encoding="utf-8")
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(text.replace("periodSeconds: 10", "periodSecond: 10"), encoding="utf-8")
    code, out = _validate(misspelt, version=KUBE_VERSIONS[-1])
    assert code != 0, out
    assert "periodSecond" in out, out

    wrong_type = tmp_path / "wrong_type.yaml"
    wrong_type.write_text(text.replace("containerPort: 8080", 'containerPort: "x"'), "utf-8")
    code, out = _validate(wrong_type, version=KUBE_VERSIONS[-1])
    assert code != 0, out
    assert "containerPort" in out, out


def test_kustomization_applies_every_manifest() -> None:
    kustomization = yaml_file(KUBE / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(p.name for p in manifest_files())
    assert NOT_MANIFESTS.isdisjoint(kustomization["resources"])


async def test_probes_ask_for_paths_the_app_answers(client: AppClient) -> None:
    api = objects()[("Deployment", "socialid-api")]
    probes = {k: v for k, v in container(api).items() if k.endswith("Probe")}
    assert {"livenessProbe", "readinessProbe"} <= probes.keys()
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    for probe in probes.values():
        resp = await client.get(probe["httpGet"]["path"])
        assert resp.status == 200, probe
    # Prometheus scrapes the path the app serves its metrics on.
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    resp = await client.get(annotations["prometheus.io/path"])
    assert resp.status == 200
    assert "socialid_http_requests" in await resp.text()


def _env_of(deployment: dict[str, Any]) -> dict[str, str]:
    """What the container's environment holds: ConfigMap, Secret, then its own env."""
    found = objects()
    values: dict[str, str] = {}
    for source in container(deployment).get("envFrom", []):
        if "configMapRef" in source:
            values.update(found[("ConfigMap", source["configMapRef"]["name"])]["data"])
        else:
            values.update(found[("Secret", source["secretRef"]["name"])]["stringData"])
    values.update({e["name"]: e["value"] for e in container(deployment).get("env", [])})
    return values


def test_every_variable_named_is_a_setting() -> None:
    fields = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    found = objects()
    named = set(found[("ConfigMap", "socialid")]["data"]) | set(
        found[("Secret", "socialid")]["stringData"]
    )
    for name in ("socialid-api", "socialid-worker"):
        named |= _env_of(found[("Deployment", name)]).keys()
    unknown = named - fields
    assert not unknown, f"not settings of service/settings/: {sorted(unknown)}"


@pytest.mark.parametrize("name", ["socialid-api", "socialid-worker"])
def test_the_settings_given_load(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(key)
    for key, value in _env_of(objects()[("Deployment", name)]).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.redis_url is not None  # never the embedded store in a pod
    assert settings.host == "0.0.0.0"  # noqa: S104 - a pod listens on its own address
    assert (
        settings.shutdown_timeout
        < pod_spec(objects()[("Deployment", name)])["terminationGracePeriodSeconds"]
    )


def test_api_serves_without_a_worker_and_workers_work() -> None:
    found = objects()
    api, worker = found[("Deployment", "socialid-api")], found[("Deployment", "socialid-worker")]
    assert container(api)["args"] == ["socialid", "serve"]
    assert container(worker)["args"] == ["socialid", "worker"]
    for deployment in (api, worker):
        build_parser().parse_args(container(deployment)["args"][1:])  # real sub-commands
    env = _env_of(api)
    assert Settings.model_validate({"worker": env["SOCIALID_WORKER"]}).worker is False
    assert "SOCIALID_WORKER" not in _env_of(worker)
    # A worker's one port is its metrics, where Prometheus is told to scrape.
    metrics_port = int(_env_of(worker)["SOCIALID_WORKER_METRICS_PORT"])
    assert [p["containerPort"] for p in container(worker)["ports"]] == [metrics_port]
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == metrics_port


def test_ports_agree_from_setting_to_service() -> None:
    found = objects()
    api = found[("Deployment", "socialid-api")]
    port = int(found[("ConfigMap", "socialid")]["data"]["SOCIALID_PORT"])
    ports = {p["name"]: p["containerPort"] for p in container(api)["ports"]}
    (service_port,) = found[("Service", "socialid")]["spec"]["ports"]
    assert ports[service_port["targetPort"]] == port
    for probe in ("livenessProbe", "readinessProbe"):
        assert ports[container(api)[probe]["httpGet"]["port"]] == port
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == port
    assert f"EXPOSE {port}" in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_selectors_pick_the_right_pods() -> None:
    found = objects()
    labels = {
        name: found[("Deployment", name)]["spec"]["template"]["metadata"]["labels"]
        for name in ("socialid-api", "socialid-worker")
    }
    selector = found[("Service", "socialid")]["spec"]["selector"]
    assert selector.items() <= labels["socialid-api"].items()
    assert not selector.items() <= labels["socialid-worker"].items()
    for name, deployment_labels in labels.items():
        pdb = found[("PodDisruptionBudget", name)]["spec"]["selector"]["matchLabels"]
        assert pdb.items() <= deployment_labels.items()
        assert [p for p in labels.values() if pdb.items() <= p.items()] == [deployment_labels]
        target = found[("HorizontalPodAutoscaler", name)]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)


@pytest.mark.parametrize("name", ["socialid-api", "socialid-worker"])
def test_pods_run_locked_down(name: str) -> None:
    deployment = objects()[("Deployment", name)]
    pod, box = pod_spec(deployment)["securityContext"], container(deployment)
    assert pod["runAsNonRoot"] is True
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    user = re.search(r"^USER (\d+)", (DEPLOY / "Dockerfile").read_text("utf-8"), re.M)
    assert user is not None
    assert pod["runAsUser"] == int(user.group(1)) != 0
    assert box["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    resources = box["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert {"cpu", "memory"} <= resources["limits"].keys()


def test_the_store_chart_keeps_an_append_only_file() -> None:
    values = yaml_file(KUBE / "redis-cluster-values.yaml")
    assert values["cluster"] == {"nodes": 6, "replicas": 1}  # 3 primaries, 1 replica each
    assert values["valkey"]["useAOFPersistence"] == "yes"
    assert "appendfsync everysec" in values["valkey"]["configmap"].splitlines()
    assert values["persistence"]["enabled"] is True
    assert {"requests", "limits"} <= values["valkey"]["resources"].keys()
    secret = objects()[("Secret", values["existingSecret"])]
    assert values["existingSecretPasswordKey"] in secret["stringData"]
    # The README's helm command installs the version the values were written for.
    pinned = re.search(r"--version (\S+)", (KUBE / "redis-cluster-values.yaml").read_text())
    assert pinned is not None
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert f"valkey-cluster --version {pinned.group(1)}" in readme


def test_dockerfile_passes_hadolint_and_hadolint_can_fail(tmp_path: Path) -> None:
    dockerfile = DEPLOY / "Dockerfile"
    done = run(tool("hadolint"), "--no-color", str(dockerfile))
    assert done.returncode == 0, done.stdout + done.stderr

    text = dockerfile.read_text(encoding="utf-8")
    broken = tmp_path / "Dockerfile"
    broken.write_text(text.replace('CMD ["socialid", "serve"]', "CMD socialid serve"), "utf-8")
    done = run(tool("hadolint"), "--no-color", str(broken))
    assert done.returncode != 0, done.stdout
    assert "DL3025" in done.stdout, done.stdout


def test_dockerfile_builds_in_stages_and_checks_readiness() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    healthcheck = re.search(r"^HEALTHCHECK .*?CMD (.+)$", text, re.M | re.S)
    assert healthcheck is not None
    assert "/health/ready" in healthcheck.group(1)
    assert re.search(r'^CMD \["socialid", "serve"\]$', text, re.M)
