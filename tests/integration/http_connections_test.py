#!/usr/bin/python3
"""Connection floods against a real signalsd (transport-http, loopback).

  a. 300 TCP connections that send nothing (default config, max_connections
     128): /healthz and an authenticated GET still answer 200 at once, and one
     of the idle connections is served when it finally sends a request;
  b. header_timeout=1s: a connection that sends nothing is closed at the
     deadline, so is a slowloris header (one byte every 300 ms); a keep-alive
     connection between requests is bounded by idle_timeout instead;
  c. max_connections_per_address=5: the 6th connection gets 503 problem+json;
  d. max_open_connections=5: the oldest connection that never spoke is evicted
     for a newcomer; when every open one has spoken, the newcomer gets 503;
  and reports (without asserting) signalsd's RSS with 5000 idle connections.

Standard library only. usage: http_connections_test.py SIGNALSCTL SIGNALSD TESTDATA_DIR
"""

import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

IDLE_FLOOD = 300
RSS_CONNECTIONS = 5000


def fail(message):
    print(f"http_connections_test: FAILED: {message}", file=sys.stderr)
    raise SystemExit(1)


def step(text):
    print(f"--- {text}", flush=True)


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("SIGNALS_")}


class Server:
    def __init__(self, signalsd, data, log_path, *options):
        self.log = open(log_path, "ab")
        port_file = os.path.join(data, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.proc = subprocess.Popen(
            [signalsd, "--data-dir", data, "--transport.http.plugin=transport-http",
             "--transport.http.listen=127.0.0.1:0", f"--transport.http.port_file={port_file}", *options],
            stdout=self.log, stderr=subprocess.STDOUT, env=clean_env())
        deadline = time.monotonic() + 10
        while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
            if self.proc.poll() is not None:
                fail(f"signalsd {' '.join(options)} exited at start ({self.proc.returncode})")
            if time.monotonic() > deadline:
                fail("signalsd wrote no port file within 10 s")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read().strip())
        self.base = f"http://127.0.0.1:{self.port}"

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self):
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = -9
        self.log.close()
        return rc


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(base, path, token=None, timeout=5):
    """(status, body, seconds) of one GET on a new connection."""
    request = urllib.request.Request(base + path)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    start = time.monotonic()
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(), time.monotonic() - start
    except urllib.error.HTTPError as e:
        return e.code, e.read(), time.monotonic() - start


def expect_prompt_200(base, path, token=None, what=""):
    try:
        status, body, seconds = get(base, path, token)
    except OSError as e:
        fail(f"{what or path}: no answer ({e})")
    if status != 200:
        fail(f"{what or path}: HTTP {status}: {body[:300]!r}")
    if seconds > 2.0:
        fail(f"{what or path}: answered after {seconds:.2f} s")
    return seconds


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_server(s, wait):
    """True when the server ended the connection within `wait` seconds."""
    ready, _, _ = select.select([s], [], [], wait)
    if not ready:
        return False
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True


def time_until_closed(s, limit):
    start = time.monotonic()
    if not closed_by_server(s, limit):
        return None
    return time.monotonic() - start


def read_response(s, timeout=5):
    """The raw response on `s` up to the end of its body (Content-Length) or EOF."""
    s.settimeout(timeout)
    data = b""
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(data) >= head_end + 4 + length:
                return head, data[head_end + 4:head_end + 4 + length]
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            if not data:
                return None, b""
            fail(f"connection ended inside a response: {data[:300]!r}")
        data += chunk


def request_on(s, path, keep_alive=True):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{'' if keep_alive else 'Connection: close' + chr(13) + chr(10)}\r\n"
              .encode())
    return read_response(s)


def status_of(head):
    return int(head.split(" ", 2)[1]) if head else 0


def served_connection(port, what, wait=2.0):
    """A keep-alive connection the server has answered 200 on, so it holds its
    place under max_connections_per_address / max_open_connections.

    A connection the test has just finished with (restart's /healthz, a closed
    socket) still holds its place until the server's io thread has closed its
    end, a moment after the client saw the answer; until then a newcomer may
    be refused with 503. Such a refused one is retried for up to `wait` s."""
    deadline = time.monotonic() + wait
    while True:
        s = connect(port)
        head, _ = request_on(s, "/healthz")
        if status_of(head) == 200:
            return s
        s.close()
        if status_of(head) != 503 or time.monotonic() > deadline:
            fail(f"{what}: {head!r}")
        time.sleep(0.05)


