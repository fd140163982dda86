#!/usr/bin/env bash
# source-procfs on real processes, end to end through the REST API:
#   * two programs built by the tests run: one linked against libssl
#     (procfs-test-linkssl), one that dlopen()s libz.so.1 (procfs-test-dlopen);
#   * signalsd runs source-procfs filtered to them (exe_regex), every 500 ms;
#   * the facts in /signals/runtime-facts/ndjson name libssl and libz as the
#     programs map them (/proc/<pid>/maps), with the purls that `dpkg -S` and
#     `dpkg-query -W` give, the build-ids `readelf -n` prints, the programs'
#     pids and names, hitCount = the processes mapping a file (libc: 2), and
#     the programs themselves marked as owned by no package;
#   * the module graph (GET /signals/callgraphs/{id}) has the edges ld.so
#     would follow and none into libz; reachability and VEX over it answer
#     CR / affected for libssl and X / under_investigation for libz;
#   * the skipped-process counter is exposed in /metrics.
# Everything started here is stopped at the end.
# usage: procfs_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR LINKSSL_PROGRAM DLOPEN_PROGRAM
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3 LINKSSL=$4 DLOPEN=$5
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.sh"
need curl jq readelf dpkg dpkg-query
[[ -x $PY ]] || fail "$PY is missing (run tools/setup)"
[[ -x $LINKSSL && -x $DLOPEN ]] || fail "the test programs are not built: $LINKSSL $DLOPEN"

PROGRAM_PIDS=()
stop_programs() {
  for pid in "${PROGRAM_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PROGRAM_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PROGRAM_PIDS=()
}
# set +e: under -e, (exit $rc) would end the trap before http_cleanup stops signalsd.
trap 'rc=$?; set +e; stop_programs; (exit $rc); http_cleanup' EXIT

# start_program OUT PROGRAM ARGS...: runs it in the background until it says "ready".
start_program() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 &
  PROGRAM_PIDS+=($!)
  for _ in $(seq 100); do
    grep -q '^ready' "$out" && return 0
    kill -0 "${PROGRAM_PIDS[-1]}" 2>/dev/null || fail "$1 exited: $(cat "$out")"
    sleep 0.1
  done
  fail "$1 did not get ready: $(cat "$out")"
}

# The path a process maps for a library (the kernel's name for the file).
mapped_path() { awk -v lib="$2" '$6 ~ "/" lib && $2 ~ /x/ { print $6; exit }' "/proc/$1/maps"; }

# The purl of the package owning PATH, from dpkg's own tools. dpkg -S knows
# the spelling of the package's list only: with merged /usr that may be /lib.
dpkg_purl() {
  local path=$1 owner="" candidate
  for candidate in "$path" "${path/#\/usr\/lib\//\/lib\/}"; do
    owner=$(dpkg -S "$candidate" 2>/dev/null | grep -v '^diversion' | head -n 1 | sed 's/: .*//; s/, .*//') && [[ -n $owner ]] && break
  done
  [[ -n $owner ]] || fail "dpkg -S knows no package for $path"
  local fields
  fields=$(dpkg-query -W -f '${Package} ${Version} ${Architecture}' "$owner")
  "$PY" - $fields <<'PYEOF'
import sys, urllib.parse
name, version, arch = sys.argv[1:4]
print("pkg:deb/debian/%s@%s?arch=%s" % (name, urllib.parse.quote(version, safe=".-_~:"), arch))
PYEOF
}

build_id() { readelf -n "$1" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' | head -n 1; }

step "start the programs"
start_program linkssl.out "$LINKSSL" 300
LINKSSL_PID=${PROGRAM_PIDS[-1]}
start_program dlopen.out "$DLOPEN" libz.so.1 300
DLOPEN_PID=${PROGRAM_PIDS[-1]}
SSL_PATH=$(mapped_path "$LINKSSL_PID" 'libssl\\.so')
Z_PATH=$(mapped_path "$DLOPEN_PID" 'libz\\.so')
LIBC_PATH=$(mapped_path "$LINKSSL_PID" 'libc\\.so\\.6')
LINKSSL_EXE=$(readlink "/proc/$LINKSSL_PID/exe")
DLOPEN_EXE=$(readlink "/proc/$DLOPEN_PID/exe")
[[ -n $SSL_PATH && -n $Z_PATH && -n $LIBC_PATH ]] || fail "the programs do not map libssl/libz/libc: $SSL_PATH $Z_PATH $LIBC_PATH"
grep -q 'libz' "/proc/$LINKSSL_PID/maps" && fail "the libssl program maps libz too: the dlopen case would not be alone"
readelf -d "$DLOPEN_EXE" | grep -q 'libz' && fail "the dlopen program links libz"
echo "  libssl: $SSL_PATH  libz: $Z_PATH"

step "start signalsd with source-procfs filtered to the two programs"
DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }
ctl tenant add acme >/dev/null 2>&1 || fail "tenant add failed"
READER=$(token policy-engine acme)
REGEX="/procfs-test-(linkssl|dlopen)\$"
start_signalsd "$DATA" --source.procfs.plugin=source-procfs --source.procfs.tenant=acme \
  --source.procfs.interval=500ms "--source.procfs.exe_regex=$REGEX"
