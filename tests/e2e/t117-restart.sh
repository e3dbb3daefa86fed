#!/usr/bin/env bash
# t117: the store survives restarts. After SIGTERM (which stops the server
# promptly, open watches included) and after SIGKILL, every object comes back
# with the same uid, resourceVersion and creationTimestamp, Service IPs and
# node ports stay, new writes get higher resourceVersions, and a watch can
# resume from a revision written before the restart (issue 2: SIGTERM stops
# cleanly within 1 s with every acknowledged write on disk).
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "restart keeps the store" "LABKUBE_FAKE=1: the fake server keeps nothing on disk"
	exit 0
fi
lk_plan 32
lk_start

NS=lkt-restart
expect_ok "create namespace" kc create namespace "$NS"
expect_ok "create deployment" kc -n "$NS" create deployment keep --image=registry.k8s.io/pause:3.9 --replicas=2
expect_ok "create nodeport service" kc -n "$NS" create service nodeport keep --tcp=80:8080
expect_ok "create configmap" kc -n "$NS" create configmap keep --from-literal=a=1

# An open watch must not hold up shutdown; kubectl get -w then exits 0. The
# watch is known to be open once it has printed a change made after its list.
kbg "$LK_TMP/w.out" 33 -n "$NS" get cm -w
W=$LK_BGPID
lk_wait_file "$LK_TMP/w.out" '^keep ' 10
expect_ok "label configmap (a second revision)" kc -n "$NS" label configmap keep lkt=yes
wait_ok "kubectl get -w prints the label change (its watch is open)" 10 \
	bash -c "[ \"\$(grep -c '^keep ' '$LK_TMP/w.out')\" -ge 2 ]"

state() { # uid/rv/creation of our objects, plus service IP and node port
	local r
	for r in "/api/v1/namespaces/$NS/configmaps/keep" "/api/v1/namespaces/$NS/services/keep" \
		"/apis/apps/v1/namespaces/$NS/deployments/keep" "/api/v1/namespaces/$NS"; do
		curl_api "$r" | jf '" ".join([d["kind"], d["metadata"]["name"], d["metadata"]["uid"], d["metadata"]["creationTimestamp"], json.dumps(d.get("data")), json.dumps(d["metadata"].get("labels", {}), sort_keys=True), d.get("spec", {}).get("clusterIP", "-"), str(d.get("spec", {}).get("ports", [{}])[0].get("nodePort", "-"))])'
	done
}
rv_of() { curl_api "$1" | jf 'd["metadata"]["resourceVersion"]'; }
CMU=/api/v1/namespaces/$NS/configmaps/keep
BEFORE=$(state)
CMRV=$(rv_of "$CMU")
SVCRV=$(rv_of "/api/v1/namespaces/$NS/services/keep")
LISTRV=$(curl_api "/api/v1/namespaces/$NS/configmaps" | jf 'd["metadata"]["resourceVersion"]')
expect_match "state recorded" '^ConfigMap keep [0-9a-f-]{36} ' "$BEFORE"

lk_server_stop 15
if [ "$LK_STOP_MS" -le 1000 ]; then pass "SIGTERM stops the server within 1 s (${LK_STOP_MS} ms)"
else fail "SIGTERM stops the server within 1 s (${LK_STOP_MS} ms)"; fi
expect_eq "exit code after SIGTERM" 0 "$LK_STOP_RC"
if lk_wait_for 5 bash -c "! kill -0 $W 2>/dev/null"; then
	wait "$W"
	expect_eq "kubectl get -w exits 0 when the server goes away" 0 "$?"
else
	fail "kubectl get -w ends when the server goes away"
	lk_kill "$W"
fi

lk_server_start
pass "server starts again on the same data dir"
expect_eq "objects identical after restart (uid, creation, data, labels, IP, node port)" "$BEFORE" "$(state)"
expect_eq "configmap resourceVersion kept" "$CMRV" "$(rv_of "$CMU")"
expect_eq "service resourceVersion kept" "$SVCRV" "$(rv_of "/api/v1/namespaces/$NS/services/keep")"
expect_ok "kubectl get after restart" kc -n "$NS" get deploy,svc,cm -o name
expect_match "deployment listed" '^deployment\.apps/keep$' "$OUT"
expect_match "configmap listed" '^configmap/keep$' "$OUT"
expect_ok "get deploy table after restart" kc -n "$NS" get deploy keep --no-headers
expect_match "deployment row" '^keep +[0-9]+/2 ' "$OUT"

# Writes continue from the old revision; watch resumes across the restart.
api PATCH "$CMU" -H 'Content-Type: application/merge-patch+json' -d '{"data":{"a":"2"}}'
expect_code "patch after restart" 200
NEWRV=$(jf 'd["metadata"]["resourceVersion"]' "$BODY")
expect_gt "new resourceVersion > every pre-restart one" "$NEWRV" "$LISTRV"
got=$(curl_api "/api/v1/namespaces/$NS/configmaps?watch=true&resourceVersion=$LISTRV&timeoutSeconds=1" --max-time 8 |
	"$LK_PY" -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        e = json.loads(l); print(e["type"], e["object"]["metadata"]["name"], e["object"]["metadata"]["resourceVersion"])')
expect_eq "watch from a pre-restart revision sees the change" "MODIFIED keep $NEWRV" "$got"
expect_ok "create after restart" kc -n "$NS" create configmap after --from-literal=b=1
expect_eq "create prints created" "configmap/after created" "$OUT"
expect_ok "create a service after restart" kc -n "$NS" create service clusterip other --tcp=81
OTHERIP=$(curl_api "/api/v1/namespaces/$NS/services/other" | jf 'd["spec"]["clusterIP"]')
KEEPIP=$(curl_api "/api/v1/namespaces/$NS/services/keep" | jf 'd["spec"]["clusterIP"]')
expect_match "the new service has a cluster IP" '^10\.' "$OTHERIP"
if [[ $KEEPIP =~ ^10\. ]] && [ "$OTHERIP" != "$KEEPIP" ]; then
	pass "a new service does not reuse an allocated IP ($OTHERIP, keep has $KEEPIP)"
else
	fail "a new service does not reuse an allocated IP ($OTHERIP vs $KEEPIP)"
fi

# SIGKILL: what was acknowledged is on disk.
api POST "/api/v1/namespaces/$NS/configmaps" -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"acked"},"data":{"x":"y"}}'
expect_code "create acked" 201
ACKRV=$(jf 'd["metadata"]["resourceVersion"]' "$BODY")
BEFORE=$(state)
lk_server_kill # on purpose: no exit status to check
lk_server_start
pass "server starts after SIGKILL"
expect_eq "acknowledged create survives SIGKILL" "$ACKRV y" \
	"$(curl_api "/api/v1/namespaces/$NS/configmaps/acked" | jf 'd["metadata"]["resourceVersion"] + " " + d["data"]["x"]')"
expect_eq "objects identical after SIGKILL" "$BEFORE" "$(state)"
expect_ok "readyz after SIGKILL restart" kc get --raw /readyz
