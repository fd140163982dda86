#!/usr/bin/env bash
# Hostile input against a live signalsd (default transport-http settings):
# every request below once ended the process or made it allocate without
# bound. Each must get an answer (a problem document naming what is wrong),
# signalsd must keep answering /healthz, and its peak RSS over the whole run
# (VmHWM) must stay under 256 MB.
#
#  1. invalid UTF-8 in a path segment, a query value or a header -> 400 utf-8
#  2. JSON nested 70,000 deep, no token -> 400 max-depth
#  3. the same with a token, in JSON-form facts and in callgraphs (JSON and
#     NDJSON), and just over kernel.max_json_depth -> 400 max-depth
#  4. four 63 MiB JSON-form fact bodies at once -> stored, memory bounded
#  5. eight zstd bodies that declare a 128 MiB window at once -> 400
#  6. 300 idle connections -> /healthz and an authenticated read still served
#  and the risks closed with them: bounded factType labels, duplicate member
#  names, node id length, Content-Digest over the bytes as sent, one message
#  for a graph of another tenant, data files not world-readable.
#
# usage: hostile_input_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
source "$HERE/http_lib.sh"
need curl jq zstd sha256sum openssl base64
umask 022

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

step "setup: two tenants with a callgraph each, tokens"
ctl tenant add acme >/dev/null 2>&1
ctl tenant add other >/dev/null 2>&1
store_callgraph "$DATA" acme
G_ACME=$CALLGRAPH_ID
store_callgraph "$DATA" other
G_OTHER=$CALLGRAPH_ID
AGENT=$(token runtime-agent acme)
SCANNER=$(token scanner-worker acme)
READER=$(token signals-service acme)
start_signalsd "$DATA"
FACTS="$BASE/signals/runtime-facts"
AUTH=(-H "Authorization: Bearer $AGENT")
Q="tenant=acme&callgraph_id=$G_ACME"

# alive WHAT: the process is there and /healthz answers 200.
alive() {
  kill -0 "$SIGNALSD_PID" 2>/dev/null || fail "signalsd died after: $1"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/healthz") || true
  [[ $code == 200 ]] || fail "/healthz answered '$code' after: $1"
}
# expect_rule STATUS CODE WHAT: the last answer is a problem with this status and code.
expect_rule() {
  expect_problem "$1" "$3"
  local got
  got=$(jq -r '.code // .rule // ""' "$LAST_REQ.body")
  [[ $got == "$2" ]] || jq -e --arg c "$2" '.. | strings | select(. == $c)' "$LAST_REQ.body" >/dev/null ||
    fail "$3: expected rule '$2', got: $(head -c 400 "$LAST_REQ.body")"
}

step "1. invalid UTF-8 in the path, the query and headers: 400 naming the part"
req u1 "$FACTS/%ff"; expect_rule 400 utf-8 "path segment %ff"
jq -e '.field == "path"' u1.body >/dev/null || fail "the problem does not name the path: $(cat u1.body)"
req u2 "$FACTS/ndjson?tenant=%ff"; expect_rule 400 utf-8 "?tenant=%ff"
jq -e '.field == "tenant"' u2.body >/dev/null || fail "the problem does not name the parameter: $(cat u2.body)"
req u3 -H $'Authorization: Bearer sgt_\xff' "$BASE/signals/keys"; expect_rule 400 utf-8 "a token with \\xff"
grep -q 'sgt_' u3.body && fail "the answer echoes the token: $(cat u3.body)"
req u4 "$BASE/signals/callgraphs/%ff"; expect_rule 400 utf-8 "graph id %ff"
req u5 "$BASE/signals/callgraphs/%ff/manifest"; expect_rule 400 utf-8 "manifest of %ff"
req u6 "$BASE/signals/callgraphs/by-purl/%ff"; expect_rule 400 utf-8 "by-purl %ff"
req u7 "${AUTH[@]}" "$FACTS/ndjson?tenant=acme&since=%ff"; expect_rule 400 utf-8 "?since=%ff"
req u8 "$BASE/signals/callgraphs/$G_ACME/manifest?format=%ff"; expect_rule 400 utf-8 "?format=%ff"
gen_facts 10 small.ndjson
for q in "tenant=%ff" "tenant=acme&source=%ff" "tenant=acme&callgraph_id=%ff"; do
  req u9 "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @small.ndjson "$FACTS?$q"
  expect_rule 400 utf-8 "POST facts ?$q"
