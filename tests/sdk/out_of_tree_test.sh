#!/usr/bin/env bash
# out_of_tree_test.sh <build-dir> <source-dir>
#
# Proves that a third party can write a Signals plugin with nothing but an
# installed Signals:
#   1. installs <build-dir> into a temporary prefix;
#   2. builds the SDK's example plugin (source-spool) as a separate CMake
#      project that is given only that prefix, and installs it there;
#   3. the installed signalsctl describes and lists it beside the bundled plugins;
#   4. the installed signalsd runs it (after a callgraph is stored, where the
#      kernel requires facts to refer to one): a valid NDJSON file dropped into the
#      spool is ingested (provenance record beside it, `verify batch` passes),
#      an invalid one is rejected with a problem document; a spool whose tenant
#      does not exist keeps its file (an error names the tenant) until
#      `signalsctl tenant add` creates it while signalsd runs, and then ingests
#      it; SIGTERM stops the daemon with exit status 0.
#
# Shared steps live in sdk_test_lib.sh (environment: see there).
set -euo pipefail
source "$(dirname "$0")/sdk_test_lib.sh"
sdk_test_init "$@"

SPOOL=$TMP/spool
SPOOL_LATE=$TMP/spool-late
LATE_TENANT=late-tenant
WAIT_SECONDS=20

# --- 1. install Signals ------------------------------------------------------
install_signals

# --- 2. build the example against the installed SDK only ----------------------
build_example source-spool
run "installing the example failed" "$CMAKE" --install "$EXAMPLE_BUILD" --prefix "$PREFIX"
PLUGIN=$PREFIX/$LIBDIR/signals/plugins/libsignals-source-spool.so
[[ -f $PLUGIN ]] || fail "the example did not install $PLUGIN"

# --- 3. signalsctl sees it ------------------------------------------------------
cd "$TMP"  # the default data dir (var/signals) is relative to the working directory
step "signalsctl plugins describe"
describe=$("$PREFIX/bin/signalsctl" plugins describe "$PLUGIN" 2>&1) ||
  fail "signalsctl plugins describe $PLUGIN failed: $describe"
echo "$describe"
grep -q "^component source-spool (source)" <<<"$describe" ||
  fail "describe does not name the component 'source-spool (source)'"
for option in dir tenant callgraph_id poll_interval source; do
  grep -q -- "--<section>\.$option (" <<<"$describe" || fail "describe does not list option '$option'"
done
grep -q -- "--<section>\.dir (path, required)" <<<"$describe" || fail "describe: 'dir' should be a required path"
grep -q -- "--<section>\.tenant (string, default global)" <<<"$describe" ||
  fail "describe: 'tenant' should default to global"

step "signalsctl plugins list (no configuration)"
list=$("$PREFIX/bin/signalsctl" plugins list 2>&1) || fail "signalsctl plugins list failed: $list"
echo "$list"
for name in source-spool cas-fs index-sqlite signer-ed25519; do
  grep -q "^$name " <<<"$list" || fail "plugins list does not show $name"
done
grep -q "^source-spool  *source  *1\.0\.0 .*$PREFIX/$LIBDIR/signals/plugins/libsignals-source-spool\.so" <<<"$list" ||
  fail "plugins list shows source-spool with the wrong kind, version or path"

# --- 4. end to end in signalsd --------------------------------------------------
mkdir -p "$SPOOL" "$SPOOL_LATE" "$DATA"
# The kernel only accepts facts for a stored callgraph: store one first
# (before the daemon starts, with the same data directory). A global graph
# serves every tenant, the one added later too.
step "storing a callgraph for the facts to refer to"
store_callgraph global
CONFIG=$TMP/signals.ini
default_config "$CONFIG"
cat >>"$CONFIG" <<EOF

[source.spool-a]
plugin = source-spool
dir = $SPOOL
callgraph_id = $CALLGRAPH_ID
poll_interval = 200ms

[source.spool-late]
plugin = source-spool
dir = $SPOOL_LATE
tenant = $LATE_TENANT
callgraph_id = $CALLGRAPH_ID
poll_interval = 200ms
EOF

step "signalsd --check-config"
run "signalsd --check-config rejected the configuration" \
  "$PREFIX/bin/signalsd" --data-dir "$DATA" --config "$CONFIG" --check-config

step "starting signalsd"
start_daemon "$CONFIG"
grep -q "spool-late.*the kernel would refuse these files now.*unknown tenant '$LATE_TENANT'" "$DAEMON_LOG" ||
  fail "the spool with an unknown tenant did not warn at start (ingest.check)"

# Producers write under a dot-name (ignored by the spool) and rename into place.
drop() {
  local dir=$1 name=$2
  shift 2
  printf '%s\n' "$@" >"$dir/.$name"
  mv "$dir/.$name" "$dir/$name"
}
drop "$SPOOL" facts-ok.ndjson \
  '{"symbolId":"java:com.example.Foo#bar()","hitCount":3}' \
  '{"symbolId":"java:com.example.Foo#baz()","factType":"runtime.module.loaded"}' \
  '{"symbolId":"java:com.example.Qux#run()","processId":42,"metadata":{"pod":"web-1"}}'
