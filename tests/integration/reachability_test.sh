#!/usr/bin/env bash
# Reachability, drift and VEX end to end through signalsctl (README.md#reachability-drift-and-vex),
# checked by implementations that are not ours:
#   * random graphs of many shapes (random digraphs, trees, DAGs, cycles and
#     self-loops, stars with huge fan-out, isolated nodes, no entrypoints)
#     are ingested with `signalsctl ingest callgraph`; `signalsctl reach` over
#     every node (plus unknown targets) agrees with Python networkx (Debian
#     python3-networkx) on reachability, shortest path length and the exact
#     path under the tie rule (parent = smallest node id among the
#     shortest-path predecessors);
#   * runtime facts give the lattice states CR / RU / X / CU / RO;
#   * drift finds sinks that became reachable and unreachable (checked against
#     networkx), is byte-identical across runs and sink-file orderings, and
#     rejects graphs of different components (exit 1, both ids named) and
#     unknown graphs;
#   * every VEX document validates against the OpenVEX v0.2.0 JSON schema with
#     Debian python3-jsonschema.
# usage: reachability_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
need jq cmp
[[ -x $PY ]] || fail "$PY is missing (run tools/setup)"
$PY -c 'import networkx' 2>/dev/null || fail "$PY has no 'networkx' module (apt install python3-networkx)"
$PY -c 'import jsonschema' 2>/dev/null || fail "$PY has no 'jsonschema' module (apt install python3-jsonschema)"
SCHEMA=$TESTDATA/openvex/spec/openvex_json_schema.json
[[ -f $SCHEMA ]] || fail "OpenVEX schema missing: $SCHEMA"

DATA=$TMP/data
ctl() { "$SIGNALSCTL" --data-dir "$DATA" "$@"; }

# --- generate graphs ------------------------------------------------------------
step "generate graphs"
"$PY" - <<'PYEOF'
import json, random
rng = random.Random(20261126)
shapes = []
def add(name, n, edges, entries):
    shapes.append((name, n, edges, entries))
