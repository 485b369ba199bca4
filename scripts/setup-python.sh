#!/usr/bin/env bash
# Creates .venv/ with the real tools the conformance checks run asgard's compiled artifacts with
# (pyspark, dbt-core + dbt-duckdb, feast, scikit-learn, skl2onnx, onnxruntime, mlflow, pandas,
# pyarrow), pinned by requirements/conformance.txt and its full lock requirements/conformance.lock.txt.
#
# Idempotent and fast when already set up: a stamp in .venv/ holds the sha256 of both files and the
# interpreter's version; when it matches, nothing is installed (well under a second).
# Fails loudly (non-zero exit, the failing step named) on any error.
#
#   bash scripts/setup-python.sh            # set up or verify
#   bash scripts/setup-python.sh --check    # exit 0 if set up and current, 1 if not; installs nothing
#   bash scripts/setup-python.sh --relock   # re-resolve conformance.txt and rewrite the lock file
#
# Environment: ASGARD_PYTHON picks the interpreter (default: python3.11, else python3; must be 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV="$ROOT/.venv"
REQ="$ROOT/requirements/conformance.txt"
LOCK="$ROOT/requirements/conformance.lock.txt"
STAMP="$VENV/.asgard-conformance.stamp"

fail() { echo "setup-python: ERROR: $*" >&2; exit 1; }
say() { echo "setup-python: $*" >&2; }

pick_python() {
  if [ -n "${ASGARD_PYTHON:-}" ]; then echo "$ASGARD_PYTHON"; return; fi
  if command -v python3.11 >/dev/null 2>&1; then echo python3.11; return; fi
  command -v python3 >/dev/null 2>&1 || fail "no python3 on PATH (need CPython 3.11)"
  echo python3
}
PY=$(pick_python)
PYVER=$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') || fail "cannot run $PY"
case "$PYVER" in 3.11.*) ;; *) fail "$PY is Python $PYVER; the pinned set is resolved for Python 3.11 (set ASGARD_PYTHON)";; esac

want_stamp() {
  { sha256sum "$REQ" "$LOCK" | awk '{print $1}'; echo "python $PYVER"; } | sha256sum | awk '{print $1}'
}

if [ "${1:-}" = "--relock" ]; then
  tmp=$(mktemp -d)
  "$PY" -m venv "$tmp/venv" || fail "python -m venv failed"
  "$tmp/venv/bin/pip" install --quiet --upgrade pip || fail "pip upgrade failed"
  "$tmp/venv/bin/pip" install --quiet --dry-run --ignore-installed --report "$tmp/report.json" -r "$REQ" \
    || fail "requirements/conformance.txt does not resolve"
  {
    echo "# Full resolved closure of requirements/conformance.txt on CPython 3.11, linux x86_64 (pip install"
    echo "# --dry-run --report). Used as constraints (-c) by scripts/setup-python.sh; regenerate after changing"
    echo "# conformance.txt with: bash scripts/setup-python.sh --relock"
    "$tmp/venv/bin/python" -c '
import json, sys
r = json.load(open(sys.argv[1]))
for i in sorted(r["install"], key=lambda i: i["metadata"]["name"].lower()):
    print(i["metadata"]["name"] + "==" + i["metadata"]["version"])' "$tmp/report.json"
  } > "$LOCK.tmp" && mv "$LOCK.tmp" "$LOCK"
  rm -rf "$tmp"
  say "wrote $LOCK"
  exit 0
fi

WANT=$(want_stamp)
is_current() { [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }

if [ "${1:-}" = "--check" ]; then
  is_current && exit 0
  exit 1
fi

if is_current; then exit 0; fi

# Serialise concurrent callers (test workers may start together): the first installs, the others wait.
mkdir -p "$VENV"
exec 9>"$VENV/.setup.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if is_current; then exit 0; fi

start=$(date +%s)
# A venv made by another interpreter version is rebuilt from scratch; otherwise pip updates in place.
if [ -x "$VENV/bin/python" ]; then
  have=$("$VENV/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo none)
  if [ "$have" != "$PYVER" ]; then
    say "rebuilding .venv (it was made by Python $have, want $PYVER)"
    find "$VENV" -mindepth 1 -maxdepth 1 ! -name .setup.lock -exec rm -rf {} +
  fi
fi
if [ ! -x "$VENV/bin/python" ]; then
  say "creating .venv with $PY ($PYVER)"
  "$PY" -m venv "$VENV" || fail "python -m venv .venv failed"
fi
say "installing requirements/conformance.txt into .venv (a cold install takes a few minutes)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3" \
  || fail "pip upgrade failed"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" -c "$LOCK" \
  || fail "pip install -r requirements/conformance.txt failed"

# Each tool must start, not just import: a broken install fails here, not in the middle of a test.
"$VENV/bin/python" - <<'PY' || fail "a tool of .venv does not import"
import importlib
for m in ["pyspark", "dbt.version", "dbt.adapters.duckdb", "feast", "sklearn", "skl2onnx", "onnx",
          "onnxruntime", "mlflow", "pandas", "pyarrow", "duckdb", "pyiceberg.catalog.sql", "psycopg2"]:
    importlib.import_module(m)
PY
[ -x "$VENV/bin/spark-submit" ] || fail ".venv/bin/spark-submit missing after install"
[ -x "$VENV/bin/dbt" ] || fail ".venv/bin/dbt missing after install"
[ -x "$VENV/bin/feast" ] || fail ".venv/bin/feast missing after install"
[ -x "$VENV/bin/mlflow" ] || fail ".venv/bin/mlflow missing after install"
command -v java >/dev/null 2>&1 || fail "java not on PATH (pyspark 4 needs Java 17+)"

echo "$WANT" > "$STAMP"
say "ready in $(( $(date +%s) - start ))s"
