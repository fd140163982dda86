#!/usr/bin/env bash
# The transparency log never blocks ingest. Against the Rekor v1 log peer:
# * the log answers 503: several batches are acknowledged at once with
#   skipReason "rekor-unavailable", each queued in tlog_queue, and
#   signals_tlog_queue_depth says so in /metrics; the log comes back and
#   every batch gets its entry without a restart of signalsd (rows updated,
#   queue empty, gauge 0), each envelope logged exactly once;
# * the log hangs: ingest answers within the plugin's timeout, queued;
# * kill -9 with a queued submission whose entry the log already took (the
#   envelope is submitted behind signalsd's back, as if it had crashed right
#   after the log answered): after the restart the retry gets 409, fetches
#   the existing entry and lands it; the log still holds it once;
# * kill -9 after the entry object was stored but before the row was updated:
#   the restart lands it from the stored object, with the log gone;
# * the log is down (connection refused) at the start of signalsd: it starts.
# usage: tlog_outage_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
source "$HERE/tlog_lib.sh"
need curl jq sqlite3 sha256sum base64

with_acme_and_a_graph

# wait_logged BATCH...: every batch's row gets a rekorUuid within 30 s.
wait_logged() {
  for _ in $(seq 300); do
    local pending=0
    for b in "$@"; do [[ -n $(index_value "$DATA" batches "$b" rekorUuid) ]] || pending=$((pending + 1)); done
    ((pending == 0)) && return 0
    sleep 0.1
  done
  fail "not logged within 30 s: $(for b in "$@"; do echo "$b: $(index_value "$DATA" batches "$b" skipReason)"; done)"
}

# logged_once ENVELOPE: the log holds this envelope exactly once.
logged_once() {
  rekor_stats stats.json
  local sum
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  [[ $(jq --arg s "$sum" '[.entries[] | select(.envelopeSha256 == $s)] | length' stats.json) == 1 ]] ||
    fail "the log holds $1 not exactly once: $(cat stats.json)"
}

step "the log answers 503: three batches are acknowledged and queued"
rekor_mode unavailable
BATCHES=()
for i in 1 2 3; do
  post_batch "down$i"
  [[ $(jq -r .skipReason "down$i.body") == rekor-unavailable ]] || fail "skipReason: $(cat "down$i.body")"
  [[ $(jq -r .rekorUuid "down$i.body") == null ]] || fail "rekorUuid set while the log is down"
  BATCHES+=("$BATCH")
done
[[ $(queue_rows "$DATA") == 3 ]] || fail "$(queue_rows "$DATA") queue rows, expected 3"
sqlite3 -readonly "$DATA/index.sqlite" "SELECT doc FROM tlog_queue" >queue.txt
jq -e -s --arg b "${BATCHES[0]}" 'map(select(.id == $b)) | .[0] | .kind == "batch" and .tenantId == "acme"
  and .envelopeKey == ("attestations/" + $b + ".dsse") and .entryKey == ("attestations/" + $b + ".rekor.json")
  and (.attempts >= 1) and (.lastError | test("503")) and (.enqueuedAt | test("Z$")) and (.nextAttemptAt | test("Z$"))' \
  queue.txt >/dev/null || fail "unexpected queue row: $(cat queue.txt)"
for b in "${BATCHES[@]}"; do [[ ! -e $CAS/attestations/$b.rekor.json ]] || fail "an entry object exists for $b"; done
req metrics "$BASE/metrics"
[[ $(metric_value metrics.body signals_tlog_queue_depth) == 3 ]] ||
  fail "signals_tlog_queue_depth is not 3: $(grep signals_tlog metrics.body)"
[[ $(metric_value metrics.body 'signals_tlog_submissions_total{result="retry"}') -ge 3 ]] ||
  fail "no retries counted: $(grep signals_tlog metrics.body)"

