#!/usr/bin/env bash
# Callgraphs end to end through signalsctl, checked by tools that are not ours:
#   * a stella.callgraph.v1 document and a shuffled copy get the same digest
#     (the copy returns the existing manifest); `zstd -d` of the stored blob
#     hashes (sha256sum) to the digest;
#   * the manifest signature verifies over the RFC 8785 bytes with Python
#     `cryptography` and `openssl pkeyutl -rawin` (Ed25519), and — when the
#     signer-ecdsa-p256 plugin is built — with `openssl dgst -sha256 -verify`
#     (ECDSA P-256, DER), switching signers by command-line options only;
#   * one changed byte in the manifest fails `verify callgraph` (exit 1);
#   * `callgraphs list --purl` is newest first; richgraph-v1 and canonical
#     NDJSON are accepted; an invalid graph stores nothing;
#   * a fact batch referencing the graph lists it as an attestation subject;
#   * `keys rotate` retires the old key, which still verifies its manifests.
# usage: callgraph_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need zstd jq openssl sha256sum
[[ -x $PY ]] || fail "$PY is missing (Debian python3 with python3-cryptography; run tools/setup)"
$PY -c 'import cryptography' 2>/dev/null || fail "$PY has no 'cryptography' module (apt install python3-cryptography)"

GEN=$HERE/../../tools/gen-callgraph
DATA=$TMP/data
CAS=$DATA/cas/signals
PURL=pkg:maven/com.example/shop@2.0.0
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

# jcs_body MANIFEST OUT: RFC 8785 bytes of the manifest without signature and
# rekorUuid. For these manifests (ASCII strings, integers, no floats) JCS is
# exactly json.dumps with sorted keys, no whitespace.
jcs_body() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
m.pop("signature"); m.pop("rekorUuid")
open(sys.argv[2], "wb").write(json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
PYEOF
}

# py_verify MANIFEST PUBLIC_PEM: Python cryptography verifies the manifest
# signature (Ed25519 raw, or ECDSA P-256 DER over SHA-256) over the JCS body.
py_verify() {
  "$PY" - "$1" "$2" <<'PYEOF'
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
m = json.load(open(sys.argv[1]))
sig = base64.b64decode(m.pop("signature"), validate=True)
m.pop("rekorUuid")
body = json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
key = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
if isinstance(key, ed25519.Ed25519PublicKey):
    key.verify(sig, body)
elif isinstance(key, ec.EllipticCurvePublicKey):
    key.verify(sig, body, ec.ECDSA(hashes.SHA256()))
else:
    sys.exit("unexpected key type %s" % type(key))
print("verified", type(key).__name__)
PYEOF
}

# flip FILE: changes the first digit of nodeCount's value, keeping valid JSON.
flip_node_count() {
  "$PY" - "$1" <<'PYEOF'
import sys
path = sys.argv[1]
text = open(path).read()
at = text.index('"nodeCount":') + len('"nodeCount":')
digit = text[at]
text = text[:at] + ("2" if digit == "1" else "1") + text[at + 1:]
open(path, "w").write(text)
PYEOF
}

step "generate a stella.callgraph.v1 graph and a shuffled copy"
"$GEN" --nodes 300 --edges 1500 --seed 4 --format stella --pretty >graph.json
"$GEN" --nodes 300 --edges 1500 --seed 4 --order-seed 99 --format stella >shuffled.json
cmp -s graph.json shuffled.json && fail "the shuffled copy is identical to the original"

step "ingest: new graph, then the shuffled copy returns the existing manifest"
run_expect 0 manifest.json ingest.err ctl ingest callgraph graph.json --tenant global --purl "$PURL" --language java --source it-scanner
jq -e . manifest.json >/dev/null || fail "ingest callgraph did not print JSON: $(head -c 300 manifest.json)"
GRAPH=$(jq -r .graphId manifest.json)
DIGEST=$(jq -r .digest manifest.json)
KEY_ID=$(jq -r .signerKeyId manifest.json)
expect_in ingest.err "callgraph $GRAPH stored" "stderr of the first ingest"
[[ $(jq -r '[.nodeCount, .edgeCount] | @tsv' manifest.json) == $'300\t1500' ]] ||
  fail "counts are $(jq -c '[.nodeCount, .edgeCount]' manifest.json), expected [300,1500]"