AUTH=(-H "Authorization: Bearer $READER")

step "wait for facts naming libssl and libz"
for _ in $(seq 120); do
  req facts "${AUTH[@]}" "$BASE/signals/runtime-facts/ndjson?tenant=acme"
  if [[ $STATUS == 200 ]] && grep -qF "\"module:$SSL_PATH\"" facts.body && grep -qF "\"module:$Z_PATH\"" facts.body; then
    break
  fi
  sleep 0.25
done
expect_status 200 "the fact stream"
grep -qF "\"module:$SSL_PATH\"" facts.body || fail "no fact names $SSL_PATH: $(head -c 2000 facts.body)"
grep -qF "\"module:$Z_PATH\"" facts.body || fail "no fact names $Z_PATH"

# The facts of one batch: the last one (every interval reports every module).
fact() { jq -c --arg s "module:$1" 'select(.symbolId == $s)' facts.body | tail -n 1; }

step "facts: purls (dpkg -S, dpkg-query -W), build-ids (readelf -n), processes"
check_fact() { # check_fact PATH PID HITS
  local path=$1 pid=$2 hits=$3 line want_purl want_id
  line=$(fact "$path")
  [[ -n $line ]] || fail "no fact for $path"
  want_purl=$(dpkg_purl "$path")
  want_id=$(build_id "$path")
  [[ -n $want_id ]] || fail "readelf -n shows no build-id for $path"
  jq -e --arg purl "$want_purl" --arg id "$want_id" --argjson pid "$pid" --arg name "$(cat "/proc/$pid/comm")" \
        --argjson hits "$hits" \
     '.factType == "runtime.module.loaded" and .purl == $purl and .codeId == $id and .processId == $pid
      and .processName == $name and .hitCount == $hits and (.observedAt | test("Z$"))
      and .metadata.moduleKind == "library" and (has("containerId") | not)' <<<"$line" >/dev/null ||
    fail "fact for $path differs from purl $want_purl, codeId $want_id, pid $pid, hitCount $hits: $line"
  echo "  $path: $want_purl, build-id $want_id"
}
check_fact "$SSL_PATH" "$LINKSSL_PID" 1
check_fact "$Z_PATH" "$DLOPEN_PID" 1
check_fact "$LIBC_PATH" "$(printf '%s\n' "$LINKSSL_PID" "$DLOPEN_PID" | sort -n | head -n 1)" 2
for exe in "$LINKSSL_EXE" "$DLOPEN_EXE"; do
  jq -e --arg id "$(build_id "$exe")" '(has("purl") | not) and .metadata.unowned == "true"
        and .metadata.moduleKind == "executable" and .codeId == $id' <<<"$(fact "$exe")" >/dev/null ||
    fail "the fact for $exe does not say that no package owns it: $(fact "$exe")"
done
# Only the two programs were scanned.
jq -r '.processId' facts.body | sort -u >pids.txt
printf '%s\n' "$LINKSSL_PID" "$DLOPEN_PID" | sort -u | diff - pids.txt >/dev/null ||
  fail "facts of other processes than the two programs: $(cat pids.txt)"

step "the module graph"
HOST_PURL=$("$PY" -c 'import socket, urllib.parse; print("pkg:generic/" + urllib.parse.quote(socket.gethostname().lower() + "-modules", safe=".-_~:"))')
ENCODED=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$HOST_PURL")
req graphs "${AUTH[@]}" "$BASE/signals/callgraphs/by-purl/$ENCODED?tenant=acme"
expect_status 200 "callgraphs by purl"
GRAPH=$(jq -r '.callgraphs[0].graphId' graphs.body)
[[ $GRAPH =~ ^[0-7][0-9A-HJKMNP-TV-Z]{25}$ ]] || fail "no module graph stored for $HOST_PURL: $(cat graphs.body)"
req manifest "${AUTH[@]}" "$BASE/signals/callgraphs/$GRAPH/manifest"
expect_status 200 "the graph's manifest"
jq -e --arg purl "$HOST_PURL" '.language == "binary" and .componentPurl == $purl and .source == "procfs"' manifest.body >/dev/null ||
  fail "manifest: $(cat manifest.body)"
