#!/usr/bin/env bash
# fsck, reindex and the progress line through the real binaries:
#   * a store with callgraphs and fact batches of two tenants is clean (exit 0);
#   * one flipped byte in each kind of stored object (fact blob, provenance,
#     attestation, callgraph blob, meta, manifest, manifest envelope, key
#     record) makes fsck exit 1 with a line naming that object; so does a
#     deleted object;
#   * what a crash leaves is no damage (README.md#fsck): a batch row deleted
#     with the sqlite3 CLI (as a kill before the index commit leaves it) and a
#     temp file of an interrupted write (one planted, and the one an ingest
#     killed with SIGKILL leaves) are reported as leftovers and fsck exits 0;
#     damage beside a leftover still exits 1; `fsck --repair` removes the
#     temp file and nothing else (file listing before/after), and so does
#     signalsd's start, which keeps a temp file that a writer holds locked;
#   * deleting the index file and running `reindex` gives the same answers to
#     every list and get query — signalsctl's and the REST API's (through
#     signalsd and curl) — byte for byte;
#   * under a real pseudo-terminal (`script`, util-linux) ingest, fsck and
#     reindex draw a progress line on stderr; with stdout to a file they
#     draw nothing.
# usage: fsck_reindex_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.sh"
need jq sqlite3 curl script zstd

DATA=$TMP/data
CAS=$DATA/cas/signals
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

# flip FILE: XORs the middle byte of FILE with 0x01 (keeps a copy in FILE.orig).
flip() {
  cp -p "$1" "$1.orig"
  "$PY" - "$1" <<'PYEOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(bytes(b))
PYEOF
}
unflip() { mv "$1.orig" "$1"; }

# expect_fsck_names KEY [RULE]: fsck exits 1 and reports KEY (under RULE).
expect_fsck_names() {
  run_expect 1 fsck.out fsck.err ctl fsck
  local want="$1: ${2:+$2: }"
  awk -v want="$want" 'index($0, want) == 1 { found = 1 } END { exit !found }' fsck.out ||
    { sed 's/^/  /' fsck.out >&2; fail "fsck did not report '$want'"; }
}

expect_fsck_clean() {
  run_expect 0 fsck.out fsck.err ctl fsck
  expect_in fsck.out "; 0 problems" "fsck summary ($1)"
  [[ $(wc -l <fsck.out) -eq 1 ]] || fail "$1: fsck printed problems: $(cat fsck.out)"
}

step "a store of two tenants with callgraphs and fact batches"
ctl tenant add acme >/dev/null 2>&1
store_callgraph "$DATA" acme
G_ACME=$CALLGRAPH_ID
store_callgraph "$DATA" global
G_GLOBAL=$CALLGRAPH_ID
gen_facts 2000 facts.ndjson
B1=$(ctl ingest facts facts.ndjson --tenant acme --callgraph-id "$G_ACME" 2>/dev/null | jq -r .batchId)
B2=$(ctl ingest facts facts.ndjson --tenant acme --callgraph-id "$G_GLOBAL" 2>/dev/null | jq -r .batchId)
B3=$(head -n 5 facts.ndjson | ctl ingest facts - --tenant global --callgraph-id "$G_GLOBAL" 2>/dev/null | jq -r .batchId)
for b in "$B1" "$B2" "$B3"; do [[ $b =~ ^[0-7][0-9A-HJKMNP-TV-Z]{25}$ ]] || fail "ingest printed no batchId"; done
KEY_ID=$(ctl keys list --format json | jq -r '.[0].keyId')
[[ -f $CAS/keys/$KEY_ID.json ]] || fail "the key registry's record keys/$KEY_ID.json is not in the CAS"

step "fsck of an intact store: exit 0"
expect_fsck_clean "intact store"

step "one flipped byte in each kind of object is named"
for key in "runtime-facts/acme/$B1.ndjson.zst" "runtime-facts/acme/$B1.provenance.json" "attestations/$B1.dsse" \
  "callgraphs/acme/$G_ACME.ndjson.zst" "callgraphs/acme/$G_ACME.meta.json" "manifests/$G_ACME.json" \
  "manifests/$G_ACME.json.dsse" "keys/$KEY_ID.json"; do
  [[ -f $CAS/$key ]] || fail "no object $key"
  flip "$CAS/$key"
  expect_fsck_names "$key"
  unflip "$CAS/$key"