[[ $(jq -r 'keys | join(",")' manifest.json) == \
   "componentPurl,createdAt,digest,edgeCount,entryPoints,graphId,language,nodeCount,rekorUuid,signature,signerKeyId,source,tenantId" ]] ||
  fail "manifest members are $(jq -c keys manifest.json)"
run_expect 0 again.json again.err ctl ingest callgraph - --tenant global --purl "$PURL" --language java --source it-scanner <shuffled.json
expect_in again.err "identical callgraph exists: $GRAPH" "stderr of the second ingest"
[[ $(jq -r .digest again.json) == "$DIGEST" ]] || fail "shuffled copy has digest $(jq -r .digest again.json), expected $DIGEST"
cmp -s <(jq -S . manifest.json) <(jq -S . again.json) || fail "the second ingest did not return the existing manifest"
[[ $(ls "$CAS/callgraphs/global" | wc -l) -eq 2 ]] || fail "duplicate objects stored: $(ls "$CAS/callgraphs/global")"

step "zstd -d of the blob hashes to the digest"
BLOB=$CAS/callgraphs/global/$GRAPH.ndjson.zst
[[ -f $BLOB ]] || fail "no blob at $BLOB"
zstd -q -d -c "$BLOB" >canonical.ndjson || fail "zstd -d cannot read $BLOB"
zstd -q -l -v "$BLOB" >zstd-info.txt 2>&1 || fail "zstd -l cannot read $BLOB"
grep -q XXH64 zstd-info.txt || fail "the zstd frame has no content checksum: $(cat zstd-info.txt)"
[[ "sha256:$(sha256sum canonical.ndjson | cut -d' ' -f1)" == "$DIGEST" ]] || fail "sha256sum of the blob is not $DIGEST"
[[ $(grep -c '"t":"node"' canonical.ndjson) -eq 300 ]] || fail "the blob does not hold 300 node lines"
head -n 1 canonical.ndjson | grep -q '^{"file":"Svc' || fail "first line is not a canonical node: $(head -n 1 canonical.ndjson)"

step "Ed25519 manifest signature verifies with Python cryptography and openssl over the JCS bytes"
cp "$CAS/manifests/$GRAPH.json" stored-manifest.json
cmp -s <(jq -S . stored-manifest.json) <(jq -S . manifest.json) || fail "stored manifest differs from the printed one"
run_expect 0 pub-ed.pem export.err ctl keys export "$KEY_ID"
run_expect 0 py.out py.err py_verify stored-manifest.json pub-ed.pem
jcs_body stored-manifest.json body.jcs
jq -r .signature stored-manifest.json | base64 -d >sig.bin
[[ $(stat -c %s sig.bin) -eq 64 ]] || fail "an Ed25519 signature is 64 raw bytes"
openssl pkeyutl -verify -pubin -inkey pub-ed.pem -rawin -in body.jcs -sigfile sig.bin >openssl.out 2>&1 ||
  fail "openssl rejects the manifest signature: $(cat openssl.out)"
expect_in openssl.out "Signature Verified Successfully" "openssl output"
printf ' ' >>body.jcs
if openssl pkeyutl -verify -pubin -inkey pub-ed.pem -rawin -in body.jcs -sigfile sig.bin >/dev/null 2>&1; then
  fail "openssl accepts the signature over changed bytes"
fi

step "the DSSE envelope attests the blob with the manifest body as predicate"
ENVELOPE=$CAS/manifests/$GRAPH.json.dsse
run_expect 0 dsse.out dsse.err "$PY" "$HERE/verify_dsse.py" "$ENVELOPE" pub-ed.pem --keyid "$KEY_ID"
jq -r .payload "$ENVELOPE" | base64 -d >statement.json
jq -e --arg name "callgraphs/global/$GRAPH.ndjson" --arg hex "${DIGEST#sha256:}" \
  '.predicateType == "https://stella.ops/attestation/callgraph-manifest/v1"
   and .subject == [{"name": $name, "digest": {"sha256": $hex}}]' statement.json >/dev/null ||
  fail "unexpected statement: $(head -c 500 statement.json)"
cmp -s <(jq -S .predicate statement.json) <(jq -S 'del(.signature, .rekorUuid)' manifest.json) ||
  fail "the predicate is not the manifest body"