req graph "${AUTH[@]}" "$BASE/signals/callgraphs/$GRAPH"
expect_status 200 "the graph"
# (jq -s: -e on a stream judges by the last line only.)
has_edge() { jq -s -e --arg f "module:$1" --arg t "module:$2" 'any(.[]; .t == "edge" and .from == $f and .to == $t)' graph.body >/dev/null; }
has_edge "$LINKSSL_EXE" "$SSL_PATH" || fail "no edge $LINKSSL_EXE -> $SSL_PATH"
has_edge "$SSL_PATH" "$(mapped_path "$LINKSSL_PID" 'libcrypto\\.so')" || fail "no edge libssl -> libcrypto"
has_edge "$DLOPEN_EXE" "$LIBC_PATH" || fail "no edge $DLOPEN_EXE -> libc"
if jq -s -e --arg t "module:$Z_PATH" 'any(.[]; .t == "edge" and .to == $t)' graph.body >/dev/null; then
  fail "an edge leads to the dlopen()ed $Z_PATH"
fi
jq -s -e --arg id "module:$Z_PATH" 'any(.[]; .t == "node" and .id == $id)' graph.body >/dev/null || fail "libz is no node"
jq -s -e --arg id "module:$SSL_PATH" --arg purl "$(dpkg_purl "$SSL_PATH")" \
   'any(.[]; .t == "node" and .id == $id and .purl == $purl and .kind == "library")' graph.body >/dev/null ||
  fail "the libssl node lacks its purl"
ENTRIES=$(jq -r 'select(.t == "entrypoint") | .id' graph.body | sort | tr '\n' ' ')
[[ $ENTRIES == "$(printf 'module:%s\n' "$LINKSSL_EXE" "$DLOPEN_EXE" | sort | tr '\n' ' ')" ]] ||
  fail "entrypoints are not the two programs: $ENTRIES"
# Every batch of the facts names this graph.
req stream "${AUTH[@]}" "$BASE/signals/runtime-facts/ndjson?tenant=acme&callgraph_id=$GRAPH"
expect_status 200
[[ $(wc -l <stream.body) -ge 1 ]] || fail "no facts linked to the graph $GRAPH"

step "reachability and VEX over the module graph"
req reach "${AUTH[@]}" -H 'Content-Type: application/json' \
  --data "$(jq -nc --arg g "$GRAPH" --arg a "module:$SSL_PATH" --arg b "module:$Z_PATH" '{callgraphId: $g, targets: [$a, $b]}')" \
  "$BASE/signals/reachability/query"
expect_status 200 "reachability query"
jq -e --arg a "module:$SSL_PATH" --arg e "module:$LINKSSL_EXE" \
   '.results[0] | .target == $a and .reachable and .state == "CR" and .path == [$e, $a] and .runtimeHits >= 1' reach.body >/dev/null ||
  fail "libssl is not CR: $(jq -c '.results[0]' reach.body)"
jq -e --arg b "module:$Z_PATH" '.results[1] | .target == $b and (.reachable | not) and .state == "X" and .runtimeHits >= 1' \
   reach.body >/dev/null || fail "libz is not X: $(jq -c '.results[1]' reach.body)"
vex() { # vex NAME SYMBOL
  req "$1" "${AUTH[@]}" -H 'Content-Type: application/json' \
    --data "$(jq -nc --arg g "$GRAPH" --arg s "$2" '{callgraphId: $g, vulnerability: "CVE-2024-0727", symbols: [$s]}')" \
    "$BASE/signals/reachability/vex"
  expect_status 200 "vex for $2"
}
vex vex_ssl "module:$SSL_PATH"
jq -e --arg purl "$HOST_PURL" '.statements[0] | .status == "affected" and .products[0]["@id"] == $purl' vex_ssl.body >/dev/null ||
  fail "VEX for libssl is not affected: $(jq -c '.statements' vex_ssl.body)"
vex vex_z "module:$Z_PATH"
jq -e '.statements[0].status == "under_investigation"' vex_z.body >/dev/null ||
  fail "VEX for the dlopen()ed libz is not under_investigation: $(jq -c '.statements' vex_z.body)"
echo "  libssl: $(jq -c '.results[0] | {state, path, vex}' reach.body)"
echo "  libz:   $(jq -c '.results[1] | {state, path, vex}' reach.body)"

step "metrics"
req metrics "$BASE/metrics"
expect_status 200 "/metrics"
grep -q '^signals_source_procfs_scans_total ' metrics.body || fail "no scan counter in /metrics"
grep -q '^signals_source_procfs_skipped_total{reason="kernel_thread"}' metrics.body ||
  fail "kernel threads are not counted as skipped: $(grep procfs metrics.body)"
grep -q 'source.procfs.*scan: ' "$SIGNALSD_LOG" || fail "signalsd's log has no scan line: $(cat "$SIGNALSD_LOG")"
grep 'scan: ' "$SIGNALSD_LOG" | head -n 1 | sed 's/^/  /'

step "stop"
stop_signalsd
[[ $SIGNALSD_RC == 0 ]] || fail "signalsd exited $SIGNALSD_RC"
stop_programs
