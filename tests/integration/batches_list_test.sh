#!/usr/bin/env bash
# `signalsctl batches list` over batches ingested through signalsctl in two
# tenants, its JSON read by jq and its times computed by Python's datetime:
#   * newest received first, every batch with the members of its provenance
#     record; --limit; the table's columns;
#   * --tenant, --callgraph-id and --since (inclusive, any UTC offset), alone
#     and together, with and without --limit;
#   * the listed ids are what `verify batch` takes; batches that retention
#     expired stay listed with state "expired";
#   * a malformed --since, --limit or --format is a usage error (exit 2)
#     naming the option; an unknown tenant or a malformed callgraph id exits 1.
# usage: batches_list_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need jq
[[ -x $PY ]] || fail "$PY is missing (Debian python3; run tools/setup)"

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

# ms_later TIMESTAMP MS: TIMESTAMP plus MS milliseconds, written with the
# offset +02:00, so that --since is also read with an offset other than Z.
ms_later() {
  "$PY" - "$1" "$2" <<'PYEOF'
import datetime, sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%f%z")
t += datetime.timedelta(milliseconds=int(sys.argv[2]))
print(t.astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat(timespec="milliseconds"))
PYEOF
}

# list_ids WHAT WANT ARGS...: `batches list ARGS --format json` lists exactly
# the batchIds WANT (space-separated), in that order. The JSON stays in list.json.
list_ids() {
  local what=$1 want=$2 got
  shift 2
  run_expect 0 list.json list.err ctl batches list "$@" --format json
  got=$(jq -r '[.[].batchId] | join(" ")' list.json)
  [[ $got == "$want" ]] || fail "$what listed [$got], expected [$want]"
}

step "two tenants, a callgraph in each and one in global"
run_expect 0 add.out add.err ctl tenant add acme
run_expect 0 add.out add.err ctl tenant add beta
store_callgraph "$DATA" acme
GRAPH_A=$CALLGRAPH_ID
store_callgraph "$DATA" beta
GRAPH_B=$CALLGRAPH_ID
store_callgraph "$DATA" global
GRAPH_G=$CALLGRAPH_ID

step "an empty store lists nothing"
list_ids "an empty store" ""
run_expect 0 empty.txt empty.err ctl batches list
[[ $(wc -l <empty.txt) -eq 1 ]] || fail "the table of an empty store is not just its header: $(cat empty.txt)"

# ingest NAME TENANT GRAPH FACTS: a batch of FACTS facts; sets NAME to its
# batchId and NAME_AT to its receivedAt. The pause keeps the receivedAt of
# consecutive batches apart, so that a time strictly between them exists.
ingest() {
  local name=$1 tenant=$2 graph=$3 facts=$4
  gen_facts "$facts" "$name.ndjson"
  run_expect 0 "$name.json" "$name.err" ctl ingest facts "$name.ndjson" --tenant "$tenant" \
    --callgraph-id "$graph" --source "agent-$tenant"
  printf -v "$name" '%s' "$(jq -r .batchId "$name.json")"
  printf -v "${name}_AT" '%s' "$(jq -r .receivedAt "$name.json")"
  sleep 0.05
}

step "five batches, the tenants interleaved"
ingest A1 acme "$GRAPH_A" 1
ingest B1 beta "$GRAPH_B" 2
ingest A2 acme "$GRAPH_G" 3
ingest B2 beta "$GRAPH_B" 4
ingest A3 acme "$GRAPH_A" 5
[[ $A1_AT < $B1_AT && $B1_AT < $A2_AT && $A2_AT < $B2_AT && $B2_AT < $A3_AT ]] ||
  fail "receivedAt does not increase: $A1_AT $B1_AT $A2_AT $B2_AT $A3_AT"

step "all batches, newest received first"
list_ids "batches list" "$A3 $B2 $A2 $B1 $A1"
jq -e '[.[].receivedAt] == ([.[].receivedAt] | sort | reverse)' list.json >/dev/null ||
  fail "receivedAt is not descending: $(jq -c '[.[].receivedAt]' list.json)"
jq -e 'all(.state == "live")' list.json >/dev/null || fail "states are $(jq -c '[.[].state]' list.json)"
for name in A1 B1 A2 B2 A3; do
  # The row carries every member of the provenance record ingest printed.
  jq -e --slurpfile record "$name.json" --arg id "${!name}" \
    '.[] | select(.batchId == $id) | . as $row | $record[0] | to_entries | all(.value == $row[.key])' \
    list.json >/dev/null || fail "the row of $name differs from its provenance record: $(jq -c . "$name.json")"
done
[[ $(jq -r '[.[].factCount] | join(" ")' list.json) == "5 4 3 2 1" ]] ||
  fail "factCounts are $(jq -c '[.[].factCount]' list.json)"

step "--limit"
list_ids "--limit 2" "$A3 $B2" --limit 2
list_ids "--limit 0 (no limit)" "$A3 $B2 $A2 $B1 $A1" --limit 0

step "table: BATCH ID, TENANT, CALLGRAPH ID, FACTS, RECEIVED, SOURCE, STATE"
run_expect 0 all.txt all.err ctl batches list
[[ $(head -n 1 all.txt) == $'BATCH ID\tTENANT\tCALLGRAPH ID\tFACTS\tRECEIVED\tSOURCE\tSTATE' ]] ||
  fail "table header is '$(head -n 1 all.txt)'"