step "verify callgraph: intact passes, one changed byte fails"
run_expect 0 v.out v.err ctl verify callgraph "$GRAPH"
expect_in v.out "valid" "verify callgraph output"
run_expect 0 v.out v.err ctl verify callgraph "$GRAPH" --deep
MANIFEST_FILE=$CAS/manifests/$GRAPH.json
chmod u+w "$MANIFEST_FILE"
flip_node_count "$MANIFEST_FILE"
cmp -s "$MANIFEST_FILE" stored-manifest.json && fail "the manifest was not changed"
run_expect 1 v.out v.err ctl verify callgraph "$GRAPH"
expect_in v.err "nodeCount" "stderr of verify (changed nodeCount)"
cp stored-manifest.json "$MANIFEST_FILE"
jq -c --arg s "$(jq -r .signature stored-manifest.json | base64 -d | head -c 63 | cat - <(printf 'x') | base64 -w0)" \
  '.signature = $s' stored-manifest.json >"$MANIFEST_FILE"
run_expect 1 v.out v.err ctl verify callgraph "$GRAPH"
expect_in v.err "signature" "stderr of verify (changed signature)"
cp stored-manifest.json "$MANIFEST_FILE"
run_expect 0 v.out v.err ctl verify callgraph "$GRAPH"

step "richgraph-v1 and canonical NDJSON are accepted"
"$GEN" --nodes 40 --edges 100 --seed 5 --format richgraph >rich.json
run_expect 0 rich-manifest.json rich.err ctl ingest callgraph rich.json --tenant global --purl "$PURL" --language java
[[ $(jq -r .entryPoints[0].id rich-manifest.json) =~ ^n[0-9]{7}$ ]] || fail "richgraph roots are not entry points"
"$GEN" --nodes 40 --edges 100 --seed 6 >graph.ndjson
run_expect 0 nd-manifest.json nd.err ctl ingest callgraph graph.ndjson --tenant global --purl "$PURL" --language java --format ndjson
RICH=$(jq -r .graphId rich-manifest.json)
ND=$(jq -r .graphId nd-manifest.json)

step "callgraphs list --purl is newest first"
run_expect 0 list.json list.err ctl callgraphs list --purl "$PURL" --format json
[[ $(jq -r 'map(.graphId) | join(" ")' list.json) == "$ND $RICH $GRAPH" ]] ||
  fail "list order is $(jq -r 'map(.graphId) | join(" ")' list.json), expected $ND $RICH $GRAPH"
run_expect 0 list.txt list.err ctl callgraphs list --purl "$PURL" --tenant global
[[ $(sed -n 2p list.txt | cut -f1) == "$ND" ]] || fail "table is not newest first: $(cat list.txt)"
run_expect 0 none.json list.err ctl callgraphs list --purl pkg:npm/other@1 --format json
[[ $(jq length none.json) -eq 0 ]] || fail "another purl lists graphs"

step "an invalid graph is rejected naming rule and field, and stores nothing"
before=$(files_under "$DATA/cas")
jq '.edges[7].targetId = "ghost"' graph.json >bad.json
run_expect 1 out.txt err.txt ctl ingest callgraph bad.json --tenant global --purl "$PURL" --language java
expect_in err.txt "rule 'edge-endpoint'" "stderr (unknown endpoint)"
expect_in err.txt "field 'edges[7].targetId'" "stderr (unknown endpoint)"
run_expect 1 out.txt err.txt ctl ingest callgraph graph.json --tenant global --purl "$PURL" --language cobol
expect_in err.txt "rule 'language'" "stderr (unknown language)"
run_expect 1 out.txt err.txt ctl ingest callgraph graph.json --tenant global --purl not-a-purl --language java
expect_in err.txt "field 'componentPurl'" "stderr (bad purl)"
[[ $(files_under "$DATA/cas") == "$before" ]] || fail "a rejected ingest left objects in the CAS"

step "a fact batch referencing the graph lists it as a subject"
printf '%s\n' '{"symbolId":"com.example.Svc1.m1"}' '{"symbolId":"com.example.Svc2.m2","hitCount":3}' >facts.ndjson
run_expect 0 record.json facts.err ctl ingest facts facts.ndjson --tenant global --callgraph-id "$GRAPH"
BATCH=$(jq -r .batchId record.json)
jq -r .payload "$CAS/attestations/$BATCH.dsse" | base64 -d >batch-statement.json
jq -e --arg name "callgraphs/global/$GRAPH.ndjson" --arg hex "${DIGEST#sha256:}" \
  '.subject | map(select(.name == $name and .digest.sha256 == $hex)) | length == 1' batch-statement.json >/dev/null ||
  fail "the batch attestation does not name the callgraph: $(jq -c .subject batch-statement.json)"
