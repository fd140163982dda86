#!/usr/bin/env bash
# Retention GC (README.md#retention) end to end, checked with find, sqlite3, jq, curl and
# Python `cryptography`:
#   * `signalsctl gc --dry-run --now <91 days ahead>` lists every due object
#     and changes no file and no index row;
#   * `gc --now <just after the old batches' 90 days>` deletes exactly the old
#     batches' blobs and provenance records and the orphan callgraph — not the
#     batch ingested a second later, not the referenced callgraph, manifests
#     or attestations — and leaves one tombstone each whose index.record is the
#     row as sqlite3 reads it;
#   * a real signalsd answers 410 problem+json with the attestation link for
#     removed batches and the orphan graph; the link serves an envelope that
#     verifies; the NDJSON stream skips expired batches; its scheduled GC runs
#     and is counted in /metrics; SIGTERM stops it promptly;
#   * `verify batch` says "expired" (exit 3) for a removed batch, valid (0)
#     for a live one, and so does `verify callgraph` for the orphan; a batch
#     cannot reference the expired orphan;
#   * `gc --now <91 days ahead>` then removes the last batch, and a second
#     identical run is a no-op.
# usage: gc_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need jq sqlite3 curl find
[[ -x $PY ]] || fail "$PY is missing (Debian python3 with python3-cryptography; run tools/setup)"

DATA=$TMP/data
CAS=$DATA/cas/signals
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }
sql() { sqlite3 -readonly "$DATA/index.sqlite" "$1"; }
state_of() { sql "SELECT ifnull(json_extract(doc,'\$.state'),'live') FROM $1 WHERE key='$2'"; }
# Every CAS object, relative to the bucket, sorted.
objects() { (cd "$CAS" && find . -type f | sed 's|^\./||' | sort); }
# The index rows GC may touch, as text.
index_dump() {
  sql "SELECT 'batches', key, doc FROM batches ORDER BY key"
  sql "SELECT 'callgraphs', key, doc FROM callgraphs ORDER BY key"
  sql "SELECT 'callgraph_digests', key, doc FROM callgraph_digests ORDER BY key"
}
# plus_days RFC3339 DAYS MS: the time DAYS days and MS milliseconds later.
plus_days() {
  "$PY" - "$1" "$2" "$3" <<'PYEOF'
import datetime, sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
t += datetime.timedelta(days=int(sys.argv[2]), milliseconds=int(sys.argv[3]))
print(t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000))
PYEOF
}
ingest_graph() {  # ingest_graph NAME → prints graphId
  ctl ingest callgraph - --tenant acme --purl "pkg:maven/com.example/$1@1.0.0" --language java \
    <<<"{\"nodes\":[{\"id\":\"$1\"},{\"id\":\"sink\"}],\"edges\":[{\"from\":\"$1\",\"to\":\"sink\"}]}" \
    2>/dev/null | jq -r .graphId
}
ingest_batch() {  # ingest_batch GRAPH OUT.json
  printf '{"symbolId":"sym-a"}\n{"symbolId":"sym-b","hitCount":4}\n' |
    ctl ingest facts - --tenant acme --callgraph-id "$1" >"$2" 2>ingest.err || fail "ingest facts: $(cat ingest.err)"
}

step "store: a referenced and an orphan callgraph, two old batches, a batch a second later"
ctl tenant add acme >/dev/null 2>&1
REF=$(ingest_graph referenced)
ORPHAN=$(ingest_graph orphan)
[[ $REF =~ ^[0-7] && $ORPHAN =~ ^[0-7] && $REF != "$ORPHAN" ]] || fail "callgraph ingest failed: '$REF' '$ORPHAN'"
ingest_batch "$REF" old1.json
ingest_batch "$REF" old2.json
sleep 1.2
ingest_batch "$REF" new.json
OLD1=$(jq -r .batchId old1.json) OLD2=$(jq -r .batchId old2.json) NEW=$(jq -r .batchId new.json)
KEY_ID=$(jq -r .signerKeyId new.json)
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
AHEAD_91=$(plus_days "$NOW" 91 0)
# Just after the old batches' 90 days, more than a second before the new one's.
BOUNDARY=$(plus_days "$(jq -r .ingestedAt old2.json)" 90 500)
echo "REF=$REF ORPHAN=$ORPHAN OLD1=$OLD1 OLD2=$OLD2 NEW=$NEW boundary=$BOUNDARY"

