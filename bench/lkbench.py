#!/usr/bin/python3
"""bench/lkbench.py: the API benchmarks behind `make bench` (see bench/run.sh).

Runs inside the network namespace that run.sh made, so every request goes to
127.0.0.1 of that namespace. Starts labkube itself (as many times as the cold
start needs), drives it with wrk, hey and the small HTTP client below, runs
bench/sqlite_insert beside it as the physical limit of a durable write, and
prints a table on stderr, and writes the "## API" section of the report to
$LKB_SECTION (bench/benchlib.py; run.sh assembles RESULTS.md). A tool that
exits non-zero, a non-2xx answer, a socket error, a LIST short of its items
or a server that does not exit 0 on SIGTERM fails the run: exit 1, no
section.

Only the standard library: run it with Debian's /usr/bin/python3.
Every figure is a median over rounds run in this same session, and each
comparison (object GET vs /readyz, POST vs SQLite insert, watch event vs
POST reply, Table vs JSON) is a ratio of figures taken side by side, never a
number from another day or machine.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import struct
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

PORT = 6443
HOST = "127.0.0.1"
NODE_IP = "192.0.2.1"  # on a veth inside the namespace (run.sh); never a target
CM_PATH = "/api/v1/namespaces/default/configmaps"
POD_PATH = "/api/v1/namespaces/default/pods"
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io"
PAD = "x" * 880  # makes a ConfigMap about 1 KB of JSON, like sqlite_insert's rows

# ------------------------------------------------------------------ helpers


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class ServerDied(Exception):
    pass


class BenchFailed(Exception):
    """A tool failed or a request was refused: the run gives no figures."""


# ------------------------------------------------------------------ HTTP/1.1


def parse_response(buf):
    """A complete response at the start of buf: (consumed, status, headers,
    body), or None while incomplete. Content-Length and chunked bodies."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    hdrs = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    pos = end + 4
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        if len(buf) < pos + n:
            return None
        return pos + n, status, hdrs, bytes(buf[pos:pos + n])
    if "chunked" in hdrs.get("transfer-encoding", ""):
        body = bytearray()
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                return None
            size = int(bytes(buf[pos:nl]).split(b";")[0], 16)
            if len(buf) < nl + 2 + size + 2:
                return None
            body += buf[nl + 2:nl + 2 + size]
            pos = nl + 2 + size + 2
            if size == 0:
                return pos, status, hdrs, bytes(body)
    return None  # close-delimited: not used by these clients


class Conn:
    """One keep-alive connection; requests are sent and read explicitly so
    that the watch benchmark can time them with select()."""

    def __init__(self, port=PORT, timeout=10):
        self.s = socket.create_connection((HOST, port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def send(self, method, path, body=None, accept="application/json"):
        req = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: %s\r\nUser-Agent: lkbench\r\n" % (
            method, path, HOST, PORT, accept)
        if body is not None:
            req += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        self.s.sendall(req.encode() + b"\r\n" + (body or b""))

    def feed(self):
        data = self.s.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def take(self):
        r = parse_response(self.buf)
        if r:
            del self.buf[:r[0]]
            return r[1:]
        return None

    def read(self):
        while True:
            r = self.take()
            if r:
                return r
            self.feed()

    def request(self, method, path, body=None, accept="application/json"):
        self.send(method, path, body, accept)
        return self.read()

    def close(self):
        self.s.close()


def cm_body(name=None, gen=None, pad=PAD):
    md = {"name": name} if name else {"generateName": gen}
    md["labels"] = {"app": "lkbench"}
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": md,
                       "data": {"pad": pad}}).encode()


POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"generateName": "lkb-pod-", "labels": {"app": "lkbench"}},
       # a scheduler name nobody serves: the pods stay Pending, never run
       "spec": {"schedulerName": "lkbench-unscheduled",
                "containers": [{"name": "c", "image": "registry.invalid/lkbench:none"}]}}

# ------------------------------------------------------------------ the server


