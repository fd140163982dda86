#!/usr/bin/env bash
# The REST API (README.md#rest-api-transport-http) of a real signalsd on an ephemeral loopback port,
# driven with curl and checked with jq, zstd, gzip, sha256sum and sqlite3:
# every endpoint (runtime facts in NDJSON and JSON form, identity / zstd /
# gzip uploads, read back byte-identical, the stored zstd frame on
# Accept-Encoding: zstd, provenance, attestation, the NDJSON stream with
# tenant / callgraph_id / since / include_provenance, callgraphs, keys,
# health, readiness, metrics, OpenAPI), and every error status (400, 401, 403,
# 404, 405, 409, 413, 415, 422) as problem+json, each leaving the store as it
# was (CAS objects and index rows counted before and after).
# usage: http_api_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq zstd gzip sha256sum sqlite3 cmp base64 openssl

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }
sha() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

step "setup: tenants, callgraphs, tokens (before signalsd starts)"
ctl tenant add acme >/dev/null 2>&1
ctl tenant add other >/dev/null 2>&1
store_callgraph "$DATA" acme
G_ACME=$CALLGRAPH_ID
# A second graph of acme (other content), to filter the stream by callgraph.
G_ACME2=$(ctl ingest callgraph - --tenant acme --purl pkg:maven/com.example/other@2.0.0 --language java \
  <<<"${SMALL_CALLGRAPH//Svc./Other.}" 2>/dev/null | jq -r .graphId)
store_callgraph "$DATA" other
G_OTHER=$CALLGRAPH_ID
AGENT=$(token runtime-agent acme)
SERVICE=$(token signals-service acme)
AUDITOR=$(token audit-service acme)
SCANNER=$(token scanner-worker acme)

# 64 KiB: big enough for every upload below, small enough for a 413.
start_signalsd "$DATA" --transport.http.max_body_bytes=64KiB
FACTS="$BASE/signals/runtime-facts"
AUTH_AGENT=(-H "Authorization: Bearer $AGENT")
AUTH_SERVICE=(-H "Authorization: Bearer $SERVICE")
NDJSON=(-H 'Content-Type: application/x-ndjson')

gen_facts 300 facts.ndjson
gen_facts 40 small.ndjson

step "GET /healthz, /readyz, /openapi.json, /metrics, /signals/keys"
req health "$BASE/healthz"; expect_status 200
jq -e '.status == "ok"' health.body >/dev/null || fail "healthz: $(cat health.body)"
req ready "$BASE/readyz"; expect_status 200
jq -e '.status == "ready" and (.instances | to_entries | all(.value == "ok"))' ready.body >/dev/null ||
  fail "readyz: $(cat ready.body)"
req openapi "$BASE/openapi.json"; expect_status 200
[[ ${CTYPE%%;*} == application/json ]] || fail "openapi.json content type $CTYPE"
jq -e '(.openapi | startswith("3.")) and (.paths | has("/signals/runtime-facts"))' openapi.body >/dev/null ||
  fail "openapi.json is not an OpenAPI 3 document"
req keys "$BASE/signals/keys"; expect_status 200
KEY_ID=$(jq -r '.keys[] | select(.status == "active") | .keyId' keys.body)
[[ -n $KEY_ID ]] || fail "no active key in $(cat keys.body)"
jq -r --arg k "$KEY_ID" '.keys[] | select(.keyId == $k) | .publicKeyPem' keys.body >key.pem
openssl pkey -pubin -in key.pem -noout 2>/dev/null || fail "the key's PEM is not a public key: $(cat key.pem)"
[[ "$(cat key.pem)" == "$(ctl keys export "$KEY_ID" 2>/dev/null)" ]] || fail "/signals/keys PEM differs from signalsctl keys export"

step "POST /signals/runtime-facts (NDJSON): 201, Location, provenance record"
req post1 "${AUTH_AGENT[@]}" "${NDJSON[@]}" --data-binary @facts.ndjson "$FACTS?tenant=acme&callgraph_id=$G_ACME"
expect_status 201
B1=$(jq -r .batchId post1.body)
[[ $B1 =~ ^[0-7][0-9A-HJKMNP-TV-Z]{25}$ ]] || fail "batchId '$B1' is not a ULID"
[[ $(header post1 Location) == "/signals/runtime-facts/$B1" ]] || fail "Location is '$(header post1 Location)'"
jq -e --arg h "$(sha facts.ndjson)" --arg g "$G_ACME" \
  '.provenanceHash == $h and .factCount == 300 and .tenantId == "acme" and .callgraphId == $g
   and .principal == "runtime-agent" and .source == "http"' post1.body >/dev/null ||
  fail "unexpected provenance record: $(cat post1.body)"

