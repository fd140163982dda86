#!/usr/bin/env bash
# SIGTERM while an upload is running (a few MB sent by curl --limit-rate):
# the upload either completes (201, the batch is whole and verifies) or leaves
# nothing (no batch row, no CAS object), and signalsd exits 0. Run twice: with
# the default shutdown_grace the upload in flight finishes (201); with
# shutdown_grace=0s it is cut, and nothing of it may remain.
# usage: http_shutdown_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq zstd sqlite3 cmp

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

ctl tenant add acme >/dev/null 2>&1
store_callgraph "$DATA" acme
AGENT=$(token runtime-agent acme)
gen_facts 40000 upload.ndjson
SIZE=$(stat -c %s upload.ndjson)
((SIZE > 3000000)) || fail "upload.ndjson is only $SIZE bytes"

# upload_during_sigterm NAME [signalsd options...]: starts signalsd, starts a
# ~4 s upload, sends SIGTERM after 1 s; sets UPLOAD_STATUS and checks that
# the store holds the whole batch (201) or nothing of it.
upload_during_sigterm() {
  local name=$1
  shift
  start_signalsd "$DATA" "$@"
  local before
  before=$(stored_state "$DATA")
  local batches_before
  batches_before=$(batch_rows "$DATA")
  curl -sS --max-time 40 --limit-rate 1M -o "$name.body" -w '%{http_code}' \
    -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/x-ndjson' --data-binary @upload.ndjson \
    "$BASE/signals/runtime-facts?tenant=acme&callgraph_id=$CALLGRAPH_ID" >"$name.code" 2>"$name.err" &
  local curl_pid=$!
  # SIGTERM once the upload is well under way (the server got some of it).
  sleep 1.2
  kill -0 "$curl_pid" 2>/dev/null || fail "$name: the upload ended before SIGTERM: $(cat "$name.code" "$name.err")"
  local t0=$SECONDS
  stop_signalsd
  [[ $SIGNALSD_RC -eq 0 ]] || fail "$name: signalsd exited $SIGNALSD_RC on SIGTERM during an upload"
  wait "$curl_pid" || true
  UPLOAD_STATUS=$(cat "$name.code")
  echo "    $name: upload answered '${UPLOAD_STATUS}' ($(head -c 200 "$name.err")), signalsd exited 0 after $((SECONDS - t0)) s"
  if [[ $UPLOAD_STATUS == 201 ]]; then
    local batch
    batch=$(jq -r .batchId "$name.body")
    [[ $(batch_rows "$DATA") -eq $((batches_before + 1)) ]] || fail "$name: 201 but $(batch_rows "$DATA") batch rows"
    zstd -q -d -c "$DATA/cas/signals/runtime-facts/acme/$batch.ndjson.zst" | cmp - upload.ndjson ||
      fail "$name: the stored batch is not the whole upload"
    ctl verify batch "$batch" >/dev/null 2>"$name.verify" || fail "$name: verify batch: $(cat "$name.verify")"
  else
    [[ $(stored_state "$DATA") == "$before" ]] || {
      diff <(echo "$before") <(stored_state "$DATA") >&2 || true
      fail "$name: the upload was not answered 201 ('$UPLOAD_STATUS') but something was stored"
    }
  fi
}

step "SIGTERM during an upload, default shutdown_grace: the upload in flight completes"
upload_during_sigterm graceful
[[ $UPLOAD_STATUS == 201 ]] || fail "with a 30 s grace the 4 s upload should have completed, got '$UPLOAD_STATUS'"

step "SIGTERM during an upload, shutdown_grace=0s: cut, and nothing of it stored"
upload_during_sigterm cut --transport.http.shutdown_grace=0s
[[ $UPLOAD_STATUS != 201 ]] || echo "    (the upload completed anyway; the store holds it whole)"

step "signalsd starts again on the same data dir, and serves"
start_signalsd "$DATA"
req health "$BASE/readyz"
expect_status 200
stop_signalsd
[[ $SIGNALSD_RC -eq 0 ]] || fail "signalsd exited $SIGNALSD_RC"