class Server:
    def __init__(self, args, name):
        self.args = args
        self.data = os.path.join(args.tmp, "data-" + name)
        self.logpath = os.path.join(args.tmp, "server-%s.log" % name)
        self.proc = None
        self.t_spawn = None

    def start(self):
        logf = open(self.logpath, "ab")
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            [self.args.labkube, "server", "--data-dir", self.data,
             "--listen", "%s:%d" % (HOST, PORT), "--node-name", "lkbench-node",
             "--node-ip", NODE_IP, "--quiet"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        logf.close()

    def wait_ready(self, timeout=20.0):
        """Poll /readyz as fast as the connect fails; seconds from spawn."""
        req = ("GET /readyz HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
               % (HOST, PORT)).encode()
        deadline = self.t_spawn + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise ServerDied("exited with code %d before /readyz" % self.proc.returncode)
            s = socket.socket()
            try:
                s.connect((HOST, PORT))
                s.sendall(req)
                data = b""
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    data += d
                if data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"):
                    return time.perf_counter() - self.t_spawn
            except OSError:
                pass
            finally:
                s.close()
            time.sleep(0.0002)
        raise ServerDied("no /readyz 200 within %.0f s" % timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check(self, phase):
        if not self.alive():
            raise ServerDied("server exited with code %s during %s" % (
                self.proc.returncode if self.proc else "?", phase))

    def cpu_s(self):
        """User + system CPU seconds the server has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status(self):
        out = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])  # kB
        return out

    def stop(self, timeout=15.0):
        """SIGTERM; (seconds to exit, exit code)."""
        if not self.proc:
            return None, None
        if self.proc.poll() is not None:
            return None, self.proc.returncode
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            log("server did not exit within %.0f s of SIGTERM: killed" % timeout)
        return time.perf_counter() - t0, rc

    def log_text(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def warm_requests(port=PORT, timeout=10):
    """A few requests as a client's first contact would make; the POST's
    status (OSError when a request gets no answer within timeout)."""
    c = Conn(port, timeout)
    for p in ("/version", "/api", "/apis", "/api/v1", CM_PATH):
        c.request("GET", p)
    st, _, _ = c.request("POST", CM_PATH, cm_body(name="warm"))
    c.request("GET", CM_PATH + "/warm")
    c.close()
    return st

# ------------------------------------------------------------------ load tools


def unit_us(v, u):
    return float(v) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[u]


def run_wrk(url, conns, secs, script=None):
    threads = 1 if conns == 1 else 2
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % secs, "--latency",
           "--timeout", "10s"] + (["-s", script] if script else []) + [url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60)
    out = p.stdout
    if p.returncode != 0:
        raise BenchFailed("wrk exited with %d for %s: %s" % (p.returncode, url,
                                                              (p.stderr or out)[-300:]))
    r = {"rps": None, "p50_us": None, "p99_us": None, "non2xx": 0, "sock_err": 0, "n": 0}
    for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        r["p%s_us" % m.group(1)] = unit_us(m.group(2), m.group(3))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in", out, re.M)
    if m:
        r["n"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["sock_err"] = sum(int(x) for x in m.groups())
    if not r["n"]:
        r["p50_us"] = r["p99_us"] = None
    if r["rps"] is None or not r["n"] or r["p50_us"] is None:
        raise BenchFailed("wrk gave no figures for %s:\n%s" % (url, out))
    if r["non2xx"] or r["sock_err"]:
        raise BenchFailed("wrk against %s: %d non-2xx responses and %d socket errors of %d "
                          "requests" % (url, r["non2xx"], r["sock_err"], r["n"]))
    return r


def run_wrk_cpu(srv, url, conns, secs, script=None):
    """run_wrk plus the server's CPU time per request over the run."""
    c0 = srv.cpu_s()
    r = run_wrk(url, conns, secs, script)
    if r["n"]:
        r["cpu_us"] = (srv.cpu_s() - c0) * 1e6 / r["n"]
    return r


def run_sqlite(args, secs, rows):
    db = os.path.join(args.tmp, "sqlite-%d.db" % time.monotonic_ns())
    out = subprocess.run([args.sqlite_insert, db, str(secs), str(rows)],
                         capture_output=True, text=True, timeout=secs + 60)
    if out.returncode != 0:
        raise BenchFailed("sqlite_insert exited with %d: %s" % (out.returncode,
                                                                out.stderr.strip()[-300:]))
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(db + suffix)
        except OSError:
            pass
    try:
        kv = {k: float(v) for k, v in (x.split("=") for x in out.stdout.split())}
        kv["tx_per_s"], kv["rows_per_s"], kv["p50_us"], kv["p99_us"]
    except (ValueError, KeyError):
        raise BenchFailed("sqlite_insert printed no figures: %r" % out.stdout[:300])
    return kv


def run_hey_pods(args, n, conns):
    body = os.path.join(args.tmp, "pod.json")
    with open(body, "w") as f:
        json.dump(POD, f)
    cmd = ["hey", "-n", str(n), "-c", str(conns), "-m", "POST", "-T", "application/json",
           "-D", body, "-t", "30", "http://%s:%d%s" % (HOST, PORT, POD_PATH)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = p.stdout
    if p.returncode != 0:
        raise BenchFailed("hey exited with %d: %s" % (p.returncode, (p.stderr or out)[-300:]))
    wall = time.perf_counter() - t0
    r = {"wall_s": wall, "codes": {}, "errors": []}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    for p in ("50", "99"):
        m = re.search(r"^\s+%s%% in ([\d.]+) secs" % p, out, re.M)
        r["p%s_us" % p] = float(m.group(1)) * 1e6 if m else None
    for m in re.finditer(r"^\s+\[(\d+)\]\s+(\d+) responses", out, re.M):
        r["codes"][m.group(1)] = int(m.group(2))
    if "Error distribution:" in out:
        r["errors"] = [l.strip() for l in out.split("Error distribution:")[1].splitlines() if l.strip()]
    bad = {k: v for k, v in r["codes"].items() if k != "201"}
    if r["rps"] is None or r["p50_us"] is None or bad or r["errors"] or \
            r["codes"].get("201") != n:
        raise BenchFailed("hey creating %d pods: codes %s, errors %s, req/s %s" % (
            n, r["codes"], r["errors"][:5], r["rps"]))
    return r

# ------------------------------------------------------------------ phases


def phase_cold(args, res):
    runs = args.cold_runs
    # Peer: the same binary exec'd for `labkube version` (process start-up floor).
    ver = []
    for _ in range(runs):
        t0 = time.perf_counter()
        rc = subprocess.run([args.labkube, "version"], stdout=subprocess.DEVNULL).returncode
        ver.append(time.perf_counter() - t0)
        if rc != 0:
            raise BenchFailed("labkube version exited with %d" % rc)
    ready, rss, hwm, stop, rcs, errs = [], [], [], [], [], []
    for i in range(runs):
        srv = Server(args, "cold%d" % i)
        try:
            srv.start()
            ready.append(srv.wait_ready())
            try:
                code = warm_requests(timeout=5)
                if code != 201:
                    errs.append("cold run %d: POST configmap answered %d" % (i, code))
            except OSError as e:
                errs.append("cold run %d: first requests: %s" % (i, e))
            time.sleep(0.3)
            st = srv.status()
            rss.append(st["VmRSS"])
            hwm.append(st["VmHWM"])
        except (ServerDied, OSError) as e:
            errs.append("cold run %d: %s" % (i, e))
        finally:
            t, rc = srv.stop()
            if t is not None:
                stop.append(t)
            rcs.append(rc)
            res["logs"].append((srv.logpath, srv.log_text()))
            shutil.rmtree(srv.data, ignore_errors=True)
    bad = [x for x in rcs if x != 0]
    if errs or bad or len(ready) != runs:
        raise BenchFailed("cold start: %s" % "; ".join(
            errs + (["exit codes after SIGTERM %s" % rcs] if bad else [])))
    res["cold"] = {"runs": runs, "ready_ms": [x * 1e3 for x in ready],
                   "version_ms": [x * 1e3 for x in ver], "rss_kb": rss, "hwm_kb": hwm,
                   "stop_ms": [x * 1e3 for x in stop], "exit_codes": rcs, "errors": errs}


def phase_get(args, res, srv):
    c = Conn()
    st, _, body = c.request("POST", CM_PATH, cm_body(name="bench"))
    c.close()
    if st != 201:
        raise RuntimeError("cannot create configmap 'bench': %d %s" % (st, body[:300]))
    url = "http://%s:%d%s/bench" % (HOST, PORT, CM_PATH)
    peer = "http://%s:%d/readyz" % (HOST, PORT)
    out = {k: [] for k in ("get1", "get16", "ready1", "ready16")}
    for rnd in range(args.rounds):
        runs = (("get1", url, 1), ("ready1", peer, 1), ("get16", url, 16),
                ("ready16", peer, 16))
        if rnd % 2:  # the peer first in odd rounds: drift weighs on both
            runs = (runs[1], runs[0], runs[3], runs[2])
        for key, u, conns in runs:
            out[key].append(run_wrk_cpu(srv, u, conns, args.secs))
            srv.check("GET %s c=%d round %d" % (u, conns, rnd))
    res["get"] = out
    res["get_bytes"] = len(body)


def phase_post(args, res, srv):
    out = {k: [] for k in ("post1", "post16", "sql1", "sql16")}
    for rnd in range(args.rounds):
        # ABBA order across rounds, so a drift of the disk's speed during
        # the run weighs on both sides of the ratio alike.
        order = (1, 16) if rnd % 2 == 0 else (16, 1)
        out["sql%d" % order[0]].append(run_sqlite(args, args.secs, order[0]))
        for conns in order:
            script = os.path.join(args.tmp, "post-%d-%d.lua" % (conns, rnd))
            with open(script, "w") as f:
                f.write('wrk.method = "POST"\n'
                        'wrk.headers["Content-Type"] = "application/json"\n'
                        "wrk.body = [[%s]]\n"
                        % cm_body(gen="lkb-c%d-r%d-" % (conns, rnd)).decode())
            out["post%d" % conns].append(run_wrk_cpu(
                srv, "http://%s:%d%s" % (HOST, PORT, CM_PATH), conns, args.secs, script))
            srv.check("POST c=%d round %d" % (conns, rnd))
        out["sql%d" % order[1]].append(run_sqlite(args, args.secs, order[1]))
    res["post"] = out
    res["post_bytes"] = len(cm_body(gen="lkb-c16-r0-"))


SO_TIMESTAMPNS = 35  # <asm-generic/socket.h>; SCM_TIMESTAMPNS has the same value


def recv_stamped(conn):
    """recvmsg on a Conn with SO_TIMESTAMPNS on: appends the bytes to
    conn.buf and returns the kernel's receive timestamp of the last segment
    read (CLOCK_REALTIME, ns), or None when the kernel gave none."""
    data, anc, _, _ = conn.s.recvmsg(1 << 20, socket.CMSG_SPACE(16))
    if not data:
        raise ConnectionError("server closed the connection")
    conn.buf += data
    for lvl, typ, d in anc:
        if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(d) >= 16:
            sec, ns = struct.unpack("qq", d[:16])
            return sec * 1000000000 + ns
    return None


def phase_watch(args, res, srv):
    """POST sent -> ADDED line, beside POST sent -> POST reply.

    Each arrival is timed by the kernel, not by this process: both sockets
    have SO_TIMESTAMPNS on, and recvmsg() hands back, per socket, the time
    (CLOCK_REALTIME, nanosecond resolution) at which the segment that
    completed the reply, or the event line, reached that socket. The send
    time is clock_gettime(CLOCK_REALTIME) just before send(). So the order
    and the gap of the two arrivals do not depend on which socket this
    process happens to read first, nor on how long it takes to read. On
    loopback the stamp is taken on the server's transmit path, a few µs
    after its write()."""
    n, warm = args.watch_samples, 10
    c = Conn()
    st, _, body = c.request("GET", CM_PATH + "?limit=1")
    if st != 200:
        raise BenchFailed("LIST configmaps answered %d" % st)
    rv = json.loads(body)["metadata"]["resourceVersion"]
    w = Conn()
    for k in (c, w):
        k.s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    w.send("GET", "%s?watch=true&resourceVersion=%s" % (CM_PATH, rv))
    while b"\r\n\r\n" not in w.buf:
        w.feed()
    end = w.buf.find(b"\r\n\r\n")
    head = bytes(w.buf[:end]).decode("latin-1")
    del w.buf[:end + 4]
    if " 200" not in head.split("\r\n")[0]:
        raise BenchFailed("watch answered: %s" % head.split("\r\n")[0])
    chunked = "chunked" in head.lower()
    lines = bytearray()

    def drain():
        """Move whole chunks from w.buf to lines."""
        if not chunked:
            lines.extend(w.buf)
            del w.buf[:]
            return
        while True:
            nl = w.buf.find(b"\r\n")
            if nl < 0:
                return
            size = int(bytes(w.buf[:nl]).split(b";")[0], 16)
            if size == 0:
                raise BenchFailed("watch stream ended")
            if len(w.buf) < nl + 2 + size + 2:
                return
            lines.extend(w.buf[nl + 2:nl + 2 + size])
            del w.buf[:nl + 2 + size + 2]

    c.s.setblocking(True)
    ev_lat, rep_lat, gap, early = [], [], [], 0
    for i in range(n + warm):
        name = "lkb-w-%d" % i
        body = cm_body(name=name, pad="w")
        t_ev = t_rep = None
        t0 = time.time_ns()
        c.send("POST", CM_PATH, body)
        # The reply first, then the event: each one's time is its socket's
        # kernel stamp, so the order of these reads does not matter.
        c.s.settimeout(5)
        while True:
            ts = recv_stamped(c)
            r = c.take()
            if r:
                t_rep = ts
                if r[0] != 201:
                    raise BenchFailed("watch sample %d: POST answered %d" % (i, r[0]))
                break
        w.s.settimeout(5)
        while t_ev is None:
            ts = recv_stamped(w)
            drain()
            while b"\n" in lines:
                nl = lines.find(b"\n")
                line = bytes(lines[:nl])
                del lines[:nl + 1]
                ev = json.loads(line)
                if ev.get("type") == "ADDED" and ev["object"]["metadata"]["name"] == name:
                    t_ev = ts
                    break
        if lines or w.buf:
            raise BenchFailed("watch sample %d: more than the one ADDED line arrived" % i)
        if i < warm:
            continue
        if t_ev is None or t_rep is None:
            raise BenchFailed("watch sample %d: the kernel gave no receive timestamp "
                              "(SO_TIMESTAMPNS)" % i)
        ev_lat.append((t_ev - t0) / 1e3)
        rep_lat.append((t_rep - t0) / 1e3)
        gap.append((t_ev - t_rep) / 1e3)
        early += t_ev < t_rep
        if i % 50 == 0:
            srv.check("watch sample %d" % i)
    c.close()
    w.close()
    res["watch"] = {"n": len(ev_lat), "ev_us": ev_lat, "rep_us": rep_lat, "gap_us": gap,
                    "event_first": early,
                    "same_time": sum(1 for g in gap if g == 0),
                    "clock": "kernel receive timestamps (SO_TIMESTAMPNS), ns resolution"}


def list_once(c, accept, path=POD_PATH):
    t0 = time.perf_counter()
    st, hdrs, body = c.request("GET", path, accept=accept)
    t = time.perf_counter() - t0
    return t, st, body


def count_items(body, table):
    d = json.loads(body)
    return len(d.get("rows" if table else "items") or [])


def phase_pods(args, res, srv):
    n = args.pods
    h = run_hey_pods(args, n, 16)
    srv.check("creating %d pods" % n)
    c = Conn(timeout=120)
    _, st, body = list_once(c, "application/json")
    have = count_items(body, False) if st == 200 else 0
    if have != n:
        raise BenchFailed("hey got %d × 201 but the LIST answered %d with %d pods" % (
            n, st, have))
    res["pods"] = h
    out = {"json": [], "table": [], "json_bytes": 0, "table_bytes": 0,
           "json_items": 0, "table_rows": 0, "paged": [], "pages": 0, "errors": []}
    list_once(c, TABLE_ACCEPT)  # warm both paths once
    for _ in range(args.list_runs):
        for kind, acc in (("json", "application/json"), ("table", TABLE_ACCEPT)):
            t, st, body = list_once(c, acc)
            if st != 200:
                raise BenchFailed("%s LIST answered %d: %s" % (kind, st, body[:200]))
            out[kind].append(t * 1e3)
            out[kind + "_bytes"] = len(body)
        srv.check("LIST")
    _, _, body = list_once(c, "application/json")
    out["json_items"] = count_items(body, False)
    _, _, body = list_once(c, TABLE_ACCEPT)
    out["table_rows"] = count_items(body, True)
    # As kubectl get pods does it: Table pages of 500 following continue.
    for _ in range(3):
        t0, pages, cont, rows = time.perf_counter(), 0, "", 0
        while pages < 200:
            q = "?limit=500" + ("&continue=" + cont if cont else "")
            st, _, body = c.request("GET", POD_PATH + q, accept=TABLE_ACCEPT)
            pages += 1
            if st != 200:
                raise BenchFailed("paged LIST answered %d: %s" % (st, body[:200]))
            d = json.loads(body)
            rows += len(d.get("rows") or [])
            cont = (d.get("metadata") or {}).get("continue") or ""
            if not cont:
                break
        out["paged"].append((time.perf_counter() - t0) * 1e3)
        out["pages"], out["paged_rows"] = pages, rows
        if rows != n or cont:
            raise BenchFailed("paged LIST: %d rows in %d pages, want %d" % (rows, pages, n))
    if out["json_items"] != n or out["table_rows"] != n:
        raise BenchFailed("LIST: %d items as JSON, %d Table rows, want %d" % (
            out["json_items"], out["table_rows"], n))
    c.close()
    res["list"] = out


def run_main_server(args, res):
    """The phases on one server; any failure stops it and fails the run."""
    srv = Server(args, "main")
    res["main_server"] = {}
    try:
        srv.start()
        srv.wait_ready()
        st = warm_requests()
        if st != 201:
            raise BenchFailed("first requests: POST configmap answered %d" % st)
        for name, fn in (("GET", phase_get), ("watch", phase_watch), ("POST", phase_post),
                         ("pods", phase_pods)):
            log("phase %s" % name)
            t0 = time.time()
            try:
                fn(args, res, srv)
            except (ServerDied, RuntimeError, OSError, ValueError, KeyError) as e:
                raise BenchFailed("phase %s: %s: %s" % (name, type(e).__name__, e))
            res.setdefault("phase_s", {})[name] = time.time() - t0
            srv.check("after phase %s" % name)
            res.setdefault("rss_after", {})[name] = srv.status()
    finally:
        t, rc = srv.stop()
        res["main_server"]["stop_ms"] = t * 1e3 if t is not None else None
        res["main_server"]["exit_code"] = rc
        res["logs"].append((srv.logpath, srv.log_text()))
    if rc != 0:
        raise BenchFailed("main server: exit code %s after SIGTERM; log: %s" % (
            rc, srv.log_text()[-400:]))


# ------------------------------------------------------------------ report


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:
        return ""


def machine(args):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    repo = args.repo
    commit = sh("git -C %s rev-parse --short HEAD" % repo) or "?"
    if sh("git -C %s status --porcelain --untracked-files=no" % repo):
        commit += " (with uncommitted changes: not reproducible)"
    fs = sh("df -T %s | awk 'NR==2 {print $2\" on \"$1}'" % args.tmp)
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "mem": mem,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit, "fs": fs,
            "load": "%.2f %.2f %.2f" % os.getloadavg(),
            "labkube": sh("%s version" % args.labkube),
            "sqlite": sh("%s --version 2>/dev/null | cut -d' ' -f1" % "sqlite3") or "?",
            "wrk": sh("wrk -v 2>&1 | head -1 | cut -d' ' -f1-2"),
            "hey": sh("dpkg-query -W -f='${Version}' hey 2>/dev/null")}


def fmt_us(us):
    if us is None:
        return "n/a"
    if us < 0:
        return "−" + fmt_us(-us)
    if us >= 1e6:
        return "%.2f s" % (us / 1e6)
    if us >= 1e3:
        return "%.2f ms" % (us / 1e3)
    return "%.0f µs" % us


def fmt_fine(us):
    """µs with a decimal: the watch gap is a difference of ns stamps."""
    if us is None:
        return "n/a"
    if abs(us) >= 1e3:
        return fmt_us(us)
    return ("−%.1f µs" % -us) if us < 0 else "%.1f µs" % us


def fmt_n(x):
    if x is None:
        return "n/a"
    return "{:,.0f}".format(x)


def ratio(a, b):
    if not a or not b:
        return "n/a"
    return "%.2f×" % (a / b)


def mwrk(rounds, key):
    vals = [r[key] for r in rounds if r and r.get(key) is not None]
    return median(vals)


def build_rows(res):
    """(section, what, figure, comparison) rows shared by stdout and RESULTS.md."""
    rows = []
    c = res.get("cold")
    if c:
        rm = median(c["ready_ms"])
        vm = median(c["version_ms"])
        rows.append(("cold start", "spawn → /readyz 200 (median of %d, fresh data dir)"
                     % len(c["ready_ms"]),
                     "%.1f ms" % rm if rm else "n/a",
                     "min %.1f, max %.1f ms; `labkube version` exec %.1f ms (%s)" % (
                         min(c["ready_ms"]), max(c["ready_ms"]), vm,
                         ratio(rm, vm)) if rm else "; ".join(c["errors"])))
        rows.append(("idle RSS", "VmRSS after start + 7 requests (median)",
                     "%.1f MiB" % (median(c["rss_kb"]) / 1024) if c["rss_kb"] else "n/a",
                     "VmHWM %.1f MiB; SIGTERM → exit %.1f ms" % (
                         median(c["hwm_kb"]) / 1024, median(c["stop_ms"]))
                     if c["hwm_kb"] and c["stop_ms"] else ""))
    g = res.get("get")
    if g:
        for conns in (1, 16):
            rs, pr = g["get%d" % conns], g["ready%d" % conns]
            rows.append(("GET one object", "c=%d: req/s" % conns, fmt_n(mwrk(rs, "rps")),
                         "/readyz on the same server %s req/s (GET object at %s of it)" % (
                             fmt_n(mwrk(pr, "rps")), ratio(mwrk(rs, "rps"), mwrk(pr, "rps")))))
            rows.append(("GET one object", "c=%d: p50 / p99" % conns,
                         "%s / %s" % (fmt_us(mwrk(rs, "p50_us")), fmt_us(mwrk(rs, "p99_us"))),
                         "/readyz %s / %s" % (fmt_us(mwrk(pr, "p50_us")),
                                              fmt_us(mwrk(pr, "p99_us")))))
            rows.append(("GET one object", "c=%d: server CPU per request" % conns,
                         fmt_us(mwrk(rs, "cpu_us")), "/readyz %s" % fmt_us(mwrk(pr, "cpu_us"))))
    p = res.get("post")
    if p:
        sq = mwrk(p["sql1"], "tx_per_s")
        sq16 = mwrk(p["sql16"], "rows_per_s")
        for conns in (1, 16):
            rs = p["post%d" % conns]
            rows.append(("create (POST)", "c=%d: creates/s, durable" % conns,
                         fmt_n(mwrk(rs, "rps")),
                         "%s of SQLite's %s single-row tx/s" % (
                             ratio(mwrk(rs, "rps"), sq), fmt_n(sq))))
            rows.append(("create (POST)", "c=%d: p50 / p99" % conns,
                         "%s / %s" % (fmt_us(mwrk(rs, "p50_us")), fmt_us(mwrk(rs, "p99_us"))),
                         "SQLite tx %s / %s" % (fmt_us(mwrk(p["sql1"], "p50_us")),
                                                fmt_us(mwrk(p["sql1"], "p99_us")))
                         if conns == 1 else
                         "c=16 vs c=1 throughput %s" % ratio(mwrk(rs, "rps"),
                                                            mwrk(p["post1"], "rps"))))
            busy = (mwrk(rs, "cpu_us") or 0) * (mwrk(rs, "rps") or 0) / 1e6
            rows.append(("create (POST)", "c=%d: server CPU per create" % conns,
                         fmt_us(mwrk(rs, "cpu_us")),
                         "user + system: the server process on CPU %.0f%% of "
                         "the time" % (busy * 100)))
        rows.append(("group commit", "creates/s at c=16 ÷ SQLite single-row inserts/s",
                     ratio(mwrk(p["post16"], "rps"), sq),
                     "SQLite with 16 rows per tx: %s rows/s" % fmt_n(sq16)))
    L = res.get("list")
    if L:
        h = res["pods"]
        sec = "LIST %s pods" % fmt_n(L["json_items"])
        rows.append((sec, "create %d pods, hey c=16" % sum(h["codes"].values()),
                     "%s pods/s" % fmt_n(h["rps"]),
                     "p50 %s, p99 %s; codes %s" % (fmt_us(h["p50_us"]), fmt_us(h["p99_us"]),
                                                  json.dumps(h["codes"], sort_keys=True))))
        jm, tm = median(L["json"]), median(L["table"])
        rows.append((sec, "JSON (median of %d)" % len(L["json"]),
                     "%.0f ms" % jm if jm else "n/a",
                     "%d items, %.1f MB" % (L["json_items"], L["json_bytes"] / 1e6)))
        rows.append((sec, "Table (median of %d)" % len(L["table"]),
                     "%.0f ms" % tm if tm else "n/a",
                     "%d rows, %.1f MB; Table/JSON time %s" % (
                         L["table_rows"], L["table_bytes"] / 1e6, ratio(tm, jm))))
        pm = median(L["paged"])
        rows.append((sec, "Table in pages of 500, as kubectl (median of %d)"
                     % len(L["paged"]), "%.0f ms" % pm if pm else "n/a",
                     "%d pages, %d rows" % (L["pages"], L.get("paged_rows", 0))))
    w = res.get("watch")
    if w and w["n"]:
        rows.append(("watch", "POST sent → ADDED line at the watcher: p50 / p99 (n=%d)" % w["n"],
                     "%s / %s" % (fmt_us(median(w["ev_us"])), fmt_us(pct(w["ev_us"], 99))),
                     "POST reply %s / %s" % (fmt_us(median(w["rep_us"])),
                                             fmt_us(pct(w["rep_us"], 99)))))
        rows.append(("watch", "event − POST reply (kernel receive stamps): p50 / p1 / p99",
                     "%s / %s / %s" % (fmt_fine(median(w["gap_us"])),
                                       fmt_fine(pct(w["gap_us"], 1)),
                                       fmt_fine(pct(w["gap_us"], 99))),
                     "event first in %d of %d, same ns in %d" % (
                         w["event_first"], w["n"], w["same_time"])))
    ra = res.get("rss_after", {})
    if "pods" in ra:
        rows.append(("RSS under load", "VmRSS after %s pods and the LISTs" % fmt_n(
                     res["list"]["json_items"]),
                     "%.1f MiB" % (ra["pods"]["VmRSS"] / 1024),
                     "VmHWM %.1f MiB" % (ra["pods"]["VmHWM"] / 1024)))
    return rows


def anomalies(res):
    """What did not fail the run but is worth a look: the servers' logs
    (they run with --quiet, so any line is unusual)."""
    out = []
    for path, text in res.get("logs", []):
        lines = [l for l in text.splitlines() if l.strip()]
        if lines:
            out.append("%s: %d log lines, e.g. %s" % (os.path.basename(path), len(lines),
                                                     " | ".join(lines[:3])[:400]))
    return out


def drift_flags(res):
    d = benchlib.drift
    out = []
    for grp in ("get", "post"):
        for key, rounds in res.get(grp, {}).items():
            k = "tx_per_s" if key.startswith("sql") else "rps"
            out.append(d("`%s` %s" % (key, "tx/s" if k == "tx_per_s" else "req/s"),
                         [r[k] for r in rounds]))
    c = res.get("cold")
    if c:
        out.append(d("cold start", c["ready_ms"], " ms"))
    L = res.get("list")
    if L:
        for k in ("json", "table", "paged"):
            out.append(d("LIST %s" % k, L[k], " ms"))
    return out


def print_table(rows, out):
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    w3 = max(len(r[2]) for r in rows)
    for r in rows:
        out.write("%-*s  %-*s  %*s  %s\n" % (w1, r[0], w2, r[1], w3, r[2], r[3]))


NOTE = """\
### What the numbers mean

- **Cold start** is from the fork of `labkube server` with an empty data dir
  to the first `200` from `/readyz`, polled by a client that retries the
  connect every 0.2 ms. It includes creating the database and the bootstrap
  objects. The peer beside it is the exec of `labkube version`: the part of
  the start-up that is only the process itself.
- **Idle RSS** is `VmRSS` of the server after start and seven requests
  (discovery, a LIST, one create, one GET).
- **GET** is wrk against one ConfigMap (about 1 KB) on keep-alive
  connections; `/readyz` on the same server in the same rounds is the floor
  of the HTTP layer alone, so the ratio is what reading and printing the
  object costs. wrk runs on the same CPUs as the server, so req/s is a lower
  bound of the server's own capacity.
- **Create** is wrk POSTing ConfigMaps (about 1 KB, `generateName`) and the
  reply is released only after the group's fsync. `bench/sqlite_insert` is
  the peer: the same filesystem, WAL + `synchronous=FULL`, one 1 KB row per
  transaction and no HTTP. At c=1 the API can do at most one commit per
  request, so creates/s ÷ insert tx/s says how close the request path comes
  to the disk. At c=16 the writes that arrive in one loop iteration share a
  commit, so creates/s can exceed the single-row insert rate. SQLite with 16
  rows per transaction shows how far batching can go on this disk.
- **LIST** is pending Pods (created first by hey with `generateName`; every
  one must be answered 201 and then listed) read whole, as JSON and as a
  `meta.k8s.io/v1` Table (the form `kubectl get` asks for), then the Table
  in pages of `limit=500` following `continue`, as kubectl 1.27+ does.
- **Watch** opens a watch on ConfigMaps from the current resourceVersion and
  creates ConfigMaps one at a time on a second connection: the time from
  sending the POST to the arrival of the `ADDED` line, beside the time to the
  arrival of the POST reply. Both arrivals are stamped by the kernel
  (`SO_TIMESTAMPNS` on each socket: the time the segment that completed the
  line or the reply reached that socket, nanosecond resolution), so neither
  the order in which this client reads the two sockets nor its own speed
  enters the difference. The send time is `clock_gettime(CLOCK_REALTIME)`
  just before `send()`.
- **Server CPU per request** is the server's user + system time
  (`/proc/PID/stat`, clock ticks of 10 ms) over a wrk run divided by the
  requests served.
- Every figure is the median of the rounds of this run (p50/p99 are wrk's,
  hey's or our own percentiles within a round, then the median over rounds).
  Every wrk, hey and sqlite_insert run must exit 0 with every answer 2xx and
  no socket error, or the section is not written.
"""


def reading(res):
    """Sentences computed from this run's figures: every comparison and
    judgement below is chosen by the numbers, none is fixed text."""
    out = []
    c, p, L, w = res.get("cold"), res.get("post"), res.get("list"), res.get("watch")
    if c and c["ready_ms"] and c["rss_kb"]:
        out.append("An empty cluster's API answered `/readyz` %.1f ms after the exec "
                   "(median), %s the time of a bare `labkube version` exec, and then held "
                   "%.1f MiB resident." % (
                       median(c["ready_ms"]), ratio(median(c["ready_ms"]),
                                                  median(c["version_ms"])),
                       median(c["rss_kb"]) / 1024))
    g = res.get("get")
    if g:
        for conns in (1, 16):
            a, b = mwrk(g["get%d" % conns], "rps"), mwrk(g["ready%d" % conns], "rps")
            out.append("At c=%d a GET of one object served %s req/s, %s the rate of "
                       "`/readyz` on the same server (%s)." % (
                           conns, fmt_n(a), ratio(a, b),
                           "reading and printing the object cost %.0f%% of the rate" %
                           ((1 - a / b) * 100) if a < b else
                           "no slower than the HTTP floor in this run"))
    if p:
        p1, s1 = mwrk(p["post1"], "p50_us"), mwrk(p["sql1"], "p50_us")
        cpu1, cpu16 = mwrk(p["post1"], "cpu_us"), mwrk(p["post16"], "cpu_us")
        r1, r16 = mwrk(p["post1"], "rps"), mwrk(p["post16"], "rps")
        sq = mwrk(p["sql1"], "tx_per_s")
        out.append("A durable create from one client took %s at the median, against %s "
                   "for the bare SQLite commit on the same disk: %s; the server spent %s "
                   "of CPU per create." % (
                       fmt_us(p1), fmt_us(s1),
                       "the request path added %s" % fmt_us(p1 - s1) if p1 >= s1 else
                       "%s less than the bare commit" % fmt_us(s1 - p1), fmt_us(cpu1)))
        busy = (cpu16 or 0) * (r16 or 0) / 1e6
        if busy >= 0.9:
            why = ("the server process was on CPU %.0f%% of the time, so at this disk "
                   "speed creates were bounded by the request path's CPU" % (busy * 100))
        elif busy < 0.5:
            why = ("the server process was on CPU only %.0f%% of the time, so waiting "
                   "(for fsync, or for the CPU wrk held) bounded creates" % (busy * 100))
        else:
            why = ("the server process was on CPU %.0f%% of the time: these figures do "
                   "not tell whether CPU or fsync bounded creates" % (busy * 100))
        out.append("With 16 clients %s creates/s were carried, %s the rate of one client "
                   "and %s SQLite's single-row commit rate (%s group commit); %s." % (
                       fmt_n(r16), ratio(r16, r1), ratio(r16, sq),
                       "above it:" if r16 > sq else "not above it: no gain shown from",
                       why))
    if L and median(L["json"]) and median(L["table"]):
        ra = res.get("rss_after", {}).get("pods")
        out.append("Listing %s Pods took %.0f ms as JSON and %.0f ms as a Table "
                   "(%s)%s." % (
                       fmt_n(L["json_items"]), median(L["json"]), median(L["table"]),
                       ratio(median(L["table"]), median(L["json"])),
                       "; the server's resident peak reached %.0f MiB while doing it" %
                       (ra["VmHWM"] / 1024) if ra else ""))
    if w and w["n"]:
        gm = median(w["gap_us"])
        ef, n = w["event_first"], w["n"]
        if ef * 2 > n:
            order = "the event reached the watcher before the reply reached the client in " \
                    "%d of %d samples" % (ef, n)
        else:
            order = "the reply reached the client first (or at the same ns) in %d of %d " \
                    "samples" % (n - ef, n)
        out.append("The ADDED event reached the watcher %s after the POST was sent "
                   "(p99 %s); the POST's reply arrived after %s: %s, and the event came "
                   "%s %s the reply at the median (kernel stamps)." % (
                       fmt_us(median(w["ev_us"])), fmt_us(pct(w["ev_us"], 99)),
                       fmt_us(median(w["rep_us"])), order, fmt_fine(abs(gm)),
                       "after" if gm > 0 else "before" if gm < 0 else "at the same time as"))
    return out


def section(res, rows, anom, flags, args):
    m = res["machine"]
    o = []
    o.append("## API\n\nWritten by bench/lkbench.py (run by bench/run.sh in a network "
             "namespace of its own: every request to 127.0.0.1 there); %.0f s.\n\n" %
             res["elapsed_s"])
    o.append("| | |\n|---|---|\n")
    for k, v in (("clients", "wrk %s, hey %s, Python %s client" % (
                     m["wrk"].replace("wrk ", ""), m["hey"], platform.python_version())),
                 ("rounds", "%d rounds of %d s per wrk figure, the peer first in odd rounds; "
                  "%d watch samples; %d cold starts; %d LISTs of %s pods each" % (
                      args.rounds, args.secs, args.watch_samples, args.cold_runs,
                      args.list_runs, fmt_n(args.pods))),
                 ("data dir filesystem", m["fs"]),
                 ("network", "loopback of a network namespace made for the run")):
        o.append("| %s | %s |\n" % (k, v))
    o.append("\n### Figures\n\n| what | | figure | beside it, same run |\n|---|---|--:|---|\n")
    for r in rows:
        o.append("| %s | %s | %s | %s |\n" % tuple(x.replace("|", "\\|") for x in r))
    o.append("\n### Reading (computed from the figures)\n\n%s\n" % "\n".join(reading(res)))
    o.append("\n### Rounds\n\nPer round (req/s; p50/p99):\n\n")
    for grp in ("get", "post"):
        for key, rounds in res.get(grp, {}).items():
            if key.startswith("sql"):
                vals = ", ".join("%s tx/s (%s rows/s; %s/%s)" % (
                    fmt_n(r["tx_per_s"]), fmt_n(r["rows_per_s"]), fmt_us(r["p50_us"]),
                    fmt_us(r["p99_us"])) for r in rounds)
            else:
                vals = ", ".join("%s (%s/%s)" % (fmt_n(r["rps"]), fmt_us(r["p50_us"]),
                                                 fmt_us(r["p99_us"])) for r in rounds)
            o.append("- `%s`: %s\n" % (key, vals))
    c = res.get("cold")
    if c:
        o.append("- cold start ms: %s\n" % ", ".join("%.1f" % x for x in c["ready_ms"]))
    L = res.get("list")
    if L:
        o.append("- LIST ms, JSON: %s; Table: %s; paged Table: %s\n" % tuple(
            ", ".join("%.0f" % x for x in L[k]) for k in ("json", "table", "paged")))
    o.append("\n### Load and drift\n\n%s\n\n%s" % (
        benchlib.load_line(res["load0"], res["load1"]), benchlib.flags_block(flags)))
    o.append("\n### Anomalies\n\n")
    if anom:
        for a in anom:
            o.append("- %s\n" % a.replace("\n", " "))
    else:
        o.append("None: the servers logged nothing and exited 0 on SIGTERM (every request "
                 "answered 2xx, and every tool exited 0, or there would be no section).\n")
    o.append("\n" + NOTE)
    return "".join(o)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labkube", required=True)
    ap.add_argument("--sqlite-insert", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--repo", default=".")
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    args.rounds, args.secs = (1, 1) if args.quick else (5, 2)
    args.cold_runs = 5 if args.quick else 7
    args.watch_samples = 200 if args.quick else 400
    args.pods = 2000 if args.quick else 10000
    args.list_runs = 5
    res = {"logs": []}
    res["machine"] = machine(args)
    res["load0"] = benchlib.loadavg()
    t0 = time.time()
    try:
        log("phase cold start")
        phase_cold(args, res)
        run_main_server(args, res)
    except (BenchFailed, ServerDied, OSError, subprocess.TimeoutExpired) as e:
        log("FAILED: %s" % e)
        for path, text in res["logs"]:
            if text.strip():
                log("%s, last lines:\n%s" % (path, "\n".join(text.splitlines()[-10:])))
        return 1
    res["elapsed_s"] = time.time() - t0
    res["load1"] = benchlib.loadavg()
    rows = build_rows(res)
    anom = anomalies(res)
    flags = benchlib.load_flags(res["load0"], res["load1"]) + drift_flags(res)
    m = res["machine"]
    sys.stderr.write("labkube API benchmarks: %s, %s CPUs %s, kernel %s, commit %s\n\n" % (
        m["date"], m["nproc"], m["cpu"], m["kernel"], m["commit"]))
    print_table(rows, sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: v for k, v in res.items() if k != "logs"}, f, indent=1)
    benchlib.emit(section(res, rows, anom, flags, args), "API")
    return 0


if __name__ == "__main__":
    sys.exit(main())