step "GET /signals/runtime-facts/{id}: byte-identical to what was posted"
req get1 "${AUTH_SERVICE[@]}" "$FACTS/$B1"; expect_status 200
[[ ${CTYPE%%;*} == application/x-ndjson ]] || fail "content type $CTYPE"
[[ -z $(header get1 Content-Encoding) ]] || fail "identity read has Content-Encoding $(header get1 Content-Encoding)"
cmp facts.ndjson get1.body || fail "the batch read back differs from the posted body"

step "Accept-Encoding: zstd gets the stored frame as is"
req getz "${AUTH_SERVICE[@]}" -H 'Accept-Encoding: zstd' "$FACTS/$B1"; expect_status 200
[[ $(header getz Content-Encoding) == zstd ]] || fail "Content-Encoding is '$(header getz Content-Encoding)'"
cmp getz.body "$DATA/cas/signals/runtime-facts/acme/$B1.ndjson.zst" || fail "the zstd answer is not the stored frame"
zstd -q -d -c getz.body >getz.ndjson || fail "zstd -d cannot read the answer"
cmp facts.ndjson getz.ndjson || fail "zstd -d of the answer differs from the posted body"
req getz0 "${AUTH_SERVICE[@]}" -H 'Accept-Encoding: zstd;q=0, gzip' "$FACTS/$B1"; expect_status 200
cmp facts.ndjson getz0.body || fail "zstd;q=0 should get the identity body"

step "GET .../provenance and .../attestation"
req prov "${AUTH_SERVICE[@]}" "$FACTS/$B1/provenance"; expect_status 200
[[ $(jq -cS . prov.body) == "$(jq -cS . post1.body)" ]] || fail "provenance differs from the 201 answer: $(cat prov.body)"
req att "${AUTH_SERVICE[@]}" "$FACTS/$B1/attestation"; expect_status 200
jq -e --arg k "$KEY_ID" '.payloadType == "application/vnd.in-toto+json" and .signatures[0].keyid == $k' att.body >/dev/null ||
  fail "attestation is not a DSSE envelope by $KEY_ID: $(head -c 400 att.body)"
cmp -s <(jq -cS . att.body) <(jq -cS . "$DATA/cas/signals/attestations/$B1.dsse") || fail "attestation differs from the stored envelope"
jq -r .payload att.body | base64 -d | jq -e --arg h "$(sha facts.ndjson)" \
  '.subject[0].digest.sha256 == ($h | ltrimstr("sha256:"))' >/dev/null || fail "the statement's subject is not the batch digest"
req attd "${AUTH_SERVICE[@]}" "$FACTS/$B1/attestation?format=dsse"; expect_status 200
cmp att.body attd.body || fail "format=dsse differs from the default answer"
req bundle "${AUTH_SERVICE[@]}" "$FACTS/$B1/attestation?format=sigstore-bundle"; expect_status 200
# The key hint is base64 SHA-256 of the key's DER (Sigstore's managed-key convention).
HINT=$(openssl pkey -pubin -in key.pem -outform DER | openssl dgst -sha256 -binary | base64)
jq -e --slurpfile env att.body --arg k "$HINT" \
  '.mediaType == "application/vnd.dev.sigstore.bundle.v0.3+json" and .verificationMaterial.publicKey.hint == $k
   and .dsseEnvelope.payload == $env[0].payload and .dsseEnvelope.payloadType == $env[0].payloadType
   and .dsseEnvelope.signatures == [$env[0].signatures[] | {sig, keyid}]' bundle.body >/dev/null ||
  fail "format=sigstore-bundle is not a bundle v0.3 around the envelope: $(head -c 600 bundle.body)"

