#!/usr/bin/env bash
# `npm test`: build (`npm run build`: the TypeScript and the site's bundle), start every service the
# tests need (PostgreSQL, MariaDB and the demo ticket API through scripts/services.sh; the Python
# toolchain of the conformance tests through scripts/setup-python.sh; Chromium for the site's
# browser tests through scripts/setup-chromium.sh; the S3 server through scripts/s3-server.sh; a
# Spark standalone cluster through scripts/spark-cluster.sh; kube-apiserver and etcd through
# scripts/k8s-apiserver.sh), then run the whole suite. In CI
# (CI=true) a missing tool fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The linter and the formatter first (biome.jsonc): a lint error or a file not in the format fails the
# run before anything is built or started (`npx biome format --write .` formats).
npx biome check --diagnostic-level=error .
npm run build
source scripts/services.sh
services_up
# The S3-compatible server (versitygw, built once into ~/.cache/asgard) for the lakehouse tests.
source scripts/s3-server.sh
s3_server_up
if ! bash scripts/setup-python.sh; then
  if [ "${CI:-}" = true ]; then echo "test: the Python toolchain could not be set up" >&2; exit 1; fi
  echo "test: WARNING: no Python toolchain; the conformance checks will be skipped" >&2
fi
# The Spark standalone cluster (a master and two workers on loopback) runs from .venv's PySpark.
source scripts/spark-cluster.sh
if ! spark_cluster_up; then
  if [ "${CI:-}" = true ]; then echo "test: the Spark cluster could not be started" >&2; exit 1; fi
  echo "test: WARNING: no Spark cluster; the cluster tests will fail" >&2
fi
# The Kubernetes API server and etcd (built once from the Go module proxy into ~/.cache/asgard: the
# first build takes long, README.md says how long) for the `--profile kubernetes` tests.
source scripts/k8s-apiserver.sh
if ! k8s_apiserver_up; then
  if [ "${CI:-}" = true ]; then echo "test: the Kubernetes API server could not be built or started" >&2; exit 1; fi
  echo "test: WARNING: no Kubernetes API server; the test/k8s tests will fail" >&2
fi
if ! bash scripts/setup-chromium.sh; then
  if [ "${CI:-}" = true ]; then echo "test: Chromium could not be set up" >&2; exit 1; fi
  echo "test: WARNING: no Chromium; the site's browser tests will fail" >&2
fi
npx vitest run "$@"
