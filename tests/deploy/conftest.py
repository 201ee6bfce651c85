"""Helpers for the deployment checks: they need no Docker engine and no cluster.

A tool these checks run (hadolint, docker-compose, kubectl) is looked for beside the test's
Python and on PATH; without it a check is skipped on a developer's machine and fails under
CI=true (`.ci/run` installs what the machine lacks).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_tool(name):
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    return shutil.which(name)


def require_tool(name):
    path = find_tool(name)
    if path is None:
        message = f"{name} is not installed"
        if CI:
            pytest.fail(f"{message} (CI=true: .ci/run must install it)")
        pytest.skip(message)
    return path


def run(args, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    kwargs.setdefault("cwd", REPO)
    return subprocess.run(args, **kwargs)  # noqa: S603 - fixed tool paths and arguments


def load_yaml_documents(text):
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="session")
def kubectl():
    return require_tool("kubectl")


@pytest.fixture(scope="session")
def rendered(kubectl):
    """{overlay: [manifest dicts]} rendered by kubectl's built-in kustomize."""
    out = {}
    for overlay in ("monolith", "split"):
        result = run([kubectl, "kustomize", f"k8s/overlays/{overlay}"])
        assert result.returncode == 0, result.stderr
        out[overlay] = load_yaml_documents(result.stdout)
    return out
