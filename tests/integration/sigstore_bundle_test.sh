#!/usr/bin/env bash
# Sigstore bundles and transparency-log entries, offline:
#  * `signalsctl verify bundle` accepts the three production bundles of
#    tests/data/sigstore with the keys their README names, and rejects
#    tampered copies (made here with jq) naming what failed;
#  * a batch ingested with Rekor disabled is exported (`signalsctl export
#    bundle`) and verified by @sigstore/verify@3.1.1 (Sigstore's own verifier,
#    Node) given only the public key; a tampered copy fails there too;
#  * an entry made by a small log of our own (rekor_entry.py: Python
#    `cryptography`, RFC 6962 recursive tree) stored next to the envelope is
#    verified by `verify batch` / `verify callgraph`, travels in the exported
#    bundle, and verifies with @sigstore/verify given the log's key; a
#    tampered stored entry is refused naming the part.
# usage: sigstore_bundle_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need jq node openssl base64
need_python_cryptography
NODE_DIR=$HERE/node
[[ -d $NODE_DIR/node_modules/@sigstore/verify ]] ||
  fail "$NODE_DIR/node_modules is missing @sigstore/verify: run tools/setup (npm ci --prefix tests/integration/node)"

SIG=$TESTDATA/sigstore
DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }
sigstore_verify() { node "$NODE_DIR/verify_bundle.mjs" "$@"; }

# The production Rekor key (trusted_root.json tlogs[0]) and npm's key, as PEM.
jq -r '.tlogs[0].publicKey.rawBytes' "$SIG/trusted_root.json" | base64 -d |
  openssl pkey -pubin -inform DER -out rekor.pem
[[ $(openssl pkey -pubin -in rekor.pem -outform DER | sha256sum | cut -c1-64) == \
   c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d ]] || fail "trusted_root.json tlogs[0] is not the documented Rekor key"
cat >npm.pem <<'PEM'
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==
-----END PUBLIC KEY-----
PEM
MANAGED=$SIG/managed-key-happy-path/bundle.sigstore.json
DSSE_V3=$SIG/happy-path-intoto-in-dsse-v3/bundle.sigstore.json
PUBLISH=$SIG/bundle-publish.json

step "the production bundles verify offline"
run_expect 0 out err ctl verify bundle "$MANAGED" --key "$SIG/managed-key-happy-path/key.pub" --rekor-key rekor.pem
expect_in out "valid Sigstore bundle v0.3"
expect_in out "message signature: verified over messageDigest with the given key"
expect_in out "tlog entry 0: verified (logIndex 771488337, integratedTime 1766077479"
expect_in out "inclusion proof at 649584075 in tree size 649584076; checkpoint 'rekor.sigstore.dev - 1193050959916656506'"
run_expect 0 out err ctl verify bundle "$DSSE_V3" --rekor-key rekor.pem
expect_in out "DSSE signature: verified (payloadType application/vnd.in-toto+json) with the certificate"
expect_in out "tlog entry 0: verified (logIndex 155690850"
run_expect 0 out err ctl verify bundle "$PUBLISH" --key npm.pem --rekor-key rekor.pem
expect_in out "valid Sigstore bundle v0.1"
expect_in out "tlog entry 0: verified (logIndex 18300940, integratedTime 1681839916, leaf f82554020bbb6c52df975495f1b18501020afcf6c20fb06aba808879c6f73c98; body matches; SET)"

step "missing keys are usage errors"
run_expect 2 out err ctl verify bundle "$MANAGED" --key "$SIG/managed-key-happy-path/key.pub"
expect_in err "give the log's public key"
run_expect 2 out err ctl verify bundle "$MANAGED" --rekor-key rekor.pem
expect_in err "the bundle has no certificate"
run_expect 2 out err ctl verify bundle no-such-file.json --key npm.pem
expect_in err "cannot read no-such-file.json"

