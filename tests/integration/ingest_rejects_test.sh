#!/usr/bin/env bash
# Bad input is rejected as a whole: every invalid line, an unknown tenant, a
# malformed or unknown callgraph id and an empty input exit 1 with a message naming the
# line, the field and the rule, and leave no object (nor temp file) in the
# CAS. Usage errors exit 2. A tampered blob or envelope fails `verify batch`.
# usage: ingest_rejects_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need jq awk cmp

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }
GOOD='{"symbolId":"ok::one","hitCount":2}'

# Batches reference a stored callgraph; its objects (and the key registry's
# records) are the only ones allowed.
store_callgraph "$DATA"
expect_cas_empty() {
  local files
  files=$(files_under "$DATA/cas" | grep -vE '/(callgraphs|manifests|keys)/' || true)
  [[ -z $files ]] || fail "$1: the CAS holds more than the callgraph after a rejected ingest:"$'\n'"$files"
}

# reject NAME LINE FIELD RULE: the file bad-NAME.ndjson is rejected (exit 1)
# with "line LINE", "field 'FIELD'" (unless FIELD is empty) and "rule 'RULE'".
reject() {
  local name=$1 line=$2 field=$3 rule=$4
  step "rejects: $name"
  run_expect 1 out.txt err.txt ctl ingest facts "bad-$name.ndjson" --tenant global --callgraph-id "$CALLGRAPH_ID"
  [[ ! -s out.txt ]] || fail "$name: a rejected ingest printed a record: $(cat out.txt)"
  expect_in err.txt "line $line:" "stderr ($name)"
  [[ -z $field ]] || expect_in err.txt "field '$field'" "stderr ($name)"
  expect_in err.txt "rule '$rule'" "stderr ($name)"
  expect_cas_empty "$name"
}

bad() { # bad NAME CONTENT-OF-LINE-2 (line 1 and 3 are good)
  { echo "$GOOD"; printf '%s\n' "$2"; echo "$GOOD"; } >"bad-$1.ndjson"
}
bad json '{"symbolId":"a",'
bad missing-symbol '{"hitCount":3,"factType":"runtime.symbol.hit"}'
bad wrong-type '{"symbolId":"a","processId":"4242"}'
bad purl '{"symbolId":"a","purl":"pkg:/nope"}'
bad hitcount '{"symbolId":"a","hitCount":0}'
bad unknown-field '{"symbolId":"a","colour":"red"}'
bad fact-type '{"symbolId":"a","factType":"Runtime.Hit"}'
bad duplicate '{"symbolId":"a","symbol_id":"b"}'
{ echo "$GOOD"; printf '{"symbolId":"caf\xc3(::\xff"}\n'; echo "$GOOD"; } >bad-utf8.ndjson

reject json 2 "" json
reject missing-symbol 2 symbolId required
reject wrong-type 2 processId type
reject purl 2 purl purl
reject hitcount 2 hitCount hitCount
reject unknown-field 2 colour known-field
reject fact-type 2 factType factType
reject duplicate 2 symbolId unique-field
reject utf8 2 "" utf-8

step "rejects: an invalid line far into a large input"
gen_facts 5000 big.ndjson
{ head -n 4000 big.ndjson; echo '{"symbolId":"x","hitCount":-1}'; tail -n 1000 big.ndjson; } >bad-late.ndjson
reject late 4001 hitCount hitCount

step "rejects: an invalid line read from stdin"
run_expect 1 out.txt err.txt ctl ingest facts - --tenant global --callgraph-id "$CALLGRAPH_ID" <bad-hitcount.ndjson
expect_in err.txt "line 2:" "stderr (stdin)"
expect_cas_empty stdin

step "rejects: empty input"
: >empty.ndjson
run_expect 1 out.txt err.txt ctl ingest facts empty.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
expect_in err.txt "rule 'non-empty'" "stderr (empty input)"
expect_cas_empty empty
printf '\n\n' >blank.ndjson
run_expect 1 out.txt err.txt ctl ingest facts blank.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
expect_in err.txt "rule 'non-empty'" "stderr (blank lines only)"

step "rejects: unknown tenant"
echo "$GOOD" >good.ndjson
run_expect 1 out.txt err.txt ctl ingest facts good.ndjson --tenant acme --callgraph-id "$CALLGRAPH_ID"
expect_in err.txt "field 'tenant'" "stderr (unknown tenant)"
expect_in err.txt "rule 'tenant-exists'" "stderr (unknown tenant)"
expect_in err.txt "acme" "stderr (unknown tenant)"
expect_cas_empty unknown-tenant
run_expect 1 out.txt err.txt ctl ingest facts good.ndjson --tenant ../etc --callgraph-id "$CALLGRAPH_ID"
expect_in err.txt "rule 'tenant'" "stderr (malformed tenant)"
expect_cas_empty malformed-tenant

