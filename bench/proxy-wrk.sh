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
# mode with the ratio proxied / straight.
# Hook for bench/run.sh:  LABKUBE=... bench/proxy-wrk.sh 7 3
LK_SHOW_LOG=0
. "$(dirname "$0")/../tests/e2e/lib.sh"
ROUNDS=${1:-7}
SECS=${2:-3}
CONNS=${LKB_WRK_CONNS:-16}
command -v wrk >/dev/null 2>&1 || lk_bail "wrk is missing (make bench installs it)"
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
kc apply -f "$M" >/dev/null || lk_bail "apply the deployment and the service"
pod_ip() { kc get pods -l app=hello -o jsonpath='{.items[0].status.podIP}'; }
has_ip() { [ -n "$(pod_ip)" ]; }
lk_wait_for 60 has_ip || lk_bail "the pod gets an IP"
POD=$(pod_ip)
CIP=$(kc get svc hello -o jsonpath='{.spec.clusterIP}')
NP=$(kc get svc hello -o jsonpath='{.spec.ports[0].nodePort}')
# The outside reaches the pod CIDR through the node (the pods' replies to
# 192.0.2.2 go back the same way); port reuse for the connection-per-request
# runs. Both are settings of the outside namespace only.
lk_out ip route add 10.244.0.0/16 via "$LK_NODE_IP" || lk_bail "route the pod CIDR from outside"
lk_out sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
lk_nsexec sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
hello() { "$1" curl -s -m 1 "$2" | grep -q 'Hello Kubernetes'; }
for u in "lk_out:http://$LK_NODE_IP:$NP/" "lk_out:http://$POD:8080/" \
	"lk_nsexec:http://$CIP/" "lk_nsexec:http://$POD:8080/"; do
	lk_wait_for 30 hello "${u%%:*}" "${u#*:}" ||
		lk_bail "${u#*:} answers (from ${u%%:*})"
done

# wrk_rps WHERE URL [close]: one run; sets RES="REQ_PER_S P50_US[ errors]"
wrk_rps() {
	local where=$1 url=$2 hdr=() ns=$LK_NS
	[ "${3:-}" = close ] && hdr=(-H "Connection: close")
	[ "$where" = lk_out ] && ns=$LK_NS_OUT
	# ip netns exec itself, not a shell function: $! must be wrk's pid
	ip netns exec "$ns" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "${hdr[@]}" "$url" >"$LK_TMP/wrk.out" 2>&1 &
	LK_BG_PIDS=("$!")
	wait "$!"
	LK_BG_PIDS=()
	RES=$("$LK_PY" - "$LK_TMP/wrk.out" <<'P'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s*([0-9.]+)", t)
p50 = re.search(r"^\s*50%\s+([0-9.]+)(us|ms|s)\b", t, re.M)
if not rps or not p50:
    print("0 0 errors"); sys.exit(0)
mult = {"us": 1, "ms": 1000, "s": 1000000}[p50.group(2)]
err = re.search(r"Non-2xx or 3xx responses|Socket errors", t)
print("%.0f %.0f%s" % (float(rps.group(1)), float(p50.group(1)) * mult,
                       " errors" if err else ""))
P
)
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# pair NAME WHERE PROXIED_URL STRAIGHT_URL MODE
pair() {
	local name=$1 where=$2 a=$3 b=$4 mode=$5 r x y ra=() rb=() la=() lb=() err=0
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
		case "$x $y" in *errors*) err=$((err + 1)) ;; esac
		ra+=("${x%% *}"); la+=("$(cut -d' ' -f2 <<<"$x")")
		rb+=("${y%% *}"); lb+=("$(cut -d' ' -f2 <<<"$y")")
	done
	x=$(printf '%s\n' "${ra[@]}" | median)
	y=$(printf '%s\n' "${rb[@]}" | median)
	echo "proxy-wrk $name $mode: proxied_rps=$x straight_rps=$y" \
		"ratio=$("$LK_PY" -c "print('%.2f' % ($x / max($y, 1)))")" \
		"proxied_p50_us=$(printf '%s\n' "${la[@]}" | median)" \
		"straight_p50_us=$(printf '%s\n' "${lb[@]}" | median)" \
		"rounds_proxied=$(IFS=,; echo "${ra[*]}") rounds_straight=$(IFS=,; echo "${rb[*]}")" \
		"rounds_with_errors=$err"
}

echo "# proxy-wrk: wrk -t1 -c$CONNS, ${SECS}s per run, $ROUNDS alternating rounds, one node-hello pod ($POD), $(nproc) CPUs"
pair "outside:nodeport-vs-podip" lk_out "http://$LK_NODE_IP:$NP/" "http://$POD:8080/" keepalive
pair "outside:nodeport-vs-podip" lk_out "http://$LK_NODE_IP:$NP/" "http://$POD:8080/" close
pair "node:clusterip-vs-podip" lk_nsexec "http://$CIP/" "http://$POD:8080/" keepalive
lk_done