step "tampered production bundles fail naming what failed"
# tampered NAME FILE JQ-FILTER EXPECTED-REASON [KEY ARGS...]
tampered() {
  local name=$1 file=$2 filter=$3 reason=$4
  shift 4
  jq "$filter" "$file" >"tampered-$name.json" || fail "jq could not make $name"
  run_expect 1 out err ctl verify bundle "tampered-$name.json" "$@"
  expect_in err "$reason" "signalsctl's reason for $name"
}
E=".verificationMaterial.tlogEntries[0]"
MK=(--key "$SIG/managed-key-happy-path/key.pub" --rekor-key rekor.pem)
tampered proof-hash "$MANAGED" "$E.inclusionProof.hashes[3] = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"" \
  "tlog entry 0: inclusion proof: computed root" "${MK[@]}"
tampered integrated-time "$MANAGED" "$E.integratedTime = \"1766077480\"" \
  "tlog entry 0: signed entry timestamp (SET): does not verify" "${MK[@]}"
tampered shard-index "$MANAGED" "$E.logIndex = $E.inclusionProof.logIndex" "logIndex 649584075" "${MK[@]}"
tampered checkpoint-root "$MANAGED" \
  "$E.inclusionProof.checkpoint.envelope |= sub(\"rnpacIXSjoToEDh0qD4CLAKdkPnW1Y4R1DhFMS\"; \"rnpacIXSjoToEDh0qD4CLAKdkPnW1Y4R1DhFMT\")" \
  "tlog entry 0: checkpoint: signature of 'rekor.sigstore.dev' (key hint c0d23d6a) does not verify" "${MK[@]}"
tampered message-digest "$MANAGED" '.messageSignature.messageDigest.digest = "oM/HEnHW4njlfNMy/5V8P3BD/do1TEy7GQow1W76Ab4="' \
  "message signature: signature does not verify" "${MK[@]}"
tampered body "$DSSE_V3" \
  "$E.canonicalizedBody |= (@base64d | fromjson | .spec.payloadHash.value = (\"0\" * 64) | tojson | @base64)" \
  "tlog entry 0: log entry body: spec.payloadHash.value 0000" --rekor-key rekor.pem
tampered payload "$DSSE_V3" '.dsseEnvelope.payload = ("{}" | @base64)' "DSSE signature: " --rekor-key rekor.pem
tampered set-byte "$PUBLISH" "$E.inclusionPromise.signedEntryTimestamp |= sub(\"^MEYCIQDh\"; \"MEYCIQDi\")" \
  "tlog entry 0: signed entry timestamp (SET): does not verify" --key npm.pem --rekor-key rekor.pem
tampered no-proof "$DSSE_V3" "del($E.inclusionProof)" "tlog entry 0: inclusion proof: missing" --rekor-key rekor.pem
# The right bundle, the wrong log key.
run_expect 1 out err ctl verify bundle "$PUBLISH" --key npm.pem --rekor-key "$SIG/managed-key-happy-path/key.pub"
expect_in err "tlog entry 0: log ID: the entry's logID c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d is not"

step "ingest a batch (Rekor disabled) and export its bundle"
store_callgraph "$DATA"
gen_facts 50 facts.ndjson
run_expect 0 record.json err ctl ingest facts facts.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
BATCH=$(jq -r .batchId record.json)
KEY_ID=$(jq -r .signerKeyId record.json)
run_expect 0 signer.pem err ctl keys export "$KEY_ID"
run_expect 0 bundle.json err ctl export bundle "$BATCH"
run_expect 0 out err ctl export bundle "$BATCH" --out bundle-file.json
expect_in err "wrote bundle-file.json (Sigstore bundle v0.3, not logged)"
cmp bundle.json bundle-file.json || fail "--out wrote other bytes than stdout"
CAS=$DATA/cas/signals
jq -e --slurpfile env "$CAS/attestations/$BATCH.dsse" \
  '.mediaType == "application/vnd.dev.sigstore.bundle.v0.3+json" and .verificationMaterial.tlogEntries == []
   and .dsseEnvelope.payload == $env[0].payload and .dsseEnvelope.signatures[0].sig == $env[0].signatures[0].sig' \
  bundle.json >/dev/null || fail "the exported bundle does not carry the stored envelope: $(head -c 600 bundle.json)"
