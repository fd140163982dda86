#!/usr/bin/env bash
# I/O errors under a live signalsd (README.md#full-disk-and-io-errors), injected with the
# LD_PRELOAD shim tests/faults/fault_shim.c: EIO on the write, the fsync and
# the rename of a CAS object, on the fsync of its directory (failing the first
# one only: the "fsyncgate" case), on the link(2) fallback of the no-replace
# publish, and EIO / ENOSPC / EROFS on the writes and fsync of SQLite's WAL.
# For each: signalsd starts with the shim, the fault is armed, one upload gets a
# 5xx problem+json (507 for ENOSPC and EROFS, 500 for EIO), the shim's log
# shows that the fault fired, nothing of the batch is visible (no index row, no
# object, no temp file), nothing whose fsync failed was fsynced again and kept,
# /healthz and /readyz answer 200, and the next upload (fault exhausted)
# gets 201 from the same process. At the end `signalsctl fsck` is clean and
# every acknowledged batch reads back. Runs as any user; needs no mount.
# usage: io_faults_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR FAULT_SHIM
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3 SHIM=$4
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq sqlite3 cmp
[[ -f $SHIM ]] || fail "the fault shim $SHIM is missing (build target signals_fault_shim)"

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

step "setup: tenant, callgraph, token"
ctl tenant add acme >/dev/null 2>&1
store_callgraph "$DATA" acme
GRAPH=$CALLGRAPH_ID
AGENT=$(token runtime-agent acme)
gen_facts 200 facts.ndjson

ACKED=()  # batch ids that got 201
upload() {
  req "$1" -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/x-ndjson' \
    --data-binary @facts.ndjson "$BASE/signals/runtime-facts?tenant=acme&callgraph_id=$GRAPH"
}
# Everything the store holds of batches: rows, objects, temp files.
snapshot() {
  echo "rows=$(batch_rows "$DATA")"
  find "$DATA/cas" -type f \( -path '*/runtime-facts/*' -o -path '*/attestations/*' \) | sort
}

# fault_case NAME WANT_STATUS RULE [WANT_DETAIL]: one upload under RULE (see
# fault_shim.c) fails with WANT_STATUS and stores nothing; the next succeeds.
fault_case() {
  local name=$1 want=$2 rule=$3 detail=${4:-}
  step "$name: SIGNALS_FAULT=$rule -> $want"
  rm -f "$TMP/arm" "$TMP/faults.log"
  LD_PRELOAD=$SHIM SIGNALS_FAULT=$rule SIGNALS_FAULT_ARM=$TMP/arm SIGNALS_FAULT_LOG=$TMP/faults.log \
    start_signalsd "$DATA"
  local pid=$SIGNALSD_PID
  snapshot >"$name.before"
  touch "$TMP/arm"  # armed only now: starting signalsd is not under test
  upload "$name.fail"
  expect_problem "$want" "$name: the upload under the fault"
  [[ -s $TMP/faults.log ]] && grep -qv ' ok ' "$TMP/faults.log" ||
    fail "$name: the fault never fired (shim log: $(cat "$TMP/faults.log" 2>/dev/null))"
  [[ -z $detail ]] || expect_in "$name.fail.body" "$detail" "$name: the problem's detail"
  snapshot >"$name.after"
  cmp -s "$name.before" "$name.after" ||
    fail "$name: the failed upload left something behind: $(diff "$name.before" "$name.after")"
  local temps
  temps=$(find "$DATA/cas" -name '.*.tmp.*')
  [[ -z $temps ]] || fail "$name: temp files left: $temps"
  req "$name.health" "$BASE/healthz"; expect_status 200 "$name: /healthz after the fault"
  req "$name.ready" "$BASE/readyz"; expect_status 200 "$name: /readyz after the fault"
  upload "$name.next"
  expect_status 201 "$name: the next upload (fault exhausted)"
  ACKED+=("$(jq -r .batchId "$name.next.body")")
  kill -0 "$pid" 2>/dev/null || fail "$name: signalsd died"
  cp "$TMP/faults.log" "$name.faults"
  stop_signalsd
  [[ $SIGNALSD_RC -eq 0 ]] || fail "$name: signalsd exited $SIGNALSD_RC at SIGTERM"
}

# fsyncgate: the path an fsync failed on must not be fsynced again with success.
never_fsynced_again() {
  local log=$1 failed
  failed=$(awk '$1 ~ /^(fsync|fdatasync)$/ && $2 == "EIO" { print $3; exit }' "$log")
  [[ -n $failed ]] || fail "no failed fsync in $log"
  if awk -v p="$failed" 'seen && $3 == p && $2 == "ok" { bad = 1 } $3 == p && $2 == "EIO" { seen = 1 }
                         END { exit !bad }' "$log"; then
    fail "$failed was fsynced again after its fsync failed: $(cat "$log")"
  fi
}