done
expect_fsck_clean "bytes restored"

step "a deleted object is named"
mv "$CAS/runtime-facts/acme/$B2.provenance.json" prov.saved
expect_fsck_names "runtime-facts/acme/$B2.provenance.json" missing-object
mv prov.saved "$CAS/runtime-facts/acme/$B2.provenance.json"
mv "$CAS/manifests/$G_GLOBAL.json.dsse" env.saved
expect_fsck_names "manifests/$G_GLOBAL.json.dsse" missing-object
mv env.saved "$CAS/manifests/$G_GLOBAL.json.dsse"
expect_fsck_clean "objects restored"

step "an index row deleted with sqlite3: the objects left without it are leftovers, fsck exits 0"
cp -p "$DATA/index.sqlite" index.saved
sqlite3 "$DATA/index.sqlite" "DELETE FROM batches WHERE key = '$B3'"
run_expect 0 fsck.out fsck.err ctl fsck
for key in "runtime-facts/global/$B3.ndjson.zst" "runtime-facts/global/$B3.provenance.json" "attestations/$B3.dsse"; do
  expect_in fsck.out "$key: leftover: no index row batches/$B3: " "fsck output (deleted row)"
done
[[ $(grep -c ': leftover: ' fsck.out) -eq 3 ]] || fail "more than the batch's 3 objects reported: $(cat fsck.out)"
expect_in fsck.out "; 0 problems, 3 leftovers" "fsck summary (deleted row)"
step "reindex restores the row"
run_expect 0 reindex.out reindex.err ctl reindex
expect_fsck_clean "after reindex of a deleted row"

step "a temp file of an interrupted write: a leftover (exit 0); damage beside it still exits 1"
LEFTOVER=runtime-facts/acme/.$B1.ndjson.zst.tmp.0123456789abcdef
printf 'half a blob' >"$CAS/$LEFTOVER"
run_expect 0 fsck.out fsck.err ctl fsck
expect_in fsck.out "$LEFTOVER: leftover: temp file of an interrupted write" "fsck output (temp file)"
expect_in fsck.out "; 0 problems, 1 leftover" "fsck summary (temp file)"
flip "$CAS/attestations/$B1.dsse"
expect_fsck_names "attestations/$B1.dsse"
expect_in fsck.out "$LEFTOVER: leftover: " "fsck output (damage and a leftover)"
grep -qE '; [1-9][0-9]* problems?, 1 leftover$' fsck.out || fail "fsck summary (damage and a leftover): $(tail -n1 fsck.out)"
unflip "$CAS/attestations/$B1.dsse"
step "--repair removes the temp file and nothing else"
before=$(files_under "$DATA/cas")
run_expect 0 repair.out repair.err ctl fsck --repair
expect_in repair.out "$LEFTOVER: leftover: temp file of an interrupted write; removed" "fsck --repair output"
expect_in repair.out "; 0 problems, 0 leftovers, 1 repaired" "fsck --repair summary"
after=$(files_under "$DATA/cas")
[[ $after == "$(grep -vF "/.$B1.ndjson.zst.tmp." <<<"$before")" ]] || fail "--repair removed more than the leftover"
[[ ! -e $CAS/$LEFTOVER ]] || fail "--repair left the leftover"
expect_fsck_clean "after repair"

step "kill -9 during an ingest: the temp file it leaves is a leftover, and only that"
gen_facts 400000 crash.ndjson
before=$(files_under "$DATA/cas")
"$SIGNALSCTL" --data-dir "$DATA" ingest facts crash.ndjson --tenant acme --callgraph-id "$G_ACME" >/dev/null 2>&1 &
INGEST_PID=$!
for _ in $(seq 200); do
  compgen -G "$CAS/runtime-facts/acme/.*.ndjson.zst.tmp.*" >/dev/null && break
  sleep 0.01
