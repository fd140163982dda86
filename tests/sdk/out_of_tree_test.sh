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
#      an invalid one is rejected with a problem document, and SIGTERM stops
#      the daemon with exit status 0.
#
# Optional environment (set by tests/sdk/CMakeLists.txt): SDK_TEST_CMAKE,
# SDK_TEST_CXX, SDK_TEST_MAKE_PROGRAM, SDK_TEST_BUILD_TYPE, SDK_TEST_LIBDIR.
# SDK_TEST_KEEP_TMP=1 keeps the temporary directory for a post-mortem.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <build-dir> <source-dir>" >&2
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
SOURCE_DIR=$(cd "$2" && pwd)
CMAKE=${SDK_TEST_CMAKE:-cmake}
CXX_COMPILER=${SDK_TEST_CXX:-c++}
BUILD_TYPE=${SDK_TEST_BUILD_TYPE:-Release}
LIBDIR=${SDK_TEST_LIBDIR:-lib}
CALLGRAPH_ID=01ARZ3NDEKTSV4RRFFQ69G5FAV  # replaced by a stored graph's id where the kernel has a callgraph store
WAIT_SECONDS=20

# Settings in the environment would change what the daemon and CLI see.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^SIGNALS_' || true)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/signals-sdk-test.XXXXXX")
PREFIX=$TMP/prefix
DATA=$TMP/data
SPOOL=$TMP/spool
DAEMON_LOG=$TMP/signalsd.log
DAEMON_PID=

step() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  if [[ -s $DAEMON_LOG ]]; then
    echo "--- signalsd log ($DAEMON_LOG) ---" >&2
    cat "$DAEMON_LOG" >&2
    echo "--- end of signalsd log ---" >&2
  fi
  exit 1
}
# Runs a command quietly; on failure shows its output and fails with `what`.
run() {
  local what=$1 log=$TMP/step.log
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$what (command: $*)"
  fi
}
cleanup() {
  local rc=$?
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  if [[ ${SDK_TEST_KEEP_TMP:-0} == 1 ]]; then
    echo "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # interrupted (e.g. a ctest timeout): still clean up

# --- 1. install Signals ------------------------------------------------------
step "installing $BUILD_DIR into $PREFIX"
run "cmake --install of the build tree failed" "$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX"
for f in bin/signalsd bin/signalsctl include/signals/plugin.h include/signals/plugin.hpp \
         "$LIBDIR/cmake/SignalsSDK/SignalsSDKConfig.cmake" share/signals/sdk-examples/source-spool/CMakeLists.txt; do
  [[ -e $PREFIX/$f ]] || fail "the install lacks $f"
done

# --- 2. build the example against the installed SDK only ----------------------
# The shipped copy of the example is built, so what users get is what is tested;
# it must equal the one in the source tree.
EXAMPLE_SRC=$TMP/example-src
cp -R "$PREFIX/share/signals/sdk-examples/source-spool" "$EXAMPLE_SRC"
diff -r -x "build*" -x ".*" "$SOURCE_DIR/sdk/examples/source-spool" "$EXAMPLE_SRC" >/dev/null ||
  fail "the installed example differs from sdk/examples/source-spool"

step "building the example plugin out of tree"
generator=(-G Ninja)
[[ -n ${SDK_TEST_MAKE_PROGRAM:-} ]] && generator+=("-DCMAKE_MAKE_PROGRAM=$SDK_TEST_MAKE_PROGRAM")
# No package registries: the prefix must be the only way to the SDK.
run "configuring the example against the installed SDK failed" \
  "$CMAKE" -S "$EXAMPLE_SRC" -B "$TMP/example-build" "${generator[@]}" \
  "-DCMAKE_CXX_COMPILER=$CXX_COMPILER" "-DCMAKE_BUILD_TYPE=$BUILD_TYPE" \
  "-DCMAKE_PREFIX_PATH=$PREFIX" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
sdk_dir=$(sed -n 's/^SignalsSDK_DIR:PATH=//p' "$TMP/example-build/CMakeCache.txt")
[[ $sdk_dir == "$PREFIX"/* ]] || fail "the example found SignalsSDK in '$sdk_dir', not under $PREFIX"
run "building the example failed" "$CMAKE" --build "$TMP/example-build"
if grep -q -e "$SOURCE_DIR/sdk" -e "$BUILD_DIR" "$TMP/example-build/build.ninja"; then
  fail "the example build refers to the Signals source or build tree"
fi
run "installing the example failed" "$CMAKE" --install "$TMP/example-build" --prefix "$PREFIX"
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
mkdir -p "$SPOOL" "$DATA"
# A kernel with a callgraph store only accepts facts for a stored callgraph:
# store one first (before the daemon starts, with the same data directory).
# (The help is captured first: `grep -q` in a pipeline would end early and,
# under pipefail, turn the writer's SIGPIPE into "no".)
signalsctl_help=$("$PREFIX/bin/signalsctl" --help 2>&1 || true)
if grep -q "ingest callgraph" <<<"$signalsctl_help"; then
  step "storing a callgraph for the facts to refer to"
  cat >"$TMP/callgraph.json" <<'EOF'
{"nodes":[{"id":"n1","name":"main","kind":"method"},{"id":"n2","name":"Foo.bar","kind":"method"}],
 "edges":[{"sourceId":"n1","targetId":"n2","kind":"static"}],
 "entrypoints":[{"nodeId":"n1","kind":"main"}]}
EOF
  manifest=$("$PREFIX/bin/signalsctl" --data-dir "$DATA" ingest callgraph "$TMP/callgraph.json" --tenant global \
    --purl pkg:maven/com.example/app@1.0.0 --language java 2>"$TMP/step.log") ||
    { cat "$TMP/step.log" >&2; fail "signalsctl ingest callgraph failed"; }
  CALLGRAPH_ID=$(sed -n 's/.*"graphId":"\([0-9A-HJKMNP-TV-Z]\{26\}\)".*/\1/p' <<<"$manifest")
  [[ -n $CALLGRAPH_ID ]] || fail "no graphId in the callgraph manifest: $manifest"
fi
CONFIG=$TMP/signals.ini
# The default configuration plus one spool source. The install ships the
# default as share/signals/configs/signals.conf (the same bytes signalsd
# embeds); older trees did not, so fall back to a copy of it.
SHIPPED_DEFAULT=$PREFIX/share/signals/configs/signals.conf
if [[ -f $SHIPPED_DEFAULT ]]; then
  cp "$SHIPPED_DEFAULT" "$CONFIG"
else
  cat >"$CONFIG" <<'EOF'
[kernel]
data_dir = var/signals

[provenance]
rekor_enabled = false

[cas]
plugin = cas-fs
root = cas

[index]
plugin = index-sqlite
path = index.sqlite

[signing]
plugin = signer-ed25519
algorithm = Ed25519
key_dir = keys
create_if_missing = true
EOF
fi
cat >>"$CONFIG" <<EOF

[source.spool-a]
plugin = source-spool
dir = $SPOOL
callgraph_id = $CALLGRAPH_ID
poll_interval = 200ms
EOF

step "signalsd --check-config"
run "signalsd --check-config rejected the configuration" \
  "$PREFIX/bin/signalsd" --data-dir "$DATA" --config "$CONFIG" --check-config

step "starting signalsd"
"$PREFIX/bin/signalsd" --data-dir "$DATA" --config "$CONFIG" >"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!

# Producers write under a dot-name (ignored by the spool) and rename into place.
drop() {
  printf '%s\n' "${@:2}" >"$SPOOL/.$1"
  mv "$SPOOL/.$1" "$SPOOL/$1"
}
drop facts-ok.ndjson \
  '{"symbolId":"java:com.example.Foo#bar()","hitCount":3}' \
  '{"symbolId":"java:com.example.Foo#baz()","factType":"runtime.module.loaded"}' \
  '{"symbolId":"java:com.example.Qux#run()","processId":42,"metadata":{"pod":"web-1"}}'
drop facts-bad.ndjson \
  '{"symbolId":"java:com.example.Foo#bar()"}' \
  '{"factType":"runtime.symbol.hit","hitCount":1}'

step "waiting (at most ${WAIT_SECONDS}s) for the spool to be processed"
processed() { [[ -e $SPOOL/$1.done || -e $SPOOL/$1.rejected ]]; }
deadline=$((SECONDS + WAIT_SECONDS))
until processed facts-ok.ndjson && processed facts-bad.ndjson; do
  kill -0 "$DAEMON_PID" 2>/dev/null || { wait "$DAEMON_PID" || true; DAEMON_PID=; fail "signalsd exited early"; }
  ((SECONDS < deadline)) || fail "after ${WAIT_SECONDS}s the spool holds: $(ls -A "$SPOOL" | tr '\n' ' ')"
  sleep 0.2
done
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

step "stopping signalsd with SIGTERM"
kill -TERM "$DAEMON_PID"
deadline=$((SECONDS + 10))
while kill -0 "$DAEMON_PID" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "signalsd did not stop within 10s of SIGTERM"
  sleep 0.1
done
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
((rc == 0)) || fail "signalsd exited with status $rc after SIGTERM"
grep -q "source-spool\|spool-a" "$DAEMON_LOG" || fail "the plugin logged nothing through the host"

echo "PASS: the example plugin builds against the installed SDK and runs in the installed signalsd"