[[ $(wc -l <all.txt) -eq 6 ]] || fail "the table does not have a header and 5 rows: $(cat all.txt)"
[[ $(sed -n 2p all.txt) == "$A3"$'\tacme\t'"$GRAPH_A"$'\t5\t'"$A3_AT"$'\tagent-acme\tlive' ]] ||
  fail "first table row is '$(sed -n 2p all.txt)'"
[[ $(awk -F'\t' 'NR > 1 { print $1 }' all.txt | paste -sd' ') == "$A3 $B2 $A2 $B1 $A1" ]] ||
  fail "table order: $(cat all.txt)"

step "--tenant and --callgraph-id"
list_ids "--tenant acme" "$A3 $A2 $A1" --tenant acme
list_ids "--tenant beta" "$B2 $B1" --tenant beta
jq -e 'all(.tenantId == "beta" and .source == "agent-beta")' list.json >/dev/null ||
  fail "--tenant beta listed $(jq -c '[.[] | [.tenantId, .source]]' list.json)"
list_ids "--tenant global" "" --tenant global
list_ids "--callgraph-id (acme's graph)" "$A3 $A1" --callgraph-id "$GRAPH_A"
list_ids "--callgraph-id (the global graph)" "$A2" --callgraph-id "$GRAPH_G"
list_ids "--tenant beta --callgraph-id (acme's graph)" "" --tenant beta --callgraph-id "$GRAPH_A"

step "--since: a time between two batches, and a batch's own receivedAt (inclusive)"
BETWEEN=$(ms_later "$B1_AT" 1)  # after B1, before A2
[[ $BETWEEN == *+02:00 ]] || fail "ms_later wrote '$BETWEEN'"
list_ids "--since $BETWEEN" "$A3 $B2 $A2" --since "$BETWEEN"
list_ids "--since $A2_AT" "$A3 $B2 $A2" --since "$A2_AT"
list_ids "--since after the newest" "" --since "$(ms_later "$A3_AT" 1)"
list_ids "--since before the oldest" "$A3 $B2 $A2 $B1 $A1" --since 2000-01-01T00:00:00Z
list_ids "--since --tenant acme" "$A3 $A2" --since "$BETWEEN" --tenant acme
list_ids "--since --tenant beta" "$B2" --since "$BETWEEN" --tenant beta
list_ids "--since --limit 2" "$A3 $B2" --since "$BETWEEN" --limit 2
list_ids "--since --limit 10" "$A3 $B2 $A2" --since "$BETWEEN" --limit 10
list_ids "--since --callgraph-id" "$A3" --since "$BETWEEN" --callgraph-id "$GRAPH_A"

step "the newest batch of a tenant is the id verify batch takes"
list_ids "--tenant beta --limit 1" "$B2" --tenant beta --limit 1
run_expect 0 verify.out verify.err ctl verify batch "$(jq -r '.[0].batchId' list.json)"

step "usage errors name the option and exit 2"
for bad in yesterday 2025-02-30T00:00:00Z 2025-01-01T00:00:00 ""; do
  run_expect 2 bad.out bad.err ctl batches list --since "$bad"
  expect_in bad.err "batches list: --since" "stderr of --since '$bad'"
  [[ ! -s bad.out ]] || fail "--since '$bad' printed on stdout: $(cat bad.out)"
done
for bad in x -1 10x ""; do
  run_expect 2 bad.out bad.err ctl batches list --limit "$bad"
  expect_in bad.err "batches list: --limit" "stderr of --limit '$bad'"
  # The same option of callgraphs list goes through the same check.
  run_expect 2 bad.out bad.err ctl callgraphs list --limit "$bad"
  expect_in bad.err "callgraphs list: --limit" "stderr of callgraphs list --limit '$bad'"
done
run_expect 2 bad.out bad.err ctl batches list --format yaml
expect_in bad.err "batches list: --format is table or json"
run_expect 2 bad.out bad.err ctl batches list --since
expect_in bad.err "--since needs a value"
run_expect 2 bad.out bad.err ctl batches
expect_in bad.err "batches: expected \`batches list\`"

step "an unknown tenant or a malformed callgraph id is rejected (exit 1)"
run_expect 1 bad.out bad.err ctl batches list --tenant acne
expect_in bad.err "unknown tenant 'acne'"
run_expect 1 bad.out bad.err ctl batches list --tenant ACME
expect_in bad.err "tenant 'ACME' has an invalid character"
run_expect 1 bad.out bad.err ctl batches list --callgraph-id not-a-ulid
expect_in bad.err "callgraphId"

step "batches expired by retention stay listed, marked expired"
run_expect 0 gc.out gc.err ctl gc --now 2999-01-01T00:00:00Z
list_ids "after gc" "$A3 $B2 $A2 $B1 $A1"
jq -e 'all(.state == "expired")' list.json >/dev/null || fail "states after gc: $(jq -c '[.[].state]' list.json)"
run_expect 0 expired.txt expired.err ctl batches list --tenant beta
[[ $(awk -F'\t' 'NR > 1 { print $7 }' expired.txt | paste -sd' ') == "expired expired" ]] ||
  fail "table after gc: $(cat expired.txt)"