step "gc rejects a bad --now and stray arguments (exit 2), changing nothing"
objects >objects.before
run_expect 2 bad.out bad.err ctl gc --now yesterday
expect_in bad.err "--now" "gc --now yesterday"
run_expect 2 bad.out bad.err ctl gc everything
[[ $(objects) == "$(cat objects.before)" ]] || fail "a rejected gc changed the CAS"

step "gc --dry-run --now +91d lists every due object and changes nothing"
objects >objects.0
index_dump >index.0
run_expect 0 dry.out dry.err ctl gc --dry-run --now "$AHEAD_91"
cat dry.out
for id in "$OLD1" "$OLD2" "$NEW" "$ORPHAN"; do expect_in dry.out "$id" "dry-run output"; done
[[ $(grep -c '^would delete ' dry.out) -eq 4 ]] || fail "dry run should list 4 objects"
grep '^would delete ' dry.out | sort -c || fail "dry-run lines are not sorted"
expect_in dry.out "dry run, nothing changed"
objects >objects.1
index_dump >index.1
cmp -s objects.0 objects.1 || fail "the dry run changed the CAS: $(diff objects.0 objects.1)"
cmp -s index.0 index.1 || fail "the dry run changed the index"
run_expect 0 dryj.out dryj.err ctl gc --dry-run --now "$AHEAD_91" --format json
jq -e '.dryRun == true and (.deleted | length) == 4 and .counts.objects == 8' dryj.out >/dev/null ||
  fail "dry-run JSON: $(cat dryj.out)"

step "gc at the boundary deletes the old batches and the orphan, nothing else"
run_expect 0 gc1.out gc1.err ctl gc --now "$BOUNDARY"
cat gc1.out
[[ $(grep -c '^deleted ' gc1.out) -eq 3 ]] || fail "expected 3 deletions"
expect_in gc1.err "gc: deleted runtime-facts acme/$OLD1" "signalsctl log"
objects >objects.2
{
  grep -v -e "^runtime-facts/acme/$OLD1\." -e "^runtime-facts/acme/$OLD2\." -e "^callgraphs/acme/$ORPHAN\." objects.0
  printf '%s\n' "tombstones/callgraphs/acme/$ORPHAN.json" "tombstones/runtime-facts/acme/$OLD1.json" \
    "tombstones/runtime-facts/acme/$OLD2.json"
} | sort >objects.want
diff objects.want objects.2 || fail "the CAS after GC is not exactly the expected set"
# Four removed per batch pair, two for the orphan: 6 files fewer, 3 tombstones more.
[[ $(wc -l <objects.2) -eq $(($(wc -l <objects.0) - 3)) ]] || fail "unexpected object count"
for keep in "attestations/$OLD1.dsse" "attestations/$OLD2.dsse" "manifests/$ORPHAN.json" \
  "manifests/$ORPHAN.json.dsse" "callgraphs/acme/$REF.ndjson.zst" "runtime-facts/acme/$NEW.ndjson.zst"; do
  [[ -f $CAS/$keep ]] || fail "$keep was deleted"
