#!/usr/bin/env python3
"""bench/pods.py: pod start-up time and memory per pod, run by bench/pods.sh
inside a network namespace of its own (never run it outside one).

For N in --sizes (1, 10, 100), --rounds times each: `kubectl create
deployment --image=gcr.io/google-samples/node-hello:1.0 --replicas=N`, then
the time until all N pods are Ready (the Deployment's readyReplicas, which
counts pods whose Ready condition is True, read from a `kubectl get -w`
stream; checked afterwards against the pods' own Ready conditions). With all
N up, memory: PSS and RSS summed over each pod's processes (its `_sandbox`,
its `_shim` and the container under the shim, all children of the server),
beside the server's own RSS growth. Then the deployment is deleted and the
run waits until its pods and their processes are gone.

Peers in the same run, the physical floor: N `unshare --net labkube _image
pause` processes (a netns and an exec each) started directly, and N plain
`labkube _image gcr.io/google-samples/node-hello:1.0` processes (each in its
own netns) for the memory of the bare container process.

Writes the "## Pods" section to $LKB_SECTION (bench/benchlib.py) and raw
figures to --json; any anomaly (a round short of N Ready, a pod or process
left behind, the server's exit status after SIGTERM not 0) fails the run.
"""
import argparse
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

IMAGE = "gcr.io/google-samples/node-hello:1.0"
PORT = 16443
NODE_IP = "192.0.2.1"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ------------------------------------------------------------ /proc helpers

def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(pid, kids=None):
    kids = kids if kids is not None else children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def mem_kib(pid):
    """(pss, rss, uss) in KiB from smaps_rollup; zeros if gone. USS is the
    private memory (Private_Clean + Private_Dirty): what the process alone
    costs, whoever else maps the same binary."""
    pss = rss = uss = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Private_Clean:") or line.startswith("Private_Dirty:"):
                    uss += int(line.split()[1])
    except OSError:
        pass
    return pss, rss, uss


def vmrss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pod_processes(server_pid, data):
    """{pod uid: [pids]}: each `_sandbox`/`_shim` child of the server for this
    data dir, and for a shim everything under it (the container)."""
    kids = children_map()
    pods = {}
    for p in descendants(server_pid, kids):
        a = cmdline(p)
        if len(a) > 3 and a[1] in ("_sandbox", "_shim") and a[2] == data:
            pods.setdefault(a[3], []).append(p)
            if a[1] == "_shim":
                pods[a[3]].extend(descendants(p, kids))
    return pods


def pod_kinds(pids):
    k = {"sandbox": 0, "shim": 0, "container": 0}
    for p in pids:
        a = cmdline(p)
        k["sandbox" if "_sandbox" in a[1:2] else "shim" if "_shim" in a[1:2] else "container"] += 1
    return k


# --------------------------------------------------------------- the run