def ids(n): return ["n%05d" % i for i in range(n)]
# random sparse and dense digraphs
for k, (n, m) in enumerate([(50, 60), (200, 400), (300, 1500), (1000, 3000), (80, 0)]):
    e = [(rng.randrange(n), rng.randrange(n)) for _ in range(m)]
    add("random%d" % k, n, e, rng.sample(range(n), max(1, n // 40)))
# tree
n = 500; add("tree", n, [(rng.randrange(i), i) for i in range(1, n)], [0])
# DAG with many equal-length alternatives (ties)
n = 400; e = []
for i in range(n):
    for _ in range(3):
        j = rng.randrange(i + 1, n + 1)
        if j < n: e.append((i, j))
add("dag", n, e, [0, 1, 2])
# cycles and self-loops
n = 300; e = [(i, (i + 1) % n) for i in range(n)] + [(i, i) for i in range(0, n, 7)] + [(rng.randrange(n), rng.randrange(n)) for _ in range(50)]
add("cycles", n, e, [5])
# star: huge fan-out and fan-in
n = 3002; e = [(0, i) for i in range(1, n - 1)] + [(i, n - 1) for i in range(1, n - 1)]
add("star", n, e, [0])
# no entrypoints
n = 100; add("noentry", n, [(rng.randrange(n), rng.randrange(n)) for _ in range(200)], [])
# disconnected components with isolated nodes
n = 600; e = [(rng.randrange(0, 200), rng.randrange(0, 200)) for _ in range(500)] + [(rng.randrange(300, 500), rng.randrange(300, 500)) for _ in range(500)]
add("components", n, e, [0, 300])
manifest = []
for name, n, edges, entries in shapes:
    names = ids(n)
    # ids are shuffled in the document: the order must not matter
    order = list(range(n)); rng.shuffle(order)
    doc = {"schema": "stella.callgraph.v1",
           "nodes": [{"id": names[i], "name": names[i], "kind": "method", "symbolKey": "sym:" + names[i]} for i in order],
           "edges": [{"sourceId": names[a], "targetId": names[b], "kind": "static"} for a, b in sorted(set(edges))],
           "entrypoints": [{"nodeId": names[i], "kind": "main"} for i in sorted(set(entries))]}
    json.dump(doc, open("graph-%s.json" % name, "w"))
    with open("targets-%s.txt" % name, "w") as f:
        for x in names: f.write(x + "\n")
        f.write("not-a-node\n")
    manifest.append(name)
open("shapes.txt", "w").write("\n".join(manifest) + "\n")
PYEOF

# --- reach vs networkx ----------------------------------------------------------
cat > check_reach.py <<'PYEOF'
import json, sys
import networkx as nx
doc = json.load(open(sys.argv[1])); out = json.load(open(sys.argv[2]))
G = nx.DiGraph()
G.add_nodes_from(n["id"] for n in doc["nodes"])
G.add_edges_from((e["sourceId"], e["targetId"]) for e in doc["edges"])
entries = sorted({e["nodeId"] for e in doc["entrypoints"]})
SRC = ("source",)
H = G.copy(); H.add_node(SRC); H.add_edges_from((SRC, e) for e in entries)
dist = {v: d - 1 for v, d in nx.single_source_shortest_path_length(H, SRC).items() if v != SRC}
def path(v):
    p = [v]
    while dist[p[-1]] > 0:
        u = p[-1]
        p.append(min(w for w in G.predecessors(u) if dist.get(w) == dist[u] - 1))
    return p[::-1]
res = {r["target"]: r for r in out["results"]}
bad = 0
for v in G.nodes:
    r = res[v]
    want = v in dist
    if r["reachable"] != want or r["node"] != v:
        print("reachability differs for", v, r["reachable"], want); bad += 1; continue
    if want:
        if len(r["path"]) - 1 != dist[v]:
            print("path length differs for", v, len(r["path"]) - 1, dist[v]); bad += 1
        elif r["path"] != path(v):
            print("path differs for", v, r["path"], path(v)); bad += 1
        assert r["state"] == "SR", r
    else:
        assert r["path"] == [] and r["state"] == "SU", r
u = res["not-a-node"]
assert u["state"] == "U" and u["node"] is None and u.get("reason") == "not in graph", u
if bad: sys.exit("%d mismatches" % bad)
print("ok", len(G), "nodes", G.number_of_edges(), "edges", len(dist), "reachable")
PYEOF

declare -A GRAPH
while read -r shape; do
  step "reach: $shape"
  run_expect 0 manifest.json ingest.err ctl ingest callgraph "graph-$shape.json" --tenant global \
    --purl "pkg:generic/$shape@1.0.0" --language java --source integration-test
  GRAPH[$shape]=$(jq -r .graphId manifest.json)
  run_expect 0 "reach-$shape.json" reach.err ctl reach "${GRAPH[$shape]}" --targets "targets-$shape.txt"
  "$PY" check_reach.py "graph-$shape.json" "reach-$shape.json" || fail "reach of $shape disagrees with networkx"
  # Same output bytes on a second run.
  run_expect 0 "reach-$shape-2.json" reach.err ctl reach "${GRAPH[$shape]}" --targets "targets-$shape.txt"
  cmp -s "reach-$shape.json" "reach-$shape-2.json" || fail "reach output of $shape differs between runs"
done < shapes.txt

step "reach: unknown graph is an error"
run_expect 1 out.txt err.txt ctl reach 01ARZ3NDEKTSV4RRFFQ69G5FAV --targets targets-tree.txt
expect_in err.txt "not found"

# --- lattice with runtime facts ---------------------------------------------------
step "lattice states with runtime facts"
cat > lattice.json <<'JSON'
{"schema":"stella.callgraph.v1","nodes":[
 {"id":"main","name":"main","kind":"method","symbolKey":"sym:main"},
 {"id":"hit","name":"hit","kind":"method","symbolKey":"sym:hit"},
 {"id":"quiet","name":"quiet","kind":"method","symbolKey":"sym:quiet"},
 {"id":"dead","name":"dead","kind":"method","symbolKey":"sym:dead"},
 {"id":"deadhit","name":"deadhit","kind":"method","symbolKey":"sym:deadhit"}],
 "edges":[{"sourceId":"main","targetId":"hit","kind":"static"},{"sourceId":"main","targetId":"quiet","kind":"static"}],
 "entrypoints":[{"nodeId":"main","kind":"main"}]}
JSON
run_expect 0 manifest.json ingest.err ctl ingest callgraph lattice.json --tenant global \
  --purl pkg:maven/org.acme/lattice@1.0.0 --language java --source integration-test
LATTICE=$(jq -r .graphId manifest.json)
printf 'hit\nquiet\ndead\ndeadhit\nghost\n' > lattice-targets.txt
run_expect 0 reach.json reach.err ctl reach "$LATTICE" --targets lattice-targets.txt
[[ $(jq -r '[.results[].state] | join(",")' reach.json) == "SR,SR,SU,SU,U" ]] || fail "static states: $(cat reach.json)"
printf '%s\n' '{"symbolId":"sym:hit","hitCount":5}' '{"symbolId":"sym:deadhit"}' '{"symbolId":"ghost"}' > facts.ndjson
run_expect 0 record.json facts.err ctl ingest facts facts.ndjson --tenant global --callgraph-id "$LATTICE"
BATCH=$(jq -r .batchId record.json)
run_expect 0 reach.json reach.err ctl reach "$LATTICE" --targets lattice-targets.txt
[[ $(jq -r '[.results[].state] | join(",")' reach.json) == "CR,RU,CU,X,RO" ]] || fail "lattice states: $(cat reach.json)"
[[ $(jq -r '.results[0].runtimeHits' reach.json) == 5 ]] || fail "runtimeHits: $(cat reach.json)"
[[ $(jq -r '.results[0].batchIds[0]' reach.json) == "$BATCH" ]] || fail "batchIds: $(cat reach.json)"
[[ $(jq -r '[.results[].vex.status] | join(",")' reach.json) == \
   "affected,under_investigation,not_affected,under_investigation,affected" ]] || fail "vex: $(cat reach.json)"
run_expect 0 table.txt reach.err ctl reach "$LATTICE" --targets lattice-targets.txt --format table
expect_in table.txt "main -> hit"

# --- VEX validates against the OpenVEX schema ----------------------------------------
step "vex documents validate (python3-jsonschema)"
cat > validate_vex.py <<'PYEOF'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
v = cls(schema, format_checker=cls.FORMAT_CHECKER if hasattr(cls, "FORMAT_CHECKER") else jsonschema.FormatChecker())
for path in sys.argv[2:]:
    doc = json.load(open(path))
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors: print(path, list(e.path), e.message)
    if errors: sys.exit("%s: invalid OpenVEX" % path)
print("valid:", len(sys.argv) - 2, "documents")
PYEOF
i=0
for sym in hit quiet dead deadhit ghost; do
  printf '%s\n' "$sym" > sym.txt
  run_expect 0 "vex-$i.json" vex.err ctl vex "$LATTICE" --vulnerability CVE-2024-12345 --symbols sym.txt
  i=$((i + 1))
done
printf 'quiet\n' > sym.txt
run_expect 0 "vex-$i.json" vex.err ctl vex "$LATTICE" --vulnerability CVE-2024-12345 --symbols sym.txt --unconfirmed-as-not-affected
printf 'hit\ndead\nghost\n' > sym.txt
run_expect 0 "vex-all.json" vex.err ctl vex "$LATTICE" --vulnerability GHSA-xxxx-yyyy-zzzz --symbols sym.txt
run_expect 0 "vex-tree.json" vex.err ctl vex "${GRAPH[tree]}" --vulnerability CVE-2024-1 --symbols targets-tree.txt
"$PY" validate_vex.py "$SCHEMA" vex-*.json || fail "a VEX document does not validate"
[[ $(jq -r '.statements[0].status' vex-0.json) == affected ]] || fail "vex hit: $(cat vex-0.json)"
[[ $(jq -r '.statements[0].status' vex-2.json) == not_affected ]] || fail "vex dead: $(cat vex-2.json)"
[[ $(jq -r '.statements[0].justification' vex-2.json) == vulnerable_code_not_in_execute_path ]] || fail "justification"
[[ $(jq -r '.statements[0].status' vex-3.json) == under_investigation ]] || fail "vex deadhit: $(cat vex-3.json)"
[[ $(jq -r '.statements[0].status' vex-5.json) == not_affected ]] || fail "vex quiet with warning: $(cat vex-5.json)"
expect_in vex-0.json "$BATCH" "vex evidence"

# --- drift ----------------------------------------------------------------------------------
step "drift vs networkx, both directions"
"$PY" - <<'PYEOF'
import json, random
rng = random.Random(7)
n = 400
names = ["n%04d" % i for i in range(n)]
def doc(edges, entries):
    return {"schema": "stella.callgraph.v1",
            "nodes": [{"id": x, "name": x, "kind": "method", "symbolKey": "sym:" + x} for x in names],
            "edges": [{"sourceId": names[a], "targetId": names[b], "kind": "static"} for a, b in sorted(set(edges))],
            "entrypoints": [{"nodeId": names[i], "kind": "main"} for i in entries]}
base = [(rng.randrange(n), rng.randrange(n)) for _ in range(500)]
head = base[100:] + [(rng.randrange(n), rng.randrange(n)) for _ in range(100)]
json.dump(doc(base, [0, 1]), open("base.json", "w"))
json.dump(doc(head, [0, 1]), open("head.json", "w"))
sinks = ["n%04d\tcat-a" % i for i in range(0, n, 3)] + ["re:sym:n01[0-9][0-9]\tcat-re", "missing-sink\tnone"]
open("sinks.txt", "w").write("\n".join(sinks) + "\n")
rng.shuffle(sinks)
open("sinks-shuffled.txt", "w").write("\n".join(sinks) + "\n")
PYEOF
run_expect 0 m.json e.err ctl ingest callgraph base.json --tenant global --purl pkg:maven/org.acme/drift@1.0.0 --language java
BASE=$(jq -r .graphId m.json)
run_expect 0 m.json e.err ctl ingest callgraph head.json --tenant global --purl pkg:maven/org.acme/drift@2.0.0 --language java
HEAD=$(jq -r .graphId m.json)
run_expect 0 drift.json d.err ctl drift --base "$BASE" --head "$HEAD" --sinks sinks.txt
run_expect 0 drift-2.json d.err ctl drift --base "$BASE" --head "$HEAD" --sinks sinks.txt
cmp -s drift.json drift-2.json || fail "drift output differs between runs"
run_expect 0 drift-shuffled.json d.err ctl drift --base "$BASE" --head "$HEAD" --sinks sinks-shuffled.txt
cmp -s drift.json drift-shuffled.json || fail "drift output depends on the order of the sink list"
run_expect 0 drift-rev.json d.err ctl drift --base "$HEAD" --head "$BASE" --sinks sinks.txt
"$PY" - base.json head.json drift.json drift-rev.json <<'PYEOF'
import hashlib, json, re, sys
import networkx as nx
def load(p):
    d = json.load(open(p)); G = nx.DiGraph()
    G.add_nodes_from(x["id"] for x in d["nodes"]); G.add_edges_from((e["sourceId"], e["targetId"]) for e in d["edges"])
    reach = set()
    for e in d["entrypoints"]: reach |= {e["nodeId"]} | nx.descendants(G, e["nodeId"])
    return reach
rb, rh = load(sys.argv[1]), load(sys.argv[2])
def expected(r_from, r_to):
    up, down = set(), set()
    for line in open("sinks.txt"):
        spec, cat = line.rstrip("\n").split("\t")
        if spec.startswith("re:"):
            rx = re.compile(spec[3:])
            nodes = {v for v in rb | rh | {"n%04d" % i for i in range(400)} if rx.fullmatch(v) or rx.fullmatch("sym:" + v)}
        else:
            nodes = {spec}
        for v in nodes:
            if v in r_to and v not in r_from: up.add((v, spec, cat))
            if v in r_from and v not in r_to: down.add((v, spec, cat))
    return sorted(up), sorted(down)
for path, (a, b) in ((sys.argv[3], (rb, rh)), (sys.argv[4], (rh, rb))):
    d = json.load(open(path))
    up, down = expected(a, b)
    got_up = [(x["sink"], x["match"], x["category"]) for x in d["newlyReachable"]]
    got_down = [(x["sink"], x["match"], x["category"]) for x in d["newlyUnreachable"]]
    assert got_up == up, (path, "newlyReachable", got_up, up)
    assert got_down == down, (path, "newlyUnreachable", got_down, down)
    assert d["counts"] == {"newlyReachable": len(up), "newlyUnreachable": len(down)}
    for x in d["newlyReachable"]: assert x["path"] and x["path"][-1] == x["sink"] and x["sink"] in b
    for x in d["newlyUnreachable"]: assert x["path"] and x["path"][-1] == x["sink"] and x["sink"] in a
    body = dict(d); digest = body.pop("resultDigest")
    # JCS of this result (ASCII strings, integers) is json.dumps sorted, compact.
    want = "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert digest == want, (digest, want)
    print(path, "ok:", len(up), "newly reachable,", len(down), "newly unreachable")
assert len(expected(rb, rh)[0]) > 0 and len(expected(rb, rh)[1]) > 0, "the generated drift must go both ways"
PYEOF
[[ $? -eq 0 ]] || fail "drift disagrees with networkx"
run_expect 0 drift.txt d.err ctl drift --base "$BASE" --head "$HEAD" --sinks sinks.txt --format table
expect_in drift.txt "resultDigest: sha256:"

step "drift errors"
run_expect 1 out.txt err.txt ctl drift --base "$BASE" --head "${GRAPH[tree]}" --sinks sinks.txt
expect_in err.txt "$BASE"
expect_in err.txt "${GRAPH[tree]}"
run_expect 1 out.txt err.txt ctl drift --base "$BASE" --head 01ARZ3NDEKTSV4RRFFQ69G5FAV --sinks sinks.txt
expect_in err.txt "not found"
printf 're:([\tbad\n' > bad-sinks.txt
run_expect 1 out.txt err.txt ctl drift --base "$BASE" --head "$HEAD" --sinks bad-sinks.txt
expect_in err.txt "invalid regex"
run_expect 2 out.txt err.txt ctl drift --base "$BASE" --sinks sinks.txt
