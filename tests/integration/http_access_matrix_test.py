#!/usr/bin/python3
"""The whole access matrix of README.md#tokens-and-the-access-policy over HTTP, asserted from a table.

Starts a real signalsd (transport-http on an ephemeral loopback port) and
calls every endpoint as every principal of the default policy
(signals-service, policy-engine, scanner-worker, audit-service,
runtime-agent), with an unknown bearer token and with none, on content of the
token's own tenant, of another tenant and of `global`. Every answer must be
the status of EXPECTED below; every refusal is a problem+json document and
stores nothing. `signalsctl policy show` must print the matrix of POLICY, and
EXPECTED must follow from POLICY by the rules of §7 (so the two tables cannot
drift apart silently).

Standard library only (urllib). usage: http_access_matrix_test.py SIGNALSCTL SIGNALSD TESTDATA_DIR
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

# README.md#tokens-and-the-access-policy: principal -> (callgraphs, manifests, runtime-facts, attestations).
POLICY_TABLE = """
principal        callgraphs  manifests   runtime-facts  attestations
signals-service  read/write  read/write  read/write     read/write
policy-engine    read        read        read           read
scanner-worker   write       -           -              -
audit-service    read        read        read           read
runtime-agent    -           -           write          -
"""
RESOURCES = ["callgraphs", "manifests", "runtime-facts", "attestations"]

# Callers: the five principals (tokens bound to tenant acme), a well-formed
# token nobody issued, and no Authorization header at all.
CALLERS = ["signals-service", "policy-engine", "scanner-worker", "audit-service", "runtime-agent", "unknown", "anonymous"]
SHORT = {"signals-service": "svc", "policy-engine": "pol", "scanner-worker": "scan", "audit-service": "aud",
         "runtime-agent": "agent", "unknown": "unk", "anonymous": "anon"}

# endpoint -> (method, path template, resource, action). Scopes: own = acme
# (the tokens' tenant), other = another tenant, global = the shared tenant.
ENDPOINTS = {
    "facts.post": ("POST", "/signals/runtime-facts?tenant={tenant}&callgraph_id={graph}", "runtime-facts", "write"),
    "facts.get": ("GET", "/signals/runtime-facts/{batch}", "runtime-facts", "read"),
    "facts.provenance": ("GET", "/signals/runtime-facts/{batch}/provenance", "runtime-facts", "read"),
    "facts.attestation": ("GET", "/signals/runtime-facts/{batch}/attestation", "attestations", "read"),
    "facts.stream": ("GET", "/signals/runtime-facts/ndjson?tenant={tenant}", "runtime-facts", "read-list"),
    "cg.post": ("POST", "/signals/callgraphs?tenant={tenant}&componentPurl={purl_q}&language=java", "callgraphs", "write"),
    "cg.get": ("GET", "/signals/callgraphs/{graph}", "callgraphs", "read"),
    "cg.manifest": ("GET", "/signals/callgraphs/{graph}/manifest", "manifests", "read"),
    "cg.manifest.dsse": ("GET", "/signals/callgraphs/{graph}/manifest?format=dsse", "attestations", "read"),
    "cg.by-purl": ("GET", "/signals/callgraphs/by-purl/{purl_q}?tenant={tenant}", "callgraphs", "read-list"),
    "keys": ("GET", "/signals/keys", None, "public"),
    "healthz": ("GET", "/healthz", None, "public"),
    "readyz": ("GET", "/readyz", None, "public"),
    "metrics": ("GET", "/metrics", None, "public"),
    "openapi": ("GET", "/openapi.json", None, "public"),
}

# The expected status of every call. Reading one object of a tenant the
# token is not bound to is 404 (the caller learns nothing about it); listing
# or writing such a tenant is 403; `global` is readable by every reader.
EXPECTED_TABLE = """
endpoint           scope   svc  pol  scan aud  agent unk  anon
facts.post         own     201  403  403  403  201   401  401
facts.post         other   403  403  403  403  403   401  401
facts.post         global  403  403  403  403  403   401  401
facts.get          own     200  200  403  200  403   401  401
facts.get          other   404  404  403  404  403   401  401
facts.get          global  200  200  403  200  403   401  401
facts.provenance   own     200  200  403  200  403   401  401
facts.provenance   other   404  404  403  404  403   401  401
facts.provenance   global  200  200  403  200  403   401  401
facts.attestation  own     200  200  403  200  403   401  401
facts.attestation  other   404  404  403  404  403   401  401
facts.attestation  global  200  200  403  200  403   401  401
facts.stream       own     200  200  403  200  403   401  401
facts.stream       other   403  403  403  403  403   401  401
facts.stream       global  200  200  403  200  403   401  401
cg.post            own     201  403  201  403  403   401  401
cg.post            other   403  403  403  403  403   401  401
cg.post            global  403  403  403  403  403   401  401
cg.get             own     200  200  403  200  403   401  401
cg.get             other   404  404  403  404  403   401  401
cg.get             global  200  200  403  200  403   401  401
cg.manifest        own     200  200  403  200  403   401  401
cg.manifest        other   404  404  403  404  403   401  401
cg.manifest        global  200  200  403  200  403   401  401
cg.manifest.dsse   own     200  200  403  200  403   401  401
cg.manifest.dsse   other   404  404  403  404  403   401  401
cg.manifest.dsse   global  200  200  403  200  403   401  401
cg.by-purl         own     200  200  403  200  403   401  401
cg.by-purl         other   403  403  403  403  403   401  401
cg.by-purl         global  200  200  403  200  403   401  401
keys               -       200  200  200  200  200   200  200
healthz            -       200  200  200  200  200   200  200
readyz             -       200  200  200  200  200   200  200
metrics            -       200  200  200  200  200   200  200
openapi            -       200  200  200  200  200   200  200
"""

SCOPE_TENANT = {"own": "acme", "other": "other", "global": "global"}
PURL = "pkg:maven/com.example/svc@1.0.0"
CALLGRAPH = {
    "schema": "stella.callgraph.v1",
    "nodes": [{"id": "main", "name": "Svc.main", "kind": "method"}, {"id": "handle", "name": "Svc.handle", "kind": "method"}],
    "edges": [{"sourceId": "main", "targetId": "handle", "kind": "static"}],
    "entrypoints": [{"nodeId": "main", "kind": "main"}],
}
FACTS = b'{"symbolId":"com.example.Svc::handle","hitCount":1}\n{"symbolId":"libc.so.6!memcpy","factType":"runtime.symbol.hit"}\n'

failures = []


def fail(message):
    print(f"http_access_matrix_test: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def parse_table(text):
    lines = [line.split() for line in text.strip().splitlines()]
    return lines[0], lines[1:]


def policy_grants():
    header, rows = parse_table(POLICY_TABLE)
    grants = {}
    for row in rows:
        grants[row[0]] = {}
        for resource, value in zip(header[1:], row[1:]):
            grants[row[0]][resource] = set() if value == "-" else set(value.split("/"))
    return grants


def expected_statuses():
    header, rows = parse_table(EXPECTED_TABLE)
    callers = {v: k for k, v in SHORT.items()}
    out = {}
    for row in rows:
        endpoint, scope = row[0], row[1]
        if endpoint not in ENDPOINTS:
            fail(f"EXPECTED_TABLE names unknown endpoint {endpoint}")
        for short, status in zip(header[2:], row[2:]):
            out[(endpoint, scope, callers[short])] = int(status)
    return out


def derive(grants, endpoint, scope, caller):
    """The status §7 implies, from POLICY_TABLE alone."""
    method, _, resource, action = ENDPOINTS[endpoint]
    if action == "public":
        return 200
    if caller not in grants:
        return 401  # unknown token or none
    verb = "write" if action == "write" else "read"
    if verb not in grants[caller][resource]:
        return 403  # the policy
    tenant = SCOPE_TENANT[scope]
    if tenant == "acme" or (verb == "read" and tenant == "global"):
        return 201 if method == "POST" else 200
    return 404 if action == "read" else 403  # not bound: one object is hidden, a list or write refused


class Server:
    def __init__(self, signalsd, data, log_path):
        self.log = open(log_path, "ab")
        port_file = os.path.join(data, "port")
        self.proc = subprocess.Popen(
            [signalsd, "--data-dir", data, "--transport.http.plugin=transport-http",
             "--transport.http.listen=127.0.0.1:0", f"--transport.http.port_file={port_file}"],
            stdout=self.log, stderr=subprocess.STDOUT, env=clean_env())
        deadline = time.monotonic() + 10
        while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
            if self.proc.poll() is not None:
                fail(f"signalsd exited at start ({self.proc.returncode})")
            if time.monotonic() > deadline:
                fail("signalsd wrote no port file within 10 s")
            time.sleep(0.05)
        with open(port_file) as f:
            self.base = f"http://127.0.0.1:{int(f.read().strip())}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return -9
        self.log.close()
        return self.proc.returncode


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("SIGNALS_")}


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(base, method, path, token=None, body=None, content_type=None):
    request = urllib.request.Request(base + path, data=body, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with OPENER.open(request, timeout=20) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def stored_state(data):
    files = []
    for root, _, names in os.walk(os.path.join(data, "cas")):
        files.extend(os.path.join(root, n) for n in names)
    out = subprocess.run(["sqlite3", "-readonly", os.path.join(data, "index.sqlite"),
                          "SELECT (SELECT count(*) FROM batches) || ' ' || (SELECT count(*) FROM callgraphs)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out, sorted(files)


def main():
    if len(sys.argv) != 4:
        fail("usage: http_access_matrix_test.py SIGNALSCTL SIGNALSD TESTDATA_DIR")
    signalsctl, signalsd = sys.argv[1], sys.argv[2]
    for tool in ("sqlite3",):
        if shutil.which(tool) is None:
            fail(f"required tool '{tool}' is missing (run tools/setup)")
    tmp = tempfile.mkdtemp(prefix="signals-http_access_matrix_test-")
    server = None
    try:
        data = os.path.join(tmp, "data")

        def ctl(*args, stdin=None):
            r = subprocess.run([signalsctl, "--data-dir", data, *args], input=stdin, capture_output=True, env=clean_env(), cwd=tmp)
            if r.returncode != 0:
                fail(f"signalsctl {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
            return r.stdout.decode()

        print("--- signalsctl policy show prints the matrix of README.md#tokens-and-the-access-policy")
        shown = ctl("policy", "show").splitlines()
        grants = policy_grants()
        header, _ = parse_table(POLICY_TABLE)
        if shown[0].split() != header:
            fail(f"policy show header is {shown[0].split()}, expected {header}")
        printed = {}
        for line in shown[1:]:
            if line.startswith("anyone else"):
                if line.split()[2:] != ["deny"] * 4:
                    fail(f"policy show: 'anyone else' row is {line!r}")
                continue
            cells = line.split()
            printed[cells[0]] = {r: set() if v == "-" else set(v.split("/")) for r, v in zip(RESOURCES, cells[1:])}
        if not any(line.startswith("anyone else") for line in shown):
            fail("policy show has no 'anyone else' row")
        if printed != grants:
            fail(f"policy show prints {printed}, README.md#tokens-and-the-access-policy says {grants}")

        print("--- the expected table follows from the policy by the rules of §7")
        expected = expected_statuses()
        for endpoint, (_, _, _, action) in ENDPOINTS.items():
            scopes = ["-"] if action == "public" else ["own", "other", "global"]
            for scope in scopes:
                for caller in CALLERS:
                    key = (endpoint, scope, caller)
                    if key not in expected:
                        fail(f"EXPECTED_TABLE has no cell for {key}")
                    derived = derive(grants, endpoint, scope, caller)
                    if expected[key] != derived:
                        fail(f"EXPECTED_TABLE says {expected[key]} for {key}, §7 implies {derived}")

        print("--- setup: tenants, callgraphs, batches and tokens")
        ctl("tenant", "add", "acme")
        ctl("tenant", "add", "other")
        graphs, batches = {}, {}
        for scope, tenant in SCOPE_TENANT.items():
            graph = json.loads(json.dumps(CALLGRAPH).replace("Svc.", f"Svc{scope.capitalize()}."))
            manifest = json.loads(ctl("ingest", "callgraph", "-", "--tenant", tenant, "--purl", PURL, "--language", "java",
                                      stdin=json.dumps(graph).encode()))
            graphs[scope] = manifest["graphId"]
            facts_file = os.path.join(tmp, "facts.ndjson")
            with open(facts_file, "wb") as f:
                f.write(FACTS)
            record = json.loads(ctl("ingest", "facts", facts_file, "--tenant", tenant, "--callgraph-id", graphs[scope]))
            batches[scope] = record["batchId"]
        tokens = {}
        for caller in CALLERS[:5]:
            tokens[caller] = ctl("token", "create", "--principal", caller, "--tenant", "acme").strip()
        tokens["unknown"] = "sgt_" + "A" * 43
        tokens["anonymous"] = None
        if any(t is not None and not t.startswith("sgt_") for t in tokens.values()):
            fail(f"token create printed something else than a token: {tokens}")

        server = Server(signalsd, data, os.path.join(tmp, "signalsd.log"))
        print(f"--- {server.base}: {len(CALLERS)} callers x {len(ENDPOINTS)} endpoints x own/other/global")
        counter = 0
        results = []
        for endpoint, (method, template, _, action) in ENDPOINTS.items():
            scopes = ["-"] if action == "public" else ["own", "other", "global"]
            for scope in scopes:
                for caller in CALLERS:
                    counter += 1
                    fields = {"tenant": SCOPE_TENANT.get(scope, ""), "graph": graphs.get(scope, ""),
                              "batch": batches.get(scope, ""), "purl_q": urllib.parse.quote(PURL, safe="")}
                    path = template.format(**fields)
                    body, content_type = None, None
                    if endpoint == "facts.post":
                        body, content_type = FACTS, "application/x-ndjson"
                    elif endpoint == "cg.post":
                        # A graph of its own for every call, so that a success is a 201.
                        body = json.dumps(CALLGRAPH).replace("Svc.", f"Call{counter}.").encode()
                        content_type = "application/json"
                    before = stored_state(data) if body is not None else None
                    status, ctype, answer = call(server.base, method, path, tokens[caller], body, content_type)
                    want = expected[(endpoint, scope, caller)]
                    results.append((endpoint, scope, caller, status))
                    where = f"{method} {path} as {caller}"
                    if status != want:
                        failures.append(f"{where}: HTTP {status}, expected {want}: {answer[:300]!r}")
                        continue
                    if status >= 400:
                        if ctype.split(";")[0].strip() != "application/problem+json":
                            failures.append(f"{where}: {status} with content type {ctype!r}")
                        else:
                            problem = json.loads(answer)
                            if problem.get("status") != status:
                                failures.append(f"{where}: problem status {problem.get('status')} != {status}")
                        if before is not None and stored_state(data) != before:
                            failures.append(f"{where}: refused with {status} but stored something")
                    elif method == "POST":
                        doc = json.loads(answer)
                        if doc.get("tenantId") != SCOPE_TENANT[scope]:
                            failures.append(f"{where}: stored for tenant {doc.get('tenantId')}")

        # The matrix as observed, for people reading the log.
        print(f"{'endpoint':18} {'scope':7} " + " ".join(f"{SHORT[c]:5}" for c in CALLERS))
        seen = {}
        for endpoint, scope, caller, status in results:
            seen.setdefault((endpoint, scope), {})[caller] = status
        for (endpoint, scope), row in seen.items():
            print(f"{endpoint:18} {scope:7} " + " ".join(f"{row[c]:<5}" for c in CALLERS))

        if failures:
            for f in failures:
                print(f"  {f}", file=sys.stderr)
            fail(f"{len(failures)} of {len(results)} calls answered other than the table")

        rc = server.stop()
        server = None
        if rc != 0:
            fail(f"signalsd exited {rc} on SIGTERM")
        print(f"http_access_matrix_test: PASS ({len(results)} calls)")
    finally:
        if server is not None:
            server.stop()
            log = os.path.join(tmp, "signalsd.log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    sys.stderr.write("signalsd log (last lines):\n" + "".join(f.readlines()[-30:]))
        if os.environ.get("SIGNALS_KEEP_TMP") == "1":
            print(f"keeping {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