class Bench:
    def __init__(self, args):
        self.args = args
        self.data = os.path.join(args.tmp, "data")
        self.url = "http://127.0.0.1:%d" % PORT
        self.server = None
        self.started = []  # peer processes, by pid
        self.anom = []

    def kubectl(self, *a, check=True, timeout=60):
        cmd = ["kubectl", "--server", self.url, "--cache-dir",
               os.path.join(self.args.tmp, "kcache"), "--request-timeout=30s"] + list(a)
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(a), r.stderr.strip()))
        return r.stdout

    def start_server(self):
        logf = open(os.path.join(self.args.tmp, "server.log"), "ab")
        self.server = subprocess.Popen(
            [self.args.labkube, "server", "--data-dir", self.data,
             "--listen", "127.0.0.1:%d" % PORT, "--node-name", "lkbench-node",
             "--node-ip", NODE_IP, "--quiet"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        logf.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError("server exited with code %d" % self.server.returncode)
            r = subprocess.run(["curl", "-s", "--max-time", "1", self.url + "/readyz"],
                               capture_output=True, text=True)
            if r.stdout.strip() == "ok":
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("server not ready in 20 s")
        # The node must be Ready and the default service account present
        # before the first timed create, or the first round pays for it.
        deadline = time.time() + 30
        while time.time() < deadline:
            st = self.kubectl("get", "nodes", "-o",
                              "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}",
                              check=False)
            sa = self.kubectl("get", "serviceaccount", "default", "-o", "name", check=False)
            if "True" in st and sa.strip():
                return
            time.sleep(0.2)
        self.anom.append("node not Ready or no default ServiceAccount 30 s after start")

    def stop_server(self):
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                rc = self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
                rc = "killed after 10 s"
            if rc != 0:
                self.anom.append("server exit status after SIGTERM: %s" % rc)

    def ready_pods(self, name):
        out = self.kubectl("get", "pods", "-l", "app=" + name, "-o",
                           "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}")
        return sum(1 for l in out.splitlines() if l.strip() == "True")

    def one_round(self, n, r):
        name = "pods%d-%d" % (n, r)
        base_rss = vmrss_kib(self.server.pid)
        # The watch starts first so that no update is missed; it sees the
        # deployment appear (a NotFound before that is retried).
        w = subprocess.Popen(
            ["kubectl", "--server", self.url, "--cache-dir",
             os.path.join(self.args.tmp, "kcache-w"), "get", "deployments",
             "--field-selector", "metadata.name=" + name, "-w", "-o",
             "jsonpath={.metadata.name} {.status.readyReplicas}{\"\\n\"}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)
        self.started.append(w.pid)
        time.sleep(0.3)  # let the watch open (not timed)
        t0 = time.perf_counter()
        self.kubectl("create", "deployment", name, "--image=" + IMAGE,
                     "--replicas=%d" % n, "--port=8080")
        t_created = time.perf_counter() - t0
        t_ready = None
        deadline = t0 + self.args.timeout
        os.set_blocking(w.stdout.fileno(), False)
        buf = ""
        while time.perf_counter() < deadline and t_ready is None:
            rl, _, _ = select.select([w.stdout], [], [], 0.5)
            if not rl:
                continue
            chunk = w.stdout.read()
            if not chunk:
                if w.poll() is not None:
                    break
                continue
            buf += chunk
            while "\n" in buf:
                line, buf = buf.split("\n", 1)
                parts = line.split()
                if len(parts) == 2 and parts[0] == name and parts[1] == str(n):
                    t_ready = time.perf_counter() - t0
                    break
        w.terminate()
        w.wait()
        self.started.remove(w.pid)
        if t_ready is None:
            self.anom.append("N=%d round %d: not all Ready within %d s (%d Ready)"
                             % (n, r, self.args.timeout, self.ready_pods(name)))
        got = self.ready_pods(name)
        if t_ready is not None and got != n:
            self.anom.append("N=%d round %d: readyReplicas=%d but %d pods with Ready=True"
                             % (n, r, n, got))
        # Memory with all N up.
        pods = pod_processes(self.server.pid, self.data)
        per_pod = []
        kinds = {"sandbox": 0, "shim": 0, "container": 0}
        for uid, pids in pods.items():
            pss = rss = uss = 0
            for p in pids:
                a, b, c = mem_kib(p)
                pss += a
                rss += b
                uss += c
            per_pod.append((pss, rss, uss))
            for k, v in pod_kinds(pids).items():
                kinds[k] += v
        if len(pods) != n:
            self.anom.append("N=%d round %d: found processes of %d pods" % (n, r, len(pods)))
        srv_rss = vmrss_kib(self.server.pid)
        # Delete and wait until pods and processes are gone.
        t1 = time.perf_counter()
        self.kubectl("delete", "deployment", name, "--wait=false")
        gone = api_gone = procs_gone = None
        deadline = t1 + self.args.timeout
        while time.perf_counter() < deadline:
            if api_gone is None and not self.kubectl("get", "pods", "-l", "app=" + name,
                                                     "-o", "name").strip():
                api_gone = time.perf_counter() - t1
            if procs_gone is None and not pod_processes(self.server.pid, self.data):
                procs_gone = time.perf_counter() - t1
            if api_gone is not None and procs_gone is not None:
                gone = max(api_gone, procs_gone)
                break
            time.sleep(0.05)
        if gone is None:
            self.anom.append("N=%d round %d: pods or processes still there %d s after delete"
                             % (n, r, self.args.timeout))
        return {
            "n": n, "round": r, "create_s": t_created, "ready_s": t_ready,
            "pods_seen": len(pods), "kinds": kinds,
            "pss_kib": [x[0] for x in per_pod], "rss_kib": [x[1] for x in per_pod],
            "uss_kib": [x[2] for x in per_pod],
            "server_rss_before_kib": base_rss, "server_rss_up_kib": srv_rss,
            "delete_s": gone, "delete_api_s": api_gone, "delete_procs_s": procs_gone,
        }

    def peer_round(self, n):
        """N `unshare --net labkube _image pause` started directly: seconds
        until all N have exec'd the applet (cmdline shows `_image`)."""
        # The previous round's veths go only when the kernel has destroyed
        # its killed processes' namespaces, which is asynchronous: wait for
        # that first (untimed), so that neither names nor the kernel's
        # clean-up work carry over into this round; the names are per round
        # all the same.
        deadline = time.time() + 60
        while time.time() < deadline:
            r = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
            if r.returncode == 0 and " lkf" not in r.stdout:
                break
            time.sleep(0.1)
        else:
            self.anom.append("floor veths of the previous round still there after 60 s")
        self.floor_no = getattr(self, "floor_no", 0) + 1
        t0 = time.perf_counter()
        procs = []
        for _ in range(n):
            p = subprocess.Popen(["unshare", "--net", "--", self.args.labkube, "_image", "pause"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            procs.append(p)
            self.started.append(p.pid)
        # unshare execs the applet in place, so the pid's cmdline changes.
        pending = {p.pid for p in procs}
        deadline = t0 + 60
        while pending and time.perf_counter() < deadline:
            pending = {p for p in pending if "_image" not in cmdline(p)}
            if pending:
                time.sleep(0.0005)
        t = time.perf_counter() - t0
        # Then one veth pair per process, its inner end moved into the
        # process's namespace, both ends up: one `ip -batch` for all N.
        batch = "".join("link add lkf%dx%d type veth peer name eth0 netns %d\n"
                        "link set lkf%dx%d up\n" % (self.floor_no, i, p.pid, self.floor_no, i)
                        for i, p in enumerate(procs))
        r = subprocess.run(["ip", "-batch", "-"], input=batch, capture_output=True, text=True)
        if r.returncode != 0:
            self.anom.append("floor veths: %s" % r.stderr.strip()[:200])
        t_veth = time.perf_counter() - t0
        mem = [mem_kib(p.pid) for p in procs]
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
            self.started.remove(p.pid)
        return t, t_veth, mem

    def peer_hello(self, k=10):
        """Memory of the bare node-hello process (own netns), k of them."""
        procs = []
        for _ in range(k):
            p = subprocess.Popen(["unshare", "--net", "--", self.args.labkube, "_image", IMAGE],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            procs.append(p)
            self.started.append(p.pid)
        time.sleep(1.0)
        mem = [mem_kib(p.pid) for p in procs]
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
            self.started.remove(p.pid)
        return mem

    def kill_started(self):
        for pid in list(self.started):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def fmt_s(x):
    if x is None or x != x:
        return "—"
    return "%.2f s" % x if x >= 1 else "%.0f ms" % (x * 1000)


def fmt_mib(kib):
    return "%.1f MiB" % (kib / 1024.0) if kib >= 1024 else "%.0f KiB" % kib


def machine():
    ncpu = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
    return "%d CPUs, %s, %.1f GiB RAM" % (ncpu, model, mem / 1048576.0)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def section(res, args):
    rows = []
    L = []
    L.append("## Pods")
    L.append("")
    L.append("Written by bench/pods.sh (bench/pods.py, in a network namespace of its own); %.0f s."
             % res["elapsed_s"])
    L.append("")
    L.append("| | |\n|---|---|")
    for k, v in res["meta"]:
        L.append("| %s | %s |" % (k, v))
    L.append("")
    L.append("| N | create → all N Ready (median) | rounds | of which after the create reply | floor: N × (`unshare -n` + exec `pause`) + N veths (median) | after-reply ÷ floor | delete → pods and processes gone (median) |")
    L.append("|--:|--:|---|--:|--:|--:|--:|")
    for n in args.sizes:
        rs = [x for x in res["rounds"] if x["n"] == n]
        ready = [x["ready_s"] for x in rs if x["ready_s"] is not None]
        dele = [x["delete_s"] for x in rs if x["delete_s"] is not None]
        after = [x["ready_s"] - x["create_s"] for x in rs if x["ready_s"] is not None]
        fl = res["floor"].get(str(n), [])
        fv = res["floor_veth"].get(str(n), [])
        mr, mf, ma = median(ready), median(fv), median(after)
        da = median([x["delete_api_s"] for x in rs if x["delete_api_s"] is not None])
        dp = median([x["delete_procs_s"] for x in rs if x["delete_procs_s"] is not None])
        L.append("| %d | %s (%s per pod) | %s | %s | %s (processes alone %s) | %.1f× | %s (API %s, processes %s) |" % (
            n, fmt_s(mr), fmt_s(mr / n) if ready else "—",
            ", ".join(fmt_s(x["ready_s"]) for x in rs), fmt_s(ma),
            fmt_s(mf), fmt_s(median(fl)), (ma / mf) if after and fv else float("nan"),
            fmt_s(median(dele)), fmt_s(da), fmt_s(dp)))
    L.append("")
    L.append("| memory with N pods up (medians over rounds) | N | per pod | beside it, same run |")
    L.append("|---|--:|--:|---|")
    hello = res["peer_hello"]
    hp = median([x[0] for x in hello])
    hr = median([x[1] for x in hello])
    hu = median([x[2] for x in hello])
    pause = res["floor_mem"]
    pp = median([x[0] for x in pause])
    prr = median([x[1] for x in pause])
    pu = median([x[2] for x in pause])
    for n in args.sizes:
        rs = [x for x in res["rounds"] if x["n"] == n and x["pss_kib"]]
        if not rs:
            continue
        pss = median([median(x["pss_kib"]) for x in rs])
        rss = median([median(x["rss_kib"]) for x in rs])
        uss = median([median(x["uss_kib"]) for x in rs])
        srv = median([(x["server_rss_up_kib"] - res["server_idle_kib"]) / float(n) for x in rs])
        k = rs[-1]["kinds"]
        L.append("| PSS (sandbox + shim + container) | %d | %s | RSS %s; %d/%d/%d sandbox/shim/container processes |" % (
            n, fmt_mib(pss), fmt_mib(rss), k["sandbox"], k["shim"], k["container"]))
        L.append("| USS (private: sandbox + shim + container) | %d | %s | bare node-hello process USS %s (pod = %.1f× it) |" % (
            n, fmt_mib(uss), fmt_mib(hu), uss / hu if hu else float("nan")))
        L.append("| server RSS growth | %d | %s | server VmRSS %s with N up, %s idle |" % (
            n, fmt_mib(srv), fmt_mib(median([x["server_rss_up_kib"] for x in rs])),
            fmt_mib(res["server_idle_kib"])))
    L.append("")
    L.append("Bare processes for scale, each started directly in a netns of its own: "
             "`labkube _image pause` USS %s, PSS %s, RSS %s (%d running); "
             "`labkube _image %s` USS %s, PSS %s, RSS %s (%d running)." % (
                 fmt_mib(pu), fmt_mib(pp), fmt_mib(prr), len(pause), IMAGE, fmt_mib(hu),
                 fmt_mib(hp), fmt_mib(hr), len(hello)))
    L.append("")
    L.append("Method: the time is from the exec of `kubectl create deployment` to the watch "
             "line where the Deployment's `readyReplicas` reaches N (readyReplicas counts pods "
             "whose `Ready` condition is True; checked afterwards against the pods themselves). "
             "It includes kubectl's own start (~%s for the create) and every controller step "
             "(Deployment → ReplicaSet → Pods → node agent → sandbox, shim, container → status). "
             "The floor starts N processes, each with a fresh network namespace, from one "
             "parent, then gives each a veth pair (one `ip -batch`): no API, no addresses, "
             "no bridge, no status writes; the ratio of the time after the create reply to it is "
             "what the cluster adds (kubectl's own start is left out of the ratio). Delete is "
             "`kubectl delete --wait=false` until the API lists no pod of the deployment and no "
             "process of it is left, polled every 50 ms (plus a kubectl exec). PSS shares the binary's pages among all the processes that map "
             "it, so it is the figure to add up (and it shrinks as more processes map the same "
             "binary: the server, every pod and the peers all run one private copy of "
             "build/labkube, so that nothing outside the run shares its pages); RSS counts "
             "them once per process; USS (private pages only) is what one more pod costs "
             "whatever else runs, and the figure to compare with the bare process. "
             "Server RSS growth is (server VmRSS with N pods up − idle) ÷ N." % fmt_s(
                 median([x["create_s"] for x in res["rounds"]])))
    L.append("")
    L.append("Per round (create → Ready; delete → gone): " + "; ".join(
        "N=%d #%d %s / %s" % (x["n"], x["round"], fmt_s(x["ready_s"]), fmt_s(x["delete_s"]))
        for x in res["rounds"]) + ".")
    L.append("Floor per round (processes / with veths): " + "; ".join(
        "N=%s %s" % (k, ", ".join("%s / %s" % (fmt_s(t), fmt_s(tv)) for t, tv in
                                  zip(v, res["floor_veth"][k]))) for k, v in res["floor"].items()) + ".")
    L.append("")
    flags = benchlib.load_flags(res["load0"], res["load1"])
    for n in args.sizes:
        rs = [x for x in res["rounds"] if x["n"] == n]
        ms = lambda xs: [x * 1e3 for x in xs if x is not None]
        flags.append(benchlib.drift("N=%d create → Ready" % n, ms(x["ready_s"] for x in rs), " ms"))
        flags.append(benchlib.drift("N=%d floor" % n, ms(res["floor_veth"].get(str(n), [])), " ms"))
        flags.append(benchlib.drift("N=%d delete → gone" % n, ms(x["delete_s"] for x in rs), " ms"))
    L.append(benchlib.load_line(res["load0"], res["load1"]))
    L.append("")
    L.append(benchlib.flags_block(flags))
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labkube", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--json")
    ap.add_argument("--sizes", default="1,10,100")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=60)
    args = ap.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",")]

    b = Bench(args)
    t_start = time.time()
    load0 = benchlib.loadavg()
    res = {"rounds": [], "floor": {}, "floor_veth": {}, "floor_mem": [], "peer_hello": []}
    try:
        b.start_server()
        time.sleep(0.5)
        res["server_idle_kib"] = vmrss_kib(b.server.pid)
        for n in args.sizes:
            for r in range(1, args.rounds + 1):
                # Peer first, then the cluster, alternating, so that both see
                # the same neighbours.
                t, tv, mem = b.peer_round(n)
                res["floor"].setdefault(str(n), []).append(t)
                res["floor_veth"].setdefault(str(n), []).append(tv)
                if n == max(args.sizes) and not res["floor_mem"]:
                    res["floor_mem"] = mem
                x = b.one_round(n, r)
                res["rounds"].append(x)
                sys.stdout.write("N=%-3d round %d: ready %s (create %s), floor %s, pods %d, "
                                 "PSS/pod %s, delete %s\n" % (
                                     n, r, fmt_s(x["ready_s"]), fmt_s(x["create_s"]), "%s/%s" % (fmt_s(t), fmt_s(tv)),
                                     x["pods_seen"],
                                     fmt_mib(median(x["pss_kib"])) if x["pss_kib"] else "—",
                                     fmt_s(x["delete_s"])))
                sys.stdout.flush()
        res["peer_hello"] = b.peer_hello()
    finally:
        b.kill_started()
        b.stop_server()
    res["anom"] = b.anom
    res["load0"], res["load1"] = load0, benchlib.loadavg()
    res["elapsed_s"] = time.time() - t_start
    ver = subprocess.run([args.labkube, "version"], capture_output=True, text=True).stdout.strip()
    kv = subprocess.run(["kubectl", "version", "--client"], capture_output=True,
                        text=True).stdout.splitlines()
    res["meta"] = [
        ("binary", ver.splitlines()[0] if ver else "?"),
        ("client", kv[0] if kv else "kubectl"),
        ("image", "`%s` (built in), no probes: Ready once the container runs" % IMAGE),
        ("rounds", "%d per N, N = %s, deployment deleted and its processes gone between rounds; "
                   "the floor is measured just before each round" % (
                       args.rounds, ", ".join(map(str, args.sizes)))),
        ("network", "a network namespace made for the run (loopback, a veth pair for the node IP, "
                    "the pods' bridge inside it)"),
    ]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    text = section(res, args)
    if res["anom"]:
        sys.stdout.write("\n" + text + "\n")
        sys.stderr.write("bench pods: FAILED: %s\n" % "; ".join(res["anom"]))
        return 1
    benchlib.emit(text, "Pods")
    return 0


if __name__ == "__main__":
    sys.exit(main())
