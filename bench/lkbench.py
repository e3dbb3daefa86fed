#!/usr/bin/python3
"""bench/lkbench.py: the API benchmarks behind `make bench` (see bench/run.sh).

Runs inside the network namespace that run.sh made, so every request goes to
127.0.0.1 of that namespace. Starts labkube itself (as many times as the cold
start needs), drives it with wrk, hey and the small HTTP client below, runs
bench/sqlite_insert beside it as the physical limit of a durable write, and
prints a table; with --results also writes the Markdown report.

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
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

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
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60).stdout
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
    if r["rps"] is None:
        log("wrk gave no figures for %s:\n%s" % (url, out))
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
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(db + suffix)
        except OSError:
            pass
    kv = dict(x.split("=") for x in out.stdout.split())
    if not kv:
        log("sqlite_insert failed: %s" % out.stderr.strip())
        return None
    return {k: float(v) for k, v in kv.items()}


def run_hey_pods(args, n, conns):
    body = os.path.join(args.tmp, "pod.json")
    with open(body, "w") as f:
        json.dump(POD, f)
    cmd = ["hey", "-n", str(n), "-c", str(conns), "-m", "POST", "-T", "application/json",
           "-D", body, "-t", "30", "http://%s:%d%s" % (HOST, PORT, POD_PATH)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
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
    return r

# ------------------------------------------------------------------ phases


def phase_cold(args, res):
    runs = args.cold_runs
    # Peer: the same binary exec'd for `labkube version` (process start-up floor).
    ver = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([args.labkube, "version"], stdout=subprocess.DEVNULL)
        ver.append(time.perf_counter() - t0)
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


def phase_watch(args, res, srv):
    n, warm = args.watch_samples, 10
    c = Conn()
    st, _, body = c.request("GET", CM_PATH + "?limit=1")
    rv = json.loads(body)["metadata"]["resourceVersion"]
    w = Conn()
    w.send("GET", "%s?watch=true&resourceVersion=%s" % (CM_PATH, rv))
    while b"\r\n\r\n" not in w.buf:
        w.feed()
    end = w.buf.find(b"\r\n\r\n")
    head = bytes(w.buf[:end]).decode("latin-1")
    del w.buf[:end + 4]
    if " 200" not in head.split("\r\n")[0]:
        raise RuntimeError("watch answered: %s" % head.split("\r\n")[0])
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
                raise RuntimeError("watch stream ended")
            if len(w.buf) < nl + 2 + size + 2:
                return
            lines.extend(w.buf[nl + 2:nl + 2 + size])
            del w.buf[:nl + 2 + size + 2]

    ev_lat, rep_lat, gap, errors, early = [], [], [], [], 0
    for i in range(n + warm):
        name = "lkb-w-%d" % i
        body = cm_body(name=name, pad="w")
        t_ev = t_rep = None
        t0 = time.perf_counter()
        c.send("POST", CM_PATH, body)
        deadline = t0 + 5
        while t_ev is None or t_rep is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                errors.append("sample %d: %s after 5 s" % (
                    i, "no event" if t_ev is None else "no POST reply"))
                break
            rd, _, _ = select.select([c.s, w.s], [], [], left)
            now = time.perf_counter()
            if c.s in rd and t_rep is None:
                c.feed()
                r = c.take()
                if r:
                    t_rep = now
                    if r[0] != 201:
                        errors.append("sample %d: POST answered %d" % (i, r[0]))
            if w.s in rd:
                w.feed()
                drain()
                while b"\n" in lines:
                    nl = lines.find(b"\n")
                    line = bytes(lines[:nl])
                    del lines[:nl + 1]
                    ev = json.loads(line)
                    if ev.get("type") == "ADDED" and \
                            ev["object"]["metadata"]["name"] == name:
                        t_ev = now
        if t_ev is None or t_rep is None:
            if len(errors) > 5:
                break
            continue
        if i < warm:
            continue
        ev_lat.append((t_ev - t0) * 1e6)
        rep_lat.append((t_rep - t0) * 1e6)
        gap.append((t_ev - t_rep) * 1e6)
        early += t_ev < t_rep
        if i % 50 == 0:
            srv.check("watch sample %d" % i)
    c.close()
    w.close()
    res["watch"] = {"n": len(ev_lat), "ev_us": ev_lat, "rep_us": rep_lat, "gap_us": gap,
                    "event_first": early, "errors": errors}


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
    topped = 0
    while have < n:  # generateName collisions or errors: make up the count
        pod = json.loads(json.dumps(POD))
        del pod["metadata"]["generateName"]
        pod["metadata"]["name"] = "lkb-pod-extra-%d" % topped
        st2, _, b2 = c.request("POST", POD_PATH, json.dumps(pod).encode())
        topped += 1
        if st2 != 201:
            raise RuntimeError("cannot create pod: %d %s" % (st2, b2[:300]))
        have += 1
    h["topped_up"] = topped
    res["pods"] = h
    out = {"json": [], "table": [], "json_bytes": 0, "table_bytes": 0,
           "json_items": 0, "table_rows": 0, "paged": [], "pages": 0, "errors": []}
    list_once(c, TABLE_ACCEPT)  # warm both paths once
    for _ in range(args.list_runs):
        for kind, acc in (("json", "application/json"), ("table", TABLE_ACCEPT)):
            t, st, body = list_once(c, acc)
            if st != 200:
                out["errors"].append("%s LIST answered %d: %s" % (kind, st, body[:200]))
                continue
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
                out["errors"].append("paged LIST answered %d: %s" % (st, body[:200]))
                break
            d = json.loads(body)
            rows += len(d.get("rows") or [])
            cont = (d.get("metadata") or {}).get("continue") or ""
            if not cont:
                break
        out["paged"].append((time.perf_counter() - t0) * 1e3)
        out["pages"], out["paged_rows"] = pages, rows
    c.close()
    res["list"] = out


def run_main_server(args, res):
    srv = Server(args, "main")
    res["main_server"] = {"errors": []}
    try:
        srv.start()
        srv.wait_ready()
        try:
            warm_requests()
        except OSError as e:
            res["main_server"]["errors"].append("first requests: %s" % e)
        for name, fn in (("GET", phase_get), ("watch", phase_watch), ("POST", phase_post),
                         ("pods", phase_pods)):
            log("phase %s" % name)
            try:
                fn(args, res, srv)
            except (ServerDied, RuntimeError, OSError, ValueError, KeyError) as e:
                res["main_server"]["errors"].append("%s: %s" % (name, e))
                log("phase %s failed: %s" % (name, e))
                if not srv.alive():
                    res["main_server"]["errors"].append(
                        "server exited with code %s during %s; restarted" % (
                            srv.proc.returncode, name))
                    res["logs"].append((srv.logpath, srv.log_text()))
                    srv = Server(args, "main-after-%s" % name)
                    srv.start()
                    srv.wait_ready()
            if srv.alive():
                res.setdefault("rss_after", {})[name] = srv.status()
    finally:
        t, rc = srv.stop()
        res["main_server"]["stop_ms"] = t * 1e3 if t is not None else None
        res["main_server"]["exit_code"] = rc
        res["logs"].append((srv.logpath, srv.log_text()))

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
        commit += " (with uncommitted changes)"
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
                         "user + system: the server's one thread on CPU %.0f%% of "
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
        rows.append(("watch", "POST sent → ADDED line read: p50 / p99 (n=%d)" % w["n"],
                     "%s / %s" % (fmt_us(median(w["ev_us"])), fmt_us(pct(w["ev_us"], 99))),
                     "POST reply %s / %s" % (fmt_us(median(w["rep_us"])),
                                             fmt_us(pct(w["rep_us"], 99)))))
        rows.append(("watch", "event − POST reply: p50 / p99",
                     "%s / %s" % (fmt_us(median(w["gap_us"])), fmt_us(pct(w["gap_us"], 99))),
                     "event first in %d of %d" % (w["event_first"], w["n"])))
    ra = res.get("rss_after", {})
    if "pods" in ra:
        rows.append(("RSS under load", "VmRSS after 10k pods and the LISTs",
                     "%.1f MiB" % (ra["pods"]["VmRSS"] / 1024),
                     "VmHWM %.1f MiB" % (ra["pods"]["VmHWM"] / 1024)))
    return rows


def anomalies(res):
    out = []
    c = res.get("cold", {})
    out += c.get("errors", [])
    bad = [x for x in c.get("exit_codes", []) if x not in (0, None)]
    if bad:
        out.append("cold start runs: exit codes after SIGTERM %s" % bad)
    for name, rounds in list(res.get("get", {}).items()) + list(res.get("post", {}).items()):
        for r in rounds:
            if r and (r.get("non2xx") or r.get("sock_err")):
                out.append("%s: %d non-2xx responses, %d socket errors of %d requests%s" % (
                    name, r.get("non2xx", 0), r.get("sock_err", 0), r.get("n", 0),
                    " (wrk does not tell the codes: see the 409 note)"
                    if name.startswith("post") else ""))
    h = res.get("pods")
    if h:
        bad = {k: v for k, v in h["codes"].items() if k != "201"}
        if bad or h["errors"]:
            out.append("pod creation: codes %s, errors %s" % (bad, h["errors"][:5]))
        if "409" in bad:
            out.append("409 AlreadyExists on a create with generateName is a collision of "
                       "the 5-letter random suffix (27^5 names: about %.1f expected in "
                       "%d creates). Kubernetes 1.32 retries the name on the server "
                       "(KEP-4420, RetryGenerateName GA in 1.32) and does not answer 409; "
                       "labkube answers 409." % (
                           sum(h["codes"].values()) ** 2 / 2 / 27 ** 5,
                           sum(h["codes"].values())))
        if h.get("topped_up"):
            out.append("pod creation: %d pods missing after hey, created by name"
                       % h["topped_up"])
    out += res.get("list", {}).get("errors", [])
    out += res.get("watch", {}).get("errors", [])[:10]
    m = res.get("main_server", {})
    out += m.get("errors", [])
    if m.get("exit_code") not in (0, None):
        out.append("main server: exit code %s after SIGTERM" % m.get("exit_code"))
    for path, text in res.get("logs", []):
        lines = [l for l in text.splitlines() if l.strip()]
        if lines:
            out.append("%s: %d log lines, e.g. %s" % (os.path.basename(path), len(lines),
                                                     " | ".join(lines[:3])[:400]))
    return out


def print_table(rows, out):
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    w3 = max(len(r[2]) for r in rows)
    for r in rows:
        out.write("%-*s  %-*s  %*s  %s\n" % (w1, r[0], w2, r[1], w3, r[2], r[3]))


NOTE = """\
## What the numbers mean

