# shellcheck shell=bash
# A real S3-compatible server on loopback for the tests, the bench and the demo's S3 variant:
# versitygw (Apache-2.0, https://github.com/versity/versitygw) with its POSIX backend, built once
# from the Go module proxy into ~/.cache/asgard/versitygw-<version>/ (outside the repository) and
# started with its data under the services folder. versitygw honours S3 conditional writes
# (If-None-Match: * and If-Match on PutObject), which the remote-state lock relies on;
# test/warehouse/s3-server.test.ts checks that against the running server.
#
#   source scripts/s3-server.sh
#   s3_server_up     # idempotent: builds if needed, starts if not running, exports the variables below
#   s3_server_down   # stops what s3_server_up started
#
# Exports ASGARD_S3_ENDPOINT (http://127.0.0.1:59000), ASGARD_S3_ACCESS_KEY, ASGARD_S3_SECRET_KEY and
# ASGARD_S3_BUCKET (a bucket created for the tests and the demo). These are test-server credentials;
# asgard itself reads credentials only from the AWS default chain, so callers hand them on as
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY to the processes they start.
# ASGARD_S3_PORT picks the port; an ASGARD_S3_ENDPOINT already set elsewhere is used as is.

ASGARD_ROOT="${ASGARD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
ASGARD_CACHE_DIR="${ASGARD_CACHE_DIR:-$HOME/.cache/asgard}"
ASGARD_S3_PORT="${ASGARD_S3_PORT:-59000}"
ASGARD_VERSITYGW_VERSION="${ASGARD_VERSITYGW_VERSION:-v1.8.0}"
_S3_DIR="${ASGARD_SERVICES_DIR:-$ASGARD_ROOT/.services}/s3"

source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"

_s3_log() { echo "[s3-server] $*" >&2; }

_s3_bin() { echo "$ASGARD_CACHE_DIR/versitygw-$ASGARD_VERSITYGW_VERSION/bin/versitygw"; }

_s3_build() {
  local bin; bin="$(_s3_bin)"
  [ -x "$bin" ] && return 0
  command -v go >/dev/null 2>&1 || { _s3_log "go is not installed: it builds versitygw (apt-get install golang-go, Go >= 1.25)"; return 1; }
  _s3_log "building versitygw $ASGARD_VERSITYGW_VERSION from the Go module proxy into $(dirname "$bin") (once; a few minutes)"
  mkdir -p "$(dirname "$bin")"
  (cd "$ASGARD_CACHE_DIR" && GOBIN="$(dirname "$bin")" GOFLAGS=-buildvcs=false \
    go install "github.com/versity/versitygw/cmd/versitygw@$ASGARD_VERSITYGW_VERSION") >&2 \
    || { _s3_log "building versitygw failed"; return 1; }
}

_s3_healthy() {
  # Any S3 answer (an unauthenticated request gets an XML error) means the server listens.
  node -e "fetch('http://127.0.0.1:$ASGARD_S3_PORT/').then(()=>process.exit(0),()=>process.exit(1))" 2>/dev/null
}

s3_server_up() {
  export ASGARD_S3_ACCESS_KEY="${ASGARD_S3_ACCESS_KEY:-asgard-test}"
  export ASGARD_S3_SECRET_KEY="${ASGARD_S3_SECRET_KEY:-asgard-test-secret}"
  export ASGARD_S3_BUCKET="${ASGARD_S3_BUCKET:-asgard-test}"
  if [ -n "${ASGARD_S3_ENDPOINT:-}" ] && [ "$ASGARD_S3_ENDPOINT" != "http://127.0.0.1:$ASGARD_S3_PORT" ]; then
    _s3_log "ASGARD_S3_ENDPOINT is set: using that server"
    return 0
  fi
  _s3_build || return 1
  mkdir -p "$_S3_DIR/data"
  if ! _s3_healthy; then
    _s3_log "starting versitygw on 127.0.0.1:$ASGARD_S3_PORT (data in $_S3_DIR/data)"
    # Credentials travel in the environment, never on the command line (ps would show them).
    ROOT_ACCESS_KEY_ID="$ASGARD_S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$ASGARD_S3_SECRET_KEY" \
      setsid "$(_s3_bin)" --port "127.0.0.1:$ASGARD_S3_PORT" --region us-east-1 posix "$_S3_DIR/data" \
      </dev/null >"$_S3_DIR/versitygw.log" 2>&1 &
    echo $! >"$_S3_DIR/versitygw.pid"
    disown 2>/dev/null || true
    daemon_wait 60 0.25 _s3_healthy || { _s3_log "versitygw did not start"; tail -20 "$_S3_DIR/versitygw.log" >&2; return 1; }
  fi
  export ASGARD_S3_ENDPOINT="http://127.0.0.1:$ASGARD_S3_PORT"
}

s3_server_down() {
  daemon_stop "$_S3_DIR/versitygw.pid" _s3_log versitygw
}

# Run directly: `bash scripts/s3-server.sh up|down`.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  daemon_main "$0" "${1:-up}" s3_server_up s3_server_down ASGARD_S3_ENDPOINT ASGARD_S3_BUCKET
fi