done
[[ $(state_of batches "$OLD1") == expired && $(state_of batches "$OLD2") == expired ]] || fail "old rows not expired"
[[ $(state_of batches "$NEW") == live ]] || fail "the new batch was expired"
[[ $(state_of callgraphs "$ORPHAN") == expired && $(state_of callgraphs "$REF") == live ]] || fail "callgraph states"
[[ $(sql "SELECT count(*) FROM gc_pending") == 0 ]] || fail "gc_pending is not empty"
[[ $(sql "SELECT count(*) FROM callgraph_digests WHERE json_extract(doc,'\$.graphId')='$ORPHAN'") == 0 ]] ||
  fail "the orphan's digest row is still there"
TOMB=$CAS/tombstones/runtime-facts/acme/$OLD1.json
sql "SELECT doc FROM batches WHERE key='$OLD1'" | jq -S . >row.json
jq -S .index.record "$TOMB" >tomb-record.json
diff row.json tomb-record.json || fail "the tombstone's index.record differs from the index row"
jq -e --arg id "$OLD1" '.kind == "runtime-facts" and .tenantId == "acme" and .id == $id
    and .attestation == ("attestations/" + $id + ".dsse") and .index.collection == "batches"
    and .deletedKeys == ["runtime-facts/acme/" + $id + ".ndjson.zst", "runtime-facts/acme/" + $id + ".provenance.json"]' \
  "$TOMB" >/dev/null || fail "tombstone: $(cat "$TOMB")"
# Canonical JSON: exactly what python prints with sorted keys and no spaces.
"$PY" -c 'import json,sys; b=open(sys.argv[1],"rb").read(); sys.exit(0 if json.dumps(json.loads(b),sort_keys=True,separators=(",",":"),ensure_ascii=False).encode()==b else 1)' "$TOMB" ||
  fail "the tombstone is not canonical JSON"
DELETED_AT=$(jq -r .deletedAt "$TOMB")

step "verify batch: expired (exit 3) for a removed batch, valid for a live one"
run_expect 3 v1.out v1.err ctl verify batch "$OLD1"
expect_in v1.out "expired" "verify batch $OLD1"
expect_in v1.out "attestation valid" "verify batch $OLD1"
run_expect 0 v2.out v2.err ctl verify batch "$NEW"
expect_in v2.out "valid" "verify batch $NEW"
run_expect 3 vg.out vg.err ctl verify callgraph "$ORPHAN"
expect_in vg.out "expired" "verify callgraph $ORPHAN"
run_expect 0 vr.out vr.err ctl verify callgraph "$REF"
printf '{"symbolId":"sym-a"}\n' >facts.ndjson
run_expect 1 ref.out ref.err ctl ingest facts facts.ndjson --tenant acme --callgraph-id "$ORPHAN"
expect_in ref.err "deleted by retention" "ingest against the expired orphan"

step "signalsd: 410 with the attestation link, the stream skips expired batches, scheduled GC"
ctl keys export "$KEY_ID" >public.pem 2>/dev/null
TOKEN=$(token audit-service acme)
AUTH=(-H "Authorization: Bearer $TOKEN")
start_signalsd "$DATA" --retention.gc_interval=1s
req blob "${AUTH[@]}" "$BASE/signals/runtime-facts/$OLD1"
expect_problem 410 "GET removed batch"
jq -e --arg id "$OLD1" --arg at "$DELETED_AT" '.code == "gone" and .attestation == ("/signals/runtime-facts/" + $id + "/attestation")
    and .deletedAt == $at' blob.body >/dev/null || fail "410 body: $(cat blob.body)"
