"""The image's entrypoint roles, on the server this suite started with them (migrate, then web)."""

import subprocess

import pytest

from tests.e2e.conftest import ENTRYPOINT, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def run_role(env, *args, timeout=120):
    return subprocess.run(  # noqa: S603
        [str(ENTRYPOINT), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def server(local_server):
    if local_server is None:
        pytest.skip("E2E_BASE_URL names a stack: its processes are not ours to inspect")
    return local_server


def test_wait_migrations_passes_once_migrate_ran(server):
    result = run_role({**server["env"], "MIGRATIONS_WAIT_SECONDS": "20"}, "wait-migrations")
    assert result.returncode == 0, result.stderr
    assert "every database is migrated" in result.stdout


def test_migrate_created_the_admin_once(server, tmp_path):
    # A second migrate (its own container in a real deployment: its own role file).
    again = run_role({**server["env"], "ROLE_FILE": str(tmp_path / "role")}, "migrate", timeout=300)
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout


def test_healthcheck_of_the_web_role(server):
    assert (server["env"]["ROLE_FILE"] and open(server["env"]["ROLE_FILE"]).read().strip()) == "web"
    assert run_role(server["env"], "healthcheck").returncode == 0
    # The same check against a port where nothing listens: the container would be unhealthy.
    from tests.e2e.conftest import free_port

    down = run_role({**server["env"], "PORT": str(free_port())}, "healthcheck")
    assert down.returncode == 1


def test_gunicorn_runs_the_configured_workers(server):
    children = subprocess.run(  # noqa: S603
        ["ps", "-o", "pid=", "--ppid", str(server["process"].pid)], capture_output=True, text=True
    ).stdout.split()
    assert len(children) == int(server["env"]["GUNICORN_WORKERS"])


def test_the_web_role_refuses_the_development_secret_key(server, tmp_path):
    env = {k: v for k, v in server["env"].items() if k not in ("SECRET_KEY", "JWT_SECRET")}
    result = run_role({**env, "ROLE_FILE": str(tmp_path / "role"), "PORT": "1"}, "web", timeout=60)
    assert result.returncode != 0
    assert "accounts.E001" in result.stderr