run_expect 1 out err ctl export bundle 01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_in err "batch 01ARZ3NDEKTSV4RRFFQ69G5FAV not found"
run_expect 2 out err ctl export bundle not-a-ulid
expect_in err "batchId"

step "@sigstore/verify@3.1.1 verifies the exported bundle with only the public key"
run_expect 0 out err sigstore_verify bundle.json --key signer.pem
expect_in out "verified: bundle.json"
cat out
run_expect 0 out err ctl verify bundle bundle.json --key signer.pem
expect_in out "tlog entries: none"
run_expect 0 out err ctl verify batch "$BATCH"
expect_in out "log entry: not logged (skipReason rekor-disabled)"
run_expect 0 out err ctl verify callgraph "$CALLGRAPH_ID"
expect_in out "log entry: not logged (skipReason rekor-disabled)"

step "an ECDSA P-256 batch's bundle verifies too"
PLUGIN_DIR=$(cd "$(dirname "$SIGNALSCTL")/../lib/signals/plugins" 2>/dev/null && pwd || true)
if [[ -z $PLUGIN_DIR || ! -f $PLUGIN_DIR/libsignals-signer-ecdsa-p256.so ]]; then
  echo "!!!! SKIPPED: ECDSA P-256 bundle of $TEST_NAME (plugin signer-ecdsa-p256 is not built) !!!!"
else
  run_expect 0 out err ctl keygen --alg ecdsa-p256 --key-id ec-1
  ECDSA=(--signing.plugin=signer-ecdsa-p256 --signing.key_id=ec-1 --signing.algorithm=ECDSA-P256-SHA256)
  run_expect 0 ec-record.json err ctl "${ECDSA[@]}" ingest facts facts.ndjson --tenant global --callgraph-id "$CALLGRAPH_ID"
  [[ $(jq -r .signerKeyId ec-record.json) == ec-1 ]] || fail "the ECDSA batch was signed by $(jq -r .signerKeyId ec-record.json)"
  run_expect 0 ec.pem err ctl keys export ec-1
  run_expect 0 ec-bundle.json err ctl export bundle "$(jq -r .batchId ec-record.json)"
  run_expect 0 out err sigstore_verify ec-bundle.json --key ec.pem
  run_expect 0 out err ctl verify bundle ec-bundle.json --key ec.pem
  run_expect 1 out err sigstore_verify ec-bundle.json --key signer.pem
fi

step "a tampered exported bundle fails in both verifiers"
jq '.dsseEnvelope.payload |= (@base64d | sub("runtime-facts"; "runtime-fakes") | @base64)' bundle.json >bad-payload.json
run_expect 1 out err sigstore_verify bad-payload.json --key signer.pem
expect_in err "SIGNATURE_ERROR"
run_expect 1 out err ctl verify bundle bad-payload.json --key signer.pem
expect_in err "DSSE signature: "
run_expect 1 out err sigstore_verify bundle.json --key npm.pem
expect_in err "key not found"

step "a logged batch: the stored entry is verified, exported and checked by @sigstore/verify"
$PY "$HERE/rekor_entry.py" "$CAS/attestations/$BATCH.dsse" signer.pem log.pem entry.json
cp entry.json "$CAS/attestations/$BATCH.rekor.json"
run_expect 2 out err ctl verify batch "$BATCH"
expect_in err "give the log's public key (--rekor-key)"
run_expect 0 out err ctl verify batch "$BATCH" --rekor-key log.pem
expect_in out "log entry: verified (uuid $(jq -r .uuid entry.json), logIndex 1000005"
expect_in out "inclusion proof at 5 in tree size 7"
run_expect 0 logged.json err ctl export bundle "$BATCH"
jq -e '.verificationMaterial.tlogEntries[0] | .logIndex == "1000005" and .integratedTime != null
   and .kindVersion == {kind: "dsse", version: "0.0.1"} and .inclusionProof.logIndex == "5"
   and (.inclusionProof.rootHash | test("^[A-Za-z0-9+/]{43}=$"))' logged.json >/dev/null ||
  fail "the exported bundle's tlog entry is not in protobuf-JSON form: $(jq -c .verificationMaterial.tlogEntries logged.json)"
