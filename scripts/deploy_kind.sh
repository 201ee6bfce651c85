#!/usr/bin/env bash
# The shop on a local Kubernetes cluster (Kind), step by step; the Jenkinsfile runs the same steps.
#
#   scripts/deploy_kind.sh up                 # build create load render apply wait
#   OVERLAY=split scripts/deploy_kind.sh up   # one web Deployment per app behind the Ingress
#   scripts/deploy_kind.sh e2e                # HTTP end-to-end tests against http://localhost
#   scripts/deploy_kind.sh logs delete        # collect logs into $ARTIFACTS_DIR, delete the cluster
#
# Steps (any number, run in the order given):
#   build    docker build the image ecommerce:$IMAGE_TAG
#   create   create the Kind cluster (k8s/kind-cluster.yaml) and install ingress-nginx
#   load     kind load the application image and the public images of the StatefulSets
#   render   kubectl kustomize k8s/overlays/$OVERLAY with the image tag set → $RENDERED
#   apply    kubectl apply the rendered manifests (the migrate Job is replaced)
#   wait     wait for the StatefulSets, the migrate Job and every Deployment's rollout
#   e2e      pytest tests/e2e against $E2E_BASE_URL with the ADMIN of the cluster's Secret
#   logs     kubectl get/describe/logs and kind export logs into $ARTIFACTS_DIR
#   delete   delete the Kind cluster
# Needs: docker, kind, kubectl (with its built-in kustomize), and for e2e the project's venv.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${KIND_CLUSTER:-ecommerce}
OVERLAY=${OVERLAY:-monolith}
IMAGE=${IMAGE:-ecommerce}
IMAGE_TAG=${IMAGE_TAG:-dev}
NAMESPACE=ecommerce
WORK_DIR=${DEPLOY_WORK_DIR:-var/deploy}
RENDERED=${RENDERED:-$WORK_DIR/$OVERLAY.yaml}
ARTIFACTS_DIR=${ARTIFACTS_DIR:-$WORK_DIR/logs}
ROLLOUT_TIMEOUT=${ROLLOUT_TIMEOUT:-600s}
PYTHON=${PYTHON:-.venv/bin/python}
E2E_BASE_URL=${E2E_BASE_URL:-http://localhost}
INGRESS_NGINX_VERSION=${INGRESS_NGINX_VERSION:-controller-v1.12.1}
INGRESS_NGINX_MANIFEST=${INGRESS_NGINX_MANIFEST:-https://raw.githubusercontent.com/kubernetes/ingress-nginx/$INGRESS_NGINX_VERSION/deploy/static/provider/kind/deploy.yaml}
PUBLIC_IMAGES=(postgres:16-alpine redis:7-alpine apache/kafka:3.9.1 docker.elastic.co/elasticsearch/elasticsearch:8.15.3)

kc() { kubectl --context "kind-$CLUSTER" "$@"; }
log() { echo "==> $*"; }

step_build() {
  log "build $IMAGE:$IMAGE_TAG"
  docker build -f docker/Dockerfile -t "$IMAGE:$IMAGE_TAG" .
}

step_create() {
  log "create Kind cluster $CLUSTER"
  kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  kind create cluster --name "$CLUSTER" --config k8s/kind-cluster.yaml --wait 120s
  log "install ingress-nginx ($INGRESS_NGINX_VERSION)"
  kc apply -f "$INGRESS_NGINX_MANIFEST"
  kc -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
}

step_load() {
  log "load images into $CLUSTER"
  kind load docker-image "$IMAGE:$IMAGE_TAG" --name "$CLUSTER"
  for image in "${PUBLIC_IMAGES[@]}"; do
    docker image inspect "$image" >/dev/null 2>&1 || docker pull "$image"
    kind load docker-image "$image" --name "$CLUSTER"
  done
}

step_render() {
  log "render k8s/overlays/$OVERLAY with $IMAGE:$IMAGE_TAG → $RENDERED"
  [ -d "k8s/overlays/$OVERLAY" ] || { echo "no overlay k8s/overlays/$OVERLAY" >&2; exit 64; }
  # kustomize refuses absolute paths: a throw-away kustomization beside the repo sets the tag.
  local dir="$WORK_DIR/render-$OVERLAY"
  mkdir -p "$dir" "$(dirname "$RENDERED")"
  local up
  up=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "k8s/overlays/$OVERLAY" "$dir")
  cat >"$dir/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $up
images:
  - name: ecommerce
    newName: $IMAGE
    newTag: "$IMAGE_TAG"
EOF
  kubectl kustomize "$dir" >"$RENDERED"
}

step_apply() {
  [ -f "$RENDERED" ] || step_render
  log "apply $RENDERED"
  # A Job's pod template is immutable: a new rollout runs a new migrate Job.
  kc -n "$NAMESPACE" delete job migrate --ignore-not-found >/dev/null 2>&1 || true
  kc apply -f "$RENDERED"
}

step_wait() {
  log "wait for the StatefulSets"
  for sts in postgres redis kafka elasticsearch; do
    kc -n "$NAMESPACE" rollout status "statefulset/$sts" --timeout="$ROLLOUT_TIMEOUT"
  done
  log "wait for the migrate Job"
  kc -n "$NAMESPACE" wait --for=condition=complete job/migrate --timeout="$ROLLOUT_TIMEOUT"
  log "wait for every Deployment"
  for deployment in $(kc -n "$NAMESPACE" get deployments -o name); do
    kc -n "$NAMESPACE" rollout status "$deployment" --timeout="$ROLLOUT_TIMEOUT"
  done
  log "wait for the Ingress to answer $E2E_BASE_URL/health"
  for _ in $(seq 60); do
    curl -fsS "$E2E_BASE_URL/health" >/dev/null 2>&1 && { log "up: $E2E_BASE_URL"; return 0; }
    sleep 2
  done
  echo "the Ingress did not answer $E2E_BASE_URL/health" >&2
  return 1
}

step_e2e() {
  log "end-to-end tests against $E2E_BASE_URL"
  local email password
  email=$(kc -n "$NAMESPACE" get secret ecommerce-secrets -o jsonpath='{.data.ADMIN_EMAIL}' | base64 -d)
  password=$(kc -n "$NAMESPACE" get secret ecommerce-secrets -o jsonpath='{.data.ADMIN_PASSWORD}' | base64 -d)
  mkdir -p "$ARTIFACTS_DIR"
  E2E_BASE_URL="$E2E_BASE_URL" E2E_ADMIN_EMAIL="$email" E2E_ADMIN_PASSWORD="$password" E2E_SPLIT="$([ "$OVERLAY" = split ] && echo 1 || echo 0)" \
    "$PYTHON" -m pytest tests/e2e -m "e2e and not postgres and not kafka" -p no:randomly -v --junitxml="$ARTIFACTS_DIR/e2e-junit.xml"
}

step_logs() {
  log "collect logs into $ARTIFACTS_DIR"
  mkdir -p "$ARTIFACTS_DIR/pods"
  kc get all,ingress,pvc,hpa,jobs -A -o wide >"$ARTIFACTS_DIR/resources.txt" 2>&1 || true
  kc -n "$NAMESPACE" get events --sort-by=.lastTimestamp >"$ARTIFACTS_DIR/events.txt" 2>&1 || true
  kc -n "$NAMESPACE" describe pods >"$ARTIFACTS_DIR/describe-pods.txt" 2>&1 || true
  kc -n "$NAMESPACE" describe deployments,statefulsets,jobs,ingress >"$ARTIFACTS_DIR/describe-workloads.txt" 2>&1 || true
  for pod in $(kc -n "$NAMESPACE" get pods -o name 2>/dev/null); do
    kc -n "$NAMESPACE" logs "$pod" --all-containers --prefix --timestamps >"$ARTIFACTS_DIR/pods/${pod#pod/}.log" 2>&1 || true
    kc -n "$NAMESPACE" logs "$pod" --all-containers --prefix --previous >"$ARTIFACTS_DIR/pods/${pod#pod/}.previous.log" 2>/dev/null || true
  done
  kc -n ingress-nginx logs deployment/ingress-nginx-controller >"$ARTIFACTS_DIR/ingress-nginx.log" 2>&1 || true
  kind export logs "$ARTIFACTS_DIR/kind" --name "$CLUSTER" >/dev/null 2>&1 || true
}

step_delete() {
  log "delete Kind cluster $CLUSTER"
  kind delete cluster --name "$CLUSTER" || true
}

[ $# -gt 0 ] || { sed -n '2,21p' "$0"; exit 64; }
for step in "$@"; do
  case "$step" in
    up) step_build; step_create; step_load; step_render; step_apply; step_wait ;;
    build | create | load | render | apply | wait | e2e | logs | delete) "step_$step" ;;
    *) echo "unknown step '$step' (see the header of $0)" >&2; exit 64 ;;
  esac
done
