#!/usr/bin/env bash
# source_tail_test.sh <build-dir> <source-dir>
#
# The source-tail example end to end, as a third party gets it:
#   1. installs <build-dir> into a temporary prefix;
#   2. builds the installed copy of sdk-examples/source-tail as a separate
#      CMake project that is given only that prefix, and runs its unit tests
#      with ctest there (so the installed fake host is what they run against);
#   3. loads the built library by path (`plugin = /…/libsignals-source-tail.so`)
#      into the installed signalsd;
#   4. an instance whose tenant does not exist logs an error naming it and
#      stores nothing; after `signalsctl tenant add` (signalsd running) its
#      facts arrive;
#   5. a writer appends SDK_TAIL_FACTS (3000) facts in bursts, with lines split
#      across writes and two lines that are not JSON, rotates the file once
#      (mv + new file, with lines appended to the old one after the mv) and
#      truncates it once, while signalsd is killed with SIGKILL at random
#      moments (at least 3 times) and restarted;
#   6. every batch of the tenant is read back from the CAS (zstd NDJSON): each
#      fact the writer wrote is stored exactly once, the bad lines not at all,
#      and `signalsctl verify batch` passes for a sample.
#
# Shared steps live in sdk_test_lib.sh (environment: see there).
set -euo pipefail
source "$(dirname "$0")/sdk_test_lib.sh"
sdk_test_init "$@"

for tool in jq zstd; do
  command -v "$tool" >/dev/null || fail "required tool '$tool' is missing (run tools/setup)"
done
FACTS=${SDK_TAIL_FACTS:-3000}
MIN_KILLS=3
LATE_FACTS=50
LOGS=$TMP/logs
FILE=$LOGS/facts.ndjson
LATE_FILE=$LOGS/late.ndjson
WRITTEN=$TMP/written.ndjson  # what the writer appended, bad lines excepted
BAD=$TMP/bad-lines.txt
CTL=("$PREFIX/bin/signalsctl" --data-dir "$DATA")

# --- 1, 2. install, build the installed example, run its unit tests ----------
install_signals
[[ ! -e $PREFIX/$LIBDIR/signals/plugins/libsignals-source-tail.so ]] ||
  fail "the install holds libsignals-source-tail.so: an example must not be installed as a bundled plugin"
build_example source-tail
PLUGIN_SO=$EXAMPLE_BUILD/libsignals-source-tail.so
[[ -f $PLUGIN_SO ]] || fail "the example build made no $PLUGIN_SO"

step "unit tests of the installed example, against the installed fake host"
"$CTEST" --test-dir "$EXAMPLE_BUILD" --output-on-failure >"$TMP/ctest.log" 2>&1 ||
  { cat "$TMP/ctest.log" >&2; fail "the example's unit tests failed"; }
summary=$(grep "tests passed" "$TMP/ctest.log" || true)
echo "$summary"
unit_tests=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' <<<"$summary")
if [[ -z $unit_tests ]] || ((unit_tests < 15)); then fail "expected at least 15 unit tests to pass: $summary"; fi

step "signalsctl plugins describe <the built library>"
describe=$("$PREFIX/bin/signalsctl" plugins describe "$PLUGIN_SO" 2>&1) ||
  fail "signalsctl plugins describe $PLUGIN_SO failed: $describe"
grep -q "^component source-tail (source)" <<<"$describe" || fail "describe does not name source-tail: $describe"
for option in file tenant callgraph_id source max_batch_facts max_batch_delay poll_interval retry_delay start_at; do
  grep -q -- "--<section>\.$option (" <<<"$describe" || fail "describe does not list option '$option'"
done

# --- 3. a data directory and a configuration that loads the plugin by path ------
cd "$TMP"
mkdir -p "$DATA" "$LOGS"
run "signalsctl tenant add acme failed" "${CTL[@]}" tenant add acme
# A global callgraph serves every tenant, "late" (added below) too.
step "storing a callgraph"
store_callgraph global

