# Shared helpers of the integration scripts. Source after `set -euo pipefail`
# with SIGNALSCTL, SIGNALSD and TESTDATA set. Creates $TMP (removed on exit,
# kept when SIGNALS_KEEP_TMP=1) and makes it the working directory, so that
# nothing a binary writes by default lands in the source or build tree.

# Variables of the caller's environment must not change the configuration.
while read -r var; do unset "$var"; done < <(compgen -v SIGNALS_ || true)

TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/signals-${TEST_NAME}-XXXXXX")
cleanup() {
  local rc=$?
  if [[ "${SIGNALS_KEEP_TMP:-0}" == 1 ]]; then
    echo "$TEST_NAME: keeping $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  if [[ $rc -eq 0 ]]; then echo "$TEST_NAME: PASS"; else echo "$TEST_NAME: FAIL (exit $rc)" >&2; fi
}
trap cleanup EXIT
cd "$TMP"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3

fail() {
  echo "$TEST_NAME: FAILED: $*" >&2
  exit 1
}

step() { echo "--- $*"; }

# need_python_cryptography: $PY is Debian's python3 with python3-cryptography.
need_python_cryptography() {
  [[ -x $PY ]] || fail "$PY is missing (Debian python3 with python3-cryptography; run tools/setup)"
  $PY -c 'import cryptography' 2>/dev/null || fail "$PY has no 'cryptography' module (apt install python3-cryptography)"
}

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || fail "required tool '$tool' is missing (run tools/setup)"
  done
}

# run_expect CODE OUTFILE ERRFILE cmd...: runs cmd, fails unless it exits CODE.
run_expect() {
  local want=$1 out=$2 err=$3
  shift 3
  local rc=0
  "$@" >"$out" 2>"$err" || rc=$?
  if [[ $rc -ne $want ]]; then
    echo "command: $*" >&2
    echo "stdout:" >&2; sed 's/^/  /' "$out" >&2
    echo "stderr:" >&2; sed 's/^/  /' "$err" >&2
    fail "expected exit $want, got $rc"
  fi
}

# expect_in FILE TEXT [WHAT]: FILE contains TEXT (fixed string).
expect_in() {
  local file=$1 text=$2 what=${3:-$1}
  if ! grep -qF -- "$text" "$file"; then
    echo "$what was:" >&2; sed 's/^/  /' "$file" >&2
    fail "$what does not contain '$text'"
  fi
}

# Regular files under DIR (objects and temp files alike), one per line.
files_under() { if [[ -d "$1" ]]; then find "$1" -type f | sort; fi; }

# store_callgraph DATA_DIR [TENANT]: runtime facts must reference a stored
# callgraph, so this ingests a small one with `signalsctl ingest callgraph`
# (from stdin: no file appears outside DATA_DIR) and sets CALLGRAPH_ID to its
# graphId and STORE_CALLGRAPH_LOG to what signalsctl printed on stderr.
SMALL_CALLGRAPH='{"schema":"stella.callgraph.v1","nodes":[{"id":"main","name":"Svc.main","kind":"method"},{"id":"handle","name":"Svc.handle","kind":"method"}],"edges":[{"sourceId":"main","targetId":"handle","kind":"static"}],"entrypoints":[{"nodeId":"main","kind":"main"}]}'
store_callgraph() {
  local data=$1 tenant=${2:-global} out err rc=0
  err=$(mktemp)
  out=$("$SIGNALSCTL" --data-dir "$data" ingest callgraph - --tenant "$tenant" \
          --purl pkg:maven/com.example/svc@1.0.0 --language java --source integration-test \
          <<<"$SMALL_CALLGRAPH" 2>"$err") || rc=$?
  STORE_CALLGRAPH_LOG=$(cat "$err")
  rm -f "$err"
  [[ $rc -eq 0 ]] || fail "signalsctl ingest callgraph exited $rc: $STORE_CALLGRAPH_LOG"
  CALLGRAPH_ID=$(jq -r .graphId <<<"$out")
  [[ $CALLGRAPH_ID =~ ^[0-7][0-9A-HJKMNP-TV-Z]{25}$ ]] || fail "ingest callgraph printed no graphId: $out"
}

# gen_facts N FILE: N runtime facts, varied fields, multibyte symbols.
gen_facts() {
  awk -v n="$1" 'BEGIN {
    types[0] = "runtime.symbol.hit"; types[1] = "runtime.module.loaded"; types[2] = "runtime.file.access"
    for (i = 0; i < n; i++) {
      if (i % 3 == 0) {
        printf "{\"symbolId\":\"com.example.Svc::handle_%07d(java.lang.String)\",\"hitCount\":%d,\"processId\":%d,\"purl\":\"pkg:maven/com.example/svc@1.%d.0\"}\n", i, i % 97 + 1, 1000 + i % 50, i % 7
      } else if (i % 3 == 1) {
        printf "{\"symbol_id\":\"caf\303\251::\342\202\254::%07d\",\"fact_type\":\"%s\",\"observed_at\":\"2025-01-02T03:04:05.678Z\"}\n", i, types[i % 3]
      } else {
        printf "{\"symbolId\":\"libc.so.6!memcpy+%d\",\"factType\":\"%s\",\"metadata\":{\"node\":\"n-%d\"}}\n", i, types[i % 3], i % 13
      }
    }
  }' >"$2"
}
