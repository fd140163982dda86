#!/usr/bin/env bash
# data_dir_sharing_test.sh <signalsctl> <signalsd> <testdata-dir>
#
# Processes sharing one data directory are safe together or refused with a
# clear lock error, never a corruption:
#   * one signalsd serving HTTP uploads while two signalsctl processes ingest
#     into the same directory: every acknowledged batch is there, fsck is
#     clean, the batch ids are distinct;
#   * a second signalsd on the directory is refused, naming the first one's pid;
#   * `signalsctl reindex` (which rewrites index collections) is refused while
#     signalsd runs, and works once it has stopped;
#   * while a reindex holds the directory, other commands are refused at once
#     (not blocked), naming the reindex.
set -euo pipefail

SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq flock sqlite3

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }
BATCHES=12  # per writer

step "setup: a callgraph and a token, then signalsd"
store_callgraph "$DATA"
AGENT=$(token runtime-agent global)
start_signalsd "$DATA"
[[ $(cat "$DATA/signalsd.pid") == "$SIGNALSD_PID" ]] || fail "signalsd.pid holds '$(cat "$DATA/signalsd.pid")', not $SIGNALSD_PID"

step "three writers at once: HTTP into signalsd, and two signalsctl processes"
gen_facts 200 facts.ndjson
http_writer() {
  for i in $(seq "$BATCHES"); do
    curl -sS --max-time 30 -o "http-$i.json" -w '%{http_code}\n' -H "Authorization: Bearer $AGENT" \
      -H 'Content-Type: application/x-ndjson' --data-binary @facts.ndjson \
      "$BASE/signals/runtime-facts?tenant=global&callgraph_id=$CALLGRAPH_ID" >>http.codes
  done
}
ctl_writer() {
  local name=$1
  for i in $(seq "$BATCHES"); do
    if ctl ingest facts facts.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID" --source "$name" \
      >"$name-$i.json" 2>>"$name.err"; then
      echo ok >>"$name.codes"
    else
      echo "failed: $(tail -n 1 "$name.err")" >>"$name.codes"
    fi
  done
}
http_writer &
p1=$!
ctl_writer ctl-a &
p2=$!
ctl_writer ctl-b &
p3=$!
wait $p1 $p2 $p3
[[ $(grep -c '^201$' http.codes) == "$BATCHES" ]] || fail "HTTP uploads: $(sort http.codes | uniq -c)"
for w in ctl-a ctl-b; do
  [[ $(grep -c '^ok$' $w.codes) == "$BATCHES" ]] || fail "$w: $(sort $w.codes | uniq -c)"
done
jq -r .batchId http-*.json ctl-a-*.json ctl-b-*.json | sort >acked.ids
[[ $(sort -u acked.ids | wc -l) == $((3 * BATCHES)) ]] || fail "acknowledged batch ids are not distinct"
ctl batches list --format json --limit 0 2>/dev/null | jq -r '.[].batchId' | sort >listed.ids
diff acked.ids listed.ids >/dev/null || fail "acknowledged and listed batches differ: $(diff acked.ids listed.ids | head)"

step "fsck while signalsd still runs: clean"
run_expect 0 fsck.out fsck.err ctl fsck

step "a second signalsd on the same directory is refused, naming the first"
rc=0
"$SIGNALSD" --data-dir "$DATA" >second.out 2>second.err || rc=$?
[[ $rc -ne 0 ]] || fail "a second signalsd started on $DATA"
expect_in second.err "is already served by signalsd (pid $SIGNALSD_PID); one signalsd per data directory" \
  "the second signalsd's stderr"

step "reindex is refused while signalsd runs"
run_expect 2 reindex.out reindex.err ctl reindex
expect_in reindex.err "is in use by signalsd (pid $SIGNALSD_PID) or another process; stop signalsd" "reindex's stderr"
[[ $(batch_rows "$DATA") == $((3 * BATCHES)) ]] || fail "the refused reindex changed the index"

step "after signalsd stops, reindex works and fsck stays clean"
stop_signalsd
[[ $SIGNALSD_RC == 0 ]] || fail "signalsd exited $SIGNALSD_RC"
run_expect 0 reindex2.out reindex2.err ctl reindex
run_expect 0 fsck2.out fsck2.err ctl fsck
[[ $(batch_rows "$DATA") == $((3 * BATCHES)) ]] || fail "batches after reindex: $(batch_rows "$DATA")"

step "while the directory is held exclusively (as reindex holds it), others are refused at once"
# The holder is one process (the subshell becomes `sleep`), so killing it
# releases the lock: no child keeps the descriptor.
(
  exec 9<>"$DATA/signals.lock"
  flock -x 9
  exec sleep 30
) &
holder=$!
for _ in $(seq 50); do flock -n -s "$DATA/signals.lock" true 2>/dev/null || break; sleep 0.1; done
start=$(date +%s)
run_expect 2 held.out held.err ctl batches list
expect_in held.err "is locked by a running \`signalsctl reindex\`; try again when it has finished" "batches list's stderr"
(($(date +%s) - start < 10)) || fail "the refused command waited for the lock"
rc=0
"$SIGNALSD" --data-dir "$DATA" >held-d.out 2>held-d.err || rc=$?
[[ $rc -ne 0 ]] || fail "signalsd started while the directory was held exclusively"
expect_in held-d.err "is locked by a running \`signalsctl reindex\`" "signalsd's stderr"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
run_expect 0 after.out after.err ctl batches list
