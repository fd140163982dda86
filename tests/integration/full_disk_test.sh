#!/usr/bin/env bash
# A full disk and a read-only file system under a live signalsd
# (README.md#full-disk-and-io-errors), on real tmpfs mounts in a private mount namespace:
#   * the whole data directory on an 8 MiB tmpfs, filled up: every upload
#     gets 201 or 507 problem+json, never anything else; nothing partial is
#     visible (index rows and objects agree, no temp file, SQLite's integrity
#     check passes); /healthz and /readyz stay 200; once a filler file is
#     deleted the next upload succeeds without a restart;
#   * the CAS on its own tmpfs remounted read-only: 507, the index unchanged,
#     reads still served; remounted read-write, uploads succeed again.
# Needs root (or a user namespace) and mount(8); otherwise exits 77, which
# ctest reports as skipped (SKIP_RETURN_CODE). Mounts are undone on exit.
# usage: full_disk_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
if [[ -z ${FULL_DISK_TEST_NS:-} ]]; then
  # A private mount namespace: the mounts vanish with the test, whatever happens.
  if ! unshare --mount --propagation private true 2>/dev/null; then
    echo "SKIPPED: cannot create a mount namespace (needs root or CAP_SYS_ADMIN)"
    exit 77
  fi
  FULL_DISK_TEST_NS=1 exec unshare --mount --propagation private env FULL_DISK_TEST_NS=1 bash "$0" "$@"
fi
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq sqlite3 mount umount df

MOUNTS=()
unmount_all() {
  local rc=$?
  set +e
  # signalsd first: a busy mount cannot be unmounted.
  [[ -n $SIGNALSD_PID ]] && kill -KILL "$SIGNALSD_PID" 2>/dev/null && wait "$SIGNALSD_PID" 2>/dev/null
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}"; done
  (exit "$rc")
  http_cleanup
}
trap unmount_all EXIT
mount_tmpfs() {  # mount_tmpfs DIR SIZE
  mkdir -p "$1"
  if ! mount -t tmpfs -o "size=$2,mode=0750" tmpfs "$1" 2>mount.err; then
    echo "SKIPPED: mount -t tmpfs is not permitted here: $(cat mount.err)"
    exit 77
  fi
  MOUNTS+=("$1")
}

NEW_GRAPH() {  # a callgraph nobody stored yet (its node names carry $1)
  echo "${SMALL_CALLGRAPH//Svc./Svc$1.}"
}
# Random symbols: zstd cannot shrink them, so the disk fills quickly.
python3 -c '
import base64, json, os
for i in range(3000):
    print(json.dumps({"symbolId": "sym::" + base64.b64encode(os.urandom(90)).decode(), "hitCount": i + 1}))
' >big.ndjson
gen_facts 20 small.ndjson

upload() {  # upload NAME FILE
  req "$1" -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$2" "$BASE/signals/runtime-facts?tenant=acme&callgraph_id=$GRAPH"
}
# Index rows and objects agree: each batch row has its blob, provenance record
# and attestation, no object lacks its row, no temp file is left, and
# SQLite's WAL and database pass the integrity check.
consistent() {
  local what=$1 rows blobs atts temps
  rows=$(batch_rows "$DATA")
  blobs=$(find "$DATA/cas" -path '*/runtime-facts/acme/*.ndjson.zst' | wc -l)
  provs=$(find "$DATA/cas" -path '*/runtime-facts/acme/*.provenance.json' | wc -l)
  atts=$(find "$DATA/cas" -path '*/attestations/*.dsse' | wc -l)
  [[ $blobs -eq $rows && $provs -eq $rows && $atts -eq $rows ]] ||
    fail "$what: $rows batch rows but $blobs blobs, $provs provenance records, $atts attestations"
  temps=$(find "$DATA/cas" -name '.*.tmp.*')
  [[ -z $temps ]] || fail "$what: temp files left: $temps"
  [[ $(sqlite3 -readonly "$DATA/index.sqlite" 'PRAGMA integrity_check') == ok ]] ||
    fail "$what: SQLite integrity check failed"
}
healthy() {
  req "$1.health" "$BASE/healthz"; expect_status 200 "$1: /healthz"
  req "$1.ready" "$BASE/readyz"; expect_status 200 "$1: /readyz"
}

step "full disk: the data directory on an 8 MiB tmpfs"
mount_tmpfs "$TMP/small" 8m
DATA=$TMP/small/data
"$SIGNALSCTL" --data-dir "$DATA" tenant add acme >/dev/null 2>&1
store_callgraph "$DATA" acme
GRAPH=$CALLGRAPH_ID
AGENT=$(token runtime-agent acme)
SCANNER=$(token scanner-worker acme)
start_signalsd "$DATA"
PID=$SIGNALSD_PID
# Leave about 1 MiB: a few large batches fit, then the disk is full.
avail=$(df --output=avail -B1 "$TMP/small" | tail -n 1)
head -c $((avail - 1024 * 1024)) /dev/zero >"$TMP/small/filler"

