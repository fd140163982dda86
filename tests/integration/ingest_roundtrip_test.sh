#!/usr/bin/env bash
# A 10,000-fact ingest through signalsctl, checked by independent tools: the
# stored blob decompresses (zstd -d) to exactly the input, its SHA-256 is the
# provenanceHash, and the DSSE envelope verifies with Python `cryptography`
# and with `openssl pkeyutl -rawin` using the exported public key. Also: the
# first command that needs a key generates one (and says so), the private key
# is 0600 and readable by `openssl pkey`, and signalsctl's own verifiers agree.
# usage: ingest_roundtrip_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need zstd jq openssl sha256sum cmp stat awk
[[ -x $PY ]] || fail "$PY is missing (Debian python3 with python3-cryptography; run tools/setup)"
$PY -c 'import cryptography' 2>/dev/null || fail "$PY has no 'cryptography' module (apt install python3-cryptography)"

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

step "generate 10,000 facts"
gen_facts 10000 facts.ndjson
[[ $(wc -l <facts.ndjson) -eq 10000 ]] || fail "generator wrote $(wc -l <facts.ndjson) lines"

step "first ingest (the callgraph the facts reference) generates the signing key and says so"
[[ ! -e $DATA/keys ]] || fail "a key store exists before the first command"
store_callgraph "$DATA"
grep -qiE 'generat.*key|key.*generat' <<<"$STORE_CALLGRAPH_LOG" ||
  fail "stderr of the first ingest does not mention the generated key: $STORE_CALLGRAPH_LOG"
grep -qF "$DATA/keys" <<<"$STORE_CALLGRAPH_LOG" || fail "stderr of the first ingest does not name $DATA/keys"
run_expect 0 record.json ingest.err ctl ingest facts facts.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
jq -e . record.json >/dev/null || fail "stdout of ingest is not JSON: $(head -c 300 record.json)"

BATCH=$(jq -r .batchId record.json)
HASH=$(jq -r .provenanceHash record.json)
KEY_ID=$(jq -r .signerKeyId record.json)
[[ $(jq -r .factCount record.json) == 10000 ]] || fail "factCount is $(jq -r .factCount record.json), expected 10000"
[[ $(jq -r .tenantId record.json) == global ]] || fail "tenantId is $(jq -r .tenantId record.json)"
[[ $(jq -r .callgraphId record.json) == "$CALLGRAPH_ID" ]] || fail "callgraphId is $(jq -r .callgraphId record.json)"
[[ $(jq -c .factTypes record.json) == '["runtime.file.access","runtime.module.loaded","runtime.symbol.hit"]' ]] ||
  fail "factTypes is $(jq -c .factTypes record.json)"

step "state lives under --data-dir only"
[[ -z $(ls -A "$TMP" | grep -vxE 'data|facts.ndjson|record.json|ingest.err') ]] ||
  fail "files appeared outside the data dir: $(ls -A "$TMP")"

step "zstd -d of the stored blob is byte-identical to the input"
CAS=$DATA/cas/signals
BLOB=$CAS/runtime-facts/global/$BATCH.ndjson.zst
[[ -f $BLOB ]] || fail "no blob at $BLOB; CAS holds: $(files_under "$DATA/cas")"
zstd -q -d -c "$BLOB" >roundtrip.ndjson || fail "zstd -d cannot read $BLOB"
cmp facts.ndjson roundtrip.ndjson || fail "decompressed blob differs from the input"
zstd -l -v "$BLOB" 2>&1 | grep -i 'check.*xxh64' >/dev/null || fail "the zstd frame has no content checksum"

step "sha256sum of the blob equals provenanceHash"
SUM=$(sha256sum facts.ndjson | cut -d' ' -f1)
[[ "sha256:$SUM" == "$HASH" ]] || fail "sha256sum is $SUM, provenanceHash is $HASH"
[[ $(jq -r .provenanceHash "$CAS/runtime-facts/global/$BATCH.provenance.json") == "$HASH" ]] ||
  fail "the stored provenance record has a different provenanceHash"

step "export the public key"
run_expect 0 public.pem export.err ctl keys export "$KEY_ID"
openssl pkey -pubin -in public.pem -noout -text 2>/dev/null | grep ED25519 >/dev/null ||
  fail "exported key is not an Ed25519 public key: $(cat public.pem)"

ENVELOPE=$CAS/attestations/$BATCH.dsse
[[ -f $ENVELOPE ]] || fail "no envelope at $ENVELOPE"
jq -e '.payloadType == "application/vnd.in-toto+json" and (.signatures | length) == 1' "$ENVELOPE" >/dev/null ||
  fail "unexpected envelope: $(head -c 400 "$ENVELOPE")"
