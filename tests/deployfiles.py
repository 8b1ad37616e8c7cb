"""The files under deploy/, read as their tools read them, and the checkers' commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
# The oldest Kubernetes minor still commonly run, and the newest kubernetes-validate ships:
# an API removed or a field added in between shows in one of the two.
KUBE_VERSIONS = ("1.33.0", "1.37.0")
# Files in deploy/kubernetes that are not Kubernetes objects.
NOT_MANIFESTS = {"kustomization.yaml", "redis-cluster-values.yaml"}


def tool(name: str) -> str:
    """The checker's executable, beside this Python first (a venv not on PATH), else on
    PATH. Missing, the test fails: an unchecked deploy file must not pass unnoticed."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' brings it (extra 'deploy')")
    return found


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = None if env is None else {**os.environ, **env}
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=120, check=False, env=full_env
    )


def manifest_files() -> list[Path]:
    return sorted(p for p in KUBE.glob("*.yaml") if p.name not in NOT_MANIFESTS)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Every Kubernetes object of deploy/kubernetes, by (kind, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in manifest_files():
        for doc in documents(path):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec(deployment)["containers"]
    assert isinstance(only, dict)
    return only


def yaml_file(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
