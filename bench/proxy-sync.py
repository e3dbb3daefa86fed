#!/usr/bin/python3
"""bench/proxy-sync.py: the service proxy's sync beside `nft -f`, timed alike.

Run by bench/proxy-sync.sh (which documents it). For each N and round, in
two fresh network namespaces made for the measurement and deleted right
after (never the host's):

- labkube: `labkube proxy bench N`, one process that builds N services x 2
  endpoints, programs them over netlink (full sync), changes one service
  (incremental sync) and reads the table back and compares it (read-back);
- the peer: the same three steps as `nft` processes, on kube-proxy's layout
  for the same services (bench/kube-proxy-nft.py): `nft -f full.nft`,
  `nft -f change.nft`, `nft list table ip kp` (checked here: the chain count
  and the changed endpoint).

Both sides are timed the same way: wall time from before the fork of
`ip netns exec NS PROGRAM` to its exit, by this process. Every exit code is
checked; any failure ends the benchmark with an error and no figure.
labkube's own in-process stamps (full, incremental, read-back) are shown
beside as a breakdown, never in a ratio with a whole nft process.
"""
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import benchlib  # noqa: E402
from benchlib import median  # noqa: E402

LABKUBE = os.environ["LABKUBE"]
GEN = os.path.join(here, "kube-proxy-nft.py")
PY = "/usr/bin/python3"
NS = ["lkb-ps%d-a" % os.getpid(), "lkb-ps%d-b" % os.getpid()]
made = set()


class Fail(Exception):
    pass


def netns(op, name):
    r = subprocess.run(["ip", "netns", op, name], capture_output=True, text=True)
    if r.returncode != 0:
        raise Fail("ip netns %s %s: %s" % (op, name, r.stderr.strip()))
    if op == "add":
        made.add(name)
    else:
        made.discard(name)


def timed(ns, cmd, what, stdin=None):
    """(seconds from fork to exit, stdout) of `ip netns exec ns cmd`."""
    f = open(stdin) if stdin else subprocess.DEVNULL
    t0 = time.perf_counter()
    r = subprocess.run(["ip", "netns", "exec", ns] + cmd, stdin=f, capture_output=True,
                       text=True)
    t = time.perf_counter() - t0
    if stdin:
        f.close()
    if r.returncode != 0:
        raise Fail("%s exited with %d: %s" % (what, r.returncode, (r.stderr or r.stdout)[-400:]))
    return t, r.stdout


def run_labkube(n):
    ns = NS[0]
    netns("add", ns)
    try:
        t, out = timed(ns, [LABKUBE, "proxy", "bench", str(n)], "labkube proxy bench %d" % n)
    finally:
        netns("del", ns)
    kv = dict(x.split("=", 1) for x in out.split() if "=" in x)
    try:
        got = {k: float(kv[k]) for k in ("full_ms", "incremental_ms", "readback_ms")}
    except (KeyError, ValueError):
        raise Fail("labkube proxy bench %d printed no figures: %r" % (n, out[:300]))
    if int(kv.get("services", -1)) != n:
        raise Fail("labkube proxy bench %d programmed %s services" % (n, kv.get("services")))
    got["process_ms"] = t * 1e3
    return got


