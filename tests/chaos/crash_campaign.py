#!/usr/bin/python3
"""Crash campaign: what a 2xx promises under kill -9 (README.md#reliability-crash-campaign).

Starts a real signalsd (transport-http on 127.0.0.1:0, its port from a port
file) on a fresh data directory and loads it from several HTTP clients at once:
runtime-fact batches (NDJSON, some gzip-encoded, some with an Idempotency-Key)
and callgraphs, each different from every other. Beside them retention GC runs
(signalsd's own scheduler every second, plus `signalsctl gc --now` processes
that really delete, some of them killed too), and, when the tlog-rekor plugin
is built, a transparency log that is down (a loopback port that refuses
connections), so every ingest goes through the tlog retry queue. At random
moments (during start-up too) signalsd gets SIGKILL, and is started again.

Every answer is recorded: a 2xx with its batchId or graphId and the SHA-256 of
the exact NDJSON bytes, a refusal, or no answer (the request was in flight at a
kill). After every K kills and at the end, with signalsd stopped, it checks:
  * every acknowledged batch is listed (`signalsctl batches list --format json
    --limit 0`) with the provenanceHash of its bytes, and `signalsctl verify
    batch` passes (exit 0; 3 for one expired by GC, whose tombstone and
    attestation verify); every acknowledged callgraph is listed and `verify
    callgraph` passes the same way;
  * every listed batch or callgraph that was not acknowledged belongs to a
    request that was in flight at a kill (it may or may not exist: the 2xx
    died with the process); nothing refused is visible;
  * `signalsctl fsck` (without --repair) exits 0: what a crash leaves is
    reported as leftovers, never as damage;
  * no request is stored twice: idempotent requests that were in flight are
    sent again after the restart, as a client would, and must then get the
    first attempt's answer if it committed (--idempotency-duplicates count
    reports such duplicates instead of failing).
At the end signalsd starts once more (removing the temp files crashes left),
stops on SIGTERM with exit 0, and fsck runs again.

usage: crash_campaign.py SIGNALSCTL SIGNALSD [TESTDATA_DIR] [--kills N] [--seed S]
           [--clients N] [--check-every K] [--max-delay SECONDS] [--think SECONDS]
           [--idempotency-duplicates fail|count] [--no-tlog] [--no-gc] [--json FILE] [--keep]
Exit 0 when every check passed, 1 when one failed, 2 on usage errors.
Python standard library only (Debian's /usr/bin/python3), plus openssl for the
log's public key.
"""

import argparse
import concurrent.futures
import datetime
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TENANTS = ("acme", "globex")
FACT_TYPES = ("runtime.symbol.hit", "runtime.module.loaded", "runtime.file.access", "runtime.process.observed")
ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
# fsck's leftover lines by what their detail says (kernel/src/verify/fsck.cpp).
LEFTOVER_KINDS = (("temp file", "temp file"), ("no index row", "object without its index row"),
                  ("is live", "tombstone not in effect"), ("removal was interrupted", "gc removal pending"),
                  ("registration", "key registration"), ("rotation", "key rotation"))


def log(message):
    print(message, flush=True)


def refusal(status, body):
    """"400 callgraph-exists": the status and the problem document's rule."""
    try:
        return f"{status} {json.loads(body).get('rule', '')}".strip()
    except ValueError:
        return str(status)


def utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class CampaignFailure(Exception):
    pass


