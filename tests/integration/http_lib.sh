# Helpers of the HTTP integration scripts (http_*_test.sh). Source after
# lib.sh. Starts a real signalsd with transport-http on an ephemeral loopback
# port (port 0; the bound port comes back through port_file) and stops it on
# exit, whatever happens; requests go through curl with a deadline each.

SIGNALSD_PID=""
SIGNALSD_LOG=""

http_cleanup() {
  local rc=$?
  set +e  # cleanup must run to the end; `(exit $rc)` below would stop it under -e
  if [[ -n $SIGNALSD_PID ]] && kill -0 "$SIGNALSD_PID" 2>/dev/null; then
    kill -TERM "$SIGNALSD_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SIGNALSD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SIGNALSD_PID" 2>/dev/null || true
    wait "$SIGNALSD_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -n $SIGNALSD_LOG && -f $SIGNALSD_LOG ]]; then
    echo "signalsd log (last 40 lines):" >&2
    tail -n 40 "$SIGNALSD_LOG" | sed 's/^/  /' >&2
  fi
  (exit "$rc")
  cleanup
}
trap http_cleanup EXIT

# start_signalsd DATA_DIR [--section.key=value ...]: runs signalsd in the
# background; sets SIGNALSD_PID, PORT and BASE (http://127.0.0.1:PORT).
start_signalsd() {
  local data=$1
  shift
  rm -f "$data/port"
  SIGNALSD_LOG=$TMP/signalsd.log
  "$SIGNALSD" --data-dir "$data" --transport.http.plugin=transport-http \
    --transport.http.listen=127.0.0.1:0 --transport.http.port_file="$data/port" "$@" \
    >>"$SIGNALSD_LOG" 2>&1 &
  SIGNALSD_PID=$!
  for _ in $(seq 100); do
    [[ -s $data/port ]] && break
    kill -0 "$SIGNALSD_PID" 2>/dev/null || fail "signalsd exited at start: $(cat "$SIGNALSD_LOG")"
    sleep 0.1
  done
  [[ -s $data/port ]] || fail "signalsd wrote no port file within 10 s"
  PORT=$(cat "$data/port")
  BASE=http://127.0.0.1:$PORT
  # Ready: /healthz answers.
  for _ in $(seq 50); do
    curl -s -o /dev/null --max-time 2 "$BASE/healthz" && return 0
    sleep 0.1
  done
  fail "signalsd on port $PORT does not answer /healthz"
}

# stop_signalsd: SIGTERM, waits up to 20 s; sets SIGNALSD_RC.
stop_signalsd() {
  [[ -n $SIGNALSD_PID ]] || return 0
  kill -TERM "$SIGNALSD_PID" 2>/dev/null || true
  local waited=0
  while kill -0 "$SIGNALSD_PID" 2>/dev/null && ((waited < 200)); do sleep 0.1; waited=$((waited + 1)); done
  kill -0 "$SIGNALSD_PID" 2>/dev/null && fail "signalsd did not exit within 20 s of SIGTERM"
  SIGNALSD_RC=0
  wait "$SIGNALSD_PID" || SIGNALSD_RC=$?
  SIGNALSD_PID=""
}

# req NAME [curl args...]: one request; body in NAME.body, headers in
# NAME.headers, status in STATUS, content type in CTYPE.
req() {
  local name=$1
  shift
  local out
  out=$(curl -sS --max-time 20 -o "$name.body" -D "$name.headers" -w '%{http_code} %{content_type}' "$@") ||
    fail "curl failed ($?): curl $*"
  STATUS=${out%% *}
  CTYPE=${out#* }
  LAST_REQ=$name
}

# header NAME FIELD: the value of FIELD in NAME.headers (last one; CR removed).
header() {
  grep -i "^$2:" "$1.headers" | tail -n 1 | sed -e 's/^[^:]*:[[:space:]]*//' -e 's/\r$//'
}

# expect_status WANT [WHAT]: the last req answered WANT.
expect_status() {
  if [[ $STATUS != "$1" ]]; then
    echo "response headers:" >&2; sed 's/^/  /' "$LAST_REQ.headers" >&2
    echo "response body:" >&2; head -c 1500 "$LAST_REQ.body" | sed 's/^/  /' >&2; echo >&2
    fail "${2:-$LAST_REQ}: expected HTTP $1, got $STATUS"
  fi
}

# expect_problem WANT [WHAT]: the last req answered WANT with an RFC 9457
# problem document (application/problem+json, status member = WANT, a type,
# a code and a detail).
expect_problem() {
  expect_status "$@"
  [[ ${CTYPE%%;*} == application/problem+json ]] || fail "${2:-$LAST_REQ}: content type is '$CTYPE', not application/problem+json"
  jq -e --argjson s "$1" '.status == $s and (.type | type == "string") and (.code | type == "string")
                          and (.detail | type == "string")' "$LAST_REQ.body" >/dev/null ||
    fail "${2:-$LAST_REQ}: not a problem document with status $1: $(head -c 500 "$LAST_REQ.body")"
}

# Stored state: objects under the CAS and rows of the batch and callgraph
# collections (read-only access to the index while signalsd runs).
cas_objects() { find "$1/cas" -type f 2>/dev/null | sort; }
# (A collection's table appears with its first row.)
rows_of() { sqlite3 -readonly "$1/index.sqlite" "SELECT count(*) FROM $2" 2>/dev/null || echo 0; }
batch_rows() { rows_of "$1" batches; }
callgraph_rows() { rows_of "$1" callgraphs; }
stored_state() {
  echo "batches=$(batch_rows "$1") callgraphs=$(callgraph_rows "$1")"
  cas_objects "$1"
}

# token PRINCIPAL TENANT...: a new bearer token (signalsctl prints it once).
token() {
  local principal=$1
  shift
  local args=()
  for t in "$@"; do args+=(--tenant "$t"); done
  "$SIGNALSCTL" --data-dir "$DATA" token create --principal "$principal" "${args[@]}" 2>/dev/null ||
    fail "token create --principal $principal failed"
}
