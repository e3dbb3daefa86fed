#!/usr/bin/env bash
# t403: Service allocations survive a restart and are never handed out twice
# (the allocators are rebuilt from the stored Services); --lb-pool gives
# LoadBalancer services addresses of a pool, and loadBalancerIP is honoured
# when it is a free pool address.
. "$(dirname "$0")/lib.sh"
lk_plan 19
lk_start --lb-pool 192.0.2.100-192.0.2.101 --service-node-port-range 30000-30009

svc() { curl_api "/api/v1/namespaces/default/services/$1"; }
ingress() { svc "$1" | jf '(d["status"]["loadBalancer"].get("ingress") or [{}])[0].get("ip", "")'; }
has_ingress() { [ "$(ingress "$1")" = "$2" ]; }
# The controller's positive marker for a service it cannot serve: a Warning
# AllocationFailed event (a new Event object per server run).
af_events() {
	curl_api /api/v1/namespaces/default/events |
		jf 'len([e for e in d["items"] if e["involvedObject"]["name"] == "lb3" and e["reason"] == "AllocationFailed"])'
}
af_at_least() { local n; n=$(af_events); [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge "$1" ]; }

expect_ok "create NodePort a" kc create service nodeport a --tcp=80
A=$(svc a | jf 'd["spec"]["clusterIP"] + " " + str(d["spec"]["ports"][0]["nodePort"])')
NPA=${A#* }
if [ "$NPA" -ge 30000 ] && [ "$NPA" -le 30009 ]; then pass "node port $NPA in --service-node-port-range"; else fail "node port $NPA in 30000-30009"; fi
lk_manifest lb1.yaml >/dev/null <<'Y'
apiVersion: v1
kind: Service
metadata: {name: lb1}
spec: {type: LoadBalancer, loadBalancerIP: 192.0.2.101, ports: [{port: 80}]}
Y
expect_ok "create LB asking for a pool address" kc create -f "$LK_TMP/lb1.yaml"
if lk_wait_for 10 has_ingress lb1 192.0.2.101; then pass "loadBalancerIP in the pool is honoured"; else fail "loadBalancerIP honoured" "$(svc lb1)"; fi
expect_ok "create LB b" kc create service loadbalancer lb2 --tcp=81
if lk_wait_for 10 has_ingress lb2 192.0.2.100; then pass "next pool address"; else fail "next pool address" "$(svc lb2)"; fi
expect_ok "create LB c" kc create service loadbalancer lb3 --tcp=82
wait_ok "the controller reports AllocationFailed for lb3 (event)" 10 af_at_least 1
run kc get svc lb3 --no-headers
expect_match "pool exhausted: <pending>" '^lb3 +LoadBalancer +10\.[0-9.]+ +<pending> ' "$OUT"

BEFORE=$(for s in a lb1 lb2 lb3; do svc $s | jf 'd["spec"]["clusterIP"] + " " + str([p.get("nodePort") for p in d["spec"]["ports"]])'; done)
lk_server_stop 15
lk_server_start --lb-pool 192.0.2.100-192.0.2.101 --service-node-port-range 30000-30009
pass "server restarted"
AFTER=$(for s in a lb1 lb2 lb3; do svc $s | jf 'd["spec"]["clusterIP"] + " " + str([p.get("nodePort") for p in d["spec"]["ports"]])'; done)
expect_eq "cluster IPs and node ports kept" "$BEFORE" "$AFTER"
wait_ok "the restarted controller has been through the services (lb3's AllocationFailed again)" 10 af_at_least 2
expect_eq "pool addresses kept" "192.0.2.101 192.0.2.100" "$(ingress lb1) $(ingress lb2)"

printf 'apiVersion: v1\nkind: Service\nmetadata: {name: dup}\nspec: {type: NodePort, ports: [{port: 80, nodePort: %s}]}\n' "$NPA" >"$LK_TMP/dup.yaml"
run kc create -f "$LK_TMP/dup.yaml"
expect_match "a node port from before the restart is still taken" "$NPA.*provided port is already allocated" "$ERR"
# Fill the small node port range: no value of an old service comes back.
USED=$(curl_api /api/v1/services | jf '" ".join(str(p["nodePort"]) for s in d["items"] for p in s["spec"].get("ports", []) if p.get("nodePort"))')
n=0
for i in $(seq 1 10); do
	run kc create service nodeport "f$i" --tcp="$((1000 + i))"
	[ "$RC" = 0 ] && n=$((n + 1))
done
NEW=$(for i in $(seq 1 $n); do svc "f$i" | jf 'str(d["spec"]["ports"][0]["nodePort"])'; done | sort)
DUP=$(printf '%s\n' $USED $NEW | sort | uniq -d)
expect_eq "no node port handed out twice" "" "$DUP"
expect_eq "the range fills up exactly" 10 "$(printf '%s\n' $USED $NEW | sort -u | wc -l)"
run kc create service nodeport full --tcp=2000
expect_match "full range: upstream's error" 'failed to allocate a nodePort: range is full' "$ERR"

expect_ok "delete lb1" kc delete svc lb1
if lk_wait_for 10 has_ingress lb3 192.0.2.101; then pass "the freed pool address goes to the pending service"; else fail "freed pool address reused" "$(svc lb3)"; fi
lk_done
