#!/usr/bin/env bash
# Transparency log end to end: signalsd with [tlog] = tlog-rekor against the
# Rekor v1 log peer (node/rekor_log.mjs around @sigstore/mock). A callgraph
# and a batch ingested over HTTP each get their entry at ingest: the
# ….rekor.json objects exist next to the envelopes, the rows carry rekorUuid
# and no skipReason, the reads show them, and an independent Python check
# (verify_rekor_entry.py: leaf hash, inclusion proof, signed checkpoint, SET,
# body against the envelope) accepts both entries with the log's key. The log
# holds each envelope exactly once. Then the log goes away and `signalsctl
# verify batch|callgraph` still verify the entries offline, and the exported
# Sigstore bundle of the batch verifies with @sigstore/verify given only the
# signer's and the log's public keys.
# usage: tlog_roundtrip_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
source "$HERE/tlog_lib.sh"
need curl jq sqlite3 sha256sum node openssl
$PY -c 'import cryptography' 2>/dev/null || fail "$PY has no 'cryptography' module (apt install python3-cryptography)"

DATA=$TMP/data
CAS=$DATA/cas/signals
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

step "setup: a tenant, tokens, the log peer, signalsd with [tlog]"
ctl tenant add acme >/dev/null 2>&1
SCANNER=$(token scanner-worker acme)
AGENT=$(token runtime-agent acme)
SERVICE=$(token signals-service acme)
start_rekor
start_signalsd "$DATA" "${TLOG_ARGS[@]}"

step "a callgraph over HTTP is logged at ingest"
CG_QUERY="tenant=acme&componentPurl=pkg%3Amaven%2Fcom.example%2Ftlog%401.0.0&language=java"
req cg -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "$SMALL_CALLGRAPH" \
  "$BASE/signals/callgraphs?$CG_QUERY"
expect_status 201
GRAPH=$(jq -r .graphId cg.body)
G_UUID=$(jq -r .rekorUuid cg.body)
[[ $G_UUID =~ ^[0-9a-f]{80}$ ]] || fail "the manifest names no 80-hex entry uuid: $(cat cg.body)"
[[ -f $CAS/manifests/$GRAPH.rekor.json ]] || fail "no manifests/$GRAPH.rekor.json; CAS: $(files_under "$CAS")"
[[ $(jq -r .uuid "$CAS/manifests/$GRAPH.rekor.json") == "$G_UUID" ]] || fail "the stored entry has another uuid"
[[ $(index_value "$DATA" callgraphs "$GRAPH" rekorUuid) == "$G_UUID" ]] || fail "the callgraphs row has no rekorUuid"
[[ -z $(index_value "$DATA" callgraphs "$GRAPH" skipReason) ]] || fail "the callgraphs row keeps a skipReason"
# The stored manifest names the entry too: it landed before the manifest was written.
[[ $(jq -r .rekorUuid "$CAS/manifests/$GRAPH.json") == "$G_UUID" ]] || fail "the stored manifest does not name the entry"

step "a batch over HTTP is logged at ingest"
gen_facts 50 facts.ndjson
req post -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/x-ndjson' --data-binary @facts.ndjson \
  "$BASE/signals/runtime-facts?tenant=acme&callgraph_id=$GRAPH"
expect_status 201
BATCH=$(jq -r .batchId post.body)
B_UUID=$(jq -r .rekorUuid post.body)
[[ $B_UUID =~ ^[0-9a-f]{80}$ ]] || fail "the provenance record names no entry uuid: $(cat post.body)"
[[ $(jq -r .skipReason post.body) == null ]] || fail "skipReason is $(jq -r .skipReason post.body)"
ENTRY=$CAS/attestations/$BATCH.rekor.json
[[ -f $ENTRY ]] || fail "no attestations/$BATCH.rekor.json"
jq -e --arg u "$B_UUID" '.uuid == $u and (.body | type == "string") and (.integratedTime | type == "number")
  and (.logID | test("^[0-9a-f]{64}$")) and (.logIndex | type == "number")
  and (.verification.inclusionProof | has("checkpoint") and has("hashes") and has("logIndex") and has("rootHash") and has("treeSize"))
  and (.verification.signedEntryTimestamp | type == "string")' "$ENTRY" >/dev/null ||
  fail "the entry object does not have the Rekor REST shape: $(head -c 600 "$ENTRY")"
