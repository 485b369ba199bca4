# shellcheck shell=bash
# A real Kubernetes API server with etcd on loopback for the `--profile kubernetes` tests and bench,
# run the way Kubernetes' envtest runs them (no kubelet, no controllers): kube-apiserver from the
# module k8s.io/kubernetes and etcd from go.etcd.io/etcd/server/v3, both built from the Go module
# proxy by the small Go module in test/k8s/apiserver/ (its go.mod pins the k8s.io/* staging modules
# to the release's v0.x through `replace` lines) into ~/.cache/asgard/k8s-apiserver-<version>-<hash>/
# (outside the repository). The first build takes many minutes on two cores (README.md says how
# long); Go's build cache makes a rebuild quick and a built binary is reused as is.
#
#   source scripts/k8s-apiserver.sh
#   k8s_apiserver_up     # idempotent: builds if needed, starts what is not running, installs the CRDs
#   k8s_apiserver_down   # stops what k8s_apiserver_up started
#
# At start it generates, under the services folder (never in the repository): a CA and the serving
# certificate for 127.0.0.1, the service-account signing key, and random bearer tokens in a static
# token file: `admin` (group system:masters) and `limited` (no rights until a test grants them with
# RBAC). It writes two kubeconfigs and exports their paths:
#   ASGARD_K8S_KUBECONFIG          the admin kubeconfig (context asgard-test)
#   ASGARD_K8S_LIMITED_KUBECONFIG  the `limited` user's kubeconfig (for RBAC tests)
#   ASGARD_K8S_SERVER              https://127.0.0.1:<port>
# The spark-operator CRDs (SparkApplication, ScheduledSparkApplication) are read from the official
# files in ../shared/schemas/spark-operator (ASGARD_SCHEMAS_DIR) and installed by server-side apply.
# Ports: ASGARD_K8S_PORT (56443) and ASGARD_ETCD_PORT (52379, peer one above).

ASGARD_ROOT="${ASGARD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
ASGARD_CACHE_DIR="${ASGARD_CACHE_DIR:-$HOME/.cache/asgard}"
ASGARD_K8S_PORT="${ASGARD_K8S_PORT:-56443}"
ASGARD_ETCD_PORT="${ASGARD_ETCD_PORT:-52379}"
ASGARD_K8S_VERSION="v1.37.2"
_K8S_MODULE="$ASGARD_ROOT/test/k8s/apiserver"
_K8S_DIR="${ASGARD_SERVICES_DIR:-$ASGARD_ROOT/.services}/k8s"
source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"

_k8s_log() { echo "[k8s-apiserver] $*" >&2; }

# The binaries' folder is keyed by the Go module's content: a changed pin builds anew.
_k8s_bin_dir() {
  local h; h="$(cat "$_K8S_MODULE/go.mod" "$_K8S_MODULE/go.sum" "$_K8S_MODULE/etcd/main.go" | sha256sum | cut -c1-12)"
  echo "$ASGARD_CACHE_DIR/k8s-apiserver-$ASGARD_K8S_VERSION-$h/bin"
}

# What Kubernetes' own build stamps (hack/lib/version.sh), so /version reports the release.
_k8s_version_ldflags() {
  local minor="${ASGARD_K8S_VERSION#v1.}"; minor="${minor%%.*}"
  echo "-X k8s.io/component-base/version.gitVersion=$ASGARD_K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
}