- **Cold start** is from the fork of `labkube server` with an empty data dir
  to the first `200` from `/readyz`, polled by a client that retries the
  connect every 0.2 ms. It includes creating the database and the bootstrap
  objects. The peer beside it is the exec of `labkube version`: the part of
  the start-up that is only the process itself.
- **Idle RSS** is `VmRSS` of the server after start and seven requests
  (discovery, a LIST, one create, one GET): what a lab machine pays for an
  idle cluster's API.
- **GET** is wrk against one ConfigMap (about 1 KB) on keep-alive
  connections; `/readyz` on the same server in the same rounds is the floor
  of the HTTP layer alone, so the ratio is what reading and printing the
  object costs. wrk shares the two cores with the server: at c=16 both are
  CPU-bound, and the figure is a lower bound of the server's own capacity.
- **Create** is wrk POSTing ConfigMaps (about 1 KB, `generateName`) and the
  reply is released only after the group's fsync. `bench/sqlite_insert` is
  the physical limit: the same filesystem, WAL + `synchronous=FULL`, one
  1 KB row per transaction and no HTTP. At c=1 the API can do at most one
  commit per request, so creates/s ÷ insert tx/s says how close the request
  path comes to the disk. At c=16 the writes that arrive in one loop
  iteration share a commit, so creates/s can exceed the single-row insert
  rate: that ratio is what group commit buys. SQLite with 16 rows per
  transaction shows how far batching can go on this disk.