step "POST the JSON form {callgraphId, events[]}"
jq -c -n --arg g "$G_ACME" '{callgraphId: $g, events: [{symbolId: "a::b", hitCount: 3}, {symbol_id: "c", fact_type: "runtime.module.loaded"}]}' >events.json
req postj "${AUTH_AGENT[@]}" -H 'Content-Type: application/json' --data-binary @events.json "$FACTS?tenant=acme"
expect_status 201
B_JSON=$(jq -r .batchId postj.body)
jq -e '.factCount == 2' postj.body >/dev/null || fail "JSON form factCount: $(cat postj.body)"
req getj "${AUTH_SERVICE[@]}" "$FACTS/$B_JSON"; expect_status 200
[[ $(wc -l <getj.body) -eq 2 ]] || fail "JSON form stored $(wc -l <getj.body) lines"
cmp <(jq -cS '.events[]' events.json) <(jq -cS . getj.body) || fail "JSON form events differ from what is stored"

step "Content-Encoding: zstd and gzip uploads are stored decoded"
zstd -q -c small.ndjson >small.ndjson.zst
gzip -c small.ndjson >small.ndjson.gz
req postz "${AUTH_AGENT[@]}" "${NDJSON[@]}" -H 'Content-Encoding: zstd' --data-binary @small.ndjson.zst "$FACTS?tenant=acme&callgraph_id=$G_ACME2"
expect_status 201
B_ZSTD=$(jq -r .batchId postz.body)
req postg "${AUTH_AGENT[@]}" "${NDJSON[@]}" -H 'Content-Encoding: gzip' --data-binary @small.ndjson.gz "$FACTS?tenant=acme&callgraph_id=$G_ACME2"
expect_status 201
B_GZIP=$(jq -r .batchId postg.body)
for b in "$B_ZSTD" "$B_GZIP"; do
  req back "${AUTH_SERVICE[@]}" "$FACTS/$b"; expect_status 200
  cmp small.ndjson back.body || fail "batch $b (compressed upload) differs from the plain text"
  req backp "${AUTH_SERVICE[@]}" "$FACTS/$b/provenance"; expect_status 200
  [[ $(jq -r .provenanceHash backp.body) == "$(sha small.ndjson)" ]] || fail "provenanceHash of $b is not the plain text's hash"
done

step "Content-Digest and X-Provenance-Hash that match are accepted"
DIGEST_B64=$(openssl dgst -sha256 -binary small.ndjson | base64)
req postd "${AUTH_AGENT[@]}" "${NDJSON[@]}" -H "Content-Digest: sha-256=:$DIGEST_B64:" -H "X-Provenance-Hash: $(sha small.ndjson)" \
  --data-binary @small.ndjson "$FACTS?tenant=acme&callgraph_id=$G_ACME"
expect_status 201
B_DIGEST=$(jq -r .batchId postd.body)

step "GET /signals/runtime-facts/ndjson: tenant, callgraph_id, since, include_provenance"
# Batches of acme in ingest order: B1 (G_ACME), B_JSON (G_ACME), B_ZSTD, B_GZIP (G_ACME2), B_DIGEST (G_ACME).
{ cat facts.ndjson; jq -cS '.events[]' events.json; cat small.ndjson small.ndjson small.ndjson; } >all.ndjson
req stream "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=acme"; expect_status 200
[[ ${CTYPE%%;*} == application/x-ndjson ]] || fail "stream content type $CTYPE"
cmp all.ndjson stream.body || fail "the stream is not every acme batch in ingest order"
req streamg "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=acme&callgraph_id=$G_ACME2"; expect_status 200
cmp <(cat small.ndjson small.ndjson) streamg.body || fail "callgraph_id does not filter the stream"
SINCE=$(jq -r .ingestedAt postz.body)
req streams "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=acme&since=$SINCE"; expect_status 200
cmp <(cat small.ndjson small.ndjson small.ndjson) streams.body || fail "since=$SINCE does not start at the zstd batch"
req streamo "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=other"; expect_problem 403 "stream of a tenant the token is not bound to"
req streamp "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=acme&include_provenance=true"; expect_status 200
[[ $(wc -l <streamp.body) -eq $(wc -l <all.ndjson) ]] || fail "include_provenance stream has $(wc -l <streamp.body) lines"
jq -e -s 'all(has("provenance_hash") and has("callgraph_id") and has("batch_id"))' streamp.body >/dev/null ||
  fail "a fact of the include_provenance stream lacks provenance_hash, callgraph_id or batch_id"