LINK=$(jq -r .attestation blob.body)
req prov "${AUTH[@]}" "$BASE/signals/runtime-facts/$OLD1/provenance"
expect_problem 410 "GET removed provenance"
req att "${AUTH[@]}" "$BASE$LINK"
expect_status 200 "GET the attestation link"
run_expect 0 dsse.out dsse.err "$PY" "$HERE/verify_dsse.py" att.body public.pem --keyid "$KEY_ID"
req graph "${AUTH[@]}" "$BASE/signals/callgraphs/$ORPHAN"
expect_problem 410 "GET removed callgraph"
GLINK=$(jq -r .attestation graph.body)
[[ $GLINK == "/signals/callgraphs/$ORPHAN/manifest?format=dsse" ]] || fail "callgraph link is '$GLINK'"
req genv "${AUTH[@]}" "$BASE$GLINK"
expect_status 200 "GET the manifest envelope link"
run_expect 0 gdsse.out gdsse.err "$PY" "$HERE/verify_dsse.py" genv.body public.pem --keyid "$KEY_ID"
req live "${AUTH[@]}" "$BASE/signals/runtime-facts/$NEW"
expect_status 200 "GET live batch"
req refgraph "${AUTH[@]}" "$BASE/signals/callgraphs/$REF"
expect_status 200 "GET referenced callgraph"
req stream "${AUTH[@]}" "$BASE/signals/runtime-facts/ndjson?tenant=acme&include_provenance=true"
expect_status 200 "GET stream"
[[ $(wc -l <stream.body) -eq 2 ]] || fail "the stream should hold the live batch's 2 facts: $(cat stream.body)"
[[ $(jq -r .batch_id stream.body | sort -u) == "$NEW" ]] || fail "the stream includes expired batches"
for _ in $(seq 50); do
  req metrics "$BASE/metrics"
  grep -q '^signals_gc_runs_total{result="ok"} [1-9]' metrics.body && break
  sleep 0.1
done
expect_in metrics.body 'signals_gc_runs_total{result="ok"}' "/metrics"
expect_in metrics.body 'signals_gc_last_success_timestamp_seconds' "/metrics"

step "gc --now +91d removes the last batch (signalsd running), then a second run is a no-op"
run_expect 0 gc2.out gc2.err ctl gc --now "$AHEAD_91"
cat gc2.out
[[ $(grep -c '^deleted ' gc2.out) -eq 1 ]] || fail "expected exactly one deletion"
expect_in gc2.out "deleted runtime-facts acme/$NEW" "gc output"
[[ ! -e $CAS/runtime-facts/acme/$NEW.ndjson.zst && -f $CAS/attestations/$NEW.dsse ]] || fail "new batch objects"
req gone "${AUTH[@]}" "$BASE/signals/runtime-facts/$NEW"
expect_problem 410 "GET the batch removed while signalsd runs"
objects >objects.3
index_dump >index.3
run_expect 0 gc3.out gc3.err ctl gc --now "$AHEAD_91"
expect_in gc3.out "deleted 0 runtime-fact batches and 0 orphan callgraphs (0 objects)" "second gc"
objects >objects.4
index_dump >index.4
cmp -s objects.3 objects.4 && cmp -s index.3 index.4 || fail "the second gc changed something"
[[ $(find "$CAS/runtime-facts" -type f | wc -l) -eq 0 ]] || fail "runtime-fact objects remain"
[[ -f $CAS/callgraphs/acme/$REF.ndjson.zst ]] || fail "the referenced callgraph went"

STARTED=$(date +%s%N)
stop_signalsd
ELAPSED_MS=$((($(date +%s%N) - STARTED) / 1000000))
[[ $SIGNALSD_RC -eq 0 ]] || fail "signalsd exited $SIGNALSD_RC on SIGTERM"
((ELAPSED_MS < 5000)) || fail "signalsd took $ELAPSED_MS ms to stop"
expect_in "$SIGNALSD_LOG" "gc: run at" "signalsd log"

step "retention.gc_interval = 0 turns the schedule off"
start_signalsd "$DATA" --retention.gc_interval=0
req metrics0 "$BASE/metrics"
grep -q '^signals_gc_runs_total{[^}]*} [1-9]' metrics0.body && fail "a disabled schedule ran GC: $(grep gc_ metrics0.body)"
stop_signalsd
expect_in "$SIGNALSD_LOG" "retention GC is disabled" "signalsd log"
echo "signalsd stopped in $ELAPSED_MS ms"
