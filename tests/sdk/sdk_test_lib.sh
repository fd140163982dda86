# shellcheck shell=bash
# sdk_test_lib.sh — what the SDK's end-to-end scripts share: a temporary
# prefix with Signals installed into it, an example plugin built out of tree
# against that prefix only, a data directory with a callgraph, and signalsd
# started, killed and stopped from the installed binaries.
#
# Source it from a script run as `<script> <build-dir> <source-dir>` after
# `set -euo pipefail`, then call `sdk_test_init "$@"`.
#
# Optional environment (set by tests/sdk/CMakeLists.txt): SDK_TEST_CMAKE,
# SDK_TEST_CTEST, SDK_TEST_CXX, SDK_TEST_MAKE_PROGRAM, SDK_TEST_BUILD_TYPE,
# SDK_TEST_LIBDIR. SDK_TEST_KEEP_TMP=1 keeps the temporary directory for a
# post-mortem.

# sdk_test_init BUILD_DIR SOURCE_DIR: checks the arguments, clears SIGNALS_*
# from the environment, and sets BUILD_DIR, SOURCE_DIR, CMAKE, CTEST,
# CXX_COMPILER, BUILD_TYPE, LIBDIR, TMP (removed on exit), PREFIX, DATA and
# DAEMON_LOG.
# shellcheck disable=SC2034  # the variables are for the scripts that source this
sdk_test_init() {
  if [[ $# -ne 2 ]]; then
    echo "usage: $0 <build-dir> <source-dir>" >&2
    exit 2
  fi
  BUILD_DIR=$(cd "$1" && pwd)
  SOURCE_DIR=$(cd "$2" && pwd)
  CMAKE=${SDK_TEST_CMAKE:-cmake}
  CTEST=${SDK_TEST_CTEST:-ctest}
  CXX_COMPILER=${SDK_TEST_CXX:-c++}
  BUILD_TYPE=${SDK_TEST_BUILD_TYPE:-Release}
  LIBDIR=${SDK_TEST_LIBDIR:-lib}

  # Settings in the environment would change what the daemon and CLI see.
  while read -r name; do unset "$name"; done < <(compgen -e | grep '^SIGNALS_' || true)

  TMP=$(mktemp -d "${TMPDIR:-/tmp}/signals-sdk-test.XXXXXX")
  PREFIX=$TMP/prefix
  DATA=$TMP/data
  DAEMON_LOG=$TMP/signalsd.log
  DAEMON_PID=
  trap sdk_test_cleanup EXIT
  trap 'exit 130' INT TERM  # interrupted (e.g. a ctest timeout): still clean up
}

step() { echo "== $*"; }

fail() {
  echo "FAIL: $*" >&2
  if [[ -s ${DAEMON_LOG:-} ]]; then
    echo "--- signalsd log ($DAEMON_LOG, last 200 lines) ---" >&2
    tail -n 200 "$DAEMON_LOG" >&2
    echo "--- end of signalsd log ---" >&2
  fi
  exit 1
}

# run WHAT CMD...: runs CMD quietly; on failure shows its output and fails with WHAT.
run() {
  local what=$1 log=$TMP/step.log
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$what (command: $*)"
  fi
}

sdk_test_cleanup() {
  local rc=$?
  if [[ -n ${DAEMON_PID:-} ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
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

# install_signals: `cmake --install` of the build tree into $PREFIX, with the
# files every SDK test needs.
install_signals() {
  step "installing $BUILD_DIR into $PREFIX"
  run "cmake --install of the build tree failed" "$CMAKE" --install "$BUILD_DIR" --prefix "$PREFIX"
  local f
  for f in bin/signalsd bin/signalsctl include/signals/plugin.h include/signals/plugin.hpp \
           include/signals/testing/fake_host.hpp "$LIBDIR/cmake/SignalsSDK/SignalsSDKConfig.cmake" \
           "$LIBDIR/cmake/SignalsSDK/SignalsPlugin.cmake"; do
    [[ -e $PREFIX/$f ]] || fail "the install lacks $f"
  done
}

# build_example NAME: copies the installed example NAME
# (share/signals/sdk-examples/NAME, which must equal sdk/examples/NAME) to
# $TMP/NAME-src and builds it there as a separate CMake project that is given
# only $PREFIX, into EXAMPLE_BUILD=$TMP/NAME-build. The shipped copy is built,
# so what users get is what is tested.
build_example() {
  local name=$1
  local src=$TMP/$name-src
  EXAMPLE_BUILD=$TMP/$name-build
  [[ -f $PREFIX/share/signals/sdk-examples/$name/CMakeLists.txt ]] || fail "the install lacks the example $name"
  cp -R "$PREFIX/share/signals/sdk-examples/$name" "$src"
  diff -r -x "build*" -x ".*" "$SOURCE_DIR/sdk/examples/$name" "$src" >/dev/null ||
    fail "the installed example differs from sdk/examples/$name"

  step "building the example $name out of tree"
  local generator=(-G Ninja)
  [[ -n ${SDK_TEST_MAKE_PROGRAM:-} ]] && generator+=("-DCMAKE_MAKE_PROGRAM=$SDK_TEST_MAKE_PROGRAM")
  # No package registries: the prefix must be the only way to the SDK.
  run "configuring the example $name against the installed SDK failed" \
    "$CMAKE" -S "$src" -B "$EXAMPLE_BUILD" "${generator[@]}" \
    "-DCMAKE_CXX_COMPILER=$CXX_COMPILER" "-DCMAKE_BUILD_TYPE=$BUILD_TYPE" \
    "-DCMAKE_PREFIX_PATH=$PREFIX" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  local sdk_dir
  sdk_dir=$(sed -n 's/^SignalsSDK_DIR:PATH=//p' "$EXAMPLE_BUILD/CMakeCache.txt")
  [[ $sdk_dir == "$PREFIX"/* ]] || fail "the example $name found SignalsSDK in '$sdk_dir', not under $PREFIX"
  run "building the example $name failed" "$CMAKE" --build "$EXAMPLE_BUILD"
  if grep -q -e "$SOURCE_DIR/sdk" -e "$BUILD_DIR" "$EXAMPLE_BUILD/build.ninja"; then
    fail "the example $name's build refers to the Signals source or build tree"
  fi
}

# store_callgraph TENANT: stores a small callgraph for TENANT in $DATA (runtime
# facts must refer to a stored one) and sets CALLGRAPH_ID to its graphId.
store_callgraph() {
  local tenant=$1 manifest
  cat >"$TMP/callgraph.json" <<'EOF'
{"nodes":[{"id":"n1","name":"main","kind":"method"},{"id":"n2","name":"Foo.bar","kind":"method"}],
 "edges":[{"sourceId":"n1","targetId":"n2","kind":"static"}],
 "entrypoints":[{"nodeId":"n1","kind":"main"}]}
EOF
  manifest=$("$PREFIX/bin/signalsctl" --data-dir "$DATA" ingest callgraph "$TMP/callgraph.json" --tenant "$tenant" \
    --purl pkg:maven/com.example/app@1.0.0 --language java 2>"$TMP/step.log") ||
    { cat "$TMP/step.log" >&2; fail "signalsctl ingest callgraph failed"; }
  CALLGRAPH_ID=$(sed -n 's/.*"graphId":"\([0-9A-HJKMNP-TV-Z]\{26\}\)".*/\1/p' <<<"$manifest")
  [[ -n $CALLGRAPH_ID ]] || fail "no graphId in the callgraph manifest: $manifest"
}

# default_config FILE: the installed default configuration (the same bytes
# signalsd embeds), to which a test appends its instances.
default_config() {
  local shipped=$PREFIX/share/signals/configs/signals.conf
  [[ -f $shipped ]] || fail "the install lacks share/signals/configs/signals.conf"
  cp "$shipped" "$1"
}

# start_daemon CONFIG: starts the installed signalsd on $DATA in the
# background (its output appended to $DAEMON_LOG), sets DAEMON_PID and waits
# (at most 30s) until it has logged "ready" since this start.
start_daemon() {
  local config=$1 lines
  lines=0
  [[ -f $DAEMON_LOG ]] && lines=$(wc -l <"$DAEMON_LOG")
  echo "--- signalsd started $(date +%T.%N)" >>"$DAEMON_LOG"
  "$PREFIX/bin/signalsd" --data-dir "$DATA" --config "$config" >>"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  local deadline=$((SECONDS + 30))
  # (grep without -q reads all its input: an early exit would make tail's
  # SIGPIPE, under pipefail, read as "not ready".)
  until tail -n +"$((lines + 1))" "$DAEMON_LOG" | grep "signalsd ready" >/dev/null; do
    daemon_alive || fail "signalsd exited at start"
    ((SECONDS < deadline)) || fail "signalsd did not report ready within 30s"
    sleep 0.05
  done
}

# daemon_alive: true while the daemon started last runs; reaps it otherwise.
daemon_alive() {
  [[ -n $DAEMON_PID ]] || return 1
  kill -0 "$DAEMON_PID" 2>/dev/null && return 0
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=
  return 1
}

# kill_daemon: SIGKILL, as a crash or the OOM killer would; waits until it is gone.
kill_daemon() {
  kill -KILL "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  echo "--- signalsd killed (-9) $(date +%T.%N)" >>"$DAEMON_LOG"
  DAEMON_PID=
}

# stop_daemon: SIGTERM; fails unless signalsd exits 0 within 10s.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  local deadline=$((SECONDS + 10)) rc=0
  while kill -0 "$DAEMON_PID" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "signalsd did not stop within 10s of SIGTERM"
    sleep 0.1
  done
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=
  ((rc == 0)) || fail "signalsd exited with status $rc after SIGTERM"
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.1s until it succeeds;
# fails with WHAT after SECONDS, or at once when the daemon has died.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [[ -n $DAEMON_PID ]] && ! daemon_alive; then fail "signalsd exited while waiting for: $what"; fi
    ((SECONDS < deadline)) || fail "after ${seconds}s: $what"
    sleep 0.1
  done
}