def run_nft(n, full, change):
    ns = NS[1]
    netns("add", ns)
    try:
        t1, _ = timed(ns, ["nft", "-f", full], "nft -f full (%d services)" % n)
        t2, _ = timed(ns, ["nft", "-f", change], "nft -f change (%d services)" % n)
        t3, out = timed(ns, ["nft", "list", "table", "ip", "kp"], "nft list table")
    finally:
        netns("del", ns)
    chains = sum(1 for l in out.splitlines() if l.strip().startswith("chain "))
    i = n // 2
    a = "10.244.%d.%d" % (((2 * i + 1) // 250) % 256, (2 * i + 1) % 250 + 1)
    if chains != 3 * n + 4:
        raise Fail("nft read-back: %d chains, want %d" % (chains, 3 * n + 4))
    if "dnat to %s:8081" % a not in out or "chain ep-%d-1 {" % i in out:
        raise Fail("nft read-back: the changed endpoint of service %d is not there" % i)
    return {"full_ms": t1 * 1e3, "change_ms": t2 * 1e3, "list_ms": t3 * 1e3,
            "process_ms": (t1 + t2 + t3) * 1e3}


def gen(kind, n, path):
    with open(path, "w") as f:
        r = subprocess.run([PY, GEN, kind, str(n)], stdout=f)
    if r.returncode != 0:
        raise Fail("kube-proxy-nft.py %s %d exited with %d" % (kind, n, r.returncode))


def fms(ms):
    if ms is None:
        return "n/a"
    if ms >= 1000:
        return "%.2f s" % (ms / 1e3)
    if ms >= 10:
        return "%.0f ms" % ms
    return "%.1f ms" % ms


def main():
    args = sys.argv[1:]
    rounds = int(os.environ.get("LKB_SYNC_ROUNDS", "3"))
    sizes = [int(x) for a in (args or ["1000", "4000", "10000"]) for x in a.split()]
    tmp = os.environ.get("TMPDIR", "/tmp")
    load0 = benchlib.loadavg()
    t_start = time.time()
    res = {}
    for n in sizes:
        full, change = (os.path.join(tmp, "kp-%s-%d-%d.nft" % (k, n, os.getpid()))
                        for k in ("full", "change"))
        gen("full", n, full)
        gen("change", n, change)
        res[n] = {"lk": [], "nft": []}
        try:
            for r in range(rounds):
                order = ("lk", "nft") if r % 2 == 0 else ("nft", "lk")
                for who in order:
                    x = run_labkube(n) if who == "lk" else run_nft(n, full, change)
                    res[n][who].append(x)
                lk, nf = res[n]["lk"][-1], res[n]["nft"][-1]
                sys.stderr.write("bench proxy-sync: N=%d round %d: labkube process %s (full %s, "
                                 "incremental %s, read-back %s); nft processes %s (full %s, "
                                 "change %s, list %s)\n" % (
                                     n, r + 1, fms(lk["process_ms"]), fms(lk["full_ms"]),
                                     fms(lk["incremental_ms"]), fms(lk["readback_ms"]),
                                     fms(nf["process_ms"]), fms(nf["full_ms"]),
                                     fms(nf["change_ms"]), fms(nf["list_ms"])))
        finally:
            for p in (full, change):
                os.unlink(p)
    load1 = benchlib.loadavg()
    elapsed = time.time() - t_start
    benchlib.emit(section(res, sizes, rounds, load0, load1, elapsed), "proxy sync")


def section(res, sizes, rounds, load0, load1, elapsed):
    M = lambda n, who, k: median([x[k] for x in res[n][who]])
    L = ["## Services: proxy sync beside `nft -f`", "",
         "Written by `bench/proxy-sync.sh %s` (bench/proxy-sync.py, bench/kube-proxy-nft.py), "
         "%d rounds per size, the order of the two sides alternating; medians; %.0f s." % (
             " ".join(map(str, sizes)), rounds, elapsed), "",
         "Each side does the same work in a fresh network namespace: program N services × 2 "
         "endpoints (full sync), change one service's endpoint (incremental), read the table "
         "back. labkube does it in one process (`labkube proxy bench N`, over netlink); the "
         "peer in three `nft` processes on kube-proxy's nftables layout for the same services "
         "(`nft -f full.nft`, `nft -f change.nft`, `nft list table`, the files made by "
         "bench/kube-proxy-nft.py). Both are timed as whole processes, from the fork of `ip "
         "netns exec` to the exit, every exit code checked. labkube's in-process stamps are "
         "its breakdown; they are not compared with nft's processes.", "",
         "| services × 2 endpoints | labkube process | nft processes | nft ÷ labkube "
         "| labkube full / incremental / read-back (in-process) | nft -f full / nft -f change "
         "/ nft list (processes) |",
         "|--:|--:|--:|--:|--:|--:|"]
    flags = benchlib.load_flags(load0, load1)
    for n in sizes:
        lp, np_ = M(n, "lk", "process_ms"), M(n, "nft", "process_ms")
        L.append("| {:,} | {} | {} | {:.2f}× | {} / {} / {} | {} / {} / {} |".format(
            n, fms(lp), fms(np_), np_ / lp, fms(M(n, "lk", "full_ms")),
            fms(M(n, "lk", "incremental_ms")), fms(M(n, "lk", "readback_ms")),
            fms(M(n, "nft", "full_ms")), fms(M(n, "nft", "change_ms")),
            fms(M(n, "nft", "list_ms"))))
        for who, key, name in (("lk", "process_ms", "labkube process"),
                               ("nft", "process_ms", "nft processes"),
                               ("lk", "incremental_ms", "labkube incremental"),
                               ("nft", "change_ms", "nft -f change")):
            flags.append(benchlib.drift("%s at N=%d" % (name, n),
                                        [x[key] for x in res[n][who]], " ms"))
    L += ["", "Per round (ms; labkube process, nft processes): " + "; ".join(
        "N=%d: %s" % (n, ", ".join("%.0f/%.0f" % (a["process_ms"], b["process_ms"])
                                   for a, b in zip(res[n]["lk"], res[n]["nft"])))
        for n in sizes) + ".", ""]
    # Reading: every comparison below is computed from the table.
    rd = []
    for n in sizes:
        lp, np_ = M(n, "lk", "process_ms"), M(n, "nft", "process_ms")
        rd.append("At {:,} services the nft processes took {:.2f}× as long as labkube's "
                  "process for the same work ({} {} {}).".format(
                      n, np_ / lp, fms(np_), "against" if np_ != lp else "and", fms(lp)))
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        g = b / a
        for who, key, name in (("lk", "full_ms", "labkube's full sync (in-process)"),
                               ("lk", "incremental_ms",
                                "labkube's one-service incremental sync (in-process)"),
                               ("nft", "full_ms", "`nft -f` of the full ruleset"),
                               ("nft", "change_ms", "`nft -f` of the one-service change")):
            x, y = M(a, who, key), M(b, who, key)
            k = y / x
            if k > g * 1.2:
                how = "faster than the number of services (super-linear)"
            elif k >= g / 1.2:
                how = "about as fast as the number of services (linear)"
            elif k > 1.2:
                how = "slower than the number of services (sub-linear)"
            else:
                how = "hardly at all"
            rd.append("From {:,} to {:,} services ({:.0f}× as many), {} went from {} to {}: "
                      "{:.1f}×, growing {}.".format(a, b, g, name, fms(x), fms(y), k, how))
    L += ["Reading (computed from the figures above): " + " ".join(rd), ""]
    L += [benchlib.load_line(load0, load1), "", benchlib.flags_block(flags)]
    return "\n".join(L)


def cleanup(*_):
    for ns in list(made):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        made.discard(ns)


def on_signal(sig, _):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    try:
        main()
    except Fail as e:
        sys.stderr.write("bench proxy-sync: FAILED: %s\n" % e)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("bench proxy-sync: interrupted\n")
        sys.exit(130)
    finally:
        cleanup()