run_expect 0 vb.out vb.err ctl verify batch "$BATCH"
run_expect 1 out.txt err.txt ctl ingest facts facts.ndjson --tenant global --callgraph-id 01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_in err.txt "rule 'callgraph-exists'" "stderr (unknown callgraph)"

step "keys rotate: a new active key, the old one retired and still verifying"
run_expect 0 rotate.out rotate.err ctl keys rotate --alg ed25519 --key-id ed-2
expect_in rotate.err "signing.key_id = ed-2" "stderr of keys rotate"
run_expect 0 keys.json keys.err ctl keys list --format json
[[ $(jq -r --arg k "$KEY_ID" 'map(select(.keyId == $k))[0].status' keys.json) == retired ]] || fail "old key not retired: $(cat keys.json)"
[[ $(jq -r 'map(select(.keyId == "ed-2"))[0].status' keys.json) == active ]] || fail "new key not active: $(cat keys.json)"
"$GEN" --nodes 30 --edges 60 --seed 7 --format stella >rotated.json
run_expect 0 rotated-manifest.json rotated.err ctl --signing.key_id=ed-2 ingest callgraph rotated.json --tenant global --purl "$PURL" --language java
[[ $(jq -r .signerKeyId rotated-manifest.json) == ed-2 ]] || fail "rotation did not switch the signer"
run_expect 0 v.out v.err ctl verify callgraph "$GRAPH"
run_expect 0 v.out v.err ctl verify callgraph "$(jq -r .graphId rotated-manifest.json)"

step "ECDSA P-256: switch signers by options, verify with openssl dgst"
PLUGIN_DIR=$(cd "$(dirname "$SIGNALSCTL")/../lib/signals/plugins" 2>/dev/null && pwd || true)
if [[ -z $PLUGIN_DIR || ! -f $PLUGIN_DIR/libsignals-signer-ecdsa-p256.so ]]; then
  echo "!!!! SKIPPED: the ECDSA P-256 checks — plugin signer-ecdsa-p256 is not built in ${PLUGIN_DIR:-<no plugin dir>} !!!!" >&2
  echo "!!!! SKIPPED: ECDSA P-256 part of $TEST_NAME (build plugins/signer-ecdsa-p256 to run it) !!!!"
else
  run_expect 0 keygen.out keygen.err ctl keygen --alg ecdsa-p256 --key-id ec-1
  "$GEN" --nodes 30 --edges 60 --seed 8 --format stella >ec.json
  run_expect 0 ec-manifest.json ec.err ctl --signing.plugin=signer-ecdsa-p256 --signing.key_id=ec-1 \
    --signing.algorithm=ECDSA-P256-SHA256 ingest callgraph ec.json --tenant global --purl "$PURL" --language java
  EC_GRAPH=$(jq -r .graphId ec-manifest.json)
  [[ $(jq -r .signerKeyId ec-manifest.json) == ec-1 ]] || fail "ECDSA manifest signed by $(jq -r .signerKeyId ec-manifest.json)"
  run_expect 0 pub-ec.pem export.err ctl keys export ec-1
  jcs_body "$CAS/manifests/$EC_GRAPH.json" ec-body.jcs
  jq -r .signature ec-manifest.json | base64 -d >ec-sig.der
  openssl asn1parse -inform DER -in ec-sig.der >/dev/null 2>&1 || fail "the ECDSA signature is not DER"
  openssl dgst -sha256 -verify pub-ec.pem -signature ec-sig.der ec-body.jcs >ec-openssl.out 2>&1 ||
    fail "openssl dgst rejects the ECDSA manifest signature: $(cat ec-openssl.out)"
  expect_in ec-openssl.out "Verified OK" "openssl dgst output"
  run_expect 0 py.out py.err py_verify "$CAS/manifests/$EC_GRAPH.json" pub-ec.pem
  run_expect 0 dsse.out dsse.err "$PY" "$HERE/verify_dsse.py" "$CAS/manifests/$EC_GRAPH.json.dsse" pub-ec.pem --keyid ec-1
  # Both keys keep verifying, with the default (Ed25519) configuration.
  run_expect 0 v.out v.err ctl verify callgraph "$EC_GRAPH"
  run_expect 0 v.out v.err ctl verify callgraph "$GRAPH"
  chmod u+w "$CAS/manifests/$EC_GRAPH.json"
  flip_node_count "$CAS/manifests/$EC_GRAPH.json"
  run_expect 1 v.out v.err ctl verify callgraph "$EC_GRAPH"
fi
