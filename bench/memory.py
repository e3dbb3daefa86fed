#!/usr/bin/env python3
"""bench/memory.py: the server's memory with many objects, run by
bench/memory.sh inside a network namespace of its own (never run it outside
one).

Two servers in turn, each on a fresh data dir, each driven over HTTP (one
keep-alive connection, a POST per object):

  services  idle VmRSS (after start-up and SETTLE s of quiet), then --services
            Services with selectors in 10 namespaces: the endpoints and
            EndpointSlice controllers make an Endpoints and an EndpointSlice
            for each. VmRSS once all --services of both exist and SETTLE s
            passed.
  pods      idle VmRSS, then --pods bare Pods (one container whose image is
            not built in, so not pullable: each gets a sandbox and stays in
            ErrImagePull / ImagePullBackOff). VmRSS once every pod reports
            its container waiting and SETTLE s passed; the figure is the growth
            beyond idle. Then the pods are deleted and the run waits until
            they are gone.

VmRSS is read from /proc/PID/status (VmHWM beside it). Writes the
"## Memory" section to $LKB_SECTION (bench/benchlib.py) and raw figures to
--json; a phase that does not reach its count in --timeout seconds fails the
run.
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

PORT = 16443
NODE_IP = "192.0.2.1"
NNS = 10
IMAGE = "registry.invalid/lkb/none:1.0"
# Seconds of quiet before a reading: the server gives freed heap back a
# second or two after bulk work (server/main.c, trim_tick).
SETTLE = 5


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def fmt_mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


class Server:
    def __init__(self, args, name):
        self.args = args
        self.data = os.path.join(args.tmp, "data-" + name)
        logf = open(os.path.join(args.tmp, "server-%s.log" % name), "ab")
        self.proc = subprocess.Popen(
            [args.labkube, "server", "--data-dir", self.data,
             "--listen", "127.0.0.1:%d" % PORT, "--node-name", "lkb-mem",
             "--node-ip", NODE_IP, "--quiet"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        logf.close()
        self.conn = None
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with code %d" % self.proc.returncode)
            try:
                if self.req("GET", "/readyz", raw=True) == b"ok":
                    break
            except OSError:
                self.conn = None
            if time.time() > deadline:
                raise RuntimeError("server not ready in 20 s")
            time.sleep(0.1)

    def req(self, method, path, body=None, raw=False):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        data = json.dumps(body).encode() if body is not None else None
        hdr = {"Content-Type": "application/json"} if data else {}
        try:
            self.conn.request(method, path, body=data, headers=hdr)
            r = self.conn.getresponse()
            out = r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        if raw:
            return out
        if r.status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, r.status, out[:200]))
        return json.loads(out) if out else None

    def count(self, path, pred=None):
        items = self.req("GET", path)["items"] or []
        return sum(1 for x in items if pred is None or pred(x))

    def rss(self):
        return status_kib(self.proc.pid, "VmRSS"), status_kib(self.proc.pid, "VmHWM")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("server did not exit 20 s after SIGTERM")
        if self.proc.returncode != 0:
            raise RuntimeError("server exit status %d after SIGTERM" % self.proc.returncode)


def wait_for(what, fn, want, timeout):
    deadline = time.time() + timeout
    got = -1
    while time.time() < deadline:
        got = fn()
        if got >= want:
            return
        time.sleep(1)
    raise RuntimeError("%s: %d of %d after %d s" % (what, got, want, timeout))


def namespaces(s):
    for k in range(NNS):
        s.req("POST", "/api/v1/namespaces", {"metadata": {"name": "mem-%d" % k}})
    for k in range(NNS):
        wait_for("default ServiceAccount in mem-%d" % k,
                 lambda: s.count("/api/v1/namespaces/mem-%d/serviceaccounts" % k,
                                 lambda x: x["metadata"]["name"] == "default"), 1, 30)


def idle(s):
    time.sleep(SETTLE)
    return s.rss()


def services(args, res):
    s = Server(args, "services")
    try:
        res["svc_idle"] = idle(s)
        namespaces(s)
        t0 = time.time()
        for i in range(args.services):
            ns = "mem-%d" % (i % NNS)
            s.req("POST", "/api/v1/namespaces/%s/services" % ns, {
                "metadata": {"name": "svc-%04d" % i, "labels": {"bench": "memory"}},
                "spec": {"selector": {"app": "svc-%04d" % i},
                         "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        sel = "?labelSelector=bench%3Dmemory"
        wait_for("Endpoints", lambda: s.count("/api/v1/endpoints" + sel), args.services, args.timeout)
        wait_for("EndpointSlices", lambda: s.count("/apis/discovery.k8s.io/v1/endpointslices" + sel),
                 args.services, args.timeout)
        res["svc_s"] = time.time() - t0
        time.sleep(SETTLE)
        res["svc_loaded"] = s.rss()
    finally:
        s.stop()


def waiting(pod):
    for c in (pod.get("status") or {}).get("containerStatuses") or []:
        if ((c.get("state") or {}).get("waiting") or {}).get("reason") in ("ErrImagePull", "ImagePullBackOff"):
            return True
    return False


def pods(args, res):
    s = Server(args, "pods")
    try:
        res["pod_idle"] = idle(s)
        namespaces(s)
        t0 = time.time()
        for i in range(args.pods):
            ns = "mem-%d" % (i % NNS)
            s.req("POST", "/api/v1/namespaces/%s/pods" % ns, {
                "metadata": {"name": "pod-%04d" % i, "labels": {"app": "pod-%04d" % i}},
                "spec": {"containers": [{"name": "c", "image": IMAGE}],
                         "terminationGracePeriodSeconds": 0}})
        wait_for("pods waiting on their image", lambda: s.count("/api/v1/pods", waiting),
                 args.pods, args.timeout)
        res["pod_s"] = time.time() - t0
        time.sleep(SETTLE)
        res["pod_loaded"] = s.rss()
        for k in range(NNS):
            s.req("DELETE", "/api/v1/namespaces/mem-%d/pods" % k)
        wait_for("pods gone", lambda: args.pods - s.count("/api/v1/pods"), args.pods, args.timeout)
        time.sleep(SETTLE)
        res["pod_after"] = s.rss()
    finally:
        s.stop()


def section(res, args):
    si, sl = res["svc_idle"][0], res["svc_loaded"][0]
    pi, pl = res["pod_idle"][0], res["pod_loaded"][0]
    L = ["## Memory", "",
         "Written by `bench/memory.sh` (in a network namespace of its own); %.0f s." % res["elapsed_s"], "",
         "Server VmRSS (`/proc/PID/status`) of the whole cluster in one process (API, store, "
         "controllers, node agent, proxy, DNS), each phase on a fresh server and data dir, objects "
         "POSTed over one connection; idle is %d s after start-up, loaded %d s after the last object "
         "reached its state." % (SETTLE, SETTLE), "",
         "| what | N | server VmRSS | beside it, same run |", "|---|--:|--:|---|",
         "| idle | | %s | VmHWM %s |" % (fmt_mib(si), fmt_mib(res["svc_idle"][1])),
         "| Services with selectors (and their Endpoints and EndpointSlices) | %d | %s | "
         "%s beyond idle; VmHWM %s; all present %.1f s after the first POST |" % (
             args.services, fmt_mib(sl), fmt_mib(sl - si), fmt_mib(res["svc_loaded"][1]), res["svc_s"]),
         "| Pods, image not pullable (a sandbox each, container waiting) | %d | %s beyond idle | "
         "VmRSS %s with them, %s idle, %s after they were deleted; %.1f KiB per pod |" % (
             args.pods, fmt_mib(pl - pi), fmt_mib(pl), fmt_mib(pi), fmt_mib(res["pod_after"][0]),
             (pl - pi) / float(args.pods)),
         "",
         "Reading (computed): %d Services with selectors took the server from %s to %s (%.1f KiB per "
         "Service with its Endpoints and EndpointSlice); %d Pods cost %s beyond idle (%.1f KiB per Pod)."
         % (args.services, fmt_mib(si), fmt_mib(sl), (sl - si) / float(args.services),
            args.pods, fmt_mib(pl - pi), (pl - pi) / float(args.pods)), "",
         benchlib.load_line(res["load0"], res["load1"]), "",
         benchlib.flags_block(benchlib.load_flags(res["load0"], res["load1"]))]
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labkube", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--json")
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    res = {}
    t_start = time.time()
    res["load0"] = benchlib.loadavg()
    try:
        services(args, res)
        sys.stderr.write("bench memory: services: idle %s, with %d %s\n" % (
            fmt_mib(res["svc_idle"][0]), args.services, fmt_mib(res["svc_loaded"][0])))
        pods(args, res)
        sys.stderr.write("bench memory: pods: idle %s, with %d %s (+%s), after delete %s\n" % (
            fmt_mib(res["pod_idle"][0]), args.pods, fmt_mib(res["pod_loaded"][0]),
            fmt_mib(res["pod_loaded"][0] - res["pod_idle"][0]), fmt_mib(res["pod_after"][0])))
    except (RuntimeError, OSError, http.client.HTTPException) as e:
        sys.stderr.write("bench memory: FAILED: %s\n" % e)
        return 1
    res["load1"] = benchlib.loadavg()
    res["elapsed_s"] = time.time() - t_start
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    benchlib.emit(section(res, args), "Memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