[[ $(index_value "$DATA" batches "$BATCH" rekorUuid) == "$B_UUID" ]] || fail "the batches row has no rekorUuid"
req prov -H "Authorization: Bearer $SERVICE" "$BASE/signals/runtime-facts/$BATCH/provenance"
expect_status 200
[[ $(jq -r .rekorUuid prov.body) == "$B_UUID" ]] || fail "GET provenance shows rekorUuid $(jq -r .rekorUuid prov.body)"
[[ $(queue_rows "$DATA") == 0 ]] || fail "$(queue_rows "$DATA") submissions are queued"

step "Python cryptography checks both entries with the log's key"
KEY_ID=$(jq -r .signerKeyId post.body)
ctl keys export "$KEY_ID" >signer.pem 2>/dev/null
$PY "$HERE/verify_rekor_entry.py" "$ENTRY" "$CAS/attestations/$BATCH.dsse" signer.pem "$REKOR_PUB" >check.txt ||
  fail "the batch entry does not verify"
expect_in check.txt "ok $B_UUID"
$PY "$HERE/verify_rekor_entry.py" "$CAS/manifests/$GRAPH.rekor.json" "$CAS/manifests/$GRAPH.json.dsse" signer.pem \
  "$REKOR_PUB" >check.txt || fail "the manifest entry does not verify"
expect_in check.txt "ok $G_UUID"

step "a tampered entry fails the independent check (the check can fail)"
jq '.verification.inclusionProof.rootHash = ("00" * 32)' "$ENTRY" >tampered.json
if $PY "$HERE/verify_rekor_entry.py" tampered.json "$CAS/attestations/$BATCH.dsse" signer.pem "$REKOR_PUB" 2>err.txt; then
  fail "a wrong rootHash passed"
fi
expect_in err.txt "inclusion proof"

step "the log holds each envelope exactly once; metrics count two landed submissions"
rekor_stats stats.json
for envelope in "$CAS/attestations/$BATCH.dsse" "$CAS/manifests/$GRAPH.json.dsse"; do
  sum=$(sha256sum "$envelope" | cut -d' ' -f1)
  [[ $(jq --arg s "$sum" '[.entries[] | select(.envelopeSha256 == $s)] | length' stats.json) == 1 ]] ||
    fail "the log holds $envelope not exactly once: $(cat stats.json)"
done
[[ $(jq .posts stats.json) == 2 ]] || fail "the log got $(jq .posts stats.json) submissions, expected 2"
req metrics "$BASE/metrics"
[[ $(metric_value metrics.body 'signals_tlog_submissions_total{result="ok"}') == 2 ]] ||
  fail "signals_tlog_submissions_total{result=\"ok\"} is not 2: $(grep signals_tlog metrics.body)"
[[ $(metric_value metrics.body 'signals_tlog_queue_depth') == 0 ]] || fail "queue depth: $(grep signals_tlog metrics.body)"

step "the log goes away: verification needs nothing online"
stop_rekor
stop_signalsd
run_expect 0 out.txt err.txt ctl "${TLOG_ARGS[@]}" verify batch "$BATCH"
expect_in out.txt "log entry: verified (uuid $B_UUID" "verify batch"
run_expect 0 out.txt err.txt ctl "${TLOG_ARGS[@]}" verify callgraph "$GRAPH"
expect_in out.txt "log entry: verified (uuid $G_UUID" "verify callgraph"

step "the exported bundle of the logged batch verifies with @sigstore/verify (public key + the log's key)"
run_expect 0 out.txt err.txt ctl "${TLOG_ARGS[@]}" export bundle "$BATCH" --out bundle.json
[[ $(jq '.verificationMaterial.tlogEntries | length' bundle.json) == 1 ]] || fail "the bundle carries no tlog entry"
node "$HERE/node/verify_bundle.mjs" bundle.json --key signer.pem --rekor-key "$REKOR_PUB" >out.txt 2>err.txt ||
  fail "@sigstore/verify refused the bundle: $(cat err.txt)"
expect_in out.txt "verified: bundle.json"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout -out other-log.pem
if node "$HERE/node/verify_bundle.mjs" bundle.json --key signer.pem --rekor-key other-log.pem >out.txt 2>err.txt; then
  fail "@sigstore/verify accepted the bundle with another log's key"
fi
