"""k8s/: both overlays rendered by kustomize (kubectl's built-in), validated against the Kubernetes
schemas (kubernetes-validate, strict), then checked for what the deployment must hold."""

import pytest
import yaml

from ecommerce.urls import SERVICE_PREFIXES
from tests.deploy.conftest import REPO, require_tool, run

OVERLAYS = ("monolith", "split")
KUBERNETES_VERSION = "1.33"


def by_kind(docs, kind):
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def env_of(container):
    return {item["name"]: item.get("value") for item in container.get("env", [])}


def web_deployments(docs):
    return {
        name: d
        for name, d in by_kind(docs, "Deployment").items()
        if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == "web"
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlay_passes_kubernetes_validate_strict(overlay, rendered, tmp_path):
    validate = require_tool("kubernetes-validate")
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered[overlay]))
    result = run([validate, "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(manifest)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lives_in_the_namespace(overlay, rendered):
    for doc in rendered[overlay]:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "ecommerce", (doc["kind"], doc["metadata"]["name"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_stateful_services_are_statefulsets_behind_services(overlay, rendered):
    sets = by_kind(rendered[overlay], "StatefulSet")
    services = by_kind(rendered[overlay], "Service")
    assert set(sets) == {"postgres", "redis", "kafka", "elasticsearch"}
    for name, sts in sets.items():
        assert sts["spec"]["serviceName"] == name and name in services
        assert sts["spec"]["volumeClaimTemplates"], name
        container = pod_spec(sts)["containers"][0]
        assert "readinessProbe" in container and "resources" in container, name
    kafka_env = env_of(pod_spec(sets["kafka"])["containers"][0])
    assert set(kafka_env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert pod_spec(sets["kafka"])["enableServiceLinks"] is False
    es_env = env_of(pod_spec(sets["elasticsearch"])["containers"][0])
    assert es_env["xpack.security.enabled"] == "false" and es_env["discovery.type"] == "single-node"


def test_postgres_init_script_is_the_compose_one(rendered):
    config = by_kind(rendered["monolith"], "ConfigMap")["postgres-init"]
    assert config["data"]["10-init-databases.sh"] == (REPO / "docker/postgres/init-databases.sh").read_text()
    postgres = pod_spec(by_kind(rendered["monolith"], "StatefulSet")["postgres"])["containers"][0]
    wanted = set(env_of(postgres)["POSTGRES_MULTIPLE_DATABASES"].split(",")) | {env_of(postgres)["POSTGRES_DB"]}
    secret = by_kind(rendered["monolith"], "Secret")["ecommerce-secrets"]["stringData"]
    used = {url.rsplit("/", 1)[1] for key, url in secret.items() if key.endswith("DATABASE_URL")}
    assert used == wanted


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_application_pods_run_the_image_safely_with_resources(overlay, rendered):
    docs = rendered[overlay]
    configs = set(by_kind(docs, "ConfigMap")) | set(by_kind(docs, "Secret"))
    workloads = [*by_kind(docs, "Deployment").values(), *by_kind(docs, "Job").values()]
    assert workloads
    for workload in workloads:
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["image"].startswith("ecommerce:")
            assert container["imagePullPolicy"] == "IfNotPresent", "Kind-loaded images are never pulled"
            assert {"requests", "limits"} <= set(container["resources"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            for source in container["envFrom"]:
                ref = source.get("configMapRef") or source.get("secretRef")
                assert ref["name"] in configs


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_in_a_job_and_pods_wait_for_them(overlay, rendered):
    job = by_kind(rendered[overlay], "Job")["migrate"]
    assert pod_spec(job)["containers"][0]["args"] == ["migrate"]
    assert pod_spec(job)["initContainers"][0]["args"] == ["wait-databases"]
    for name, deployment in by_kind(rendered[overlay], "Deployment").items():
        assert [c["args"] for c in pod_spec(deployment)["initContainers"]] == [["wait-migrations"]], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_background_roles(overlay, rendered):
    deployments = by_kind(rendered[overlay], "Deployment")
    args = {name: pod_spec(d)["containers"][0]["args"] for name, d in deployments.items()}
    assert args["worker"] == ["worker"]
    assert args["beat"] == ["beat"] and deployments["beat"]["spec"]["replicas"] == 1
    assert deployments["beat"]["spec"]["strategy"]["type"] == "Recreate", "never two schedulers"
    assert args["relay"] == ["relay"]
    assert args["consumer-search"] == ["consumer", "search"]
    assert args["consumer-orders"] == ["consumer", "orders"]
    for name in ("relay", "consumer-search", "consumer-orders"):  # restarted when their loop stops beating
        probe = pod_spec(deployments[name])["containers"][0]["livenessProbe"]
        assert probe["exec"]["command"] == ["/app/docker/entrypoint.sh", "healthcheck"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes_services_and_autoscaling(overlay, rendered):
    docs = rendered[overlay]
    services = by_kind(docs, "Service")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(docs, "HorizontalPodAutoscaler").values()}
    webs = web_deployments(docs)
    assert webs
    for name, deployment in webs.items():
        container = pod_spec(deployment)["containers"][0]
        assert container["args"] == ["web"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        # Exactly one Service selects this Deployment's pods, and only them.
        selecting = [s for s in services.values() if s["spec"]["selector"].items() <= labels.items()]
        assert [s["metadata"]["name"] for s in selecting] == [name]
        assert name in hpas, f"{name} has an HPA"
        assert hpas[name]["spec"]["minReplicas"] <= hpas[name]["spec"]["maxReplicas"]


def test_monolith_serves_everything_from_one_deployment(rendered):
    docs = rendered["monolith"]
    webs = web_deployments(docs)
    assert list(webs) == ["web"]
    assert env_of(pod_spec(webs["web"])["containers"][0])["ECOMMERCE_SERVICES"] == "all"
    paths = by_kind(docs, "Ingress")["ecommerce"]["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in paths] == [("/", "web")]


def test_split_ingress_routes_each_prefix_to_the_deployment_serving_it(rendered):
    docs = rendered["split"]
    webs = web_deployments(docs)
    services = by_kind(docs, "Service")
    ingress = by_kind(docs, "Ingress")["ecommerce"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    routes = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    # Every app prefix of the gateway (ecommerce/urls.py) is routed, and to a process serving that app.
    for app, prefix in SERVICE_PREFIXES.items():
        service = services[routes[f"/{prefix}"]]
        targets = [
            d
            for d in webs.values()
            if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(targets) == 1, prefix
        served = env_of(pod_spec(targets[0])["containers"][0])["ECOMMERCE_SERVICES"].split(",")
        assert app in served, (prefix, served)
    assert len(webs) == len(SERVICE_PREFIXES), "one web Deployment per app"
    assert "/" in routes, "health, docs and admin still have a backend"


def test_kind_cluster_maps_the_ingress_ports():
    config = yaml.safe_load((REPO / "k8s/kind-cluster.yaml").read_text())
    node = config["nodes"][0]
    assert {(m["containerPort"], m["hostPort"]) for m in node["extraPortMappings"]} == {(80, 80), (443, 443)}
    assert "ingress-ready=true" in node["kubeadmConfigPatches"][0]


def test_render_step_sets_the_image_tag(kubectl, tmp_path):
    out = tmp_path / "split.yaml"
    result = run(
        ["bash", "scripts/deploy_kind.sh", "render"],
        env={
            "PATH": f"{kubectl.rsplit('/', 1)[0]}:/usr/bin:/bin",
            "OVERLAY": "split",
            "IMAGE": "registry.local/shop",
            "IMAGE_TAG": "1234",
            "RENDERED": str(out),
            "DEPLOY_WORK_DIR": str(tmp_path / "work"),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    images = {
        c["image"]
        for doc in yaml.safe_load_all(out.read_text())
        if doc and doc["kind"] in ("Deployment", "Job")
        for c in pod_spec(doc).get("initContainers", []) + pod_spec(doc)["containers"]
    }
    assert images == {"registry.local/shop:1234"}


def test_deploy_script_refuses_an_unknown_step():
    result = run(["bash", "scripts/deploy_kind.sh", "deploy-everything"])
    assert result.returncode == 64 and "unknown step" in result.stderr
    assert run(["bash", "-n", "scripts/deploy_kind.sh"]).returncode == 0
