#!/usr/bin/env bash
# /openapi.json as served by a real signalsd: valid by a validator that is not
# ours (@apidevtools/swagger-parser, pinned in tests/integration/node and
# installed by tools/setup with `npm ci`, run with the machine's Node), the
# same document as plugins/transport-http/src/openapi.json, and in agreement
# with the server: every documented operation is routed (no "no route" 404,
# no 405), every other method on a documented path is 405, and every route the
# server answers is documented.
# usage: http_openapi_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq node

NODE_DIR=$HERE/node
[[ -d $NODE_DIR/node_modules/@apidevtools/swagger-parser ]] ||
  fail "$NODE_DIR/node_modules is missing: run tools/setup (npm ci --prefix tests/integration/node)"

DATA=$TMP/data
start_signalsd "$DATA"

step "GET /openapi.json"
req openapi "$BASE/openapi.json"
expect_status 200
cmp -s <(jq -S . openapi.body) <(jq -S . "$HERE/../../plugins/transport-http/src/openapi.json") ||
  fail "the served document differs from plugins/transport-http/src/openapi.json"

step "@apidevtools/swagger-parser validates it"
node "$NODE_DIR/validate.mjs" "$TMP/openapi.body" >validate.out 2>&1 || fail "OpenAPI validation failed: $(cat validate.out)"
cat validate.out

step "every documented operation is routed; other methods on its path are 405"
ULID=01ARZ3NDEKTSV4RRFFQ69G5FAV
jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | select(. != "parameters") | "\(.) \($p)"' openapi.body >operations.txt
[[ -s operations.txt ]] || fail "the document has no operations"
while read -r method path; do
  concrete=$(sed -e "s/{batchId}/$ULID/; s/{graphId}/$ULID/; s/{purl}/pkg%3Amaven%2Fa%2Fb%401/" <<<"$path")
  M=${method^^}
  req op -X "$M" "$BASE$concrete"
  if [[ $STATUS == 404 ]] && grep -q '"no route' op.body; then fail "$M $path is documented but not routed"; fi
  [[ $STATUS != 405 ]] || fail "$M $path is documented but answers 405"
  documented=$(jq -r --arg p "$path" --arg m "$method" '.paths[$p][$m].responses | keys | join(" ")' openapi.body)
  grep -qw "$STATUS" <<<"$documented" || fail "$M $path answered $STATUS, which is not documented ($documented)"
  for other in GET POST PUT DELETE PATCH; do
    jq -e --arg p "$path" --arg m "${other,,}" '.paths[$p] | has($m)' openapi.body >/dev/null && continue
    req op -X "$other" "$BASE$concrete"
    [[ $STATUS == 405 ]] || fail "$other $path (not documented) answered $STATUS, expected 405"
  done
done <operations.txt
echo "    $(wc -l <operations.txt) operations"

step "every error status the server answers on a documented operation is documented"
AGENT=$(token runtime-agent global 2>/dev/null || true)
check_documented() { # METHOD PATH-TEMPLATE
  local documented
  documented=$(jq -r --arg p "$2" --arg m "$1" '.paths[$p][$m].responses | keys | join(" ")' openapi.body)
  grep -qw "$STATUS" <<<"$documented" || fail "$1 $2 answered $STATUS, which is not documented ($documented)"
}
req e -X POST -H 'Content-Type: text/plain' -H "Authorization: Bearer $AGENT" --data-binary x "$BASE/signals/runtime-facts?tenant=global"
check_documented post /signals/runtime-facts
req e -X GET "$BASE/signals/runtime-facts/not-a-ulid"
check_documented get '/signals/runtime-facts/{batchId}'
req e -X GET -H "Authorization: Bearer $AGENT" "$BASE/signals/runtime-facts/not-a-ulid/provenance"
check_documented get '/signals/runtime-facts/{batchId}/provenance'
req e -X GET -H "Authorization: Bearer $AGENT" "$BASE/signals/runtime-facts/ndjson?tenant=global"
check_documented get /signals/runtime-facts/ndjson

stop_signalsd
[[ $SIGNALSD_RC -eq 0 ]] || fail "signalsd exited $SIGNALSD_RC"
