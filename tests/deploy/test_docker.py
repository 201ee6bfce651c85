"""The image: hadolint, its build shape, and the entrypoint's roles run for real (no Docker engine)."""

import os
import re
import sys

from tests.deploy.conftest import REPO, require_tool, run

DOCKERFILE = REPO / "docker" / "Dockerfile"
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"


def stages():
    """[(from_line, [instruction lines])] with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            out.append((line, []))
        elif out:
            out[-1][1].append(line)
    return out


def test_hadolint_passes():
    hadolint = require_tool("hadolint")
    result = run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_slim_python_311():
    all_stages = stages()
    assert len(all_stages) >= 2
    assert "python:3.11-slim" in DOCKERFILE.read_text()
    builder_from, builder = all_stages[0]
    assert " AS builder" in builder_from
    assert any("pip wheel" in line for line in builder), "wheels are built in the builder stage"


def test_final_stage_has_no_build_tools_and_a_non_root_user():
    final_from, final = stages()[-1]
    body = "\n".join(final)
    assert "build-essential" not in body and "gcc" not in body and "apt-get install" not in body
    assert "COPY --from=builder" in body
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users, "the final stage sets a USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "numeric, non-root (Kubernetes runAsNonRoot checks the number)"
    # The securityContext of the manifests uses the same uid.
    assert f"--uid {uid}" in body


def test_static_files_collected_at_build_and_healthcheck_and_entrypoint():
    _, final = stages()[-1]
    body = "\n".join(final)
    assert re.search(r"RUN .*manage\.py collectstatic --noinput", body)
    assert re.search(r"HEALTHCHECK .*CMD \[\"/app/docker/entrypoint\.sh\", \"healthcheck\"\]", body)
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in body
    assert 'CMD ["web"]' in body


def test_build_context_ignore_file_keeps_local_state_out():
    ignored = (REPO / "docker" / "Dockerfile.dockerignore").read_text().split()
    for path in (".git", ".venv", "var", ".env"):
        assert path in ignored


def test_entrypoint_is_valid_bash_and_names_every_role():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert run(["bash", "-n", str(ENTRYPOINT)]).returncode == 0
    text = ENTRYPOINT.read_text()
    for role in ("web)", "worker)", "beat)", "relay)", "consumer)", "migrate)", "wait-migrations)", "healthcheck)"):
        assert f"\n  {role}" in text, role
    assert "gunicorn -c docker/gunicorn.conf.py ecommerce.wsgi:application" in text
    gunicorn_conf = (ENTRYPOINT.parent / "gunicorn.conf.py").read_text()
    assert "GUNICORN_WORKERS" in gunicorn_conf and "GUNICORN_THREADS" in gunicorn_conf
    assert "manage.py relay_outbox" in text
    assert 'manage.py consume_events --group "$group"' in text
    assert "scripts/migrate.sh" in text


def _entrypoint_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL") and k not in ("REDIS_URL",)}
    env.update(
        PYTHON=sys.executable,
        PATH=f"{os.path.dirname(sys.executable)}:{env.get('PATH', '')}",
        VAR_DIR=str(tmp_path),
        ROLE_FILE=str(tmp_path / "role"),
        DJANGO_SETTINGS_MODULE="ecommerce.settings",
        EVENTS_TRANSPORT="inline",
    )
    env.update(extra)
    return env


def test_consumer_role_without_group_is_a_usage_error(tmp_path):
    result = run([str(ENTRYPOINT), "consumer"], env=_entrypoint_env(tmp_path))
    assert result.returncode == 64
    assert "usage: consumer <group>" in result.stderr


def test_wait_migrations_fails_on_an_empty_database_within_its_deadline(tmp_path):
    env = _entrypoint_env(tmp_path, MIGRATIONS_WAIT_SECONDS="0")
    before = run([str(ENTRYPOINT), "wait-migrations"], env=env, timeout=120)
    assert before.returncode == 1, "an empty database is not migrated yet"
    assert "unapplied migrations" in before.stderr


def test_wait_databases_gives_up_on_an_unreachable_server(tmp_path):
    env = _entrypoint_env(tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:9/none", DATABASES_WAIT_SECONDS="1")
    result = run([str(ENTRYPOINT), "wait-databases"], env=env, timeout=60)
    assert result.returncode == 1
    assert "unreachable" in result.stderr


def test_healthcheck_of_a_background_role_is_its_process(tmp_path):
    env = _entrypoint_env(tmp_path)
    (tmp_path / "role").write_text("worker\n")
    assert run([str(ENTRYPOINT), "healthcheck"], env=env).returncode == 0
    (tmp_path / "role").write_text("web\n")
    env["PORT"] = "9"  # nothing listens there
    assert run([str(ENTRYPOINT), "healthcheck"], env=env).returncode == 1


def test_shell_scripts_pass_shellcheck():
    shellcheck = require_tool("shellcheck")
    scripts = [ENTRYPOINT, REPO / "docker/postgres/init-databases.sh", REPO / "scripts/deploy_kind.sh"]
    result = run([shellcheck, "--severity=style", *map(str, scripts)])
    assert result.returncode == 0, result.stdout + result.stderr