# Every fact carries its own batch's values, and without them is the stored fact.
for b in "$B1" "$B_JSON" "$B_ZSTD" "$B_GZIP" "$B_DIGEST"; do
  req p "${AUTH_SERVICE[@]}" "$FACTS/$b/provenance"; expect_status 200
  want=$(jq -c '{provenance_hash: .provenanceHash, callgraph_id: .callgraphId}' p.body)
  n=$(jq -c --arg b "$b" 'select(.batch_id == $b) | {provenance_hash, callgraph_id}' streamp.body | sort -u)
  [[ $n == "$want" ]] || fail "facts of batch $b carry $n, expected $want"
done
cmp <(jq -cS 'del(.provenance_hash, .callgraph_id, .batch_id)' streamp.body) <(jq -cS . all.ndjson) ||
  fail "include_provenance changed the facts beyond adding three members"

step "Idempotency-Key: same body → the same 201 answer, one batch; another body → 409"
BEFORE=$(batch_rows "$DATA")
req idem1 "${AUTH_AGENT[@]}" "${NDJSON[@]}" -H 'Idempotency-Key: upload-42' --data-binary @small.ndjson "$FACTS?tenant=acme&callgraph_id=$G_ACME"
expect_status 201
req idem2 "${AUTH_AGENT[@]}" "${NDJSON[@]}" -H 'Idempotency-Key: upload-42' --data-binary @small.ndjson "$FACTS?tenant=acme&callgraph_id=$G_ACME"
expect_status 201 "the replay of an Idempotency-Key with the same body"
cmp idem1.body idem2.body || fail "the replay answered another body: $(cat idem2.body)"
[[ $(header idem1 Location) == "$(header idem2 Location)" ]] || fail "the replay answered another Location"
[[ $(batch_rows "$DATA") -eq $((BEFORE + 1)) ]] || fail "two requests with one Idempotency-Key stored $(($(batch_rows "$DATA") - BEFORE)) batches"
STATE=$(stored_state "$DATA")
req idem3 "${AUTH_AGENT[@]}" "${NDJSON[@]}" -H 'Idempotency-Key: upload-42' --data-binary @facts.ndjson "$FACTS?tenant=acme&callgraph_id=$G_ACME"
expect_problem 409 "Idempotency-Key reused with another body"
[[ $(stored_state "$DATA") == "$STATE" ]] || fail "the 409 stored something"

