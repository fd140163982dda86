# Helpers of the transparency-log integration scripts (tlog_*_test.sh). Source
# after lib.sh and http_lib.sh. Starts the Rekor v1 log peer
# (node/rekor_log.mjs around @sigstore/mock) on an ephemeral loopback port and
# stops it on exit, whatever happens.

REKOR_PID=""
REKOR_DIR=$TMP/rekor
TLOG_ARGS=()

tlog_cleanup() {
  local rc=$?
  set +e
  if [[ -n $REKOR_PID ]] && kill -0 "$REKOR_PID" 2>/dev/null; then
    kill -TERM "$REKOR_PID" 2>/dev/null
    wait "$REKOR_PID" 2>/dev/null
  fi
  if [[ $rc -ne 0 && -f $REKOR_DIR/log.txt ]]; then
    echo "log peer output (last 20 lines):" >&2
    tail -n 20 "$REKOR_DIR/log.txt" | sed 's/^/  /' >&2
  fi
  (exit "$rc")
  http_cleanup
}
trap tlog_cleanup EXIT

# start_rekor: runs the log peer; sets REKOR_URL, REKOR_PUB and TLOG_ARGS
# (the signalsd/signalsctl options of a [tlog] section that uses it).
start_rekor() {
  need node
  [[ -d $HERE/node/node_modules/@sigstore/mock ]] ||
    fail "@sigstore/mock is not installed in $HERE/node (run tools/setup)"
  mkdir -p "$REKOR_DIR"
  rm -f "$REKOR_DIR/rekor.port"
  node "$HERE/node/rekor_log.mjs" "$REKOR_DIR" >>"$REKOR_DIR/log.txt" 2>&1 &
  REKOR_PID=$!
  for _ in $(seq 100); do
    [[ -s $REKOR_DIR/rekor.port ]] && break
    kill -0 "$REKOR_PID" 2>/dev/null || fail "the log peer exited at start: $(cat "$REKOR_DIR/log.txt")"
    sleep 0.1
  done
  [[ -s $REKOR_DIR/rekor.port ]] || fail "the log peer wrote no port file within 10 s"
  REKOR_URL=http://127.0.0.1:$(cat "$REKOR_DIR/rekor.port")
  REKOR_PUB=$REKOR_DIR/rekor.pub.pem
  TLOG_ARGS=(--provenance.rekor_enabled=true --tlog.plugin=tlog-rekor --tlog.url="$REKOR_URL"
             --tlog.public_key_file="$REKOR_PUB" --tlog.timeout=2s --tlog.retry_max_interval=1s)
}

# stop_rekor: the log goes away (connection refused from now on).
stop_rekor() {
  [[ -n $REKOR_PID ]] || return 0
  kill -TERM "$REKOR_PID" 2>/dev/null || true
  wait "$REKOR_PID" 2>/dev/null || true
  REKOR_PID=""
}

# rekor_mode ok|unavailable|hang|reject|corrupt
rekor_mode() {
  curl -sS --max-time 5 -o /dev/null -X POST --data "$1" "$REKOR_URL/admin/mode" || fail "cannot set the log peer's mode to $1"
}

# rekor_stats FILE: {"mode","posts","entries":[{uuid, envelopeSha256, logIndex}]}.
rekor_stats() {
  curl -sS --max-time 5 -o "$1" "$REKOR_URL/admin/stats" || fail "cannot read the log peer's stats"
}

# with_acme_and_a_graph: the data dir DATA (CAS under CAS, `ctl` runs
# signalsctl on it) with tenant acme, a callgraph of acme (CALLGRAPH_ID) and a
# runtime-agent token (AGENT); then the log peer and signalsd with [tlog].
with_acme_and_a_graph() {
  DATA=$TMP/data
  CAS=$DATA/cas/signals
  ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }
  ctl tenant add acme >/dev/null 2>&1
  store_callgraph "$DATA" acme
  AGENT=$(token runtime-agent acme)
  start_rekor
  start_signalsd "$DATA" "${TLOG_ARGS[@]}"
}

# post_batch NAME: 20 runtime facts for tenant acme and CALLGRAPH_ID, posted
# with the bearer token AGENT; expects 201; the answer in NAME.body, the
# batch id in BATCH.
post_batch() {
  gen_facts 20 "$1.ndjson"
  req "$1" -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/x-ndjson' --data-binary @"$1.ndjson" \
    "$BASE/signals/runtime-facts?tenant=acme&callgraph_id=$CALLGRAPH_ID"
  expect_status 201
  BATCH=$(jq -r .batchId "$1.body")
}

# submit_directly ENVELOPE SIGNER_PEM: submits a stored envelope to the log
# peer behind signalsd's back, as if signalsd had crashed right after the log
# took it; expects 201; the log's answer {"<uuid>": entry} in direct.json.
submit_directly() {
  jq -n --rawfile env "$1" --arg key "$(base64 -w0 "$2")" \
    '{apiVersion: "0.0.1", kind: "dsse", spec: {proposedContent: {envelope: $env, verifiers: [$key]}}}' >proposed.json
  local code
  code=$(curl -sS -o direct.json -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @proposed.json \
    "$REKOR_URL/api/v1/log/entries")
  [[ $code == 201 ]] || fail "the direct submission answered $code: $(cat direct.json)"
}

# index_value DATA COLLECTION KEY MEMBER: a member of an index row (sqlite3, read-only).
index_value() {
  sqlite3 -readonly "$1/index.sqlite" "SELECT json_extract(doc, '\$.$4') FROM \"$2\" WHERE key = '$3'" 2>/dev/null
}

# queue_rows DATA: the number of queued transparency-log submissions.
queue_rows() { rows_of "$1" tlog_queue; }

# metric_value FILE NAME_WITH_LABELS: the sample's value in a Prometheus text file, or "".
metric_value() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