_k8s_build() {
  local bin; bin="$(_k8s_bin_dir)"
  [ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && return 0
  command -v go >/dev/null 2>&1 || { _k8s_log "go is not installed: it builds kube-apiserver and etcd (Go >= 1.26)"; return 1; }
  mkdir -p "$bin"
  _k8s_log "building etcd and kube-apiserver $ASGARD_K8S_VERSION from the Go module proxy into $bin (once; the first build takes many minutes)"
  local t0=$SECONDS
  # nice: the build shares the machine with the tests. -trimpath and no VCS stamping keep the
  # build reproducible, so Go's build cache (GOCACHE) serves a rebuild.
  (cd "$_K8S_MODULE" && export GOFLAGS="-buildvcs=false -mod=readonly" &&
    nice -n 10 go build -trimpath -o "$bin/etcd.partial" ./etcd &&
    nice -n 10 go build -trimpath -ldflags "$(_k8s_version_ldflags)" -o "$bin/kube-apiserver.partial" k8s.io/kubernetes/cmd/kube-apiserver) >&2 \
    || { _k8s_log "building kube-apiserver/etcd failed"; return 1; }
  mv "$bin/etcd.partial" "$bin/etcd" && mv "$bin/kube-apiserver.partial" "$bin/kube-apiserver"
  _k8s_log "built in $((SECONDS - t0)) s"
}

# Certificates, keys and tokens: generated once per services folder, never committed.
_k8s_credentials() {
  local d="$_K8S_DIR/pki"
  [ -s "$d/tokens.csv" ] && [ -s "$d/server.crt" ] && return 0
  command -v openssl >/dev/null 2>&1 || { _k8s_log "openssl is needed to generate the test certificates"; return 1; }
  mkdir -p "$d" && chmod 700 "$d"
  (
    set -e
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=asgard-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 3650 -extfile san.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    printf '%s,admin,admin-uid,"system:masters"\n%s,limited,limited-uid\n' "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" >tokens.csv
    chmod 600 ./*.key tokens.csv
  ) || { _k8s_log "generating the test certificates failed"; return 1; }
}

_k8s_kubeconfig() { # user token file
  local user="$1" token="$2" out="$3" ca
  ca="$(base64 -w0 <"$_K8S_DIR/pki/ca.crt")"
  (umask 077 && cat >"$out") <<EOF
apiVersion: v1
kind: Config
clusters:
- name: asgard-test
  cluster:
    server: https://127.0.0.1:$ASGARD_K8S_PORT
    certificate-authority-data: $ca
users:
- name: $user
  user:
    token: $token
contexts:
- name: asgard-test
  context:
    cluster: asgard-test
    user: $user
current-context: asgard-test
EOF
}

_k8s_token() { grep ",$1,$1-uid" "$_K8S_DIR/pki/tokens.csv" | cut -d, -f1; }

_etcd_healthy() { curl -fsS "http://127.0.0.1:$ASGARD_ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

_k8s_ready() {
  curl -fsS --cacert "$_K8S_DIR/pki/ca.crt" -H "Authorization: Bearer $(_k8s_token admin)" \
    "https://127.0.0.1:$ASGARD_K8S_PORT/readyz" >/dev/null 2>&1
}

# Server-side apply of one YAML file (the API server takes YAML with this content type).
_k8s_apply_file() { # path resource-url
  curl -fsS --cacert "$_K8S_DIR/pki/ca.crt" -H "Authorization: Bearer $(_k8s_token admin)" \
    -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$1" \
    "https://127.0.0.1:$ASGARD_K8S_PORT$2?fieldManager=asgard-test&force=true" >/dev/null
}

_k8s_install_crds() {
  local schemas="${ASGARD_SCHEMAS_DIR:-$ASGARD_ROOT/../shared/schemas}" f name
  for f in "$schemas"/spark-operator/sparkoperator.k8s.io_*.yaml; do
    [ -f "$f" ] || { _k8s_log "no spark-operator CRDs in $schemas/spark-operator"; return 1; }
    name="$(grep -m1 '^  name: ' "$f" | awk '{print $2}')"
    _k8s_apply_file "$f" "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" \
      || { _k8s_log "installing the CRD $name failed"; return 1; }
  done
  # Established = the API server serves the new resource.
  daemon_wait 80 0.25 _k8s_serves_sparkapplications || { _k8s_log "the SparkApplication resource is not served after installing its CRD"; return 1; }
}

_k8s_serves_sparkapplications() {
  curl -fsS --cacert "$_K8S_DIR/pki/ca.crt" -H "Authorization: Bearer $(_k8s_token admin)" \
    "https://127.0.0.1:$ASGARD_K8S_PORT/apis/sparkoperator.k8s.io/v1beta2" 2>/dev/null | grep -q '"sparkapplications"'
}

k8s_apiserver_up() {
  _k8s_build || return 1
  _k8s_credentials || return 1
  local bin; bin="$(_k8s_bin_dir)"
  mkdir -p "$_K8S_DIR/etcd"
  if ! _etcd_healthy; then
    _k8s_log "starting etcd on 127.0.0.1:$ASGARD_ETCD_PORT (data in $_K8S_DIR/etcd)"
    setsid "$bin/etcd" --name asgard-test --data-dir "$_K8S_DIR/etcd" \
      --listen-client-urls "http://127.0.0.1:$ASGARD_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ASGARD_ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$((ASGARD_ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ASGARD_ETCD_PORT + 1))" \
      --initial-cluster "asgard-test=http://127.0.0.1:$((ASGARD_ETCD_PORT + 1))" --unsafe-no-fsync --log-level warn \
      </dev/null >"$_K8S_DIR/etcd.log" 2>&1 &
    echo $! >"$_K8S_DIR/etcd.pid"
    disown 2>/dev/null || true
    daemon_wait 120 0.25 _etcd_healthy || { _k8s_log "etcd did not start"; tail -20 "$_K8S_DIR/etcd.log" >&2; return 1; }
  fi
  if ! _k8s_ready; then
    _k8s_log "starting kube-apiserver on 127.0.0.1:$ASGARD_K8S_PORT"
    # As envtest: RBAC authorization, static tokens, no cloud, no kubelet. The service range is
    # only an allocation range for Service objects; nothing is routed there.
    setsid "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$ASGARD_ETCD_PORT" \
      --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$ASGARD_K8S_PORT" \
      --cert-dir "$_K8S_DIR/pki" --tls-cert-file "$_K8S_DIR/pki/server.crt" --tls-private-key-file "$_K8S_DIR/pki/server.key" \
      --token-auth-file "$_K8S_DIR/pki/tokens.csv" --authorization-mode RBAC \
      --service-account-issuer "https://127.0.0.1:$ASGARD_K8S_PORT" \
      --service-account-key-file "$_K8S_DIR/pki/sa.pub" --service-account-signing-key-file "$_K8S_DIR/pki/sa.key" \
      --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true --enable-priority-and-fairness=false \
      --endpoint-reconciler-type none \
      </dev/null >"$_K8S_DIR/kube-apiserver.log" 2>&1 &
    echo $! >"$_K8S_DIR/kube-apiserver.pid"
    disown 2>/dev/null || true
    daemon_wait 360 0.25 _k8s_ready || { _k8s_log "kube-apiserver did not become ready"; tail -30 "$_K8S_DIR/kube-apiserver.log" >&2; return 1; }
  fi
  _k8s_kubeconfig admin "$(_k8s_token admin)" "$_K8S_DIR/admin.kubeconfig"
  _k8s_kubeconfig limited "$(_k8s_token limited)" "$_K8S_DIR/limited.kubeconfig"
  _k8s_install_crds || return 1
  export ASGARD_K8S_KUBECONFIG="$_K8S_DIR/admin.kubeconfig"
  export ASGARD_K8S_LIMITED_KUBECONFIG="$_K8S_DIR/limited.kubeconfig"
  export ASGARD_K8S_SERVER="https://127.0.0.1:$ASGARD_K8S_PORT"
}

k8s_apiserver_down() {
  daemon_stop "$_K8S_DIR/kube-apiserver.pid" _k8s_log kube-apiserver
  daemon_stop "$_K8S_DIR/etcd.pid" _k8s_log etcd
}

# Run directly: `bash scripts/k8s-apiserver.sh up|down`, or `build` to build only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ "${1:-}" = build ]; then _k8s_build; exit; fi
  daemon_main "$0" "${1:-up}" k8s_apiserver_up k8s_apiserver_down ASGARD_K8S_KUBECONFIG ASGARD_K8S_SERVER
fi
