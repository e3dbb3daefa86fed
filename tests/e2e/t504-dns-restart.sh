#!/usr/bin/env bash
# t504: the bootstrap objects follow the flags across restarts. A restart
# with the same flags leaves kube-dns and kubernetes untouched (same
# resourceVersion); a restart with another --cluster-dns moves the kube-dns
# Service to the new IP, pods are told the new nameserver, and names resolve
# there; a hand-broken kube-dns EndpointSlice is repaired by the next start.
. "$(dirname "$0")/lib.sh"
lk_plan 12
lk_start

rv() { curl_api "/api/v1/namespaces/$1/$2/$3" | jf 'd["metadata"]["resourceVersion"]'; }
rv_slice() { curl_api "/apis/discovery.k8s.io/v1/namespaces/$1/endpointslices/$2" | jf 'd["metadata"]["resourceVersion"]'; }
snapshot() {
	echo "$(rv kube-system services kube-dns) $(rv kube-system endpoints kube-dns)" \
	     "$(rv_slice kube-system kube-dns) $(rv default services kubernetes)" \
	     "$(rv default endpoints kubernetes) $(rv_slice default kubernetes)"
}
resolves() { # resolves SERVER NAME WANT
	[ "$(lk_nsexec dig @"$1" +short +time=2 +tries=1 "$2" A)" = "$3" ]
}

BEFORE=$(snapshot)
expect_match "the six bootstrap objects have resourceVersions" '^[0-9]+( [0-9]+){5}$' "$BEFORE"
lk_server_stop 15
lk_server_start
# The marker: a Service created after the restart gets its Endpoints and
# EndpointSlice only once the controllers have been through what they
# queued at start (where a rewrite of the bootstrap objects would happen).
expect_ok "create a service after the restart" kc create service clusterip marker --tcp=80
marker_eps() {
	kc get endpoints marker >/dev/null 2>&1 &&
		[ -n "$(kc get endpointslices -l kubernetes.io/service-name=marker -o name 2>/dev/null)" ]
}
wait_ok "... the controllers give it Endpoints and an EndpointSlice" 15 marker_eps
expect_eq "same flags: the bootstrap objects are not rewritten" "$BEFORE" "$(snapshot)"

lk_server_stop 15
lk_server_start --cluster-dns 10.96.0.53
run kc get svc -n kube-system kube-dns --no-headers
expect_match "--cluster-dns moved kube-dns" '^kube-dns +ClusterIP +10\.96\.0\.53 +<none> +53/UDP,53/TCP ' "$OUT"
if lk_wait_for 10 resolves 10.96.0.53 kubernetes.default.svc.cluster.local 10.96.0.1; then
	pass "the new cluster DNS IP answers"
else
	fail "the new cluster DNS IP answers" "$(lk_nsexec dig @10.96.0.53 kubernetes.default.svc.cluster.local A 2>&1)"
fi
expect_eq "ns.dns.cluster.local is the new IP" "10.96.0.53" \
	"$(lk_nsexec dig @10.96.0.53 +short ns.dns.cluster.local A)"
expect_ok "a pod" kc run p --image=dnsutils --restart=Never -- sh -c 'cat /etc/resolv.conf; sleep 3600'
pod_ns() { kc logs p 2>/dev/null | grep -q '^nameserver 10.96.0.53$'; }
if lk_wait_for 30 pod_ns; then pass "pods get the new nameserver"; else fail "pods get the new nameserver" "$(kc logs p 2>&1)"; fi

expect_ok "break the kube-dns EndpointSlice by hand" kc -n kube-system patch endpointslice kube-dns \
	--type=json -p '[{"op":"replace","path":"/endpoints/0/addresses/0","value":"10.244.9.9"}]'
lk_server_stop 15
lk_server_start --cluster-dns 10.96.0.53
expect_eq "the next start repairs it" "10.244.0.1" \
	"$(curl_api /apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns | jf 'd["endpoints"][0]["addresses"][0]')"
if lk_wait_for 10 resolves 10.96.0.53 kube-dns.kube-system.svc.cluster.local 10.96.0.53; then
	pass "and DNS answers through it again"
else
	fail "and DNS answers through it again" "$(lk_nsexec dig @10.96.0.53 kube-dns.kube-system.svc.cluster.local A 2>&1)"
fi
lk_done
