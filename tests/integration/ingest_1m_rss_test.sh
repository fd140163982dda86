#!/usr/bin/env bash
# A 1,000,000-fact ingest (~190 MB of NDJSON) runs in bounded memory: peak
# RSS of signalsctl stays under 128 MiB, measured with GNU time (%M) or, where
# it is missing, by polling VmHWM in /proc/<pid>/status.
# usage: ingest_1m_rss_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need jq awk sha256sum

FACTS=1000000
LIMIT_KIB=$((128 * 1024))
DATA=$TMP/data

step "generate $FACTS facts"
start=$(date +%s.%N)
awk -v n="$FACTS" 'BEGIN {
  for (i = 0; i < n; i++) {
    printf "{\"symbolId\":\"com.example.orders.OrderService::placeOrder_%07d(Lcom/example/Order;)V\",\"hitCount\":%d,\"processId\":%d,\"processName\":\"java\",\"observedAt\":\"2025-01-02T03:04:05.678Z\"}\n", i, i % 1000 + 1, 4000 + i % 64
  }
}' >facts.ndjson
SIZE=$(stat -c %s facts.ndjson)
echo "generated $SIZE bytes in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

step "store the callgraph the facts reference"
store_callgraph "$DATA"

step "ingest under a peak-RSS probe"
ARGS=(--data-dir "$DATA" ingest facts facts.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID")
start=$(date +%s.%N)
if [[ -x /usr/bin/time ]]; then
  rc=0
  /usr/bin/time -f %M -o rss.txt "$SIGNALSCTL" "${ARGS[@]}" >record.json 2>err.txt || rc=$?
  PEAK_KIB=$(tail -n 1 rss.txt)
  PROBE="GNU time %M"
else
  "$SIGNALSCTL" "${ARGS[@]}" >record.json 2>err.txt &
  pid=$!
  PEAK_KIB=0
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [[ -n $hwm && $hwm -gt $PEAK_KIB ]] && PEAK_KIB=$hwm
    sleep 0.05
  done
  rc=0
  wait "$pid" || rc=$?
  PROBE="VmHWM polling (install package 'time' for an exact figure)"
fi
ELAPSED=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[[ $rc -eq 0 ]] || { cat err.txt >&2; fail "ingest of $FACTS facts exited $rc"; }
[[ $PEAK_KIB =~ ^[0-9]+$ ]] || fail "could not measure peak RSS (got '$PEAK_KIB')"

echo "peak RSS: $PEAK_KIB KiB ($((PEAK_KIB / 1024)) MiB) by $PROBE; ingest took ${ELAPSED} s for $SIZE bytes"
[[ $(jq -r .factCount record.json) == "$FACTS" ]] || fail "factCount is $(jq -r .factCount record.json), expected $FACTS"
[[ $PEAK_KIB -lt $LIMIT_KIB ]] || fail "peak RSS $PEAK_KIB KiB is not under $LIMIT_KIB KiB (128 MiB)"

step "the stored batch is the input"
[[ "sha256:$(sha256sum facts.ndjson | cut -d' ' -f1)" == "$(jq -r .provenanceHash record.json)" ]] ||
  fail "provenanceHash differs from sha256sum of the input"
BLOB=$DATA/cas/signals/runtime-facts/global/$(jq -r .batchId record.json).ndjson.zst
echo "stored blob: $(stat -c %s "$BLOB") bytes compressed"
