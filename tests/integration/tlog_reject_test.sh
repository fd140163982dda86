#!/usr/bin/env bash
# A log that refuses an entry (4xx) is not retried: against the Rekor v1 log
# peer answering 400, a batch and a callgraph are acknowledged with
# skipReason "rekor-rejected: HTTP 400: <the log's message>", nothing is
# queued, no entry object exists, and the refusal is counted as "rejected".
# A log whose answer does not verify (wrong inclusion proof root) is not
# believed: the batch stays queued with the verifier's reason as lastError,
# counted as "invalid", and lands once the log answers correctly (its 409
# then yields the entry it had logged).
# usage: tlog_reject_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
source "$HERE/tlog_lib.sh"
need curl jq sqlite3

with_acme_and_a_graph
SCANNER=$(token scanner-worker acme)
rekor_mode reject
WANT="rekor-rejected: HTTP 400: entry refused by test log (mode reject)"

step "a batch the log refuses is acknowledged, marked rejected, not queued"
post_batch post
[[ $(jq -r .skipReason post.body) == "$WANT" ]] || fail "skipReason is '$(jq -r .skipReason post.body)'"
[[ $(jq -r .rekorUuid post.body) == null ]] || fail "a refused batch has a rekorUuid"
[[ $(index_value "$DATA" batches "$BATCH" skipReason) == "$WANT" ]] || fail "the row's skipReason differs"
[[ ! -e $CAS/attestations/$BATCH.rekor.json ]] || fail "an entry object exists for a refused batch"

step "a callgraph the log refuses: the same"
req cg -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "${SMALL_CALLGRAPH//Svc./Rej.}" \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg%3Amaven%2Fcom.example%2Frej%401.0.0&language=java"
expect_status 201
GRAPH=$(jq -r .graphId cg.body)
[[ $(index_value "$DATA" callgraphs "$GRAPH" skipReason) == "$WANT" ]] || fail "the callgraph row's skipReason differs"

step "nothing queued; the refusals are counted; no retry reaches the log"
[[ $(queue_rows "$DATA") == 0 ]] || fail "$(queue_rows "$DATA") rows queued"
sleep 1.5
rekor_stats stats.json
[[ $(jq .posts stats.json) == 2 ]] || fail "the log got $(jq .posts stats.json) submissions, expected 2 (no retries)"
req metrics "$BASE/metrics"
[[ $(metric_value metrics.body 'signals_tlog_submissions_total{result="rejected"}') == 2 ]] ||
  fail "rejected submissions: $(grep signals_tlog metrics.body)"
[[ $(metric_value metrics.body signals_tlog_queue_depth) == 0 ]] || fail "queue depth: $(grep signals_tlog metrics.body)"

step "an entry that does not verify is not accepted: queued, counted invalid, then landed"
rekor_mode corrupt
post_batch bad
BAD=$BATCH
[[ $(jq -r .skipReason bad.body) == rekor-unavailable ]] || fail "skipReason: $(cat bad.body)"
[[ ! -e $CAS/attestations/$BAD.rekor.json ]] || fail "an entry that does not verify was stored"
sqlite3 -readonly "$DATA/index.sqlite" "SELECT json_extract(doc, '\$.lastError') FROM tlog_queue" >last_error.txt
expect_in last_error.txt "does not verify" "lastError of the queued submission"
expect_in last_error.txt "inclusion proof" "lastError of the queued submission"
req metrics "$BASE/metrics"
[[ $(metric_value metrics.body 'signals_tlog_submissions_total{result="invalid"}') -ge 1 ]] ||
  fail "invalid submissions: $(grep signals_tlog metrics.body)"
rekor_mode ok
for _ in $(seq 100); do [[ -n $(index_value "$DATA" batches "$BAD" rekorUuid) ]] && break; sleep 0.1; done
[[ -n $(index_value "$DATA" batches "$BAD" rekorUuid) ]] || fail "the batch did not land once the log answered correctly"
[[ -f $CAS/attestations/$BAD.rekor.json ]] || fail "no entry object after landing"
[[ $(queue_rows "$DATA") == 0 ]] || fail "queue rows left"
stop_signalsd