done
kill -KILL "$INGEST_PID"
wait "$INGEST_PID" 2>/dev/null || true
temp=$(compgen -G "$CAS/runtime-facts/acme/.*.ndjson.zst.tmp.*" | head -n1 || true)
[[ -n $temp ]] || fail "the killed ingest left no temp file (it finished too early?)"
run_expect 0 fsck.out fsck.err ctl fsck
expect_in fsck.out "runtime-facts/acme/$(basename "$temp"): leftover: temp file" "fsck after kill -9"
[[ $(grep -vc '^fsck: ' fsck.out) -eq 1 ]] || fail "fsck after kill -9 reports more than the leftover: $(cat fsck.out)"

step "signalsd's start removes the temp file, and keeps one that a writer holds locked"
# A cas-fs writer holds an exclusive flock on its temp file; this process
# holds one the same way while signalsd starts (as a signalsctl ingest would).
HELD=$CAS/runtime-facts/acme/.held.ndjson.zst.tmp.fedcba9876543210
printf 'a write in progress' >"$HELD"
"$PY" -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+"); fcntl.flock(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(120)' \
  "$HELD" >held.out &
HOLDER=$!
for _ in $(seq 100); do grep -q locked held.out && break; sleep 0.05; done
grep -q locked held.out || fail "the holder did not lock $HELD"
start_signalsd "$DATA"
# The removal runs beside the service (a large CAS must not delay readiness).
for _ in $(seq 100); do grep -q "temp files of interrupted writes removed" "$SIGNALSD_LOG" && break; sleep 0.1; done
stop_signalsd
[[ ! -e $temp ]] || fail "signalsd's start left the temp file of the killed ingest"
[[ -e $HELD ]] || fail "signalsd's start removed a temp file that a writer holds"
expect_in "$SIGNALSD_LOG" "temp files of interrupted writes removed from the CAS: 1" "signalsd log"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
rm -f "$HELD"
[[ $(files_under "$DATA/cas") == "$before" ]] || fail "signalsd's start after kill -9 did not restore the file listing"
expect_fsck_clean "after signalsd's start"

# capture DIR: every list and get answer, from signalsctl and the REST API.
capture() {
  local dir=$1
  mkdir -p "$dir"
  ctl callgraphs list --format json >"$dir/callgraphs-list.json"
  ctl callgraphs list --tenant acme --format json >"$dir/callgraphs-list-acme.json"
  ctl keys list --format json >"$dir/keys-list.json"
  ctl keys list >"$dir/keys-list.txt"
  ctl tenant list >"$dir/tenant-list.txt"
  for b in "$B1" "$B2" "$B3"; do ctl verify batch "$b" >"$dir/verify-$b.txt"; done
  for g in "$G_ACME" "$G_GLOBAL"; do
    ctl verify callgraph "$g" >"$dir/verify-$g.txt"
    # Reachability joins the graph with the fact batches linked to it.
    printf 'handle\nSvc.main\n' >targets.txt
    ctl reach "$g" --targets targets.txt >"$dir/reach-$g.json"
  done
  start_signalsd "$DATA"
  local tok
  tok=$(token audit-service acme)
  local auth=(-H "Authorization: Bearer $tok")
  local paths=(
    "/signals/keys"
    "/signals/callgraphs/by-purl/pkg%3Amaven%2Fcom.example%2Fsvc%401.0.0"
    "/signals/runtime-facts/ndjson?tenant=acme&include_provenance=true"
    "/signals/runtime-facts/ndjson?tenant=global"
  )
  for g in "$G_ACME" "$G_GLOBAL"; do
    paths+=("/signals/callgraphs/$g" "/signals/callgraphs/$g/manifest" "/signals/callgraphs/$g/manifest?format=dsse")
  done
  for b in "$B1" "$B2" "$B3"; do
    paths+=("/signals/runtime-facts/$b" "/signals/runtime-facts/$b/provenance" "/signals/runtime-facts/$b/attestation"
      "/signals/runtime-facts/$b/attestation?format=sigstore-bundle")
  done
  local i=0
  for p in "${paths[@]}"; do
    req "$dir/http-$i" "${auth[@]}" "$BASE$p"
    [[ $STATUS == 200 ]] || fail "GET $p answered $STATUS: $(cat "$dir/http-$i.body")"
    echo "$p" >"$dir/http-$i.path"
    rm -f "$dir/http-$i.headers"
    i=$((i + 1))
  done
  stop_signalsd
}