step "callgraphs: POST (201, then 200 when identical), GET, zstd, manifest, DSSE, by-purl"
CG=${SMALL_CALLGRAPH//Svc./Http.}
CG_QUERY="tenant=acme&componentPurl=pkg%3Amaven%2Fcom.example%2Fhttp%401.0.0&language=java"
req cg1 -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "$CG" "$BASE/signals/callgraphs?$CG_QUERY"
expect_status 201
G_HTTP=$(jq -r .graphId cg1.body)
[[ $(header cg1 Location) == "/signals/callgraphs/$G_HTTP" ]] || fail "callgraph Location is '$(header cg1 Location)'"
req cg2 -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "$CG" "$BASE/signals/callgraphs?$CG_QUERY"
expect_status 200 "an identical callgraph posted again"
[[ $(jq -r .graphId cg2.body) == "$G_HTTP" ]] || fail "the identical graph got another id"
req cgget "${AUTH_SERVICE[@]}" "$BASE/signals/callgraphs/$G_HTTP"; expect_status 200
[[ ${CTYPE%%;*} == application/x-ndjson ]] || fail "callgraph content type $CTYPE"
[[ $(jq -r .digest cg1.body) == "$(sha cgget.body)" ]] || fail "the callgraph read back does not hash to its manifest digest"
req cggetz "${AUTH_SERVICE[@]}" -H 'Accept-Encoding: zstd' "$BASE/signals/callgraphs/$G_HTTP"; expect_status 200
[[ $(header cggetz Content-Encoding) == zstd ]] || fail "callgraph zstd read has Content-Encoding '$(header cggetz Content-Encoding)'"
cmp cgget.body <(zstd -q -d -c cggetz.body) || fail "zstd -d of the callgraph frame differs from the identity read"
req cgman "${AUTH_SERVICE[@]}" "$BASE/signals/callgraphs/$G_HTTP/manifest"; expect_status 200
[[ $(jq -cS . cgman.body) == "$(jq -cS . cg1.body)" ]] || fail "the manifest differs from the 201 answer"
req cgdsse "${AUTH_SERVICE[@]}" "$BASE/signals/callgraphs/$G_HTTP/manifest?format=dsse"; expect_status 200
jq -e '.payloadType and (.signatures | length) >= 1' cgdsse.body >/dev/null || fail "manifest?format=dsse is no envelope"
req cgbundle "${AUTH_SERVICE[@]}" "$BASE/signals/callgraphs/$G_HTTP/manifest?format=sigstore-bundle"; expect_status 200
jq -e --slurpfile env cgdsse.body --arg k "$HINT" \
  '.mediaType == "application/vnd.dev.sigstore.bundle.v0.3+json" and .verificationMaterial.publicKey.hint == $k
   and .dsseEnvelope.payload == $env[0].payload and .dsseEnvelope.signatures[0].sig == $env[0].signatures[0].sig' \
  cgbundle.body >/dev/null || fail "manifest?format=sigstore-bundle is not a bundle around the envelope: $(head -c 600 cgbundle.body)"
ctl verify bundle cgbundle.body --key key.pem >/dev/null 2>&1 ||
  fail "signalsctl verify bundle rejects the manifest bundle"
req cgpurl "${AUTH_SERVICE[@]}" "$BASE/signals/callgraphs/by-purl/pkg%3Amaven%2Fcom.example%2Fhttp%401.0.0"; expect_status 200
jq -e --arg g "$G_HTTP" '[.callgraphs[].graphId] == [$g]' cgpurl.body >/dev/null || fail "by-purl: $(cat cgpurl.body)"

# ---------------------------------------------------------------------------
# Errors: each a problem document; none changes what is stored.
STATE=$(stored_state "$DATA")
unchanged() { [[ $(stored_state "$DATA") == "$STATE" ]] || fail "$1 changed what is stored"; }
post_facts() { # post_facts NAME [curl args...] (agent token, NDJSON, tenant acme, G_ACME unless given)
  local name=$1; shift
  req "$name" "${AUTH_AGENT[@]}" "$@"
}
Q="tenant=acme&callgraph_id=$G_ACME"

step "400: invalid ULID, invalid line, traversal and NUL in paths and query values"
req e "${AUTH_SERVICE[@]}" "$FACTS/not-a-ulid"; expect_problem 400 "bad ULID"
jq -e '.field == "batchId"' e.body >/dev/null || fail "bad ULID problem names no field batchId: $(cat e.body)"
req e "${AUTH_SERVICE[@]}" "$FACTS/01ARZ3NDEKTSV4RRFFQ69G5FAVX/provenance"; expect_problem 400 "27-character ULID"
req e "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=acme&callgraph_id=nope"; expect_problem 400 "bad callgraph_id in the stream"
req e "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=acme&since=yesterday"; expect_problem 400 "bad since"
req e "${AUTH_SERVICE[@]}" "$FACTS/ndjson?tenant=acme&include_provenance=maybe"; expect_problem 400 "bad include_provenance"
req e "${AUTH_SERVICE[@]}" "$FACTS/$B1/attestation?format=pdf"; expect_problem 400 "an unknown attestation format"
{ head -n 5 facts.ndjson; echo '{"symbolId": "x",'; tail -n 5 facts.ndjson; } >badline.ndjson
post_facts e "${NDJSON[@]}" --data-binary @badline.ndjson "$FACTS?$Q"; expect_problem 400 "an invalid line"
grep -q 'line 6' e.body || fail "the problem does not name line 6: $(cat e.body)"
post_facts e -H 'Content-Type: application/json' --data-binary '{"callgraphId": "'"$G_ACME"'", "events": {}}' "$FACTS?tenant=acme"
expect_problem 400 "JSON form with events not an array"
post_facts e "${NDJSON[@]}" -H 'Content-Encoding: gzip' --data-binary @small.ndjson "$FACTS?$Q"; expect_problem 400 "gzip that is not gzip"
head -c 100 small.ndjson.zst >trunc.zst
post_facts e "${NDJSON[@]}" -H 'Content-Encoding: zstd' --data-binary @trunc.zst "$FACTS?$Q"; expect_problem 400 "truncated zstd"
post_facts e "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?tenant=acme&callgraph_id=$G_OTHER"
expect_problem 400 "a callgraph of another tenant"
post_facts e "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?tenant=acme&callgraph_id=$B1"
expect_problem 400 "a callgraph_id that names no callgraph"
for target in \
  "/signals/runtime-facts/..%2f..%2fkeys" \
  "/signals/runtime-facts/..%2F$B1" \
  "/signals/runtime-facts/%2e%2e" \
  "/signals/runtime-facts/%2E%2E/provenance" \
  "/signals/runtime-facts/$B1%2f..%2f..%2fprovenance" \
  "/signals/runtime-facts/$B1%00" \
  "/signals/runtime-facts/%00/attestation" \
  "/signals/%2e%2e/signals/keys" \
  "/signals/runtime-facts/ndjson?tenant=..%2facme" \
  "/signals/runtime-facts/ndjson?tenant=%2e%2e" \
  "/signals/runtime-facts/ndjson?tenant=acme%00" \
  "/signals/runtime-facts/ndjson?tenant=acme&callgraph_id=..%2F..%2F$G_ACME" \
  "/signals/runtime-facts/ndjson?tenant=acme&since=%00" \
  "/signals/runtime-facts/$B1/attestation?format=..%2f..%2fkeys" \
  "/signals/callgraphs/by-purl/pkg%3Amaven%2F..%2F..%2Fx%401" \
  "/signals/runtime-facts/bad%zz" \
  ; do
  req e "${AUTH_SERVICE[@]}" --path-as-is "$BASE$target"; expect_problem 400 "GET $target"
done
req e "${AUTH_SERVICE[@]}" --path-as-is "$BASE/signals/../signals/keys"; expect_problem 400 "a literal ../ in the path"
for query in "tenant=..%2facme&callgraph_id=$G_ACME" "tenant=%2e%2e&callgraph_id=$G_ACME" "tenant=acme%00&callgraph_id=$G_ACME" \
             "$Q&source=..%2F..%2Fetc" "$Q&source=x%00y" "tenant=acme&callgraph_id=%2e%2e"; do
  post_facts e "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?$query"; expect_problem 400 "POST ?$query"
done
unchanged "the 400 requests"

step "401: no token, unknown token, malformed token — with WWW-Authenticate"
for auth in "" "Authorization: Bearer sgt_unknownunknownunknownunknownunknownunk" "Authorization: Bearer not-a-token" "Authorization: Basic YTpi"; do
  args=()
  [[ -n $auth ]] && args=(-H "$auth")
  req e "${args[@]}" "$FACTS/$B1"; expect_problem 401 "GET with '$auth'"
  grep -qi '^WWW-Authenticate: Bearer' e.headers || fail "401 without WWW-Authenticate: Bearer ($auth)"
  req e "${args[@]}" "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?$Q"; expect_problem 401 "POST with '$auth'"
  grep -qi '^WWW-Authenticate: Bearer' e.headers || fail "401 without WWW-Authenticate: Bearer ($auth)"
done
# A revoked token is an unknown token.
REVOKED=$(ctl token create --principal runtime-agent --tenant acme 2>revoke.err)
REVOKED_ID=$(sed -n 's/^token \([0-9a-f]*\) for principal.*/\1/p' revoke.err)
[[ -n $REVOKED_ID ]] || fail "token create did not name the token id: $(cat revoke.err)"
ctl token revoke "$REVOKED_ID" >/dev/null 2>&1 || fail "token revoke $REVOKED_ID failed"
req e -H "Authorization: Bearer $REVOKED" "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?$Q"; expect_problem 401 "a revoked token"
unchanged "the 401 requests"

step "403: forbidden by policy, or a tenant the token is not bound to"
req e "${AUTH_AGENT[@]}" "$FACTS/$B1"; expect_problem 403 "runtime-agent reading facts"
req e -H "Authorization: Bearer $AUDITOR" "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?$Q"; expect_problem 403 "audit-service writing facts"
req e -H "Authorization: Bearer $SCANNER" "$FACTS/$B1/attestation"; expect_problem 403 "scanner-worker reading an attestation"
post_facts e "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?tenant=other&callgraph_id=$G_OTHER"; expect_problem 403 "agent of acme writing to other"
post_facts e "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?tenant=global&callgraph_id=$G_ACME"; expect_problem 403 "agent of acme writing to global"
post_facts e "${NDJSON[@]}" --data-binary @small.ndjson "$FACTS?tenant=nosuchtenant&callgraph_id=$G_ACME"; expect_problem 403 "an unknown tenant"
req e -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "$CG" "$BASE/signals/callgraphs?${CG_QUERY/tenant=acme/tenant=other}"
expect_problem 403 "scanner of acme writing a callgraph to other"
unchanged "the 403 requests"

step "404: unknown batch, a batch of a tenant the reader cannot see, unknown route"
req e "${AUTH_SERVICE[@]}" "$FACTS/01ARZ3NDEKTSV4RRFFQ69G5FAV"; expect_problem 404 "an unknown batch"
req e "${AUTH_SERVICE[@]}" "$FACTS/01ARZ3NDEKTSV4RRFFQ69G5FAV/provenance"; expect_problem 404 "provenance of an unknown batch"
req e "${AUTH_SERVICE[@]}" "$FACTS/01ARZ3NDEKTSV4RRFFQ69G5FAV/attestation"; expect_problem 404 "attestation of an unknown batch"
req e "${AUTH_SERVICE[@]}" "$BASE/signals/callgraphs/01ARZ3NDEKTSV4RRFFQ69G5FAV"; expect_problem 404 "an unknown callgraph"
OTHER_BATCH=$(ctl ingest facts small.ndjson --tenant other --callgraph-id "$G_OTHER" 2>/dev/null | jq -r .batchId)
STATE=$(stored_state "$DATA")
req e "${AUTH_SERVICE[@]}" "$FACTS/$OTHER_BATCH"; expect_problem 404 "a batch of another tenant"
req e -H "Authorization: Bearer $AUDITOR" "$FACTS/$OTHER_BATCH/provenance"; expect_problem 404 "provenance of another tenant's batch"
req e "${AUTH_SERVICE[@]}" "$BASE/signals/callgraphs/$G_OTHER"; expect_problem 404 "a callgraph of another tenant"
for target in /nope /signals /signals/runtime-facts/$B1/nope /signals/keys/x /signals/runtime-facts/$B1/provenance/x /healthz/x; do
  req e "$BASE$target"; expect_problem 404 "GET $target"
done

step "405: a known route with another method, with Allow"
for spec in "DELETE /signals/runtime-facts/$B1:GET" "PUT /signals/runtime-facts:POST" "GET /signals/runtime-facts:POST" \
            "POST /signals/keys:GET" "DELETE /healthz:GET" "POST /signals/runtime-facts/ndjson:GET" "PATCH /signals/callgraphs:POST"; do
  method=${spec%% *}; rest=${spec#* }; path=${rest%%:*}; allow=${rest##*:}
  req e -X "$method" "${AUTH_SERVICE[@]}" "$BASE$path"; expect_problem 405 "$method $path"
  [[ $(header e Allow) == "$allow" ]] || fail "$method $path: Allow is '$(header e Allow)', expected $allow"
done
unchanged "the 404 and 405 requests"

step "409 above; 413: a body over max_body_bytes (64 KiB), plain and as a zstd bomb"
gen_facts 2000 big.ndjson
(( $(stat -c %s big.ndjson) > 65536 )) || fail "big.ndjson is too small for the 413 test"
post_facts e "${NDJSON[@]}" --data-binary @big.ndjson "$FACTS?$Q"; expect_problem 413 "a 64 KiB+ body"
post_facts e "${NDJSON[@]}" -H 'Transfer-Encoding: chunked' --data-binary @big.ndjson "$FACTS?$Q"; expect_problem 413 "a chunked 64 KiB+ body"
zstd -q -19 -c big.ndjson >big.ndjson.zst
(( $(stat -c %s big.ndjson.zst) < 65536 )) || fail "big.ndjson.zst is not smaller than the limit"
post_facts e "${NDJSON[@]}" -H 'Content-Encoding: zstd' --data-binary @big.ndjson.zst "$FACTS?$Q"; expect_problem 413 "a zstd body that decodes past the limit"
gzip -9 -c big.ndjson >big.ndjson.gz
post_facts e "${NDJSON[@]}" -H 'Content-Encoding: gzip' --data-binary @big.ndjson.gz "$FACTS?$Q"; expect_problem 413 "a gzip body that decodes past the limit"
unchanged "the 413 requests"

step "415: wrong Content-Type, unknown Content-Encoding"
for ct in "text/plain" "application/xml" "multipart/form-data; boundary=x" "application/x-www-form-urlencoded"; do
  post_facts e -H "Content-Type: $ct" --data-binary @small.ndjson "$FACTS?$Q"; expect_problem 415 "Content-Type $ct"
done
post_facts e -H 'Content-Type:' --data-binary @small.ndjson "$FACTS?$Q"; expect_problem 415 "no Content-Type"
for ce in br deflate compress "zstd, gzip"; do
  post_facts e "${NDJSON[@]}" -H "Content-Encoding: $ce" --data-binary @small.ndjson "$FACTS?$Q"; expect_problem 415 "Content-Encoding $ce"
done
req e -H "Authorization: Bearer $SCANNER" -H 'Content-Type: text/csv' --data-binary "$CG" "$BASE/signals/callgraphs?$CG_QUERY"
expect_problem 415 "a callgraph as text/csv"
unchanged "the 415 requests"

step "422: Content-Digest or X-Provenance-Hash that do not match the body"
WRONG_B64=$(printf 'other' | openssl dgst -sha256 -binary | base64)
post_facts e "${NDJSON[@]}" -H "Content-Digest: sha-256=:$WRONG_B64:" --data-binary @small.ndjson "$FACTS?$Q"
expect_problem 422 "a wrong Content-Digest"
post_facts e "${NDJSON[@]}" -H "X-Provenance-Hash: sha256:$(printf 'other' | sha256sum | cut -d' ' -f1)" --data-binary @small.ndjson "$FACTS?$Q"
expect_problem 422 "a wrong X-Provenance-Hash"
post_facts e "${NDJSON[@]}" -H 'Content-Encoding: zstd' -H "X-Provenance-Hash: $(sha small.ndjson.zst)" --data-binary @small.ndjson.zst "$FACTS?$Q"
expect_problem 422 "X-Provenance-Hash of the encoded bytes instead of the facts"
unchanged "the 422 requests"

step "malformed HTTP gets a 400 problem and the server keeps serving"
raw_http() { # raw_http BYTES: sends BYTES (printf escapes) on a new connection, prints the answer
  $PY - "$PORT" "$1" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode("latin-1"))
PYEOF
}
for raw in 'GARBAGE\r\n\r\n' 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' \
           "POST /signals/runtime-facts?$Q HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $AGENT\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-ndjson\r\n\r\nzz\r\n"; do
  answer=$(raw_http "$raw")
  grep -q '^HTTP/1.1 400' <<<"$answer" || fail "malformed request '$raw' answered: $(head -c 300 <<<"$answer")"
  grep -qi '^Content-Type: application/problem+json' <<<"$answer" || fail "malformed request '$raw': no problem+json"
done
answer=$(raw_http "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: $(head -c 20000 /dev/zero | tr '\0' a)\r\n\r\n")
grep -q '^HTTP/1.1 431' <<<"$answer" || fail "a 20 KB header answered: $(head -c 300 <<<"$answer")"
req health "$BASE/healthz"; expect_status 200
unchanged "the malformed requests"

step "metrics count what happened"
req metrics "$BASE/metrics"; expect_status 200
[[ $CTYPE == text/plain* ]] || fail "metrics content type $CTYPE"
grep -q '^signals_http_requests_total{code="201"' metrics.body || fail "no 201 in signals_http_requests_total"
grep -q '^signals_http_requests_total{code="413"' metrics.body || fail "no 413 in signals_http_requests_total"
if grep -q "$AGENT\|$SERVICE" "$SIGNALSD_LOG" metrics.body; then fail "a bearer token appears in the log or the metrics"; fi

step "SIGTERM: signalsd exits 0"
stop_signalsd
[[ $SIGNALSD_RC -eq 0 ]] || fail "signalsd exited $SIGNALSD_RC on SIGTERM"
