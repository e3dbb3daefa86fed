#!/usr/bin/env bash
# t414: a pod reaching a Service whose endpoint is another pod of the same
# bridge gets its answer: the reply is bridged straight back, so only with
# bridge-nf-call-iptables does conntrack undo the DNAT. The node agent turns
# it on (it is per network namespace); here it starts switched off. The
# module br_netfilter must be loaded (`make deps` loads it): without it the
# file fails, as a pod reaching a pod through a Service does not work.
. "$(dirname "$0")/lib.sh"
lk_plan 5
lk_netns_up
lk_kubeconfig
if ! lk_nsexec sh -c 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables' 2>/dev/null; then
	lk_bail "br_netfilter is loaded (/proc/sys/net/bridge/bridge-nf-call-iptables is missing: run make deps, which loads it, or modprobe br_netfilter)"
fi
lk_server_start

expect_eq "the node agent turned bridge-nf-call-iptables on" 1 \
	"$(lk_nsexec cat /proc/sys/net/bridge/bridge-nf-call-iptables)"
M=$(lk_manifest two.yaml <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: server, labels: {app: server}}
spec:
  containers:
  - {name: s, image: registry.k8s.io/e2e-test-images/agnhost:2.40, args: [netexec, --http-port=8080, --udp-port=-1]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - {name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.40, args: [netexec, --http-port=8080, --udp-port=-1]}
---
apiVersion: v1
kind: Service
metadata: {name: server}
spec:
  selector: {app: server}
  ports: [{port: 80, targetPort: 8080}]
Y
)
expect_ok "two pods and a service" kc apply -f "$M"
ready() { [ "$(kc get pod "$1" -o jsonpath='{.status.containerStatuses[0].ready}')" = true ]; }
eps() { [ -n "$(kc get endpoints server -o jsonpath='{.subsets[0].addresses[0].ip}')" ]; }
if lk_wait_for 60 ready server && lk_wait_for 60 ready client && lk_wait_for 30 eps; then
	pass "pods ready, endpoints listed"
else
	lk_bail "pods ready, endpoints listed"
fi
CLIENT=$(kc get pod client -o jsonpath='{.status.podIP}')
SERVER=$(kc get pod server -o jsonpath='{.status.podIP}')
CIP=$(kc get svc server -o jsonpath='{.spec.clusterIP}')
dial_host() { # the client pod asks HOST:PORT/hostname, prints the answer
	lk_nsexec curl -s -m 5 "http://$CLIENT:8080/dial?request=hostname&host=$1&port=$2&protocol=http&tries=1" |
		"$LK_PY" -c 'import json, sys; print("\n".join(json.load(sys.stdin).get("responses") or []))'
}
expect_eq "client pod -> server pod IP" server "$(dial_host "$SERVER" 8080)"
expect_eq "client pod -> cluster IP -> server pod: answered" server "$(dial_host "$CIP" 80)"
lk_done