done
req u10 -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary "$SMALL_CALLGRAPH" \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg:maven/a/b@1&language=%ff"
expect_rule 400 utf-8 "POST callgraph ?language=%ff"
for h in $'Idempotency-Key: \xff' $'X-Provenance-Hash: \xff' $'Content-Type: application/x-ndjson\xff'; do
  req u11 "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' -H "$h" --data-binary @small.ndjson "$FACTS?tenant=acme"
  expect_rule 400 utf-8 "header ${h%%:*} with \\xff"
done
alive "invalid UTF-8"

step "2. 70,000 nested arrays without a token: 400 max-depth"
$PY -c "n=70000;open('deep.json','w').write('{\"targets\":'+'['*n+']'*n+'}')"
req d1 -H 'Content-Type: application/json' --data-binary @deep.json "$BASE/signals/reachability/query"
expect_rule 400 max-depth "a reachability question nested 70,000 deep"
alive "deep JSON without a token"

step "3. deep JSON with a token: facts (JSON form), callgraphs (JSON, NDJSON), just over the kernel's limit"
$PY -c "n=100000;open('deep-facts.json','w').write('{\"events\":[{\"symbolId\":\"a\",\"metadata\":'+'['*n+']'*n+'}]}')"
req d2 "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary @deep-facts.json "$FACTS?$Q"
expect_rule 400 max-depth "a fact nested 100,000 deep"
$PY - <<'EOF'
n = 100000
deep = '[' * n + ']' * n
open('deep-graph.json', 'w').write('{"schema":"stella.callgraph.v1","nodes":[{"id":"main","name":"m","kind":"method","attributes":' + deep + '}],"edges":[],"entrypoints":[]}')
open('deep-graph.ndjson', 'w').write('{"t":"node","id":"main","attributes":' + deep + '}\n')
open('depth65.json', 'w').write('{"graphId":"x","targets":' + '[' * 65 + ']' * 65 + '}')
EOF
req d3 -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary @deep-graph.json \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg:maven/a/b@1&language=java"
expect_rule 400 max-depth "a callgraph node attribute nested 100,000 deep (JSON)"
req d4 -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/x-ndjson' --data-binary @deep-graph.ndjson \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg:maven/a/b@1&language=java"
expect_rule 400 max-depth "a callgraph node attribute nested 100,000 deep (NDJSON)"
req d5 -H "Authorization: Bearer $READER" -H 'Content-Type: application/json' --data-binary @depth65.json \
  "$BASE/signals/reachability/query"
expect_rule 400 max-depth "a question nested 66 deep (kernel.max_json_depth = 64)"
alive "deep JSON with a token"

step "4. four 63 MiB JSON-form fact bodies at once: stored, memory bounded"
$PY - <<'EOF'
import json
with open('big.json', 'w') as f:
    f.write('{"events":[')
    n = 3_900_000
    f.write(','.join('{"symbolId":"%x"}' % (i % 16) for i in range(n)))  # 63 MiB, as in the report
    f.write(']}')
EOF
ls -l big.json | awk '{print "  body bytes: " $5}'
pids=()
for i in 1 2 3 4; do
  curl -sS --max-time 240 -o "big$i.body" -w '%{http_code}' "${AUTH[@]}" -H 'Content-Type: application/json' \
    --data-binary @big.json "$FACTS?tenant=acme&callgraph_id=$G_ACME" >"big$i.status" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a 63 MiB upload failed in curl"; done
for i in 1 2 3 4; do
  [[ $(cat "big$i.status") == 201 ]] || fail "63 MiB JSON-form upload $i: HTTP $(cat "big$i.status"): $(head -c 400 "big$i.body")"
  jq -e '.factCount == 3900000' "big$i.body" >/dev/null || fail "upload $i: $(head -c 400 "big$i.body")"