class Ledger:
    """Every request and its outcome; shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.batches = {}  # batchId -> {sha, tenant, graph, idem}
        self.graphs = {}  # graphId -> {purl, tenant, digest, orphan}
        self.refused_batches = {}  # sha -> HTTP status
        self.refused_graphs = {}  # purl -> HTTP status
        self.inflight_batches = {}  # sha -> {epoch, idem}
        self.inflight_graphs = {}  # purl -> epoch
        # A 2xx is the first attempt's answer when it had committed, else a new
        # batch; the check's "stored twice" count tells which went wrong.
        self.retries = {"2xx": 0, "409": 0, "refused": 0, "no-answer": 0}
        self.unexpected = []  # errors that no kill explains
        self.requests = 0

    def referenceable(self, rng, tenant):
        with self.lock:
            ids = [g for g, r in self.graphs.items() if r["tenant"] == tenant and not r["orphan"]]
            orphans = [g for g, r in self.graphs.items() if r["tenant"] == tenant and r["orphan"]]
        # Now and then a graph GC may be expiring: the race retention_gc.hpp describes.
        if orphans and (not ids or rng.random() < 0.03):
            return rng.choice(orphans)
        return rng.choice(ids) if ids else None


class Campaign:
    def __init__(self, opts):
        self.opts = opts
        self.rng = random.Random(opts.seed)
        self.ledger = Ledger()
        self.work = tempfile.mkdtemp(prefix="signals-chaos-", dir=os.environ.get("TMPDIR"))
        self.data = os.path.join(self.work, "data")
        self.log_path = os.path.join(self.work, "signalsd.log")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALS_")}
        self.common = ["--data-dir", self.data]
        self.proc = None
        self.port = None
        self.epoch = 0
        self.busy = 0  # clients between sending a request and recording its outcome
        self.cond = threading.Condition()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.load_on = threading.Event()
        self.gc_proc = None
        self.gc_lock = threading.Lock()
        self.refusing_socket = None
        self.stats = {
            "kills": 0,
            "killsDuringStartup": 0,
            "gcRuns": 0,
            "gcRunsKilled": 0,
            "gcRunsCompleted": 0,
            "expired": {"batches": 0, "callgraphs": 0},
            "checks": 0,
            "fsckRuns": 0,
            "fsckLeftovers": {},
            "verified": {"batchesLive": 0, "batchesExpired": 0, "callgraphsLive": 0, "callgraphsExpired": 0},
            "startupSeconds": [],
        }
        self.checked_batches = {}  # id -> the state it last verified in
        self.checked_graphs = {}
        self.resolved_batches = set()  # in-flight requests whose outcome a check has counted
        self.duplicates = set()
        self.resolved_graphs = set()
        self.resolved_inflight = {"batchesVisible": 0, "batchesAbsent": 0, "callgraphsVisible": 0,
                                  "callgraphsAbsent": 0}
        self.failures = []

    # ---- processes -------------------------------------------------------

    def ctl(self, *args, check=True, extra=()):
        cmd = [self.opts.signalsctl] + self.common + list(extra) + list(args)
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=600)
        if check and done.returncode != 0:
            raise CampaignFailure(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()[:2000]}")
        return done

    def setup(self):
        os.makedirs(self.data)
        plugins = self.ctl("plugins", "list").stdout
        if not self.opts.no_tlog and "tlog-rekor" in plugins:
            # A bound socket that never listens: connections to it are refused,
            # and no other process can take the port while the campaign runs.
            self.refusing_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.refusing_socket.bind(("127.0.0.1", 0))
            port = self.refusing_socket.getsockname()[1]
            key = os.path.join(self.work, "log-key.pem")
            pub = os.path.join(self.work, "log-key.pub.pem")
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-out", key], check=True, capture_output=True)
            subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
            self.common += ["--provenance.rekor_enabled=true", "--tlog.plugin=tlog-rekor",
                            f"--tlog.url=http://127.0.0.1:{port}", f"--tlog.public_key_file={pub}",
                            "--tlog.timeout=500ms", "--tlog.retry_max_interval=1s"]
            self.tlog = f"tlog-rekor against 127.0.0.1:{port}, which refuses connections"
        else:
            self.tlog = "off" if self.opts.no_tlog else "off (tlog-rekor is not built)"
        for tenant in TENANTS:
            self.ctl("tenant", "add", tenant)
        tenant_args = [a for t in TENANTS for a in ("--tenant", t)]
        self.agent_token = self.ctl("token", "create", "--principal", "runtime-agent", *tenant_args).stdout.strip()
        self.scanner_token = self.ctl("token", "create", "--principal", "scanner-worker", *tenant_args).stdout.strip()

    def start_signalsd(self):
        port_file = os.path.join(self.data, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        cmd = [self.opts.signalsd] + self.common + [
            "--transport.http.plugin=transport-http", "--transport.http.listen=127.0.0.1:0",
            f"--transport.http.port_file={port_file}", "--retention.gc_interval=1s"]
        with open(self.log_path, "ab") as out:
            out.write(f"=== start {self.stats['kills'] + 1} ===\n".encode())
            out.flush()
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return time.monotonic()

    def wait_ready(self, started, deadline_s=30.0):
        """Port file and /healthz; returns False when signalsd is not up by the deadline."""
        port_file = os.path.join(self.data, "port")
        while time.monotonic() - started < deadline_s:
            if self.proc.poll() is not None:
                raise CampaignFailure(f"signalsd exited by itself with {self.proc.returncode} at start\n"
                                      + self.log_tail())
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    conn = http.client.HTTPConnection("127.0.0.1", int(text), timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        conn.close()
                        self.stats["startupSeconds"].append(time.monotonic() - started)
                        with self.cond:
                            self.port = int(text)
                        self.ready.set()
                        return True
                    conn.close()
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.01)
        return False

    def kill_signalsd(self):
        self.ready.clear()
        if self.proc.poll() is not None:
            raise CampaignFailure(f"signalsd exited by itself with {self.proc.returncode}\n" + self.log_tail())
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        with self.gc_lock:
            if self.gc_proc is not None and self.gc_proc.poll() is None:
                self.gc_proc.send_signal(signal.SIGKILL)
                self.gc_proc.wait()
                self.stats["gcRunsKilled"] += 1
        with self.cond:
            self.epoch += 1
            self.cond.notify_all()
        self.stats["kills"] += 1

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "signalsd log (last lines):\n" + "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # ---- load ------------------------------------------------------------

    def wait_for_kill(self, epoch, seconds=20.0):
        """True when a kill ended `epoch`: an error then is the kill's doing."""
        with self.cond:
            return self.cond.wait_for(lambda: self.epoch != epoch or self.stop.is_set(), timeout=seconds) and \
                self.epoch != epoch

    def snapshot(self):
        with self.cond:
            return self.epoch, self.port

    def post(self, port, path, body, headers):
        # Generous: on a loaded machine a durable commit may queue behind others.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.connect()
        except OSError:
            conn.close()
            return None  # nothing was sent
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def fact_body(self, rng, client, seq):
        lines = []
        for i in range(rng.randint(1, 40)):
            fact = {"symbolId": f"chaos::c{client}::b{seq}::s{i}::{rng.getrandbits(32):08x}",
                    "factType": rng.choice(FACT_TYPES), "hitCount": rng.randint(1, 1000)}
            if i % 3 == 0:
                fact["processId"] = rng.randint(1, 65535)
                fact["metadata"] = {"client": str(client)}
            lines.append(json.dumps(fact, separators=(",", ":")))
        return ("\n".join(lines) + "\n").encode()

    def graph_body(self, rng, client, seq):
        n = rng.randint(2, 30)
        nodes = [{"id": f"n{i}", "name": f"Chaos{client}_{seq}.m{i}", "kind": "method"} for i in range(n)]
        edges = [{"sourceId": f"n{i}", "targetId": f"n{i + 1}", "kind": "static"} for i in range(n - 1)]
        for _ in range(rng.randint(0, n)):
            a, b = rng.randrange(n), rng.randrange(n)
            edges.append({"sourceId": f"n{a}", "targetId": f"n{b}", "kind": rng.choice(("heuristic", "runtime"))})
        doc = {"schema": "stella.callgraph.v1", "nodes": nodes, "edges": edges,
               "entrypoints": [{"nodeId": "n0", "kind": "main"}]}
        return json.dumps(doc).encode()

    def client(self, index):
        rng = random.Random(f"{self.opts.seed}-client-{index}")
        seq = 0
        retry = None  # an idempotent request in flight at a kill, sent again after the restart
        while not self.stop.is_set():
            if not self.ready.wait(0.2) or not self.load_on.is_set():
                continue
            epoch, port = self.snapshot()
            seq += 1
            with self.cond:
                self.busy += 1
            try:
                if retry is not None:
                    self.retry_batch(epoch, port, retry)
                    retry = None
                elif rng.random() < 0.2 or not self.ledger.graphs:
                    self.upload_graph(rng, epoch, port, index, seq)
                else:
                    retry = self.upload_batch(rng, epoch, port, index, seq)
            except Exception as e:  # noqa: BLE001 — a client thread must report, not die silently
                with self.ledger.lock:
                    self.ledger.unexpected.append(f"client {index}: {e}")
            finally:
                with self.cond:
                    self.busy -= 1
                    self.cond.notify_all()
            # A little think time: the volume to verify stays proportional to
            # the kills rather than to the machine's speed.
            time.sleep(rng.uniform(0.0, self.opts.think))

    def upload_graph(self, rng, epoch, port, client, seq):
        tenant = rng.choice(TENANTS)
        purl = f"pkg:generic/chaos/app-{client}-{seq}@1.0"
        orphan = rng.random() < 0.3  # never referenced: GC deletes it
        body = self.graph_body(rng, client, seq)
        path = f"/signals/callgraphs?tenant={tenant}&componentPurl={urllib.parse.quote(purl, safe='')}" \
               "&language=java&source=chaos"
        headers = {"Authorization": f"Bearer {self.scanner_token}", "Content-Type": "application/json"}
        with self.ledger.lock:
            self.ledger.requests += 1
        try:
            answer = self.post(port, path, body, headers)
        except (OSError, http.client.HTTPException) as e:
            if not self.wait_for_kill(epoch):
                raise CampaignFailure(f"callgraph {purl}: {e!r} without a kill")
            with self.ledger.lock:
                self.ledger.inflight_graphs[purl] = epoch
            return
        if answer is None:
            self.wait_for_kill(epoch, 5)
            return
        status, data = answer
        with self.ledger.lock:
            if status in (200, 201):
                doc = json.loads(data)
                if not ULID.match(doc.get("graphId", "")) or doc.get("componentPurl") != purl:
                    raise CampaignFailure(f"callgraph {purl}: odd answer {status} {data[:300]!r}")
                self.ledger.graphs[doc["graphId"]] = {"purl": purl, "tenant": tenant, "digest": doc.get("digest"),
                                                      "orphan": orphan}
            else:
                self.ledger.refused_graphs[purl] = refusal(status, data)

    def upload_batch(self, rng, epoch, port, client, seq):
        tenant = rng.choice(TENANTS)
        graph = self.ledger.referenceable(rng, tenant)
        if graph is None:
            return None
        body = self.fact_body(rng, client, seq)
        sha = hashlib.sha256(body).hexdigest()
        headers = {"Authorization": f"Bearer {self.agent_token}", "Content-Type": "application/x-ndjson"}
        sent = body
        if rng.random() < 0.15:
            sent = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        if rng.random() < 0.3:
            headers["X-Provenance-Hash"] = "sha256:" + sha
        idem = f"chaos-{self.opts.seed}-{client}-{seq}" if rng.random() < 0.3 else None
        if idem:
            headers["Idempotency-Key"] = idem
        path = f"/signals/runtime-facts?tenant={tenant}&callgraph_id={graph}"
        request = {"sha": sha, "tenant": tenant, "graph": graph, "idem": idem, "path": path, "body": sent,
                   "headers": headers}
        with self.ledger.lock:
            self.ledger.requests += 1
        try:
            answer = self.post(port, path, sent, headers)
        except (OSError, http.client.HTTPException) as e:
            if not self.wait_for_kill(epoch):
                raise CampaignFailure(f"batch {sha[:12]}: {e!r} without a kill")
            with self.ledger.lock:
                self.ledger.inflight_batches.setdefault(sha, {"epoch": epoch, "idem": idem})
            return request if idem else None
        if answer is None:
            self.wait_for_kill(epoch, 5)
            return None
        self.record_batch_answer(request, *answer)
        return None

    def record_batch_answer(self, request, status, data, retry=False):
        with self.ledger.lock:
            if status in (200, 201):
                doc = json.loads(data)
                batch = doc.get("batchId", "")
                if not ULID.match(batch) or doc.get("provenanceHash") != "sha256:" + request["sha"]:
                    raise CampaignFailure(f"batch {request['sha'][:12]}: answer {status} does not match the "
                                          f"bytes sent: {data[:300]!r}")
                if retry:
                    self.ledger.retries["2xx"] += 1
                self.ledger.batches[batch] = {"sha": request["sha"], "tenant": request["tenant"],
                                              "graph": request["graph"], "idem": request["idem"]}
            else:
                if retry:
                    self.ledger.retries["409" if status == 409 else "refused"] += 1
                if status != 409 or not retry:
                    self.ledger.refused_batches.setdefault(request["sha"], refusal(status, data))

    def retry_batch(self, epoch, port, request):
        try:
            answer = self.post(port, request["path"], request["body"], request["headers"])
        except (OSError, http.client.HTTPException) as e:
            if not self.wait_for_kill(epoch):
                raise CampaignFailure(f"retry of batch {request['sha'][:12]}: {e!r} without a kill")
            with self.ledger.lock:
                self.ledger.retries["no-answer"] += 1
            return
        if answer is None:
            with self.ledger.lock:
                self.ledger.retries["no-answer"] += 1
            return
        self.record_batch_answer(request, *answer, retry=True)

    def gc_loop(self):
        """`signalsctl gc` beside signalsd, deleting for real: --now is a day
        (the shortest retention) after a recent moment, so batches and orphan
        graphs older than 5-60 s are due; a third of the runs spare batches,
        a third orphan graphs. A fifth of the runs are killed after a moment,
        more die with signalsd."""
        rng = random.Random(f"{self.opts.seed}-gc")
        while not self.stop.is_set():
            time.sleep(rng.uniform(0.3, 1.5))
            if not self.ready.is_set() or not self.load_on.is_set():
                continue
            now = utc(time.time() + 86400 - rng.uniform(5, 60))
            # A run takes orphan graphs first (its plan is sorted by kind), and
            # many runs die before they are done: a third spare the graphs.
            facts_days, graph_days = rng.choice(((1, 1), (36500, 1), (1, 36500)))
            cmd = [self.opts.signalsctl] + self.common + [
                f"--retention.runtime_facts_days={facts_days}", f"--retention.orphan_callgraphs_days={graph_days}",
                "gc", "--now", now, "--format", "json"]
            with self.gc_lock:
                if not self.ready.is_set():
                    continue
                self.gc_proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                text=True)
                proc = self.gc_proc
                self.stats["gcRuns"] += 1
            kill_after = rng.uniform(0.0, 0.4) if rng.random() < 0.2 else None
            try:
                out, err = proc.communicate(timeout=kill_after if kill_after is not None else 120)
            except subprocess.TimeoutExpired:
                with self.gc_lock:
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGKILL)
                        self.stats["gcRunsKilled"] += 1
                proc.communicate()
                continue
            if proc.returncode == -signal.SIGKILL:
                continue  # killed with signalsd
            if proc.returncode != 0:
                with self.ledger.lock:
                    self.ledger.unexpected.append(f"signalsctl gc exited {proc.returncode}: {err.strip()[:1000]}")
                continue
            self.stats["gcRunsCompleted"] += 1

    # ---- checks ----------------------------------------------------------

    def fail(self, message):
        self.failures.append(message)
        log("FAILED: " + message)

    def check(self):
        """With signalsd and every gc process stopped: the ledger against the store."""
        self.stats["checks"] += 1
        # Requests cut off by the kill are recorded as in flight first.
        with self.cond:
            if not self.cond.wait_for(lambda: self.busy == 0, timeout=60):
                raise CampaignFailure("clients still busy 60 s after a kill")
        with self.ledger.lock:
            acked = dict(self.ledger.batches)
            graphs = dict(self.ledger.graphs)
            inflight = dict(self.ledger.inflight_batches)
            inflight_graphs = dict(self.ledger.inflight_graphs)
            refused = dict(self.ledger.refused_batches)
            refused_graphs = dict(self.ledger.refused_graphs)
        rows = {r["batchId"]: r for r in json.loads(self.ctl("batches", "list", "--format", "json", "--limit",
                                                             "0").stdout)}
        graph_rows = {r["graphId"]: r for r in json.loads(self.ctl("callgraphs", "list", "--format", "json",
                                                                   "--limit", "0").stdout)}
        self.stats["expired"] = {"batches": sum(1 for r in rows.values() if r.get("state") == "expired"),
                                 "callgraphs": sum(1 for r in graph_rows.values() if r.get("state") == "expired")}
        for batch, rec in acked.items():
            row = rows.get(batch)
            if row is None:
                self.fail(f"acknowledged batch {batch} is lost (not listed)")
            elif row.get("provenanceHash") != "sha256:" + rec["sha"]:
                self.fail(f"batch {batch}: listed with {row.get('provenanceHash')}, acknowledged for sha256:"
                          f"{rec['sha']}")
        for graph, rec in graphs.items():
            row = graph_rows.get(graph)
            if row is None:
                self.fail(f"acknowledged callgraph {graph} is lost (not listed)")
            elif row.get("componentPurl") != rec["purl"] or row.get("digest") != rec["digest"]:
                self.fail(f"callgraph {graph}: listed as {row.get('componentPurl')} {row.get('digest')}")
        # What nobody was told about: only requests in flight at a kill.
        visible = set()
        acked_shas = {r["sha"] for r in acked.values()}
        # Every request's bytes are unique, so two rows with the same bytes are
        # one request stored twice: a retry under its Idempotency-Key after the
        # first attempt had committed, which must have been answered with that
        # batch (README.md#rest-api-transport-http: the first answer is replayed).
        by_sha = {}
        for batch, row in rows.items():
            by_sha.setdefault(row.get("provenanceHash"), []).append(batch)
        for sha, batches in by_sha.items():
            if len(batches) > 1 and sha not in self.duplicates:
                self.duplicates.add(sha)
                message = f"one idempotent request stored as {len(batches)} batches: {sorted(batches)} ({sha})"
                if self.opts.idempotency_duplicates == "fail":
                    self.fail(message)
                else:
                    log("counted: " + message)
        for batch, row in rows.items():
            if batch in acked:
                continue
            sha = (row.get("provenanceHash") or "")[len("sha256:"):]
            if sha in inflight:
                visible.add(sha)
            elif sha in refused:
                self.fail(f"batch {batch} is visible although its request was refused with {refused[sha]}")
            else:
                self.fail(f"batch {batch} is visible but no request for its bytes was in flight at a kill")
        # Each in-flight request is counted once, at the first check after its
        # kill: the process that could have committed it is gone by then.
        for sha in inflight:
            if sha not in self.resolved_batches:
                self.resolved_batches.add(sha)
                committed = sha in visible or sha in acked_shas
                self.resolved_inflight["batchesVisible" if committed else "batchesAbsent"] += 1
        visible_graphs = set()
        for graph, row in graph_rows.items():
            if graph in graphs:
                continue
            purl = row.get("componentPurl")
            if purl in inflight_graphs:
                visible_graphs.add(purl)
            elif purl in refused_graphs:
                self.fail(f"callgraph {graph} is visible although its request was refused")
            else:
                self.fail(f"callgraph {graph} ({purl}) is visible but was not in flight at a kill")
        for purl in inflight_graphs:
            if purl not in self.resolved_graphs:
                self.resolved_graphs.add(purl)
                self.resolved_inflight["callgraphsVisible" if purl in visible_graphs else "callgraphsAbsent"] += 1
        self.verify_all(rows, graph_rows, acked, graphs)
        self.fsck()

    def verify_all(self, rows, graph_rows, acked, graphs):
        """`verify` of every acknowledged batch and graph not verified yet in
        its present state (live, or expired by GC: then again); fsck re-reads
        every object at every check besides."""
        todo = [("batch", b, rows[b].get("state")) for b in acked if b in rows and
                self.checked_batches.get(b) != rows[b].get("state")]
        todo += [("callgraph", g, graph_rows[g].get("state")) for g in graphs if g in graph_rows and
                 self.checked_graphs.get(g) != graph_rows[g].get("state")]

        def run(item):
            kind, ident, state = item
            return item, self.ctl("verify", kind, ident, check=False)

        with concurrent.futures.ThreadPoolExecutor(max_workers=self.opts.verify_jobs) as pool:
            for (kind, ident, state), done in pool.map(run, todo):
                want = 3 if state == "expired" else 0
                if done.returncode != want:
                    self.fail(f"verify {kind} {ident} (state {state}) exited {done.returncode}, not {want}: "
                              f"{(done.stdout + done.stderr).strip()[:1500]}")
                    continue
                label = ("batches" if kind == "batch" else "callgraphs") + ("Expired" if want == 3 else "Live")
                self.stats["verified"][label] += 1
                (self.checked_batches if kind == "batch" else self.checked_graphs)[ident] = state

    def fsck(self):
        done = self.ctl("fsck", check=False)
        self.stats["fsckRuns"] += 1
        lines = done.stdout.splitlines()
        for line in lines[:-1]:
            parts = line.split(": ", 2)
            if len(parts) == 3 and parts[1] == "leftover":
                kind = next((name for text, name in LEFTOVER_KINDS if text in parts[2]), "other")
                self.stats["fsckLeftovers"][kind] = self.stats["fsckLeftovers"].get(kind, 0) + 1
        if done.returncode != 0:
            damage = [line for line in lines[:-1] if ": leftover: " not in line]
            self.fail(f"fsck exited {done.returncode} after kill {self.stats['kills']}:\n  " +
                      "\n  ".join(damage[:40] or lines[-1:]) + ("\n" + done.stderr.strip() if done.stderr else ""))

    # ---- the campaign ----------------------------------------------------

    def run(self):
        begin = time.monotonic()
        self.setup()
        threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(self.opts.clients)]
        if not self.opts.no_gc:
            threads.append(threading.Thread(target=self.gc_loop, daemon=True))
        for t in threads:
            t.start()
        try:
            while self.stats["kills"] < self.opts.kills and not self.failures:
                started = self.start_signalsd()
                if self.rng.random() < 0.1:
                    # A kill during start-up: opening the index, removing temp
                    # files, GC's first run, the transports starting.
                    times = sorted(self.stats["startupSeconds"]) or [0.1]
                    delay = self.rng.uniform(0.0, 1.5 * times[len(times) // 2])
                    if self.wait_ready(started, deadline_s=delay):
                        self.load_on.set()
                        time.sleep(max(0.0, delay - (time.monotonic() - started)))
                    else:
                        self.stats["killsDuringStartup"] += 1
                else:
                    if not self.wait_ready(started):
                        raise CampaignFailure("signalsd did not answer /healthz within 30 s\n" + self.log_tail())
                    self.load_on.set()
                    time.sleep(self.rng.uniform(0.05, self.opts.max_delay))
                self.kill_signalsd()
                self.load_on.clear()
                if self.stats["kills"] % self.opts.check_every == 0 and self.stats["kills"] < self.opts.kills:
                    self.check()
                    log(self.progress_line(begin))
            # The end: every check with signalsd down, then one clean start and
            # stop (which removes the temp files), and fsck once more.
            self.stop.set()
            for t in threads:
                t.join(timeout=60)
            self.check()
            started = self.start_signalsd()
            if not self.wait_ready(started):
                raise CampaignFailure("signalsd did not come back for the final start\n" + self.log_tail())
            self.ready.clear()
            self.proc.send_signal(signal.SIGTERM)
            if self.proc.wait(timeout=60) != 0:
                self.fail(f"signalsd exited {self.proc.returncode} on SIGTERM\n" + self.log_tail())
            self.fsck()
            temp_files = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(self.data, "cas"))
                          for f in files if f.startswith(".") and ".tmp." in f]
            if temp_files:
                self.fail(f"temp files remain after a clean start: {temp_files[:5]}")
        except CampaignFailure as e:
            self.fail(str(e))
        finally:
            self.stop.set()
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            with self.gc_lock:
                if self.gc_proc is not None and self.gc_proc.poll() is None:
                    self.gc_proc.kill()
                    self.gc_proc.wait()
        with self.ledger.lock:
            for message in self.ledger.unexpected:
                self.fail(message)
        return self.report(time.monotonic() - begin)

    def progress_line(self, begin):
        with self.ledger.lock:
            return (f"chaos: {self.stats['kills']}/{self.opts.kills} kills, {len(self.ledger.batches)} batches and "
                    f"{len(self.ledger.graphs)} callgraphs acknowledged, {self.stats['expired']['batches']} batches and "
                    f"{self.stats['expired']['callgraphs']} callgraphs expired by gc, "
                    f"{time.monotonic() - begin:.0f} s")

    def refusal_statuses(self):
        counts = {}
        for why in list(self.ledger.refused_batches.values()) + list(self.ledger.refused_graphs.values()):
            counts[why] = counts.get(why, 0) + 1
        return dict(sorted(counts.items()))

    def report(self, seconds):
        removed_at_start = 0
        try:
            with open(self.log_path, errors="replace") as f:
                for m in re.finditer(r"temp files of interrupted writes removed from the CAS: (\d+)", f.read()):
                    removed_at_start += int(m.group(1))
        except OSError:
            pass
        led = self.ledger
        lost = sum(1 for f in self.failures if "is lost" in f)
        startup = sorted(self.stats["startupSeconds"]) or [0.0]
        result = {
            "arguments": sys.argv[1:],
            "seed": self.opts.seed,
            "kills": self.stats["kills"],
            "killsDuringStartup": self.stats["killsDuringStartup"],
            "clients": self.opts.clients,
            "requests": led.requests,
            "batchesAcknowledged": len(led.batches),
            "batchesWithIdempotencyKey": sum(1 for b in led.batches.values() if b["idem"]),
            "batchesLost": lost,
            "requestsStoredTwice": len(self.duplicates),
            "callgraphsAcknowledged": len(led.graphs),
            "refused": {"batches": len(led.refused_batches), "callgraphs": len(led.refused_graphs),
                        "byStatus": self.refusal_statuses()},
            "inFlightAtKill": self.resolved_inflight,
            "idempotentRetries": led.retries,
            "gc": {"runs": self.stats["gcRuns"], "killed": self.stats["gcRunsKilled"],
                   "completed": self.stats["gcRunsCompleted"], "expired": self.stats["expired"]},
            "tlog": self.tlog,
            "verified": self.stats["verified"],
            "checks": self.stats["checks"],
            "fsckRuns": self.stats["fsckRuns"],
            "fsckLeftoverLines": self.stats["fsckLeftovers"],
            "tempFilesRemovedAtStart": removed_at_start,
            "startupSeconds": {"median": startup[len(startup) // 2], "max": startup[-1]},
            "seconds": round(seconds, 1),
            "failures": self.failures,
        }
        if self.opts.json:
            with open(self.opts.json, "w") as f:
                json.dump(result, f, indent=2)
        inflight = self.resolved_inflight
        log(f"""crash campaign: {result['kills']} kills of signalsd ({result['killsDuringStartup']} during start-up), seed {self.opts.seed}, {self.opts.clients} clients, {result['seconds']} s
  batches acknowledged: {result['batchesAcknowledged']} ({result['batchesWithIdempotencyKey']} with an Idempotency-Key); lost: {lost}
  idempotent requests stored twice (a retry after the first attempt had committed): {len(self.duplicates)}
  callgraphs acknowledged: {result['callgraphsAcknowledged']}
  refused (nothing visible): {result['refused']['batches']} batches, {result['refused']['callgraphs']} callgraphs (status and rule: {result['refused']['byStatus']})
  in flight at a kill: batches {inflight['batchesVisible']} committed (2xx lost with the process), {inflight['batchesAbsent']} not; callgraphs {inflight['callgraphsVisible']} committed, {inflight['callgraphsAbsent']} not
  idempotent retries after a restart: {led.retries}
  gc: {result['gc']['runs']} signalsctl gc runs ({result['gc']['killed']} killed, {result['gc']['completed']} completed), expired at the end: {self.stats['expired']['batches']} batches, {self.stats['expired']['callgraphs']} callgraphs
  tlog: {self.tlog}
  verify runs (each acknowledged object after a kill, again once expired): {self.stats['verified']}
  checks: {result['checks']}, fsck runs: {result['fsckRuns']} (leftover lines: {self.stats['fsckLeftovers']}); temp files removed at start: {removed_at_start}
  signalsd start to /healthz: median {result['startupSeconds']['median']:.2f} s, max {result['startupSeconds']['max']:.2f} s""")
        if self.failures:
            log(f"crash campaign: FAILED ({len(self.failures)} failures); data kept in {self.work}")
            return 1
        if self.opts.keep:
            log(f"crash campaign: data kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
        log("crash campaign: PASS")
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("signalsctl")
    parser.add_argument("signalsd")
    parser.add_argument("testdata", nargs="?", help="ignored (ctest passes the conformance data directory)")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None, help="default: from the clock (printed)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--check-every", type=int, default=None,
                        help="check the store every K kills (default: 10, or kills/20 for long campaigns)")
    parser.add_argument("--max-delay", type=float, default=1.0, help="longest run between a start and its kill (s)")
    parser.add_argument("--verify-jobs", type=int, default=2)
    parser.add_argument("--think", type=float, default=0.15, help="longest pause of a client between requests (s)")
    parser.add_argument("--idempotency-duplicates", choices=("fail", "count"), default="fail",
                        help="a request stored twice under one Idempotency-Key fails the campaign, or is counted")
    parser.add_argument("--no-tlog", action="store_true")
    parser.add_argument("--no-gc", action="store_true")
    parser.add_argument("--json", help="write the numbers as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    opts = parser.parse_args()
    if opts.check_every is None:
        # fsck re-reads the whole store, which grows with the campaign.
        opts.check_every = max(10, opts.kills // 20)
    if opts.kills < 1 or opts.clients < 1 or opts.check_every < 1:
        parser.error("--kills, --clients and --check-every must be at least 1")
    if opts.seed is None:
        opts.seed = int(time.time()) % 1000000
    for binary in (opts.signalsctl, opts.signalsd):
        if not os.access(binary, os.X_OK):
            parser.error(f"{binary} is not an executable")
    log(f"crash campaign: {opts.kills} kills, seed {opts.seed} (replay the decisions with --seed {opts.seed})")
    sys.exit(Campaign(opts).run())


if __name__ == "__main__":
    main()
