"""The image's healthcheck for the relay and the consumers: their loop's heartbeat file must be
recent. The loop itself touching the file is tested in apps/events/tests/test_operations.py."""

import os
import subprocess
import sys
import time

import pytest

from tests.deploy.conftest import REPO

ENTRYPOINT = REPO / "docker" / "entrypoint.sh"


def healthcheck(tmp_path, role, **extra):
    (tmp_path / "role").write_text(role)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHON": sys.executable,
        "ROLE_FILE": str(tmp_path / "role"),
        "EVENTS_HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
        **extra,
    }
    return subprocess.run([str(ENTRYPOINT), "healthcheck"], env=env, capture_output=True, text=True, timeout=30)  # noqa: S603


@pytest.mark.parametrize("role", ["relay", "consumer-search", "consumer-orders"])
def test_a_loop_role_is_healthy_only_while_its_heartbeat_is_recent(tmp_path, role):
    missing = healthcheck(tmp_path, role)
    assert missing.returncode == 1 and "no heartbeat" in missing.stderr
    beat = tmp_path / "heartbeat"
    beat.touch()
    assert healthcheck(tmp_path, role).returncode == 0
    old = time.time() - 600
    os.utime(beat, (old, old))
    stale = healthcheck(tmp_path, role)
    assert stale.returncode == 1 and "last heartbeat 60" in stale.stderr  # 600 s ago (601 on a slow start)
    assert healthcheck(tmp_path, role, HEARTBEAT_MAX_AGE_SECONDS="900").returncode == 0


def test_other_background_roles_only_need_to_be_alive(tmp_path):
    assert healthcheck(tmp_path, "worker").returncode == 0