done
alive "four 63 MiB JSON-form bodies"

step "5. eight zstd bodies declaring a 128 MiB window at once: 400 naming max_zstd_window"
gen_facts 20000 window.ndjson
zstd -q -1 --long=27 -c <window.ndjson >long.zst  # from a pipe: the frame declares the whole window
zstd -lv long.zst 2>/dev/null | grep -q 'Window Size: 128' || fail "long.zst does not declare a 128 MiB window: $(zstd -lv long.zst 2>&1)"
pids=()
for i in $(seq 8); do
  curl -sS --max-time 60 -o "zw$i.body" -w '%{http_code}' "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' \
    -H 'Content-Encoding: zstd' --data-binary @long.zst "$FACTS?$Q" >"zw$i.status" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
for i in $(seq 8); do
  [[ $(cat "zw$i.status") == 400 ]] || fail "zstd with a 128 MiB window: HTTP $(cat "zw$i.status")"
  grep -q max_zstd_window "zw$i.body" || fail "the answer does not name max_zstd_window: $(cat "zw$i.body")"
done
zstd -q -1 --long=23 -c <window.ndjson >ok.zst
req z1 "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: zstd' --data-binary @ok.zst "$FACTS?$Q"
expect_status 201 "zstd with an 8 MiB window"
alive "zstd windows"

step "6. 300 idle connections: /healthz and an authenticated read are still served"
$PY - "$PORT" "$BASE" "$READER" "$G_ACME" <<'EOF' || fail "served behind idle connections: see above"
import socket, sys, time, urllib.request
port, base, token, graph = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
time.sleep(0.5)
for url, auth in ((base + "/healthz", None), (base + "/signals/runtime-facts/ndjson?tenant=acme&callgraph_id=" + graph, token)):
    r = urllib.request.Request(url, headers={"Authorization": "Bearer " + auth} if auth else {})
    start = time.monotonic()
    with urllib.request.urlopen(r, timeout=10) as answer:
        answer.read(1)
        assert answer.status == 200, answer.status
    print(f"  {url.split('/', 3)[3][:40]}: 200 in {1000 * (time.monotonic() - start):.0f} ms with 300 idle sockets")
for s in idle:
    s.close()
EOF
alive "300 idle connections"

step "risk: a client-chosen factType does not become a metrics series of its own"
for i in $(seq 40); do
  printf '{"symbolId":"s","factType":"x%d.y%d"}\n' "$i" "$i" >ft.ndjson
  req ft "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @ft.ndjson "$FACTS?$Q"
  expect_status 201 "factType x$i.y$i"
done
req metrics "$BASE/metrics"; expect_status 200
grep -q 'fact_type="x1.y1"' metrics.body && fail "a client-chosen factType is a label value: $(grep x1.y1 metrics.body)"
grep -q 'signals_runtime_facts_ingested_total{.*fact_type="other"' metrics.body ||
  fail "the unknown fact types are not counted as other: $(grep runtime_facts_ingested metrics.body)"

step "risk: duplicate member names in the JSON form are refused"
req dup "${AUTH[@]}" -H 'Content-Type: application/json' \
  --data-binary '{"events":[{"symbolId":"a","symbolId":"b"}]}' "$FACTS?$Q"
expect_rule 400 unique-field "a duplicate symbolId in a JSON-form event"
req dup2 "${AUTH[@]}" -H 'Content-Type: application/json' \
  --data-binary '{"events":[],"events":[{"symbolId":"b"}]}' "$FACTS?$Q"
expect_rule 400 unique-field "a duplicate events member"

