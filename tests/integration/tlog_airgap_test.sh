#!/usr/bin/env bash
# The air-gap build (-DSIGNALS_WITH_REKOR=OFF) has no tlog-rekor plugin and
# needs no libcurl. Asking it for Rekor fails at start with a message that
# says so (with and without a [tlog] section); with rekor_enabled = false
# (configs/signals-airgap.conf) it ingests and records "rekor-disabled".
# usage: tlog_airgap_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need jq

DATA=$TMP/data
PLUGINS=$(dirname "$SIGNALSD")/../lib/signals/plugins
[[ -d $PLUGINS ]] || fail "no plugin dir at $PLUGINS"
[[ ! -e $PLUGINS/libsignals-tlog-rekor.so ]] || fail "the air-gap build has a tlog-rekor plugin"
for so in "$PLUGINS"/*.so "$SIGNALSD" "$SIGNALSCTL"; do
  if ldd "$so" | grep libcurl >/dev/null; then fail "$so links libcurl"; fi
done

step "rekor_enabled = true without a [tlog] section: refused, the message names the air-gap build"
run_expect 2 out.txt err.txt "$SIGNALSD" --data-dir "$DATA" --provenance.rekor_enabled=true --check-config
expect_in err.txt "rekor_enabled: true, but no [tlog] instance is configured and this build has no tlog-rekor plugin (air-gap build)"
run_expect 2 out.txt err.txt "$SIGNALSD" --data-dir "$DATA" --provenance.rekor_enabled=true
expect_in err.txt "air-gap build"

step "a [tlog] section asking for tlog-rekor: refused, naming the build option"
run_expect 2 out.txt err.txt "$SIGNALSD" --data-dir "$DATA" --provenance.rekor_enabled=true \
  --tlog.plugin=tlog-rekor --tlog.url=http://127.0.0.1:9 --check-config
expect_in err.txt "[tlog] plugin: no plugin component named 'tlog-rekor'"
expect_in err.txt "this build has no transparency-log plugin (built with SIGNALS_WITH_REKOR=OFF?)"

step "rekor_enabled = false: ingest records rekor-disabled"
CONF=$HERE/../../configs/signals-airgap.conf
[[ -f $CONF ]] || fail "no $CONF"
ctl() { "$SIGNALSCTL" --config "$CONF" --data-dir "$DATA" "$@"; }
SMALL='{"schema":"stella.callgraph.v1","nodes":[{"id":"m","name":"A.m","kind":"method"}],"edges":[],"entrypoints":[{"nodeId":"m","kind":"main"}]}'
run_expect 0 graph.json err.txt ctl ingest callgraph - --tenant global --purl pkg:maven/com.example/a@1 --language java <<<"$SMALL"
GRAPH=$(jq -r .graphId graph.json)
printf '{"symbolId":"A.m"}\n' >facts.ndjson
run_expect 0 record.json err.txt ctl ingest facts facts.ndjson --tenant global --callgraph-id "$GRAPH"
[[ $(jq -r .skipReason record.json) == rekor-disabled ]] || fail "skipReason is $(jq -r .skipReason record.json)"
[[ $(jq -r .rekorUuid record.json) == null ]] || fail "rekorUuid is $(jq -r .rekorUuid record.json)"