# fact N: sets FACT to the writer's fact N (unique, so a line stored twice is
# a duplicate), without a subshell per line.
fact() {
  printf -v FACT '{"symbolId":"java:com.example.Tail#m%d()","factType":"runtime.symbol.hit","metadata":{"seq":"%d"}}' \
    "$1" "$1"
}
for ((n = 0; n < LATE_FACTS; n++)); do
  printf '{"symbolId":"java:com.example.Late#m%d()","metadata":{"seq":"%d"}}\n' "$n" "$n"
done >"$LATE_FILE"

CONFIG=$TMP/signals.ini
default_config "$CONFIG"
cat >>"$CONFIG" <<EOF

[source.tail]
plugin = $PLUGIN_SO
file = $FILE
tenant = acme
callgraph_id = $CALLGRAPH_ID
source = tail-e2e
max_batch_facts = 100
max_batch_delay = 100ms
poll_interval = 50ms
retry_delay = 100ms

[source.tail-late]
plugin = $PLUGIN_SO
file = $LATE_FILE
tenant = late
callgraph_id = $CALLGRAPH_ID
max_batch_delay = 50ms
poll_interval = 50ms
retry_delay = 100ms
EOF
step "signalsd --check-config"
run "signalsd --check-config rejected the configuration" \
  "$PREFIX/bin/signalsd" --data-dir "$DATA" --config "$CONFIG" --check-config

# checkpoint_caught_up INSTANCE FILE: the instance's checkpoint names FILE's
# inode, its offset is FILE's size, and no batch is pending.
checkpoint_caught_up() {
  local checkpoint=$DATA/state/source.$1/checkpoint.json
  [[ -f $checkpoint && -f $2 ]] || return 1
  jq -e --argjson ino "$(stat -c %i "$2")" --argjson size "$(stat -c %s "$2")" \
    '.ino == $ino and .offset == $size and .pendingEnd <= .offset' "$checkpoint" >/dev/null 2>&1
}

