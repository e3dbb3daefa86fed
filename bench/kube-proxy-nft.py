#!/usr/bin/python3
"""bench/kube-proxy-nft.py: the peer's input for bench/proxy-sync.sh.

  kube-proxy-nft.py full N    > full.nft    # N services x 2 endpoints
  kube-proxy-nft.py change N  > change.nft  # then one service's endpoint changed

Writes, for `nft -f`, kube-proxy's nftables layout (its nftables mode,
reduced to what a ClusterIP service with two endpoints needs) for the same
services that `labkube proxy bench N` programs (proxy/proxy.c, synth()):
service i has cluster IP 10.(96 + i/65536).(i/256 % 256).(i % 256), port
80/TCP, endpoints 10.244.(k/250 % 256).(k % 250 + 1):8080 for k = 2i, 2i+1.
A verdict map from (address, protocol, port) to a chain per service, which
picks one of two chains per endpoint (numgen), each of which marks hairpin
traffic for masquerade and DNATs.

"change" is what labkube's incremental step does to service N/2 (its second
endpoint's port 8080 -> 8081), done as kube-proxy does it: endpoint chains
are named after the endpoint, so a new endpoint chain is added, the
service's chain rewritten to point at it, and the old chain deleted, in one
transaction. Began as shared/recipes/nft-ruleset.py; kept here so that the
benchmark is reproducible from the repository.
"""
import sys

TABLE = "kp"


def vip(i):
    return "10.%d.%d.%d" % (96 + i // 65536, (i // 256) % 256, i % 256)


def ep(k):
    return "10.244.%d.%d" % ((k // 250) % 256, k % 250 + 1)


def full(n):
    out = ["table ip %s {" % TABLE,
           " map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }",
           " chain mark-for-masq { meta mark set meta mark or 0x4000; }",
           " chain services { ip daddr . meta l4proto . th dport vmap @service-ips; }",
           " chain nat-pre { type nat hook prerouting priority -100; jump services; }",
           " chain nat-out { type nat hook output priority -100; jump services; }"]
    elems = []
    for i in range(n):
        for e in range(2):
            a = ep(2 * i + e)
            out.append(" chain ep-%d-%d { ip saddr %s jump mark-for-masq; "
                       "meta l4proto tcp dnat to %s:8080; }" % (i, e, a, a))
        out.append(" chain svc-%d { numgen random mod 2 vmap "
                   "{ 0 : goto ep-%d-0, 1 : goto ep-%d-1 }; }" % (i, i, i))
        elems.append("%s . tcp . 80 : goto svc-%d" % (vip(i), i))
    out.append("}")
    out.append("add element ip %s service-ips { %s }" % (TABLE, ", ".join(elems)))
    return "\n".join(out) + "\n"


def change(n):
    i = n // 2
    a = ep(2 * i + 1)
    t = "ip " + TABLE
    return "\n".join([
        "add chain %s ep-%d-1-b" % (t, i),
        "add rule %s ep-%d-1-b ip saddr %s jump mark-for-masq" % (t, i, a),
        "add rule %s ep-%d-1-b meta l4proto tcp dnat to %s:8081" % (t, i, a),
        "flush chain %s svc-%d" % (t, i),
        "add rule %s svc-%d numgen random mod 2 vmap { 0 : goto ep-%d-0, 1 : goto ep-%d-1-b }"
        % (t, i, i, i),
        "delete chain %s ep-%d-1" % (t, i)]) + "\n"


def main(argv):
    if len(argv) != 3 or argv[1] not in ("full", "change") or not argv[2].isdigit() \
            or int(argv[2]) < 1:
        sys.exit("usage: kube-proxy-nft.py full|change N")
    sys.stdout.write((full if argv[1] == "full" else change)(int(argv[2])))


if __name__ == "__main__":
    main(sys.argv)
