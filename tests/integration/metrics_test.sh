#!/usr/bin/env bash
# Metrics of a real signalsd (transport-http and metrics-prometheus on
# ephemeral loopback ports): /metrics on the API listener and on the plugin's
# own listener, before any ingest and after batches, a callgraph and a few
# failing requests, each scrape checked by Prometheus's own linter
# (`promtool check metrics`, no warnings allowed) and its values compared with
# what the test did (batches, facts, provenance records, requests per route
# template). Then /metrics without a [metrics] section: a 404 problem.
# usage: metrics_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq promtool awk

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

# lint FILE: promtool check metrics passes without a single lint message.
lint() {
  local out rc=0
  out=$(promtool check metrics <"$1" 2>&1) || rc=$?
  [[ $rc -eq 0 && -z $out ]] || fail "promtool check metrics on $1 (exit $rc): $out"
}

# value FILE SERIES: the sample value of SERIES (name{labels} exactly as
# exposed: labels sorted by name), or "absent".
value() {
  awk -v s="$2" '$1 == s { v = $2; found = 1 } END { print found ? v : "absent" }' "$1"
}

# expect_value FILE SERIES WANT
expect_value() {
  local got
  got=$(value "$1" "$2")
  [[ $got == "$3" ]] || fail "$1: $2 is $got, expected $3"
}

# family FILE NAME TYPE: HELP and TYPE lines of NAME are present.
family() {
  grep -q "^# HELP $2 ." "$1" || fail "$1: no HELP line for $2"
  grep -qx "# TYPE $2 $3" "$1" || fail "$1: no '# TYPE $2 $3'"
}

step "setup: tenant, tokens, callgraph"
ctl tenant add acme >/dev/null 2>&1
store_callgraph "$DATA" acme
G_ACME=$CALLGRAPH_ID
AGENT=$(token runtime-agent acme)
SCANNER=$(token scanner-worker acme)

start_signalsd "$DATA" --metrics.listen=127.0.0.1:0 --metrics.port_file="$DATA/metrics-port"
for _ in $(seq 50); do [[ -s $DATA/metrics-port ]] && break; sleep 0.1; done
[[ -s $DATA/metrics-port ]] || fail "metrics-prometheus wrote no port file"
MPORT=$(cat "$DATA/metrics-port")
[[ $MPORT != "$PORT" ]] || fail "the metrics listener shares the API port"
MBASE=http://127.0.0.1:$MPORT

step "before any ingest: every family is there, at zero where it has no labels"
req before "$BASE/metrics"; expect_status 200
[[ $CTYPE == "text/plain; version=0.0.4; charset=utf-8" ]] || fail "API /metrics content type '$CTYPE'"
lint before.body
for f in signals_callgraphs_stored_total signals_runtime_facts_ingested_total \
         signals_runtime_fact_batches_ingested_total signals_provenance_records_total \
         signals_attestations_created_total signals_cas_operations_total signals_ingest_failures_total \
         signals_http_requests_total signals_tlog_submissions_total signals_gc_runs_total \
         signals_gc_deleted_total; do
  family before.body "$f" counter
done
for f in signals_callgraph_nodes signals_runtime_facts_batch_size signals_http_request_duration_seconds; do
  family before.body "$f" histogram
done
for f in signals_tlog_queue_depth signals_plugin_up signals_build_info signals_gc_last_success_timestamp_seconds; do
  family before.body "$f" gauge
done
expect_value before.body signals_provenance_records_total 0
expect_value before.body signals_tlog_queue_depth 0
expect_value before.body 'signals_runtime_facts_batch_size_count' 0
expect_value before.body 'signals_runtime_facts_batch_size_bucket{le="+Inf"}' 0
expect_value before.body 'signals_attestations_created_total{result="error"}' 0
expect_value before.body 'signals_gc_runs_total{result="error"}' 0
# The callgraph above was stored by signalsctl, another process: not counted here.
expect_value before.body 'signals_callgraphs_stored_total{language="java",tenant="acme"}' absent
# Buckets chosen for sizes from 1 to 10^7.
grep -q '^signals_runtime_facts_batch_size_bucket{le="10000000"} 0$' before.body ||
  fail "no 10^7 bucket in signals_runtime_facts_batch_size"