run_expect 0 out err sigstore_verify logged.json --key signer.pem --rekor-key log.pem
expect_in out "1 tlog entries"
run_expect 0 out err ctl verify bundle logged.json --key signer.pem --rekor-key log.pem
expect_in out "tlog entry 0: verified (logIndex 1000005"
# Sigstore's verifier refuses the entry against another log key, and without one.
openssl ecparam -name prime256v1 -genkey -noout -out other.key 2>/dev/null
openssl pkey -in other.key -pubout -out other.pem
run_expect 1 out err sigstore_verify logged.json --key signer.pem --rekor-key other.pem
run_expect 1 out err sigstore_verify logged.json --key signer.pem

step "a tampered stored entry is refused naming the part"
stored_tamper() { # NAME JQ-FILTER REASON
  jq "$2" entry.json >"$CAS/attestations/$BATCH.rekor.json"
  run_expect 1 out err ctl verify batch "$BATCH" --rekor-key log.pem
  expect_in err "batch $BATCH: INVALID: log entry: $3" "verify batch's reason for $1"
}
stored_tamper proof-hash '.verification.inclusionProof.hashes[1] = ("00" * 32)' "inclusion proof: computed root"
stored_tamper integrated-time '.integratedTime += 1' "signed entry timestamp (SET): does not verify"
stored_tamper shard-index '.logIndex = .verification.inclusionProof.logIndex' "signed entry timestamp (SET): does not verify"
# Index 5 has the same audit path in trees of 7 and 8 leaves: the checkpoint catches it.
stored_tamper tree-size '.verification.inclusionProof.treeSize = 8' "checkpoint: tree size 7 and root"
stored_tamper checkpoint '.verification.inclusionProof.checkpoint |= sub("\n7\n"; "\n8\n")' "checkpoint: signature of 'signals-test-log'"
stored_tamper body '.body |= (@base64d | fromjson | .spec.payloadHash.value = ("f" * 64) | tojson | @base64)' \
  "log entry body: spec.payloadHash.value ffff"
stored_tamper uuid '.uuid = "0000000000000000" + ("ab" * 32)' "entry UUID"
cp entry.json "$CAS/attestations/$BATCH.rekor.json"
run_expect 1 out err ctl verify batch "$BATCH" --rekor-key other.pem
expect_in err "log entry: log ID: "

step "a logged callgraph manifest: verify callgraph checks its entry"
$PY "$HERE/rekor_entry.py" "$CAS/manifests/$CALLGRAPH_ID.json.dsse" signer.pem manifest-log.pem manifest-entry.json
cp manifest-entry.json "$CAS/manifests/$CALLGRAPH_ID.rekor.json"
run_expect 0 out err ctl verify callgraph "$CALLGRAPH_ID" --rekor-key manifest-log.pem
expect_in out "log entry: verified (uuid $(jq -r .uuid manifest-entry.json)"
run_expect 1 out err ctl verify callgraph "$CALLGRAPH_ID" --rekor-key log.pem
expect_in err "log entry: log ID: "
# The batch's entry is not the manifest's: its body logs another envelope.
cp entry.json "$CAS/manifests/$CALLGRAPH_ID.rekor.json"
run_expect 1 out err ctl verify callgraph "$CALLGRAPH_ID" --rekor-key log.pem
expect_in err "log entry: log entry body: spec.payloadHash.value"