# stored_facts TENANT OUT: the facts of every batch of TENANT, read from the
# CAS: cas-fs keeps cas://<bucket>/<key> as the zstd file {root}/<bucket>/<key>,
# and the default configuration's root is <data dir>/cas.
stored_facts() {
  "${CTL[@]}" batches list --tenant "$1" --format json >"$TMP/batches-$1.json" 2>"$TMP/step.log" ||
    { cat "$TMP/step.log" >&2; fail "signalsctl batches list --tenant $1 failed"; }
  : >"$2"
  local uri blob
  while read -r uri; do
    blob=$DATA/cas/${uri#cas://}
    zstd -dc "$blob" >>"$2" 2>"$TMP/step.log" || { cat "$TMP/step.log" >&2; fail "cannot read the stored blob $blob"; }
    echo >>"$2"  # a blob may end without a newline; blank lines are dropped below
  done < <(jq -r '.[].blobUri' "$TMP/batches-$1.json")
}

# --- 4. an unknown tenant: an error, nothing stored, then tenant add ------------
step "starting signalsd (tenant 'late' does not exist)"
start_daemon "$CONFIG"
grep -q "tail-late.*would refuse these facts now.*unknown tenant 'late'" "$DAEMON_LOG" ||
  fail "source.tail-late did not warn at start that tenant 'late' is unknown (ingest.check)"
late_error() { grep -q "error .*tail-late.*ingest refused: unknown tenant 'late'.*signalsctl tenant add late" "$DAEMON_LOG"; }
wait_until 20 "source.tail-late logged no error naming the unknown tenant 'late'" late_error
grep -m 1 "ingest refused" "$DAEMON_LOG"
jq -e '.sequence == 0' "$DATA/state/source.tail-late/checkpoint.json" >/dev/null ||
  fail "source.tail-late completed a batch for a tenant that does not exist"
if "${CTL[@]}" batches list --tenant late >/dev/null 2>&1; then
  fail "batches list knows tenant 'late' before it was added"
fi

step "signalsctl tenant add late, with signalsd running: the waiting facts arrive"
run "signalsctl tenant add late failed" "${CTL[@]}" tenant add late
late_caught_up() { checkpoint_caught_up tail-late "$LATE_FILE"; }
wait_until 60 "source.tail-late did not deliver after tenant add" late_caught_up
stored_facts late "$TMP/stored-late.ndjson"
diff <(sort "$LATE_FILE") <(grep -v '^$' "$TMP/stored-late.ndjson" | sort) >"$TMP/late.diff" ||
  { head -20 "$TMP/late.diff" >&2; fail "tenant late's stored facts differ from its file"; }
echo "tenant late: $LATE_FACTS facts in $(jq length "$TMP/batches-late.json") batch(es)"

# --- 5. writer, rotation, truncation, kill -9 -----------------------------------
# The writer appends bursts of 1-20 facts, sometimes splitting a line across
# two writes, every 20-90 ms (3000 facts take about 15 s). At a third of the facts it rotates the file (and
# appends one burst to the renamed file, as a logger that has not reopened yet
# does); at two thirds, once source.tail has read everything, it truncates the
# file (copytruncate's second half) and goes on writing.
writer() {
  local n=0 rotated=0 truncated=0 chunk good k i cut
  while ((n < FACTS)); do
    chunk='' good=''
    k=$((RANDOM % 20 + 1))
    for ((i = 0; i < k && n < FACTS; i++, n++)); do
      fact "$n"
      chunk+=$FACT$'\n'
      good+=$FACT$'\n'
      if ((n == 700 || n == 2100)); then
        chunk+="this line is not JSON ($n)"$'\n'
        echo "this line is not JSON ($n)" >>"$BAD"
      fi
    done
    if ((RANDOM % 4 == 0)); then  # a line in two writes: the first half waits
      cut=$((RANDOM % ${#chunk}))
      printf '%s' "${chunk:0:cut}" >>"$FILE"
      sleep 0.02
      printf '%s' "${chunk:cut}" >>"$FILE"
    else
      printf '%s' "$chunk" >>"$FILE"
    fi
    printf '%s' "$good" >>"$WRITTEN"
    if ((!rotated && n >= FACTS / 3)); then
      mv "$FILE" "$FILE.1"
      chunk=
      for ((i = 0; i < 5; i++, n++)); do
        fact "$n"
        chunk+=$FACT$'\n'
      done
      printf '%s' "$chunk" >>"$FILE.1"
      printf '%s' "$chunk" >>"$WRITTEN"
      echo "writer: rotated at fact $n" >>"$TMP/writer.log"
      rotated=1
    fi
    if ((!truncated && n >= 2 * FACTS / 3)); then
      local deadline=$((SECONDS + 120))
      until checkpoint_caught_up tail "$FILE"; do
        ((SECONDS < deadline)) || { echo "writer: source.tail did not catch up" >>"$TMP/writer.log"; return 1; }
        sleep 0.05
      done
      : >"$FILE"
      echo "writer: truncated at fact $n" >>"$TMP/writer.log"
      truncated=1
    fi
    sleep "0.0$((RANDOM % 8 + 2))"
  done
  echo "writer: wrote $n facts" >>"$TMP/writer.log"
}

step "writing $FACTS facts while signalsd is killed (-9) and restarted"
: >"$BAD"
writer &
WRITER_PID=$!
kills=0
writer_running() { kill -0 "$WRITER_PID" 2>/dev/null; }
# A random pause of 1.5 to 4.5 s: a kill every 3 s on average while the writer
# writes, and at least MIN_KILLS in all.
pause() { sleep "$((RANDOM % 4)).$((RANDOM % 10))$((RANDOM % 10))" && sleep 1.5; }
while writer_running || ((kills < MIN_KILLS)); do
  pause
  daemon_alive || fail "signalsd died on its own"
  kill_daemon
  kills=$((kills + 1))
  echo "   kill -9 #$kills (facts written so far: $(wc -l <"$WRITTEN"))"
  sleep "0.$((RANDOM % 3))"
  start_daemon "$CONFIG"
done
wait "$WRITER_PID" || { cat "$TMP/writer.log" >&2 2>/dev/null; fail "the writer failed"; }
cat "$TMP/writer.log"
written=$(wc -l <"$WRITTEN")
((written == FACTS)) || fail "the writer recorded $written facts, not $FACTS"

step "waiting for source.tail to catch up"
tail_caught_up() { checkpoint_caught_up tail "$FILE"; }
wait_until 120 "source.tail did not reach the end of $FILE" tail_caught_up
step "stopping signalsd with SIGTERM"
stop_daemon

# --- 6. every fact exactly once --------------------------------------------------
step "reading every stored batch of tenant acme"
stored_facts acme "$TMP/stored.ndjson"
batches=$(jq length "$TMP/batches-acme.json")
grep -v '^$' "$TMP/stored.ndjson" | sort >"$TMP/have.txt"
sort "$WRITTEN" >"$TMP/want.txt"
uniq -d "$TMP/have.txt" >"$TMP/twice.txt"
if [[ -s $TMP/twice.txt ]]; then
  head -5 "$TMP/twice.txt" >&2
  # Which batches hold the first of them, and when they were stored.
  first=$(head -n 1 "$TMP/twice.txt")
  while read -r uri; do
    if zstd -dc "$DATA/cas/${uri#cas://}" | grep -xF -- "$first" >/dev/null; then
      jq -r --arg u "$uri" '.[] | select(.blobUri == $u) | "  in batch \(.batchId), ingested \(.ingestedAt)"' \
        "$TMP/batches-acme.json" >&2
    fi
  done < <(jq -r '.[].blobUri' "$TMP/batches-acme.json")
  echo "source-tail looks for a batch that was in flight at a kill among the facts stored since" \
    "(README.md, step 4) before it sends it again; see 'found among the facts stored' in the log." >&2
  fail "$(wc -l <"$TMP/twice.txt") facts were stored more than once"
fi
comm -23 "$TMP/want.txt" "$TMP/have.txt" >"$TMP/missing.txt"
comm -13 "$TMP/want.txt" "$TMP/have.txt" >"$TMP/extra.txt"
[[ ! -s $TMP/missing.txt ]] || { head -5 "$TMP/missing.txt" >&2; fail "$(wc -l <"$TMP/missing.txt") facts were not stored"; }
[[ ! -s $TMP/extra.txt ]] || { head -5 "$TMP/extra.txt" >&2; fail "stored lines the writer did not write"; }
while read -r bad; do
  ! grep -qxF "$bad" "$TMP/have.txt" || fail "the bad line '$bad' was stored"
done <"$BAD"
dropped=$(grep -c "line dropped" "$DAEMON_LOG" || true)
((dropped >= 2)) || fail "the log shows $dropped dropped lines, expected the 2 bad ones"
grep -q "source.tail.*was rotated" "$DAEMON_LOG" || fail "the log does not show the rotation"
grep -q "source.tail.*was truncated" "$DAEMON_LOG" || fail "the log does not show the truncation"
jq -e 'all(.source == "tail-e2e" and .callgraphId == "'"$CALLGRAPH_ID"'")' "$TMP/batches-acme.json" >/dev/null ||
  fail "a batch of tenant acme has another source or callgraph"

step "signalsctl verify batch, for a sample"
mapfile -t ids < <(jq -r '.[].batchId' "$TMP/batches-acme.json")
for i in 0 $((batches / 3)) $((batches / 2)) $((2 * batches / 3)) $((batches - 1)); do
  verify=$("${CTL[@]}" verify batch "${ids[i]}" 2>&1) || fail "signalsctl verify batch ${ids[i]} failed: $verify"
  grep -q "valid (" <<<"$verify" || fail "verify batch ${ids[i]}: $verify"
done

replays=$(grep -c "not stored twice" "$DAEMON_LOG" || true)
found=$(grep -c "found among the facts stored" "$DAEMON_LOG" || true)
in_progress=$(grep -c "earlier attempt under this batch's key has not finished" "$DAEMON_LOG" || true)
echo "facts: $FACTS written, $(wc -l <"$TMP/have.txt") stored, each once, in $batches batches;" \
  "bad lines dropped: $dropped; kills: $kills; batches stored before a kill and not sent again: $replays" \
  "($found found among the stored facts, the others answered SIGNALS_EXISTS); in-progress answers: $in_progress"
echo "PASS: source-tail, built against the installed SDK and loaded by path, stored every fact exactly once"