drop "$SPOOL" facts-bad.ndjson \
  '{"symbolId":"java:com.example.Foo#bar()"}' \
  '{"factType":"runtime.symbol.hit","hitCount":1}'
drop "$SPOOL_LATE" facts-late.ndjson \
  '{"symbolId":"java:com.example.Late#one()"}' \
  '{"symbolId":"java:com.example.Late#two()"}'

step "waiting (at most ${WAIT_SECONDS}s) for the spool to be processed"
processed() { [[ -e $SPOOL/$1.done || -e $SPOOL/$1.rejected ]]; }
spool_processed() { processed facts-ok.ndjson && processed facts-bad.ndjson; }
wait_until "$WAIT_SECONDS" "the spool was not processed (see: ls $SPOOL)" spool_processed
ls -A "$SPOOL"
[[ -e $SPOOL/facts-ok.ndjson.done ]] ||
  fail "the valid file was rejected: $(cat "$SPOOL/facts-ok.ndjson.problem.json" 2>/dev/null)"
[[ -e $SPOOL/facts-bad.ndjson.rejected ]] || fail "the invalid file (line 2 lacks symbolId) was accepted"

provenance=$SPOOL/facts-ok.ndjson.provenance.json
[[ -s $provenance ]] || fail "no provenance record $provenance"
echo "provenance: $(cat "$provenance")"
grep -q '"factCount":3[,}]' "$provenance" || fail "the provenance record does not say factCount 3"
grep -q '"source":"spool"' "$provenance" || fail "the provenance record does not say source spool"
batch_id=$(sed -n 's/.*"batchId":"\([0-9A-HJKMNP-TV-Z]\{26\}\)".*/\1/p' "$provenance")
[[ -n $batch_id ]] || fail "no batchId in the provenance record"

problem=$SPOOL/facts-bad.ndjson.problem.json
[[ -s $problem ]] || fail "no problem document $problem"
echo "problem: $(cat "$problem")"
grep -q 'symbolId' "$problem" || fail "the problem document does not name the missing symbolId"
[[ ! -e $SPOOL/facts-ok.ndjson && ! -e $SPOOL/facts-bad.ndjson ]] || fail "a processed file is still in the spool"

step "signalsctl verify batch $batch_id"
verify=$("$PREFIX/bin/signalsctl" --data-dir "$DATA" verify batch "$batch_id" 2>&1) ||
  fail "signalsctl verify batch $batch_id failed: $verify"
echo "$verify"
grep -q "valid (3 facts" <<<"$verify" || fail "verify batch did not report 3 valid facts"

step "an unknown tenant: the file waits in the spool, with one error naming the tenant"
late_error() { grep -q "spool-late.*facts-late.ndjson: not ingested: unknown tenant '$LATE_TENANT'" "$DAEMON_LOG"; }
wait_until "$WAIT_SECONDS" "no error about the unknown tenant '$LATE_TENANT'" late_error
grep "spool-late" "$DAEMON_LOG" | grep "not ingested" | head -n 1
# Several polls (200ms) later the file is still there, neither rejected nor
# done, and the error was not repeated at every poll.
sleep 1
[[ -e $SPOOL_LATE/facts-late.ndjson ]] || fail "the file of the unknown tenant left the spool: $(ls -A "$SPOOL_LATE")"
[[ ! -e $SPOOL_LATE/facts-late.ndjson.rejected ]] || fail "the file of the unknown tenant was rejected"
errors=$(grep -c "facts-late.ndjson: not ingested" "$DAEMON_LOG" || true)
((errors == 1)) || fail "the unknown tenant was logged $errors times (expected once per file)"

step "signalsctl tenant add $LATE_TENANT, with signalsd running: the waiting file is ingested"
run "signalsctl tenant add failed" "$PREFIX/bin/signalsctl" --data-dir "$DATA" tenant add "$LATE_TENANT"
late_done() { [[ -e $SPOOL_LATE/facts-late.ndjson.done ]]; }
wait_until "$WAIT_SECONDS" "the waiting file was not ingested after tenant add" late_done
grep -q '"tenantId":"'"$LATE_TENANT"'"' "$SPOOL_LATE/facts-late.ndjson.provenance.json" ||
  fail "the late file's provenance record does not name tenant $LATE_TENANT"
grep -q '"factCount":2[,}]' "$SPOOL_LATE/facts-late.ndjson.provenance.json" ||
  fail "the late file's provenance record does not say factCount 2"

step "stopping signalsd with SIGTERM"
stop_daemon
grep -q "source-spool\|spool-a" "$DAEMON_LOG" || fail "the plugin logged nothing through the host"

echo "PASS: the example plugin builds against the installed SDK and runs in the installed signalsd"