step "rejects: malformed callgraph id"
for id in not-a-ulid 81ARZ3NDEKTSV4RRFFQ69G5FAV 01ARZ3NDEKTSV4RRFFQ69G5FA ../../x; do
  run_expect 1 out.txt err.txt ctl ingest facts good.ndjson --tenant global --callgraph-id "$id"
  expect_in err.txt "field 'callgraphId'" "stderr (callgraph id $id)"
  expect_cas_empty "callgraph id $id"
done

step "rejects: a callgraph id that names no stored callgraph"
run_expect 1 out.txt err.txt ctl ingest facts good.ndjson --tenant global --callgraph-id 01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_in err.txt "field 'callgraphId'" "stderr (unknown callgraph)"
expect_in err.txt "rule 'callgraph-exists'" "stderr (unknown callgraph)"
expect_cas_empty unknown-callgraph

step "usage errors exit 2"
run_expect 2 out.txt err.txt ctl ingest facts good.ndjson --callgraph-id "$CALLGRAPH_ID"
expect_in err.txt "--tenant" "stderr (no --tenant)"
run_expect 2 out.txt err.txt ctl ingest facts good.ndjson --tenant global
expect_in err.txt "--callgraph-id" "stderr (no --callgraph-id)"
run_expect 2 out.txt err.txt ctl ingest facts good.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID" --colour red
expect_in err.txt "--colour" "stderr (unknown flag)"
run_expect 2 out.txt err.txt ctl ingest good.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
run_expect 2 out.txt err.txt ctl ingest facts "$TMP/does-not-exist.ndjson" --tenant global --callgraph-id "$CALLGRAPH_ID"
expect_in err.txt "does-not-exist.ndjson" "stderr (missing input file)"
run_expect 2 out.txt err.txt ctl frobnicate
run_expect 2 out.txt err.txt "$SIGNALSCTL"
run_expect 2 out.txt err.txt ctl --kernel.zstd_levle=5 ingest facts good.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
expect_in err.txt "did you mean 'zstd_level'" "stderr (misspelt option)"
run_expect 2 out.txt err.txt ctl verify dsse good.ndjson
expect_cas_empty usage

step "tampering is detected by verify batch"
gen_facts 200 facts.ndjson
run_expect 0 record.json err.txt ctl ingest facts facts.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
BATCH=$(jq -r .batchId record.json)
run_expect 0 out.txt err.txt ctl verify batch "$BATCH"
BLOB_KEY=runtime-facts/global/$BATCH.ndjson.zst
BLOB=$DATA/cas/signals/$BLOB_KEY
ENVELOPE=$DATA/cas/signals/attestations/$BATCH.dsse
cp "$BLOB" blob.orig
cp "$ENVELOPE" envelope.orig
chmod u+w "$BLOB" "$ENVELOPE"

# One flipped bit in the middle of the compressed blob.
SIZE=$(stat -c %s "$BLOB")
"$PY" - "$BLOB" $((SIZE / 2)) <<'PYEOF'
import sys
path, at = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0x01]))
PYEOF
cmp -s "$BLOB" blob.orig && fail "the blob was not changed"
run_expect 1 out.txt err.txt ctl verify batch "$BATCH"
expect_in err.txt "$BLOB_KEY" "stderr (flipped blob byte)"
cp blob.orig "$BLOB"

# A blob that decompresses fine but holds other bytes.
printf '%s\n' '{"symbolId":"forged"}' | zstd -q --check -c >"$BLOB"
run_expect 1 out.txt err.txt ctl verify batch "$BATCH"
expect_in err.txt "$BLOB_KEY" "stderr (replaced blob)"
cp blob.orig "$BLOB"
run_expect 0 out.txt err.txt ctl verify batch "$BATCH"

# The envelope's signature replaced by another 64 bytes.
FORGED=$(head -c 64 /dev/urandom | base64 -w0)
jq --arg s "$FORGED" '.signatures[0].sig = $s' envelope.orig >"$ENVELOPE"
run_expect 1 out.txt err.txt ctl verify batch "$BATCH"
expect_in err.txt "signature" "stderr (forged signature)"
run_expect 0 pub.pem err.txt ctl keys export "$(jq -r .signerKeyId record.json)"
run_expect 1 out.txt err.txt ctl verify dsse "$ENVELOPE" --key pub.pem

# A payload changed after signing (factCount), signature left as it was.
jq --arg p "$(jq -r .payload envelope.orig | base64 -d | sed 's/"factCount":200/"factCount":201/' | base64 -w0)" \
  '.payload = $p' envelope.orig >"$ENVELOPE"
run_expect 1 out.txt err.txt ctl verify batch "$BATCH"
cp envelope.orig "$ENVELOPE"
run_expect 0 out.txt err.txt ctl verify batch "$BATCH"

step "unknown batch"
run_expect 1 out.txt err.txt ctl verify batch 01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_in err.txt "not found" "stderr (unknown batch)"
run_expect 1 out.txt err.txt ctl verify batch ../../etc/passwd
