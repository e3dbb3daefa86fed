#!/usr/bin/env bash
# bench/proxy-wrk.sh [ROUNDS] [SECONDS]: HTTP throughput through the service
# proxy beside the same pod reached straight, with wrk.
#
#   LABKUBE=/abs/build/labkube bench/proxy-wrk.sh 5 3
#
# Uses the e2e harness (tests/e2e/lib.sh): the cluster runs in throw-away
# namespaces of its own (a "node" and an "outside" joined by a veth,
# TEST-NET-1 addresses), and every packet stays in them; the harness's EXIT
# trap stops the server and the pods, ends wrk by pid and deletes both
# namespaces by name. One pod (node-hello, one replica, so that both paths
# end in the same process) behind a NodePort Service.
#
# The fair pair is "outside -> NODE_IP:NODE_PORT" against "outside ->
# POD_IP:8080" (the outside namespace gets a route to the pod CIDR via the
# node): both cross the same veth, the node's forwarding and the bridge, and
# conntrack sees both (the table's nat hooks are there either way); the only
# difference is the proxy's work (the service-nodeports lookup, DNAT,
# masquerade). It is measured on keep-alive connections (the proxy's rules
# see only a connection's first packet, the rest is conntrack) and with
# `Connection: close` (a new connection, hence a new trip through the rules,
# per request). The second pair, from inside the node (cluster IP:80 against
# POD_IP:8080), is keep-alive only: from the node both paths leave from the
# bridge address (the service CIDR is routed via labkube0) and end on the
# same pod ip:port without SNAT, so with a connection per request the
# TIME_WAIT conntrack entries of one path clash with the next run's new
# connections on the other (either order loses up to 10x); the figure would
# measure the alternation, not the proxy. Rounds alternate the order of the
# two targets; figures are medians over rounds. Prints one line per pair and
# mode with the ratio proxied / straight. Every wrk run must exit 0 with
# no socket error and no non-2xx answer, or the run fails with no figure.
# Writes the "## Services: throughput through the proxy" section to
# LKB_SECTION (bench/run.sh), or prints it.
LK_SHOW_LOG=0
. "$(dirname "$0")/../tests/e2e/lib.sh"
ROUNDS=${1:-7}
SECS=${2:-3}
CONNS=${LKB_WRK_CONNS:-16}
command -v wrk >/dev/null 2>&1 || lk_bail "wrk is missing (make bench installs it)"
lk_plan 10
LOAD0=$("$LK_PY" "$LK_TOP/bench/benchlib.py" load)
T0=$(date +%s)
lk_start
M=$(lk_manifest hello.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec: {containers: [{name: c, image: gcr.io/google-samples/node-hello:1.0, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  type: NodePort
  selector: {app: hello}
  ports: [{port: 80, targetPort: 8080}]
Y
)
expect_ok "apply the deployment and the service" kc apply -f "$M" || lk_bail "no service to measure"
pod_ip() { kc get pods -l app=hello -o jsonpath='{.items[0].status.podIP}'; }
has_ip() { [ -n "$(pod_ip)" ]; }
wait_ok "the pod gets an IP" 60 has_ip || lk_bail "no pod to measure"
POD=$(pod_ip)
CIP=$(kc get svc hello -o jsonpath='{.spec.clusterIP}')
NP=$(kc get svc hello -o jsonpath='{.spec.ports[0].nodePort}')
# The outside reaches the pod CIDR through the node (the pods' replies to
# 192.0.2.2 go back the same way); port reuse for the connection-per-request
# runs. Both are settings of the outside namespace only.
setup_ns() {
	lk_out ip route add 10.244.0.0/16 via "$LK_NODE_IP" &&
		lk_out sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" &&
		lk_nsexec sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
}
expect_ok "route the pod CIDR from outside, port reuse in both namespaces" setup_ns || lk_bail "cannot set up the paths"
hello() { "$1" curl -s -m 1 "$2" | grep -q 'Hello Kubernetes'; }
for u in "lk_out:http://$LK_NODE_IP:$NP/" "lk_out:http://$POD:8080/" \
	"lk_nsexec:http://$CIP/" "lk_nsexec:http://$POD:8080/"; do
	wait_ok "${u#*:} answers (from ${u%%:*})" 30 hello "${u%%:*}" "${u#*:}" ||
		lk_bail "a path does not answer"
done

# wrk_rps WHERE URL [close]: one run; sets RES="REQ_PER_S P50_US", or
# fails the file (wrk's exit code, socket errors, non-2xx answers).
wrk_rps() {
	local where=$1 url=$2 hdr=() ns=$LK_NS rc
	[ "${3:-}" = close ] && hdr=(-H "Connection: close")
	[ "$where" = lk_out ] && ns=$LK_NS_OUT
	# ip netns exec itself, not a shell function: $! must be wrk's pid
	ip netns exec "$ns" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "${hdr[@]}" "$url" >"$LK_TMP/wrk.out" 2>&1 &
	LK_BG_PIDS=("$!")
	wait "$!"
	rc=$?
	LK_BG_PIDS=()
	[ "$rc" = 0 ] || lk_bail "wrk ${hdr[*]} $url from $where exited with $rc" "$(cat "$LK_TMP/wrk.out")"
	RES=$("$LK_PY" - "$LK_TMP/wrk.out" <<'P'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s*([0-9.]+)", t)
p50 = re.search(r"^\s*50%\s+([0-9.]+)(us|ms|s)\b", t, re.M)
err = re.search(r"Non-2xx or 3xx responses|Socket errors", t)
if not rps or not p50 or err:
    sys.stderr.write(t)
    sys.exit(1)
mult = {"us": 1, "ms": 1000, "s": 1000000}[p50.group(2)]
print("%.0f %.0f" % (float(rps.group(1)), float(p50.group(1)) * mult))
P
) || lk_bail "wrk ${hdr[*]} $url from $where: errors or no figures" "$(cat "$LK_TMP/wrk.out")"
}

# pair NAME WHERE PROXIED_URL STRAIGHT_URL MODE: rounds into $LK_TMP/pairs
pair() {
	local name=$1 where=$2 a=$3 b=$4 mode=$5 r x y
	wrk_rps "$where" "$a" "$mode" # warm-up
	wrk_rps "$where" "$b" "$mode"
	for r in $(seq "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			wrk_rps "$where" "$a" "$mode"; x=$RES
			wrk_rps "$where" "$b" "$mode"; y=$RES
		else
			wrk_rps "$where" "$b" "$mode"; y=$RES
			wrk_rps "$where" "$a" "$mode"; x=$RES
		fi
		echo "$name $mode $r $x $y" >>"$LK_TMP/pairs"
	done
	pass "$name $mode: $ROUNDS rounds, every wrk run clean"
}

: >"$LK_TMP/pairs"
echo "# proxy-wrk: wrk -t1 -c$CONNS, ${SECS}s per run, $ROUNDS alternating rounds, one node-hello pod ($POD), $(nproc) CPUs"
pair "outside:nodeport-vs-podip" lk_out "http://$LK_NODE_IP:$NP/" "http://$POD:8080/" keepalive
pair "outside:nodeport-vs-podip" lk_out "http://$LK_NODE_IP:$NP/" "http://$POD:8080/" close
pair "node:clusterip-vs-podip" lk_nsexec "http://$CIP/" "http://$POD:8080/" keepalive
"$LK_PY" - "$LK_TMP/pairs" "$ROUNDS" "$SECS" "$CONNS" "$LOAD0" "$(($(date +%s) - T0))" "$LK_TOP/bench" <<'P' || lk_bail "write the section"
import sys
sys.path.insert(0, sys.argv[7])
import benchlib
from benchlib import median
rounds, secs, conns = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
load0 = [float(x) for x in sys.argv[5].split()]
load1 = benchlib.loadavg()
data = {}
for line in open(sys.argv[1]):
    name, mode, r, xr, xl, yr, yl = line.split()
    data.setdefault((name, mode), []).append(tuple(float(v) for v in (xr, xl, yr, yl)))
label = {"outside:nodeport-vs-podip": "outside → NODE_IP:NODE_PORT vs outside → POD_IP:8080",
         "node:clusterip-vs-podip": "node → cluster IP:80 vs node → POD_IP:8080"}
mlabel = {"keepalive": "keep-alive", "close": "one per request (`Connection: close`)"}
L = ["## Services: throughput through the proxy (wrk)", "",
     "Written by `bench/proxy-wrk.sh %d %d` (the e2e harness, tests/e2e/lib.sh: a node and an "
     "outside namespace joined by a veth); %s s. One node-hello pod (one replica, so that both "
     "paths end in the same process) behind a NodePort Service. wrk `-t1 -c%d`, %d s per run, "
     "%d rounds that alternate which target goes first, after one warm-up run of each; medians "
     "over rounds. Every run exited 0 with no socket error and no non-2xx answer." % (
         rounds, secs, sys.argv[6], conns, secs, rounds), "",
     "| path (proxied vs straight) | connections | proxied req/s | straight req/s "
     "| proxied ÷ straight | p50 proxied / straight |", "|---|---|--:|--:|--:|--:|"]
flags = benchlib.load_flags(load0, load1)
rd = []
for (name, mode), rs in data.items():
    pr, pl = median([r[0] for r in rs]), median([r[1] for r in rs])
    sr, sl = median([r[2] for r in rs]), median([r[3] for r in rs])
    L.append("| %s | %s | {:,.0f} | {:,.0f} | %.2f× | %.0f / %.0f µs |".format(pr, sr) % (
        label[name], mlabel[mode], pr / sr, pl, sl))
    for i, who in ((0, "proxied"), (2, "straight")):
        flags.append(benchlib.drift("%s %s, %s req/s" % (name, mode, who),
                                    [r[i] for r in rs]))
    per = [r[0] / r[2] for r in rs]
    rd.append("%s, %s: the proxied path carried %.0f%% of the straight path's requests per "
              "second (per round %.0f–%.0f%%), its median latency %s by %.0f µs." % (
                  label[name], mlabel[mode], 100 * pr / sr, 100 * min(per), 100 * max(per),
                  "higher" if pl > sl else "lower" if pl < sl else "unchanged", abs(pl - sl)))
L += ["", "Rounds, req/s proxied / straight: " + "; ".join(
    "%s %s: %s" % (name, mode, ", ".join("{:,.0f} / {:,.0f}".format(r[0], r[2]) for r in rs))
    for (name, mode), rs in data.items()) + ".", "",
      "Reading (computed): " + " ".join(rd), "",
      "Method: in the outside pair both targets cross the same veth, the node's forwarding and "
      "the bridge, and conntrack sees both; the difference is the proxy's work (the "
      "service-nodeports lookup, DNAT through the endpoint map, masquerade). On kept-alive "
      "connections the rules see a connection's first packet only. The node pair is not "
      "measured with a connection per request: from the node both paths leave from the bridge "
      "address and end on the same pod ip:port without SNAT, so one path's TIME_WAIT conntrack "
      "entries clash with the other's new connections (see the script's header). wrk runs on "
      "the same CPUs as the pod and the forwarding.", "",
      benchlib.load_line(load0, load1), "", benchlib.flags_block(flags)]
benchlib.emit("\n".join(L), "proxy wrk")
P
lk_done