step "risk: callgraph node ids have a length limit"
$PY -c "
import json
g = json.loads('''$SMALL_CALLGRAPH''')
g['nodes'][0]['id'] = 'x' * 1000000
g['entrypoints'][0]['nodeId'] = g['nodes'][0]['id']
g['edges'][0]['sourceId'] = g['nodes'][0]['id']
open('long-id.json', 'w').write(json.dumps(g))"
req longid -H "Authorization: Bearer $SCANNER" -H 'Content-Type: application/json' --data-binary @long-id.json \
  "$BASE/signals/callgraphs?tenant=acme&componentPurl=pkg:maven/a/long@1&language=java"
expect_problem 400 "a 1,000,000-character node id"

step "risk: Content-Digest is the digest of the bytes as sent (after Content-Encoding)"
wire_b64=$(openssl dgst -sha256 -binary ok.zst | base64)
decoded_b64=$(openssl dgst -sha256 -binary window.ndjson | base64)
req cd1 "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: zstd' \
  -H "Content-Digest: sha-256=:$wire_b64:" --data-binary @ok.zst "$FACTS?$Q"
expect_status 201 "Content-Digest of the zstd bytes"
req cd2 "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: zstd' \
  -H "Content-Digest: sha-256=:$decoded_b64:" --data-binary @ok.zst "$FACTS?$Q"
expect_problem 422 "Content-Digest of the decoded bytes"
jq -e '.field == "Content-Digest"' cd2.body >/dev/null || fail "the problem does not name Content-Digest: $(cat cd2.body)"

step "risk: credentials in a chunked body's trailer do not authenticate"
$PY - "$PORT" "$READER" "$G_ACME" <<'EOF' || fail "a trailer authenticated a request"
import socket, sys
port, token, graph = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = ('{"callgraphId":"%s","targets":["main"]}' % graph).encode()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"POST /signals/reachability/query HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\nTrailer: Authorization\r\nConnection: close\r\n\r\n" +
          b"%x\r\n" % len(body) + body + b"\r\n0\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n")
answer = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    answer += chunk
status = answer.split(b" ", 2)[1]
print("  a token sent only in the trailer:", status.decode())
sys.exit(0 if status == b"401" else 1)
EOF

step "risk: a correct Content-Digest of a JSON-form body is accepted"
printf '{"callgraphId":"%s","events":[{"symbolId":"a"},{"symbolId":"b"}]}' "$G_ACME" >form.json
req cdj "${AUTH[@]}" -H 'Content-Type: application/json' \
  -H "Content-Digest: sha-256=:$(openssl dgst -sha256 -binary form.json | base64):" --data-binary @form.json "$FACTS?tenant=acme"
expect_status 201 "a JSON-form body with its own Content-Digest"
req cdj2 "${AUTH[@]}" -H 'Content-Type: application/json' \
  -H "Content-Digest: sha-256=:$decoded_b64:" --data-binary @form.json "$FACTS?tenant=acme"
expect_problem 422 "a JSON-form body with another body's Content-Digest"

step "risk: a graph of another tenant and a random id get the same answer"
req fg1 "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @small.ndjson "$FACTS?tenant=acme&callgraph_id=$G_OTHER"
req fg2 "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @small.ndjson \
  "$FACTS?tenant=acme&callgraph_id=01ARZ3NDEKTSV4RRFFQ69G5FAV"
[[ $(jq -c 'del(.instance)' fg1.body | sed "s/$G_OTHER/ID/g") == $(jq -c 'del(.instance)' fg2.body | sed 's/01ARZ3NDEKTSV4RRFFQ69G5FAV/ID/g') ]] ||
  fail "the answers differ: $(cat fg1.body) vs $(cat fg2.body)"

step "risk: nothing in the data directory is world-readable (umask 022)"
world=$(find "$DATA" -perm -o=r ! -type l ! -name port ! -name '*.pub.pem' | head -5)  # public keys are public
[[ -z $world ]] || fail "world-readable under the data directory: $world"

step "signalsd is alive and its peak RSS stayed under 256 MB"
alive "the whole suite"
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$SIGNALSD_PID/status")
echo "  peak RSS (VmHWM): $((hwm_kb / 1024)) MiB"
((hwm_kb < 256 * 1024)) || fail "peak RSS $((hwm_kb / 1024)) MiB is over 256 MB"