step "reindex of a deleted index gives the same answers to every list and get query"
capture before
[[ $(jq length before/callgraphs-list.json) -eq 2 ]] || fail "expected 2 callgraphs, got $(cat before/callgraphs-list.json)"
rm -f "$DATA/index.sqlite" "$DATA/index.sqlite-wal" "$DATA/index.sqlite-shm"
run_expect 0 reindex.out reindex.err ctl reindex
expect_in reindex.out "batches 3" "reindex summary"
expect_in reindex.out "callgraphs 2" "reindex summary"
expect_in reindex.out "tenant acme registered" "reindex summary"
capture after
diff -r before after >capture.diff || { cat capture.diff >&2; fail "answers differ after reindex"; }
expect_fsck_clean "after reindex of a deleted index"
step "a second reindex changes nothing"
sqlite3 "$DATA/index.sqlite" .dump | grep '^INSERT INTO' >dump1.sql
run_expect 0 reindex.out reindex.err ctl reindex
expect_in reindex.out "0 stale rows removed" "second reindex"
sqlite3 "$DATA/index.sqlite" .dump | grep '^INSERT INTO' >dump2.sql
cmp -s dump1.sql dump2.sql || { diff dump1.sql dump2.sql >&2 || true; fail "a second reindex changed the index"; }

step "progress: drawn on a terminal, absent when stdout is a file"
gen_facts 300000 big.ndjson
# script(1) runs the command on a new pseudo-terminal (stdout and stderr are
# that terminal) and copies everything it prints to its own stdout.
on_tty() { script -q -e -c "$*" /dev/null; }
on_tty "'$SIGNALSCTL' --data-dir '$DATA' ingest facts big.ndjson --tenant acme --callgraph-id $G_ACME" >tty-ingest.out ||
  fail "ingest on a terminal failed: $(cat tty-ingest.out)"
grep -aqE $'\r\033\\[Kingest: [0-9]+ facts, [0-9.]+ [KMG]?i?B of [0-9.]+ MiB \\([0-9]+%\\), [0-9.]+ [KMG]?i?B/s' tty-ingest.out ||
  { cat -v tty-ingest.out | head -c 2000 >&2; fail "no progress line for ingest on a terminal"; }
grep -aqE 'ingest: 300000 facts, .*\(100%\)' tty-ingest.out || fail "the final progress line does not say 100%"
on_tty "'$SIGNALSCTL' --data-dir '$DATA' fsck" >tty-fsck.out || fail "fsck on a terminal failed: $(cat tty-fsck.out)"
grep -aqE $'\r\033\\[Kfsck: [0-9]+/[0-9]+ objects, .* objects/s' tty-fsck.out ||
  { cat -v tty-fsck.out >&2; fail "no progress line for fsck on a terminal"; }
on_tty "'$SIGNALSCTL' --data-dir '$DATA' reindex" >tty-reindex.out || fail "reindex on a terminal failed"
grep -aqE $'\r\033\\[Kreindex: [0-9]+/[0-9]+ objects' tty-reindex.out ||
  { cat -v tty-reindex.out >&2; fail "no progress line for reindex on a terminal"; }
# The same commands with stdout to a file (stderr still the terminal): nothing.
on_tty "'$SIGNALSCTL' --data-dir '$DATA' ingest facts big.ndjson --tenant acme --callgraph-id $G_ACME >ingest.json" \
  >tty-ingest-file.out || fail "ingest to a file failed"
on_tty "'$SIGNALSCTL' --data-dir '$DATA' fsck >fsck.txt" >tty-fsck-file.out || fail "fsck to a file failed"
for f in tty-ingest-file.out tty-fsck-file.out; do
  if grep -aqE $'\r|objects/s|B/s' "$f"; then cat -v "$f" >&2; fail "$f: progress drawn although stdout is a file"; fi
done
jq -e .batchId ingest.json >/dev/null || fail "ingest to a file printed no provenance record"
expect_in fsck.txt "; 0 problems" "fsck to a file"
# And with both redirected (no terminal at all), as under ctest.
ctl fsck >plain.out 2>plain.err
if grep -aqE $'\r|objects/s' plain.err; then fail "progress drawn without a terminal"; fi