- **LIST** is 10,000 pending Pods (created first by hey with
  `generateName`, any that failed made up by name) read whole, as JSON and as a
  `meta.k8s.io/v1` Table (the form `kubectl get` asks for), then the Table
  in pages of `limit=500` following `continue`, as kubectl 1.27+ does.
- **Watch** opens a watch on ConfigMaps from the current resourceVersion and
  creates ConfigMaps one at a time on a second connection: the time from
  sending the POST to reading the `ADDED` line, beside the time to the POST
  reply. Both wait for the same commit; the difference is how the server
  orders the two writes after it.
- **Server CPU per request** is the server's user + system time
  (`/proc/PID/stat`) over a wrk run divided by the requests served: less
  sensitive to a noisy neighbour than req/s, and the number to watch when
  a change makes the request path heavier.
- Every figure is the median of the rounds of this run (p50/p99 are
  wrk's, hey's or our own percentiles within a round, then the median over
  rounds). Compare ratios, not absolute numbers, across machines: the machine
  is shared and noisy.
"""


def reading(res):
    """A few sentences on this run's figures, for RESULTS.md."""
    out = []
    c, p, L, w = res.get("cold"), res.get("post"), res.get("list"), res.get("watch")
    if c and c["ready_ms"] and c["rss_kb"]:
        out.append("An empty cluster's API answers `/readyz` %.0f ms after the exec "
                   "(%s the bare process start) and then holds %.1f MiB resident." % (
                       median(c["ready_ms"]), ratio(median(c["ready_ms"]),
                                                  median(c["version_ms"])),
                       median(c["rss_kb"]) / 1024))
    if p and mwrk(p["post1"], "p50_us") and mwrk(p["sql1"], "p50_us"):
        p1, s1 = mwrk(p["post1"], "p50_us"), mwrk(p["sql1"], "p50_us")
        cpu1, cpu16 = mwrk(p["post1"], "cpu_us"), mwrk(p["post16"], "cpu_us")
        r16 = mwrk(p["post16"], "rps")
        busy = (cpu16 or 0) * (r16 or 0) / 1e6
        out.append("A durable create from one client takes %s at the median, against "
                   "%s for the bare SQLite commit on the same disk: the request path "
                   "(HTTP, JSON, validation, the object and change-log rows) adds %s, "
                   "and the server spends %s of CPU per create." % (
                       fmt_us(p1), fmt_us(s1), fmt_us(p1 - s1), fmt_us(cpu1)))
        if busy >= 0.7:
            why = ("the server's one thread was on CPU %.0f%% of the time (the rest "
                   "includes its fsync waits), so at this disk speed creates are "
                   "bounded by the request path's CPU, not by fsync" % (busy * 100))
        else:
            why = ("the server's thread was on CPU only %.0f%% of the time, so the "
                   "disk's fsync is what bounds creates here" % (busy * 100))
        out.append("With 16 clients group commit carries %s creates/s, %s the "
                   "single-row commit rate (%s per create); %s." % (
                       fmt_n(r16), ratio(r16, mwrk(p["sql1"], "tx_per_s")),
                       fmt_us(cpu16), why))
    if L and median(L["json"]) and median(L["table"]):
        ra = res.get("rss_after", {}).get("pods")
        out.append("Listing %s Pods takes %.0f ms as JSON and %.0f ms as a Table "
                   "(%s)%s." % (
                       fmt_n(L["json_items"]), median(L["json"]), median(L["table"]),
                       ratio(median(L["table"]), median(L["json"])),
                       "; the server's resident peak reached %.0f MiB while doing it" %
                       (ra["VmHWM"] / 1024) if ra else ""))
    if w and w["n"]:
        out.append("A watcher reads the ADDED event %s after the POST is sent (p99 %s); "
                   "the POST's own reply arrives after %s (median; event minus reply %s): "
                   "events are not held back behind replies." % (
                       fmt_us(median(w["ev_us"])), fmt_us(pct(w["ev_us"], 99)),
                       fmt_us(median(w["rep_us"])), fmt_us(median(w["gap_us"]))))
    return out