step "the log comes back: every batch lands without a restart, each envelope once"
rekor_mode ok
wait_logged "${BATCHES[@]}"
for b in "${BATCHES[@]}"; do
  [[ -f $CAS/attestations/$b.rekor.json ]] || fail "no entry object for $b"
  [[ $(jq -r .uuid "$CAS/attestations/$b.rekor.json") == "$(index_value "$DATA" batches "$b" rekorUuid)" ]] ||
    fail "row and entry object of $b disagree"
  [[ -z $(index_value "$DATA" batches "$b" skipReason) ]] || fail "$b keeps a skipReason"
  logged_once "$CAS/attestations/$b.dsse"
  # The stored provenance record is immutable: it still says what was known at ingest.
  [[ $(jq -r .skipReason "$CAS/runtime-facts/acme/$b.provenance.json") == rekor-unavailable ]] ||
    fail "the stored provenance record of $b was rewritten"
done
[[ $(queue_rows "$DATA") == 0 ]] || fail "$(queue_rows "$DATA") queue rows left"
req metrics "$BASE/metrics"
[[ $(metric_value metrics.body signals_tlog_queue_depth) == 0 ]] || fail "queue depth: $(grep signals_tlog metrics.body)"
[[ $(metric_value metrics.body 'signals_tlog_submissions_total{result="ok"}') == 3 ]] ||
  fail "ok submissions: $(grep signals_tlog metrics.body)"

step "the log hangs: ingest answers within the plugin's timeout (2 s), queued"
rekor_mode hang
start_ms=$(date +%s%3N)
post_batch hang
elapsed=$(($(date +%s%3N) - start_ms))
((elapsed < 6000)) || fail "ingest took $elapsed ms while the log hung"
[[ $(jq -r .skipReason hang.body) == rekor-unavailable ]] || fail "skipReason: $(cat hang.body)"
HANG_BATCH=$BATCH

step "kill -9 with a queued submission that the log took behind our back; restart; it lands once"
kill -KILL "$SIGNALSD_PID"
wait "$SIGNALSD_PID" 2>/dev/null || true
SIGNALSD_PID=""
rekor_mode ok
KEY_ID=$(jq -r .signerKeyId hang.body)
ctl keys export "$KEY_ID" >signer.pem 2>/dev/null
submit_directly "$CAS/attestations/$HANG_BATCH.dsse" signer.pem
DIRECT_UUID=$(jq -r 'keys[0]' direct.json)
[[ $(queue_rows "$DATA") == 1 ]] || fail "the queued row did not survive kill -9"
start_signalsd "$DATA" "${TLOG_ARGS[@]}"
wait_logged "$HANG_BATCH"
[[ $(index_value "$DATA" batches "$HANG_BATCH" rekorUuid) == "$DIRECT_UUID" ]] ||
  fail "the row names $(index_value "$DATA" batches "$HANG_BATCH" rekorUuid), the log holds $DIRECT_UUID"
logged_once "$CAS/attestations/$HANG_BATCH.dsse"
[[ $(queue_rows "$DATA") == 0 ]] || fail "queue rows left after the restart"

step "kill -9 after the entry object was stored: the restart lands it from that object, the log is gone"
rekor_mode unavailable
post_batch stored
STORED_BATCH=$BATCH
kill -KILL "$SIGNALSD_PID"
wait "$SIGNALSD_PID" 2>/dev/null || true
SIGNALSD_PID=""
rekor_mode ok
submit_directly "$CAS/attestations/$STORED_BATCH.dsse" signer.pem
# What the pipeline stores: the entry with its uuid, as one JSON object.
jq -c -S 'to_entries[0] | .value + {uuid: .key}' direct.json >"$CAS/attestations/$STORED_BATCH.rekor.json"
stop_rekor
start_signalsd "$DATA" "${TLOG_ARGS[@]}"
wait_logged "$STORED_BATCH"
[[ $(index_value "$DATA" batches "$STORED_BATCH" rekorUuid) == "$(jq -r 'keys[0]' direct.json)" ]] ||
  fail "the row does not name the stored entry"
[[ $(queue_rows "$DATA") == 0 ]] || fail "queue rows left"

step "the log is down at start: signalsd starts and queues"
stop_signalsd
start_signalsd "$DATA" "${TLOG_ARGS[@]}"
post_batch refused
[[ $(jq -r .skipReason refused.body) == rekor-unavailable ]] || fail "skipReason: $(cat refused.body)"
sqlite3 -readonly "$DATA/index.sqlite" "SELECT json_extract(doc, '\$.lastError') FROM tlog_queue" >last_error.txt
expect_in last_error.txt "unreachable" "lastError of the queued submission"
stop_signalsd