ok=0 full=0
for i in $(seq 12); do
  upload "big$i" big.ndjson
  case $STATUS in
    201) ok=$((ok + 1)) ;;
    507) expect_problem 507 "big upload $i"; full=$((full + 1)) ;;
    *) expect_status "201 or 507" "big upload $i" ;;
  esac
  consistent "after big upload $i ($STATUS)"
done
((full > 0)) || fail "the disk never filled ($ok uploads succeeded)"
step "full: $ok large uploads stored, $full got 507; now small ones fill what is left"
# Small uploads fail at other steps: the attestation, the provenance record,
# the index commit.
for i in $(seq 40); do
  upload "small$i" small.ndjson
  case $STATUS in
    201) ok=$((ok + 1)) ;;
    507) expect_problem 507 "small upload $i"; full=$((full + 1)) ;;
    *) expect_status "201 or 507" "small upload $i" ;;
  esac
done
consistent "after the small uploads"
# Where the disk ran out, as the problems say (the CAS write or the SQLite commit).
for f in big*.body small*.body; do jq -r 'select(.status == 507) | .detail' "$f"; done |
  sed -E 's/.*(No space left on device|SQLITE_FULL).*/\1/' | sort | uniq -c >full-sites.txt
grep -qE 'No space left on device|SQLITE_FULL' full-sites.txt || fail "507 details name no full disk: $(cat full-sites.txt)"
echo "507 details: $(tr -s ' \n' ' ' <full-sites.txt)"
# A callgraph upload too.
req graph-full -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "$(NEW_GRAPH Full)" \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg:maven/com.example/full@1.0.0&language=java"
expect_problem 507 "callgraph upload on a full disk"
[[ $(callgraph_rows "$DATA") -eq 1 ]] || fail "the refused callgraph has an index row"
healthy full
kill -0 "$PID" || fail "signalsd died on the full disk"

step "space returns (filler deleted): uploads succeed without a restart"
rm -f "$TMP/small/filler"
upload recovered big.ndjson
expect_status 201 "the first upload after space returned"
req graph-recovered -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' \
  --data-binary "$(NEW_GRAPH Full)" \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg:maven/com.example/full@1.0.0&language=java"
expect_status 201 "the callgraph upload after space returned"
consistent "after recovery"
healthy recovered
[[ $SIGNALSD_PID == "$PID" ]] && kill -0 "$PID" || fail "signalsd was restarted or died"
stop_signalsd
run_expect 0 fsck.out fsck.err "$SIGNALSCTL" --data-dir "$DATA" fsck
expect_in fsck.out "0 problems" "fsck after the full disk"

step "read-only: the CAS on its own tmpfs, remounted read-only under signalsd"
DATA=$TMP/ro/data
mkdir -p "$DATA"
mount_tmpfs "$DATA/cas" 8m
"$SIGNALSCTL" --data-dir "$DATA" tenant add acme >/dev/null 2>&1
store_callgraph "$DATA" acme
GRAPH=$CALLGRAPH_ID
AGENT=$(token runtime-agent acme)
SERVICE=$(token signals-service acme)
start_signalsd "$DATA"
PID=$SIGNALSD_PID
upload before small.ndjson
expect_status 201 "upload before the remount"
BEFORE=$(jq -r .batchId before.body)
# cas-fs holds no file open between requests, so the remount is not busy.
mount -o remount,ro "$DATA/cas" || fail "cannot remount the CAS read-only"
upload ro small.ndjson
expect_problem 507 "upload to a read-only CAS"
expect_in ro.body "Read-only file system" "the 507's detail"
[[ $(batch_rows "$DATA") -eq 1 ]] || fail "the refused upload has an index row"
req ro-get -H "Authorization: Bearer $SERVICE" "$BASE/signals/runtime-facts/$BEFORE"
expect_status 200 "reading a batch from the read-only CAS"
cmp -s small.ndjson ro-get.body || fail "the batch read back from the read-only CAS differs"
req ro-health "$BASE/healthz"; expect_status 200 "/healthz with a read-only CAS"
# /readyz says the CAS cannot take writes (503) so that a load balancer sends
# uploads elsewhere; it is checked, not required to be 200.
req ro-ready "$BASE/readyz"
[[ $STATUS == 503 ]] && jq -e '.instances.cas != "ok"' ro-ready.body >/dev/null ||
  fail "/readyz with a read-only CAS: $STATUS $(cat ro-ready.body)"
mount -o remount,rw "$DATA/cas" || fail "cannot remount the CAS read-write"
upload rw small.ndjson
expect_status 201 "upload after the remount read-write"
healthy rw
[[ $SIGNALSD_PID == "$PID" ]] && kill -0 "$PID" || fail "signalsd was restarted or died"
consistent "after the read-only episode"
stop_signalsd
run_expect 0 fsck2.out fsck2.err "$SIGNALSCTL" --data-dir "$DATA" fsck
expect_in fsck2.out "0 problems" "fsck after the read-only episode"