def write_results(path, res, rows, anom, args):
    m = res["machine"]
    with open(path + ".tmp", "w") as f:
        f.write("# labkube API benchmarks\n\n")
        f.write("Written by `make bench` (bench/run.sh, bench/lkbench.py); run it again to "
                "regenerate this file.\n\n")
        f.write("| | |\n|---|---|\n")
        for k, v in (("date", m["date"]), ("commit", m["commit"]), ("binary", m["labkube"]),
                     ("machine", "%s CPUs, %s, %s RAM" % (m["nproc"], m["cpu"], m["mem"])),
                     ("kernel", m["kernel"]), ("data dir filesystem", m["fs"]),
                     ("load average (1, 5, 15 min)", "%s at the start, %s at the end" % (
                         m["load"], m.get("load_end", "?"))),
                     ("clients", "wrk %s, hey %s, Python %s client" % (
                         m["wrk"].replace("wrk ", ""), m["hey"], platform.python_version())),
                     ("rounds", "%d rounds of %d s per wrk figure; %d watch samples; "
                      "%d cold starts; %d LISTs each" % (
                          args.rounds, args.secs, args.watch_samples, args.cold_runs,
                          args.list_runs)),
                     ("network", "loopback of a network namespace made for the run")):
            f.write("| %s | %s |\n" % (k, v))
        f.write("\n## Figures\n\n| what | | figure | beside it, same run |\n|---|---|--:|---|\n")
        for r in rows:
            f.write("| %s | %s | %s | %s |\n" % tuple(x.replace("|", "\\|") for x in r))
        f.write("\n## Reading this run\n\n%s\n" % "\n".join(reading(res)))
        f.write("\n## Rounds\n\nPer round, for the spread (req/s; p50/p99):\n\n")
        for grp in ("get", "post"):
            for key, rounds in res.get(grp, {}).items():
                if key.startswith("sql"):
                    vals = ", ".join("%s tx/s (%s rows/s; %s/%s)" % (
                        fmt_n(r["tx_per_s"]), fmt_n(r["rows_per_s"]), fmt_us(r["p50_us"]),
                        fmt_us(r["p99_us"])) for r in rounds if r)
                else:
                    vals = ", ".join("%s (%s/%s)" % (fmt_n(r["rps"]), fmt_us(r["p50_us"]),
                                                     fmt_us(r["p99_us"])) for r in rounds)
                f.write("- `%s`: %s\n" % (key, vals))
        c = res.get("cold")
        if c:
            f.write("- cold start ms: %s\n" % ", ".join("%.1f" % x for x in c["ready_ms"]))
        f.write("\n## Anomalies seen in this run\n\n")
        if anom:
            for a in anom:
                f.write("- %s\n" % a.replace("\n", " "))
        else:
            f.write("None: every request answered 2xx, no socket errors, the server "
                    "logged nothing and exited 0 on SIGTERM.\n")
        f.write("\n" + NOTE)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labkube", required=True)
    ap.add_argument("--sqlite-insert", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--repo", default=".")
    ap.add_argument("--results")
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
    t0 = time.time()
    log("phase cold start")
    phase_cold(args, res)
    run_main_server(args, res)
    res["elapsed_s"] = time.time() - t0
    res["machine"]["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()
    rows = build_rows(res)
    anom = anomalies(res)
    m = res["machine"]
    sys.stdout.write("labkube API benchmarks: %s, %s CPUs %s, kernel %s, commit %s\n\n" % (
        m["date"], m["nproc"], m["cpu"], m["kernel"], m["commit"]))
    print_table(rows, sys.stdout)
    if anom:
        sys.stdout.write("\nanomalies:\n" + "".join("  - %s\n" % a for a in anom))
    sys.stdout.write("\n(%.0f s)\n" % res["elapsed_s"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: v for k, v in res.items() if k != "logs"}, f, indent=1)
    if args.results:
        write_results(args.results, res, rows, anom, args)
        sys.stdout.write("wrote %s\n" % args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
