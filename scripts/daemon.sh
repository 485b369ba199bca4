# shellcheck shell=bash
# What the service scripts (services.sh, s3-server.sh, spark-cluster.sh) do alike: wait for a daemon
# they started to answer, stop one by its pid file, and the `up|down` entry of a script run directly.
# Sourced by each of them.

# daemon_wait TRIES SECONDS CHECK [ARGS...]: runs CHECK until it succeeds, at most TRIES times with
# SECONDS between tries, then once more; returns that last status.
daemon_wait() {
  local tries="$1" delay="$2" i
  shift 2
  for i in $(seq 1 "$tries"); do "$@" && break; sleep "$delay"; done
  "$@"
}

# daemon_stop PIDFILE LOG WHAT: kills the process of PIDFILE when it runs (saying `stopping WHAT`
# through the function LOG) and removes the file. No file: nothing to do.
daemon_stop() {
  local f="$1" log="$2" what="$3" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then "$log" "stopping $what"; kill "$pid"; fi
  rm -f "$f"
}

# daemon_main SCRIPT ACTION UP DOWN [VAR...]: `bash SCRIPT up|down` (ACTION defaults to up). After
# UP it prints VAR=value for each VAR it exports; anything else is a usage error (exit 2). Called
# from the script's top level under `set -euo pipefail`, so a failing UP or DOWN ends the script.
daemon_main() {
  local script="$1" action="${2:-up}" up="$3" down="$4" v
  shift 4
  case "$action" in
    up)
      "$up"
      for v in "$@"; do echo "$v=${!v}"; done
      ;;
    down) "$down" ;;
    *) echo "usage: $script up|down" >&2; exit 2 ;;
  esac
}