CAS_TENANT=/runtime-facts/acme

# The object file: the writer's write(2) fails.
fault_case object-write 500 "write:EIO:$CAS_TENANT/." "Input/output error"
# Its fsync fails: the temp file is removed, never fsynced again and renamed.
fault_case object-fsync 500 "fsync:EIO:$CAS_TENANT/." "fsync"
never_fsynced_again object-fsync.faults
# The no-replace rename fails.
fault_case object-rename 500 "rename:EIO:$CAS_TENANT/" "rename"
# renameat2 unsupported (as on some FUSE and network file systems): the link(2)
# fallback publishes; here the link fails once, and the next upload goes
# through the fallback.
fault_case object-link 500 "rename:EINVAL:$CAS_TENANT/:0,link:EIO:$CAS_TENANT/" "rename"
grep -q '^link ok ' object-link.faults || fail "the link fallback never published: $(cat object-link.faults)"
# fsyncgate: the first fsync of the tenant's directory fails, every later one
# succeeds. The upload whose rename that fsync covered must be refused (its
# object removed again), not acknowledged because a later fsync said "ok".
fault_case directory-fsync 500 "fsync:EIO:$CAS_TENANT\$" "fsync directory"
grep -q "^fsync ok .*$CAS_TENANT\$" directory-fsync.faults ||
  fail "no later directory fsync succeeded (the case needs one): $(cat directory-fsync.faults)"
# SQLite: the WAL's fsync at COMMIT fails -> the commit fails and is rolled
# back (no row), the CAS objects of the batch are removed, and the writer
# connection keeps working for the next upload.
fault_case wal-fsync 500 "fsync+fdatasync:EIO:index.sqlite-wal" "SQLITE_IOERR"
# A write of the WAL fails: EIO is 500, a full disk 507 (SQLITE_FULL), a file
# system gone read-only 507 too.
fault_case wal-write-eio 500 "write:EIO:index.sqlite-wal" "SQLITE_IOERR"
fault_case wal-write-enospc 507 "write:ENOSPC:index.sqlite-wal" "SQLITE_FULL"
fault_case wal-write-erofs 507 "write:EROFS:index.sqlite-wal"
# The CAS on a file system gone read-only: 507 (storage cannot take it).
fault_case object-erofs 507 "open+rename:EROFS:$CAS_TENANT/" "Read-only file system"
# A new tenant directory whose parent's fsync fails: the directory is removed
# again, so the next upload makes it anew and fsyncs a fresh change.
ctl tenant add beta >/dev/null 2>&1
store_callgraph "$DATA" beta
GRAPH_BETA=$CALLGRAPH_ID
BETA=$(token runtime-agent beta)
step "new-directory: the parent's fsync of a new tenant directory fails"
rm -f "$TMP/arm" "$TMP/faults.log"
LD_PRELOAD=$SHIM SIGNALS_FAULT="fsync:EIO:/runtime-facts\$" SIGNALS_FAULT_ARM=$TMP/arm \
  SIGNALS_FAULT_LOG=$TMP/faults.log start_signalsd "$DATA"
touch "$TMP/arm"
beta_upload() {
  req "$1" -H "Authorization: Bearer $BETA" -H 'Content-Type: application/x-ndjson' \
    --data-binary @facts.ndjson "$BASE/signals/runtime-facts?tenant=beta&callgraph_id=$GRAPH_BETA"
}
beta_upload beta.fail
expect_problem 500 "new-directory: the upload under the fault"
grep -q '^fsync EIO .*/runtime-facts$' "$TMP/faults.log" || fail "new-directory: the fault never fired"
[[ -z $(find "$DATA/cas" -path '*/runtime-facts/beta*') ]] ||
  fail "new-directory: the new directory or objects in it were left: $(find "$DATA/cas" -path '*/runtime-facts/beta*')"
beta_upload beta.next
expect_status 201 "new-directory: the next upload"
ACKED+=("$(jq -r .batchId beta.next.body)")
stop_signalsd

step "fsck is clean and every acknowledged batch reads back"
run_expect 0 fsck.out fsck.err ctl fsck
expect_in fsck.out "0 problems" "fsck"
[[ $(batch_rows "$DATA") -eq ${#ACKED[@]} ]] ||
  fail "$(batch_rows "$DATA") batch rows, ${#ACKED[@]} acknowledged"
SERVICE=$(token signals-service acme beta)
start_signalsd "$DATA"
for id in "${ACKED[@]}"; do
  req "get-$id" -H "Authorization: Bearer $SERVICE" "$BASE/signals/runtime-facts/$id"
  expect_status 200 "GET batch $id"
  cmp -s facts.ndjson "get-$id.body" || fail "batch $id reads back different bytes"
done
stop_signalsd