[[ $(jq -r '.signatures[0].keyid' "$ENVELOPE") == "$KEY_ID" ]] || fail "envelope keyid is not $KEY_ID"
jq -r .payload "$ENVELOPE" | base64 -d >payload.json
jq -e --arg hex "${HASH#sha256:}" --arg name "runtime-facts/global/$BATCH.ndjson" \
  '._type == "https://in-toto.io/Statement/v1"
   and .predicateType == "https://stella.ops/attestation/runtime-facts/v1"
   and .subject[0].name == $name and .subject[0].digest.sha256 == $hex' payload.json >/dev/null ||
  fail "the statement does not name the blob and its digest: $(head -c 600 payload.json)"
GRAPH_DIGEST=$(jq -r .digest "$CAS/manifests/$CALLGRAPH_ID.json")
jq -e --arg name "callgraphs/global/$CALLGRAPH_ID.ndjson" --arg hex "${GRAPH_DIGEST#sha256:}" \
  '.subject | map(select(.name == $name and .digest.sha256 == $hex)) | length == 1' payload.json >/dev/null ||
  fail "the statement does not list the referenced callgraph $CALLGRAPH_ID ($GRAPH_DIGEST) as a subject"

step "Python cryptography verifies the DSSE signature"
run_expect 0 py.out py.err "$PY" "$HERE/verify_dsse.py" "$ENVELOPE" public.pem --keyid "$KEY_ID"
# The verifier must be able to say no: a payload with one changed byte fails.
jq --arg p "$(jq -r .payload "$ENVELOPE" | base64 -d | sed 's/"factCount":10000/"factCount":10001/' | base64 -w0)" \
  '.payload = $p' "$ENVELOPE" >tampered.dsse
run_expect 1 py.out py.err "$PY" "$HERE/verify_dsse.py" tampered.dsse public.pem

step "openssl pkeyutl -verify -rawin verifies the DSSE signature"
TYPE=$(jq -r .payloadType "$ENVELOPE")
{ LC_ALL=C printf 'DSSEv1 %d %s %d ' "${#TYPE}" "$TYPE" "$(stat -c %s payload.json)"; cat payload.json; } >pae.bin
jq -r '.signatures[0].sig' "$ENVELOPE" | base64 -d >sig.bin
[[ $(stat -c %s sig.bin) -eq 64 ]] || fail "an Ed25519 signature is 64 raw bytes, got $(stat -c %s sig.bin)"
openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in pae.bin -sigfile sig.bin >openssl.out 2>&1 ||
  fail "openssl rejects the signature: $(cat openssl.out)"
expect_in openssl.out "Signature Verified Successfully" "openssl output"
printf 'x' >>pae.bin
if openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in pae.bin -sigfile sig.bin >/dev/null 2>&1; then
  fail "openssl accepts the signature over a changed message"
fi

step "signalsctl verify batch and verify dsse agree"
run_expect 0 vb.out vb.err ctl verify batch "$BATCH"
expect_in vb.out "valid" "verify batch output"
run_expect 0 vd.out vd.err ctl verify dsse "$ENVELOPE" --key public.pem
run_expect 1 vd.out vd.err ctl verify dsse tampered.dsse --key public.pem

step "the private key is 0600 and openssl reads it"
PRIVATE=$DATA/keys/$KEY_ID.key.pem
[[ -f $PRIVATE ]] || fail "no private key at $PRIVATE; keys dir: $(ls -la "$DATA/keys" 2>&1)"
[[ $(stat -c %a "$PRIVATE") == 600 ]] || fail "private key mode is $(stat -c %a "$PRIVATE"), expected 600"
openssl pkey -in "$PRIVATE" -noout 2>openssl.err || fail "openssl pkey cannot read $PRIVATE: $(cat openssl.err)"
openssl pkey -in "$PRIVATE" -pubout >derived.pem
cmp -s derived.pem public.pem || fail "the exported public key does not belong to the private key"

step "a second ingest reuses the key silently"
run_expect 0 record2.json ingest2.err ctl ingest facts - --tenant global --callgraph-id "$CALLGRAPH_ID" <facts.ndjson
if grep -qiE 'generat' ingest2.err; then fail "second ingest generated a key again: $(cat ingest2.err)"; fi
[[ $(jq -r .signerKeyId record2.json) == "$KEY_ID" ]] || fail "second ingest signed with another key"
[[ $(jq -r .provenanceHash record2.json) == "$HASH" ]] || fail "same bytes, different provenanceHash"
[[ $(jq -r .batchId record2.json) != "$BATCH" ]] || fail "second ingest reused the batch id"