[[ $(grep -c '^signals_runtime_facts_batch_size_bucket' before.body) -eq 23 ]] ||
  fail "signals_runtime_facts_batch_size has $(grep -c '^signals_runtime_facts_batch_size_bucket' before.body) buckets, expected 22 + +Inf"
BUILD=$(grep '^signals_build_info{' before.body) || fail "no signals_build_info series"
[[ $BUILD =~ ^signals_build_info\{revision=\"[^\"]+\",version=\"[0-9]+\.[0-9]+\.[0-9]+\"\}\ 1$ ]] ||
  fail "unexpected build info: $BUILD"
for up in 'section="cas",plugin="cas-fs"' 'section="index",plugin="index-sqlite"' \
          'section="metrics",plugin="metrics-prometheus"' 'section="transport.http",plugin="transport-http"'; do
  plugin=${up#*plugin=}
  section=${up%%,*}
  expect_value before.body "signals_plugin_up{plugin=$plugin,$section}" 1
done

step "ingest 3 batches and a callgraph over HTTP, plus requests that fail"
FACT_COUNTS=(25 40 7)
TOTAL_FACTS=0
for n in "${FACT_COUNTS[@]}"; do
  gen_facts "$n" "facts-$n.ndjson"
  req "post-$n" -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/x-ndjson' \
    --data-binary "@facts-$n.ndjson" "$BASE/signals/runtime-facts?tenant=acme&callgraph_id=$G_ACME"
  expect_status 201
  TOTAL_FACTS=$((TOTAL_FACTS + n))
done
B1=$(jq -r .batchId post-25.body)
CG=${SMALL_CALLGRAPH//Svc./Metrics.}
req cg -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "$CG" \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg%3Amaven%2Fcom.example%2Fmetrics%401.0.0&language=java"
expect_status 201
# An unknown path with an id in it, a known route with an id, an empty batch (400).
req nope "$BASE/no/such/path/$B1"; expect_status 404
req batch "$BASE/signals/runtime-facts/$B1"; expect_status 401
req empty -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/x-ndjson' --data-binary '' \
  "$BASE/signals/runtime-facts?tenant=acme&callgraph_id=$G_ACME"
[[ $STATUS == 4* ]] || fail "an empty batch answered $STATUS"
EMPTY_STATUS=$STATUS

step "API /metrics after ingest: promtool-clean, values match what happened"
req after "$BASE/metrics"; expect_status 200
lint after.body
expect_value after.body 'signals_runtime_fact_batches_ingested_total{tenant="acme"}' 3
expect_value after.body signals_provenance_records_total 3
expect_value after.body signals_runtime_facts_batch_size_count 3
expect_value after.body signals_runtime_facts_batch_size_sum "$TOTAL_FACTS"
# 7 <= 10, 25 and 40 <= 50: cumulative buckets.
expect_value after.body 'signals_runtime_facts_batch_size_bucket{le="5"}' 0
expect_value after.body 'signals_runtime_facts_batch_size_bucket{le="10"}' 1
expect_value after.body 'signals_runtime_facts_batch_size_bucket{le="25"}' 2
expect_value after.body 'signals_runtime_facts_batch_size_bucket{le="50"}' 3
expect_value after.body 'signals_runtime_facts_batch_size_bucket{le="+Inf"}' 3
FACTS_SUM=$(awk '/^signals_runtime_facts_ingested_total\{/ { s += $2 } END { print s + 0 }' after.body)
[[ $FACTS_SUM -eq $TOTAL_FACTS ]] || fail "signals_runtime_facts_ingested_total sums to $FACTS_SUM, expected $TOTAL_FACTS"
grep -q '^signals_runtime_facts_ingested_total{fact_type="runtime.module.loaded",tenant="acme"} ' after.body ||
  fail "no per-fact-type series"
expect_value after.body 'signals_callgraphs_stored_total{language="java",tenant="acme"}' 1
expect_value after.body 'signals_callgraph_nodes_count{language="java"}' 1
expect_value after.body 'signals_callgraph_nodes_sum{language="java"}' 2
# Three batch attestations and one manifest envelope were signed here.
expect_value after.body 'signals_attestations_created_total{result="ok"}' 4
expect_value after.body 'signals_attestations_created_total{result="error"}' 0
PUTS=$(value after.body 'signals_cas_operations_total{operation="put",result="ok"}')
[[ $PUTS != absent && $PUTS -ge 4 ]] || fail "signals_cas_operations_total put ok is $PUTS"
# Requests per route template, method and code; never a raw path or an id.
expect_value after.body 'signals_http_requests_total{code="201",method="POST",route="/signals/runtime-facts"}' 3
expect_value after.body 'signals_http_requests_total{code="201",method="POST",route="/signals/callgraphs"}' 1
expect_value after.body "signals_http_requests_total{code=\"$EMPTY_STATUS\",method=\"POST\",route=\"/signals/runtime-facts\"}" 1
expect_value after.body 'signals_http_requests_total{code="404",method="GET",route="unmatched"}' 1
expect_value after.body 'signals_http_requests_total{code="401",method="GET",route="/signals/runtime-facts/{batchId}"}' 1
expect_value after.body 'signals_http_request_duration_seconds_count{method="POST",route="/signals/runtime-facts"}' 4
expect_value after.body 'signals_http_request_duration_seconds_bucket{method="POST",route="/signals/runtime-facts",le="+Inf"}' 4
# The /metrics scrape before counts once it has been answered.
expect_value after.body 'signals_http_requests_total{code="200",method="GET",route="/metrics"}' 1
if grep -q -e "$B1" -e "$G_ACME" -e "/no/such" after.body; then fail "a raw path or id appears in the metrics"; fi
if grep -q -e "$AGENT" -e "$SCANNER" after.body "$SIGNALSD_LOG"; then fail "a token appears in the metrics or the log"; fi
# Families and series come sorted.
grep '^# TYPE ' after.body | awk '{ print $3 }' >names.txt
LC_ALL=C sort -c names.txt 2>/dev/null || fail "families are not sorted by name"

step "the plugin's own listener: a fresh snapshot, same families, promtool-clean"
req own "$MBASE/metrics"; expect_status 200
[[ $CTYPE == "text/plain; version=0.0.4; charset=utf-8" ]] || fail "own listener content type '$CTYPE'"
lint own.body
diff <(grep '^# ' after.body) <(grep '^# ' own.body) || fail "the two listeners expose different families"
expect_value own.body 'signals_runtime_fact_batches_ingested_total{tenant="acme"}' 3
# Fresh: it includes the API scrape that happened after the first one.
expect_value own.body 'signals_http_requests_total{code="200",method="GET",route="/metrics"}' 2
req own404 "$MBASE/other"; expect_status 404
req own405 -X POST "$MBASE/metrics"; expect_status 405

step "SIGTERM stops both listeners; signalsd exits 0"
stop_signalsd
[[ $SIGNALSD_RC -eq 0 ]] || fail "signalsd exited $SIGNALSD_RC on SIGTERM"
if curl -s -o /dev/null --max-time 2 "$MBASE/metrics"; then fail "the metrics listener still answers after shutdown"; fi

step "without a [metrics] section /metrics answers a 404 problem"
# The shipped default without its [metrics] section.
awk '/^\[/ { skip = ($0 == "[metrics]") } !skip' "$HERE/../../configs/signals.conf" >no-metrics.conf
grep -q '^\[cas\]' no-metrics.conf && ! grep -q '^\[metrics\]' no-metrics.conf || fail "cannot derive a config without [metrics]"
start_signalsd "$DATA" --config no-metrics.conf
req nometrics "$BASE/metrics"
expect_problem 404 "GET /metrics without a metrics plugin"
jq -e '.detail | contains("[metrics]")' nometrics.body >/dev/null || fail "the problem does not say what to configure: $(cat nometrics.body)"
stop_signalsd
