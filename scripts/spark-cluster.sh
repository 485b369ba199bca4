# shellcheck shell=bash
# A real Spark standalone cluster on loopback: one master and two workers (1 core, 1 GiB each) from
# the PySpark distribution in .venv (scripts/setup-python.sh installs it), with the Iceberg Spark
# runtime, Iceberg's AWS bundle (S3FileIO) and the SQLite and PostgreSQL JDBC drivers (the JDBC
# catalog) resolved from Maven Central once into ~/.cache/asgard/spark-jars (outside the repository).
#
#   source scripts/spark-cluster.sh
#   spark_cluster_up     # idempotent: fetches the jars if needed, starts what is not running
#   spark_cluster_down   # stops what spark_cluster_up started
#
# Exports ASGARD_SPARK_MASTER (spark://127.0.0.1:7077), ASGARD_SPARK_HOME and ASGARD_SPARK_JARS (a
# comma-separated list for spark-submit --jars). Ports: ASGARD_SPARK_PORT (7077) and the master's
# and workers' web UIs on ASGARD_SPARK_UI_PORT (58081) and the two above it.

ASGARD_ROOT="${ASGARD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
ASGARD_CACHE_DIR="${ASGARD_CACHE_DIR:-$HOME/.cache/asgard}"
ASGARD_SPARK_PORT="${ASGARD_SPARK_PORT:-7077}"
ASGARD_SPARK_UI_PORT="${ASGARD_SPARK_UI_PORT:-58081}"
_SPARK_DIR="${ASGARD_SERVICES_DIR:-$ASGARD_ROOT/.services}/spark"
# The jars the jobs need, as Maven coordinates (group:artifact:version); Spark 4.0 / Scala 2.13.
# hadoop-aws is the s3a:// file system the compiled SparkApplications name (bronze Parquet folders
# under a kubernetes profile); it runs on the AWS SDK v2 classes of iceberg-aws-bundle plus the
# SDK's transfer manager (same SDK version as the bundle's, 2.33.0), instead of the 500 MB SDK bundle.
ASGARD_SPARK_PACKAGES="${ASGARD_SPARK_PACKAGES:-org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:1.10.0 org.apache.iceberg:iceberg-aws-bundle:1.10.0 org.xerial:sqlite-jdbc:3.51.1.0 org.postgresql:postgresql:42.7.8 org.apache.hadoop:hadoop-aws:3.4.1 software.amazon.awssdk:s3-transfer-manager:2.33.0}"

source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"

_spark_log() { echo "[spark-cluster] $*" >&2; }

_spark_home() {
  local py="${ASGARD_SPARK_PYTHON:-$ASGARD_ROOT/.venv/bin/python}"
  [ -x "$py" ] || { _spark_log "no $py: run scripts/setup-python.sh first (it installs pyspark)"; return 1; }
  "$py" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))' 2>/dev/null \
    || { _spark_log "pyspark is not installed in $py"; return 1; }
}

_spark_java() {
  if [ -z "${JAVA_HOME:-}" ]; then
    local j
    for j in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
      [ -x "$j/bin/java" ] && { export JAVA_HOME="$j"; break; }
    done
  fi
  [ -n "${JAVA_HOME:-}" ] || command -v java >/dev/null 2>&1 \
    || { _spark_log "no Java: apt-get install openjdk-17-jre-headless"; return 1; }
}

# Fetch the jars with Maven (installed from Debian when missing); a jar already cached is reused.
_spark_jars() {
  local dir="$ASGARD_CACHE_DIR/spark-jars" coord a v jars=""
  mkdir -p "$dir"
  for coord in $ASGARD_SPARK_PACKAGES; do
    a="$(echo "$coord" | cut -d: -f2)"; v="$(echo "$coord" | cut -d: -f3)"
    if [ ! -s "$dir/$a-$v.jar" ]; then
      if ! command -v mvn >/dev/null 2>&1; then
        _spark_log "installing maven from Debian (apt-get) to fetch the Spark jars"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >&2 || return 1
      fi
      _spark_log "fetching $coord from Maven Central into $dir"
      mvn -q -B dependency:copy -Dartifact="$coord" -DoutputDirectory="$dir" >&2 || { _spark_log "could not fetch $coord"; return 1; }
    fi
    jars="${jars:+$jars,}$dir/$a-$v.jar"
  done
  export ASGARD_SPARK_JARS="$jars"
}

_spark_alive_workers() {
  node -e "fetch('http://127.0.0.1:$ASGARD_SPARK_UI_PORT/json/').then(r=>r.json()).then(j=>{console.log(j.aliveworkers ?? (j.workers||[]).filter(w=>w.state==='ALIVE').length)},()=>console.log(-1))" 2>/dev/null
}

_spark_start() { # name class args...
  local name="$1"; shift
  local pidf="$_SPARK_DIR/$name.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then return 0; fi
  SPARK_LOCAL_IP=127.0.0.1 SPARK_DAEMON_MEMORY="${ASGARD_SPARK_DAEMON_MEMORY:-384m}" SPARK_NO_DAEMONIZE=1 \
    SPARK_LOG_DIR="$_SPARK_DIR/logs" SPARK_WORKER_DIR="$_SPARK_DIR/$name-work" \
    setsid "$ASGARD_SPARK_HOME/bin/spark-class" "$@" </dev/null >"$_SPARK_DIR/$name.log" 2>&1 &
  echo $! >"$pidf"
  disown 2>/dev/null || true
}

spark_cluster_up() {
  _spark_java || return 1
  ASGARD_SPARK_HOME="$(_spark_home)" || return 1
  export ASGARD_SPARK_HOME
  _spark_jars || return 1
  export ASGARD_SPARK_MASTER="spark://127.0.0.1:$ASGARD_SPARK_PORT"
  mkdir -p "$_SPARK_DIR/logs"
  if [ "$(_spark_alive_workers)" = 2 ]; then return 0; fi
  _spark_log "starting a Spark master on 127.0.0.1:$ASGARD_SPARK_PORT and two workers"
  _spark_start master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$ASGARD_SPARK_PORT" --webui-port "$ASGARD_SPARK_UI_PORT"
  local i w
  for i in $(seq 1 120); do [ "$(_spark_alive_workers)" != -1 ] && break; sleep 0.5; done
  for w in 1 2; do
    mkdir -p "$_SPARK_DIR/worker$w-work"
    _spark_start "worker$w" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory "${ASGARD_SPARK_WORKER_MEMORY:-1g}" \
      --webui-port "$((ASGARD_SPARK_UI_PORT + w))" --work-dir "$_SPARK_DIR/worker$w-work" "$ASGARD_SPARK_MASTER"
  done
  for i in $(seq 1 180); do [ "$(_spark_alive_workers)" = 2 ] && break; sleep 0.5; done
  if [ "$(_spark_alive_workers)" != 2 ]; then
    _spark_log "the cluster did not come up (alive workers: $(_spark_alive_workers))"
    tail -20 "$_SPARK_DIR/master.log" "$_SPARK_DIR/worker1.log" >&2
    return 1
  fi
}

spark_cluster_down() {
  local n
  for n in worker1 worker2 master; do daemon_stop "$_SPARK_DIR/$n.pid" _spark_log "$n"; done
}

# Run directly: `bash scripts/spark-cluster.sh up|down`.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  daemon_main "$0" "${1:-up}" spark_cluster_up spark_cluster_down ASGARD_SPARK_MASTER ASGARD_SPARK_JARS
fi
