"""The Jenkinsfile: the seed's stages plus end-to-end tests, each step a real step of the deploy script."""

import re

from tests.deploy.conftest import REPO

JENKINSFILE = (REPO / "Jenkinsfile").read_text()
DEPLOY_SCRIPT = (REPO / "scripts" / "deploy_kind.sh").read_text()

STAGES = [
    "Checkout",
    "Build Docker Image",
    "Setup Kind Cluster",
    "Deploy Application to Kind",
    "End-to-End Tests",
]


def stage_body(name):
    start = JENKINSFILE.index(f"stage('{name}')")
    following = [JENKINSFILE.find("stage('", start + 1), JENKINSFILE.find("\n    post {", start)]
    end = min(i for i in following if i != -1)
    return JENKINSFILE[start:end]


def test_names_every_stage_in_order():
    assert re.findall(r"stage\('([^']+)'\)", JENKINSFILE) == STAGES


def test_braces_balance():
    assert JENKINSFILE.count("{") == JENKINSFILE.count("}")
    assert JENKINSFILE.lstrip("/ \n").startswith("pipeline {") or "\npipeline {" in JENKINSFILE


def test_each_stage_does_its_job():
    assert "checkout scm" in stage_body("Checkout")
    assert "deploy_kind.sh build" in stage_body("Build Docker Image")
    assert 'IMAGE_TAG = "${env.BUILD_ID}"' in JENKINSFILE
    setup = stage_body("Setup Kind Cluster")
    assert "deploy_kind.sh create" in setup and "deploy_kind.sh load" in setup
    deploy = stage_body("Deploy Application to Kind")
    for step in ("render", "apply", "wait"):
        assert f"deploy_kind.sh {step}" in deploy
    e2e = stage_body("End-to-End Tests")
    assert "deploy_kind.sh e2e" in e2e and "junit" in e2e
    assert "E2E_BASE_URL = 'http://localhost'" in JENKINSFILE


def test_post_collects_logs_then_deletes_the_cluster():
    post = JENKINSFILE[JENKINSFILE.rindex("\n    post {") :]
    always = post[post.index("always {") : post.index("success {")]
    assert always.index("deploy_kind.sh logs") < always.index("deploy_kind.sh delete")
    assert "archiveArtifacts" in always


def test_every_step_the_pipeline_calls_exists_in_the_script():
    called = set(re.findall(r"deploy_kind\.sh (\w+)", JENKINSFILE))
    assert called == {"build", "create", "load", "render", "apply", "wait", "e2e", "logs", "delete"}
    for step in called:
        assert f"step_{step}()" in DEPLOY_SCRIPT, step


def test_the_script_does_what_the_seed_pipeline_did():
    # cluster from scratch, images loaded, manifests rendered and applied, rollouts awaited
    assert "kind delete cluster" in DEPLOY_SCRIPT.split("step_create()")[1].split("}")[0]
    assert "kind create cluster" in DEPLOY_SCRIPT and "--config k8s/kind-cluster.yaml" in DEPLOY_SCRIPT
    assert "kind load docker-image" in DEPLOY_SCRIPT
    assert "kubectl kustomize" in DEPLOY_SCRIPT and "apply -f" in DEPLOY_SCRIPT
    assert "rollout status" in DEPLOY_SCRIPT and "wait --for=condition=complete job/migrate" in DEPLOY_SCRIPT
    assert "pytest tests/e2e" in DEPLOY_SCRIPT
    for evidence in ("describe pods", "logs", "get events", "kind export logs"):
        assert evidence in DEPLOY_SCRIPT, evidence