def expect_200_soon(base, path, what, wait=2.0):
    """Like expect_prompt_200, retried while the server still counts a
    connection the client has just closed (503)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            status, body, seconds = get(base, path)
        except OSError as e:
            fail(f"{what}: no answer ({e})")
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if status != 200:
        fail(f"{what}: HTTP {status}: {body[:300]!r}")
    if seconds > 2.0:
        fail(f"{what}: answered after {seconds:.2f} s")


def expect_503_problem(head, body, what):
    if status_of(head) != 503:
        fail(f"{what}: expected 503, got {head!r}")
    if "application/problem+json" not in head.lower():
        fail(f"{what}: 503 without problem+json: {head!r}")
    problem = json.loads(body)
    if problem.get("status") != 503 or problem.get("code") != "too-many-connections":
        fail(f"{what}: unexpected problem document {problem}")


def main():
    if len(sys.argv) != 4:
        fail("usage: http_connections_test.py SIGNALSCTL SIGNALSD TESTDATA_DIR")
    signalsctl, signalsd = sys.argv[1], sys.argv[2]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = RSS_CONNECTIONS + 256
    if soft < want and (hard == resource.RLIM_INFINITY or hard >= want):
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    tmp = tempfile.mkdtemp(prefix="signals-http_connections_test-")
    data = os.path.join(tmp, "data")
    log = os.path.join(tmp, "signalsd.log")
    server = None
    sockets = []

    def drop_sockets():
        for s in sockets:
            s.close()
        sockets.clear()

    def restart(*options):
        nonlocal server
        drop_sockets()
        if server is not None:
            rc = server.stop()
            server = None
            if rc != 0:
                fail(f"signalsd exited {rc} on SIGTERM")
        server = Server(signalsd, data, log, *options)
        expect_prompt_200(server.base, "/healthz", what="healthz after start")
        return server

    ok = False
    try:
        def ctl(*args):
            r = subprocess.run([signalsctl, "--data-dir", data, *args], capture_output=True, env=clean_env(), cwd=tmp)
            if r.returncode != 0:
                fail(f"signalsctl {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
            return r.stdout.decode().strip()

        ctl("tenant", "add", "acme")
        reader = ctl("token", "create", "--principal", "audit-service", "--tenant", "acme")
        authed = "/signals/runtime-facts/ndjson?tenant=acme"

        step(f"a. {IDLE_FLOOD} idle connections (default config): /healthz and an authenticated GET still answer")
        srv = restart()
        for _ in range(IDLE_FLOOD):
            sockets.append(connect(srv.port))
        time.sleep(0.5)  # let the server accept them all
        t1 = expect_prompt_200(srv.base, "/healthz", what=f"healthz with {IDLE_FLOOD} idle connections")
        t2 = expect_prompt_200(srv.base, authed, reader, what=f"authenticated GET with {IDLE_FLOOD} idle connections")
        status, _, _ = get(srv.base, authed)
        if status != 401:
            fail(f"the same GET without a token answered {status}, not 401")
        print(f"    healthz {t1 * 1000:.0f} ms, authenticated GET {t2 * 1000:.0f} ms")
        head, _ = request_on(sockets[0], "/healthz")
        if status_of(head) != 200:
            fail(f"an idle connection that finally spoke got {head!r}")
        head, _ = request_on(sockets[0], authed.replace("ndjson", "01ARZ3NDEKTSV4RRFFQ69G5FAV"))
        if status_of(head) != 401:
            fail(f"second request on that connection: {head!r}")

        step("b. header_timeout=1s: silent and slowloris connections are closed at the deadline")
        srv = restart("--transport.http.header_timeout=1s")
        silent = connect(srv.port)
        sockets.append(silent)
        seconds = time_until_closed(silent, 5)
        if seconds is None or not 0.7 <= seconds <= 2.5:
            fail(f"a silent connection was closed after {seconds} s (header_timeout 1s)")
        print(f"    silent connection closed after {seconds:.2f} s")
        slow = connect(srv.port)
        sockets.append(slow)
        start = time.monotonic()
        header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"x" * 40 + b"\r\n\r\n"
        closed_at = None
        for i in range(len(header)):
            try:
                slow.send(header[i:i + 1])
            except OSError:
                closed_at = time.monotonic() - start
                break
            if closed_by_server(slow, 0.3):
                closed_at = time.monotonic() - start
                break
        if closed_at is None:
            fail("a slowloris header (a byte every 300 ms) was served to the end")
        if not 0.7 <= closed_at <= 2.5:
            fail(f"the slowloris connection was closed after {closed_at:.2f} s (header_timeout 1s)")
        print(f"    slowloris connection closed after {closed_at:.2f} s")
        keep = connect(srv.port)
        sockets.append(keep)
        head, _ = request_on(keep, "/healthz")
        if status_of(head) != 200:
            fail(f"keep-alive first request: {head!r}")
        if closed_by_server(keep, 1.8):
            fail("a keep-alive connection was closed within 1.8 s between requests (idle_timeout is 60 s)")
        head, _ = request_on(keep, "/healthz")
        if status_of(head) != 200:
            fail(f"keep-alive request after a 1.8 s pause: {head!r}")
        expect_prompt_200(srv.base, authed, reader, what="authenticated GET with header_timeout=1s")

        step("c. max_connections_per_address=5: the 6th connection gets 503")
        srv = restart("--transport.http.max_connections_per_address=5")
        # Five connections the server has served (and so counts), not five
        # connects: restart's /healthz connection may still be counted for a
        # moment after its answer, and would make the 5th the one refused.
        for i in range(5):
            sockets.append(served_connection(srv.port, f"connection {i + 1} of 5 from one address"))
        sixth = connect(srv.port)
        sockets.append(sixth)
        head, body = read_response(sixth)
        expect_503_problem(head, body, "6th connection from one address")
        sockets[0].close()
        sockets.pop(0)
        expect_200_soon(srv.base, "/healthz", what="healthz once one of the 5 closed")

        step("d. max_open_connections=5: the oldest silent connection is evicted for a newcomer")
        srv = restart("--transport.http.max_open_connections=5")
        silent = [connect(srv.port) for _ in range(5)]
        sockets.extend(silent)
        time.sleep(0.3)
        expect_prompt_200(srv.base, "/healthz", what="healthz at max_open_connections")
        if not closed_by_server(silent[0], 2):
            fail("the oldest silent connection was not evicted")
        for s in silent[1:]:
            if closed_by_server(s, 0):
                fail("a newer silent connection was evicted")
        # Every open connection has spoken: nothing to evict, the newcomer gets 503.
        drop_sockets()
        time.sleep(0.3)
        for i in range(5):
            sockets.append(served_connection(srv.port, f"keep-alive healthz {i + 1} of 5 at the cap"))
        newcomer = connect(srv.port)
        sockets.append(newcomer)
        head, body = read_response(newcomer)
        expect_503_problem(head, body, "newcomer when every open connection has spoken")

        step(f"RSS with {RSS_CONNECTIONS} idle connections (reported, not asserted)")
        srv = restart("--transport.http.max_connections_per_address=100000", "--transport.http.header_timeout=120s")
        before = srv.rss_kib()
        start = time.monotonic()
        for _ in range(RSS_CONNECTIONS):
            sockets.append(connect(srv.port))
        time.sleep(1.0)
        after = srv.rss_kib()
        t = expect_prompt_200(srv.base, "/healthz", what=f"healthz with {RSS_CONNECTIONS} idle connections")
        with open(f"/proc/{srv.proc.pid}/status") as f:
            threads = next((line.split()[1] for line in f if line.startswith("Threads:")), "?")
        print(f"    VmRSS {before} KiB before, {after} KiB with {RSS_CONNECTIONS} idle connections "
              f"({(after - before) * 1024 / RSS_CONNECTIONS:.0f} bytes each), {threads} threads, "
              f"opened in {time.monotonic() - start:.1f} s, healthz {t * 1000:.0f} ms")
        drop_sockets()

        rc = server.stop()
        server = None
        if rc != 0:
            fail(f"signalsd exited {rc} on SIGTERM")
        ok = True
        print("http_connections_test: PASS")
    finally:
        drop_sockets()
        if server is not None:
            server.stop()
        if not ok and os.path.exists(log):
            with open(log, errors="replace") as f:
                sys.stderr.write("signalsd log (last lines):\n" + "".join(f.readlines()[-30:]))
        if os.environ.get("SIGNALS_KEEP_TMP") == "1":
            print(f"keeping {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
