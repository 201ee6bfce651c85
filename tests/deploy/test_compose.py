"""docker/docker-compose.yml (+ the development override): docker-compose's own validation, then
what the stack must hold, read from the files."""

import re
from urllib.parse import urlparse

import pytest
import yaml

from tests.deploy.conftest import REPO, require_tool, run

DOCKER = REPO / "docker"
APP_ROLES = {
    "migrate": ["migrate"],
    "web": ["web"],
    "worker": ["worker"],
    "beat": ["beat"],
    "relay": ["relay"],
    "consumer-search": ["consumer", "search"],
    "consumer-orders": ["consumer", "orders"],
}
INFRA = ("postgres", "redis", "kafka", "elasticsearch")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def override():
    return yaml.safe_load((DOCKER / "docker-compose.override.yml").read_text())


@pytest.mark.parametrize(
    "files", [["docker-compose.yml"], ["docker-compose.yml", "docker-compose.override.yml"]], ids=["base", "dev"]
)
def test_docker_compose_config_accepts_the_files(files, tmp_path):
    docker_compose = require_tool("docker-compose")
    args = [docker_compose, "--project-directory", str(DOCKER)]
    for name in files:
        args += ["-f", str(DOCKER / name)]
    result = run([*args, "config", "-q"], cwd=DOCKER, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_role_runs_the_one_image(compose):
    services = compose["services"]
    for name, command in APP_ROLES.items():
        service = services[name]
        assert service["command"] == command, name
        assert service["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}, name
        assert service["image"] == "${ECOMMERCE_IMAGE:-ecommerce}:${ECOMMERCE_TAG:-dev}", name


def test_infrastructure_services_have_healthchecks_and_named_volumes(compose):
    services = compose["services"]
    declared = set(compose["volumes"])
    for name in INFRA:
        assert "test" in services[name]["healthcheck"], name
        named = [v.split(":")[0] for v in services[name].get("volumes", []) if not v.startswith((".", "/"))]
        assert named and set(named) <= declared, name
    assert "media" in declared
    assert "media:/app/var/media" in services["web"]["volumes"]


def test_depends_on_waits_for_health_and_for_migrations(compose):
    services = compose["services"]
    # migrate also builds the search index when there is none: it needs Elasticsearch.
    assert services["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "elasticsearch": {"condition": "service_healthy"},
    }
    assert services["migrate"]["restart"] == "no"
    for name in APP_ROLES:
        if name == "migrate":
            continue
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        for dependency, rule in depends.items():
            if dependency != "migrate":
                assert rule == {"condition": "service_healthy"}, (name, dependency)
                assert "healthcheck" in services[dependency], dependency
    assert "elasticsearch" in services["web"]["depends_on"]
    assert "elasticsearch" in services["consumer-search"]["depends_on"]


def test_kafka_runs_in_kraft_mode(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert not any("ZOOKEEPER" in key for key in env)
    assert "zookeeper" not in compose["services"]


def test_elasticsearch_single_node_with_security_set_explicitly(compose):
    es = compose["services"]["elasticsearch"]
    assert es["image"].split(":")[-1].startswith("8.")
    assert es["environment"]["discovery.type"] == "single-node"
    assert es["environment"]["xpack.security.enabled"] == "false"


def test_postgres_creates_every_database_the_application_uses(compose):
    postgres = compose["services"]["postgres"]
    assert "./postgres/init-databases.sh:/docker-entrypoint-initdb.d/10-init-databases.sh:ro" in postgres["volumes"]
    created = {
        postgres["environment"]["POSTGRES_DB"],
        *postgres["environment"]["POSTGRES_MULTIPLE_DATABASES"].split(","),
    }
    env = compose["services"]["web"]["environment"]
    used = {urlparse(url).path.lstrip("/") for key, url in env.items() if key.endswith("DATABASE_URL")}
    assert (
        used == created == {"ecommerce", "ecommerce_auth", "ecommerce_catalog", "ecommerce_orders", "ecommerce_search"}
    )


def test_application_environment_names_settings_that_exist(compose):
    """A renamed setting must not leave the stack configuring a variable nobody reads."""
    readers = "".join(
        (REPO / path).read_text()
        for path in ("ecommerce/settings.py", "ecommerce/db.py", "docker/entrypoint.sh", "ecommerce/celery.py")
    )
    env = compose["services"]["web"]["environment"]
    for key in env:
        if key.endswith("_DATABASE_URL"):
            assert "_DATABASE_URL" in readers
            continue
        assert re.search(rf"\b{re.escape(key)}\b", readers), key


def test_application_uses_kafka_redis_elasticsearch_and_postgres(compose):
    env = compose["services"]["worker"]["environment"]
    assert env["EVENTS_TRANSPORT"] == "kafka" and env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["SEARCH_BACKEND"] == "elasticsearch" and env["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert env["DATABASE_URL"].startswith("postgres://")


def test_development_override_mounts_the_source_and_reloads(compose, override):
    services = override["services"]
    assert services["web"]["command"] == ["web-dev"]
    for name, service in services.items():
        assert name in compose["services"], name
        assert "..:/app" in service["volumes"], name
        assert service["environment"]["DEBUG"] == "1"


def test_env_example_lists_every_variable_the_compose_file_substitutes():
    text = (DOCKER / "docker-compose.yml").read_text()
    substituted = set(re.findall(r"\$\{([A-Z_]+)(?::?-[^}]*)?\}", text))
    example = {
        line.split("=", 1)[0]
        for line in (DOCKER / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert substituted <= example, substituted - example


def test_init_script_refuses_odd_names_and_creates_each_database_once():
    script = (DOCKER / "postgres" / "init-databases.sh").read_text()
    assert "WHERE NOT EXISTS (SELECT FROM pg_database" in script
    assert "^[a-z_][a-z0-9_]*$" in script
    assert run(["bash", "-n", str(DOCKER / "postgres" / "init-databases.sh")]).returncode == 0


@pytest.mark.postgres
def test_init_script_creates_the_databases_against_a_real_server(tmp_path):
    """Run the init script as the postgres image would (psql as POSTGRES_USER), twice."""
    import os

    from django.conf import settings

    psql = require_tool("psql")
    db = settings.DATABASES["default"]
    names = [f"deploy_init_{i}_{os.getpid()}" for i in (1, 2)]
    env = {
        "PATH": f"{os.path.dirname(psql)}:/usr/bin:/bin",
        "PGHOST": db["HOST"] or "127.0.0.1",
        "PGPORT": str(db["PORT"] or 5432),
        "PGPASSWORD": db["PASSWORD"] or "",
        "POSTGRES_USER": db["USER"],
        "POSTGRES_MULTIPLE_DATABASES": f"{names[0]}, {names[1]}",
    }
    script = str(DOCKER / "postgres" / "init-databases.sh")

    def existing():
        out = run([psql, "-U", db["USER"], "-d", "postgres", "-Atc", "SELECT datname FROM pg_database"], env=env)
        assert out.returncode == 0, out.stderr
        return set(out.stdout.split())

    try:
        first = run(["bash", script], env=env)
        assert first.returncode == 0, first.stderr
        assert set(names) <= existing()
        again = run(["bash", script], env=env)  # a restart with the same list changes nothing
        assert again.returncode == 0, again.stderr
        bad = run(["bash", script], env={**env, "POSTGRES_MULTIPLE_DATABASES": "x; DROP DATABASE postgres"})
        assert bad.returncode == 1 and "refusing database name" in bad.stderr
    finally:
        for name in names:
            run([psql, "-U", db["USER"], "-d", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}"'], env=env)
