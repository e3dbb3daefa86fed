#!/usr/bin/env bash
# t205: controllers heal what changed while the server was down. A
# Deployment of 3 node-hello pods behind a Service; the server is stopped
# (SIGTERM, exit 0 checked); behind its back, by pid from the node, pod A's
# container is killed, and pod B loses every process it had (sandbox, shim,
# container: what a node reboot does to it); pod C is left alone. While the
# server is down A and B stop answering. After the start the same three pod
# objects converge: A restarted in place (restartCount 1, lastState
# terminated by SIGKILL, exit code 137), B rebuilt (restartCount 1), C
# adopted untouched (same container, restartCount 0); the Deployment is 3/3
# available, the Service's Endpoints are exactly the three pods' IPs, and
# every one answers.
#
# Only process-level changes: the objects in the store cannot be changed
# while the server is down without writing its format by hand (revision,
# change log), which is not what a real cluster's controllers face.
. "$(dirname "$0")/lib.sh"
lk_plan 23
if lk_fake; then
	for i in $(seq 23); do skip "healing ($i)" "the fake server runs no pods"; done
	exit 0
fi
lk_start
DATA=$LK_TMP/data

proc_gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
all_gone() { local p; for p in "$@"; do proc_gone "$p" || return 1; done; }
ctr_pid() { # ctr_pid UID: its container's init pid, as the shim recorded it
	local id
	read -r id _ <"$DATA/pods/$1/node-hello/current" || return 1
	jf 'd["pid"]' "$(cat "$DATA/pods/$1/node-hello/$id.state")"
}
hello() { [ "$(lk_nsexec curl -s -m 2 "http://$1:8080/")" = "Hello Kubernetes!" ]; }
pods_json() { kc get pods -l app=web -o json; }
ready_n() {
	pods_json | jf 'len([p for p in d["items"] if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") == "Running" and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))])'
}
ready_is() { [ "$(ready_n)" = "$1" ]; }
pod_ips() { pods_json | jf '" ".join(sorted(p["status"].get("podIP", "") for p in d["items"]))'; }
eps() { kc get endpoints web -o json | jf '" ".join(sorted(a["ip"] for s in d.get("subsets", []) for a in s.get("addresses", [])))'; }
eps_are_pods() { local e; e=$(eps); [ -n "$e" ] && [ "$e" = "$(pod_ips)" ] && [ "$(wc -w <<<"$e")" = 3 ]; }
status_of() { # status_of NAME: restartCount containerID lastState.terminated.exitCode/reason
	kc get pod "$1" -o json | jf 'd["status"]["containerStatuses"][0]' | jf '"%s %s %s/%s" % (d["restartCount"], d.get("containerID"), d.get("lastState", {}).get("terminated", {}).get("exitCode"), d.get("lastState", {}).get("terminated", {}).get("reason"))'
}

expect_ok "create deployment web (3 x node-hello)" kc create deployment web \
	--image=gcr.io/google-samples/node-hello:1.0 --replicas=3 --port=8080
expect_ok "expose it" kc expose deployment web --port=80 --target-port=8080
wait_ok "3 pods ready" 60 ready_is 3
wait_ok "the Endpoints are the 3 pods" 20 eps_are_pods

read -r A B C < <(kc get pods -l app=web -o jsonpath='{.items[*].metadata.name}')
declare -A UID_ IP CID
for p in "$A" "$B" "$C"; do
	UID_[$p]=$(kc get pod "$p" -o jsonpath='{.metadata.uid}')
	IP[$p]=$(kc get pod "$p" -o jsonpath='{.status.podIP}')
	CID[$p]=$(kc get pod "$p" -o jsonpath='{.status.containerStatuses[0].containerID}')
done
A_CTR=$(ctr_pid "${UID_[$A]}")
B_PROCS="$(procs_with "_sandbox $DATA ${UID_[$B]} ")$(procs_with "_shim $DATA ${UID_[$B]} ")$(ctr_pid "${UID_[$B]}")"
expect_match "A's container and B's sandbox, shim and container found" \
	'^[0-9]+ [0-9]+ [0-9]+ [0-9]+$' "$A_CTR $B_PROCS"
BEFORE=$(pod_ips)

# ---- behind the server's back ----
lk_server_stop
expect_eq "the server stops with code 0" 0 "$LK_STOP_RC"
if hello "${IP[$A]}" && hello "${IP[$B]}" && hello "${IP[$C]}"; then
	pass "with the server down the pods still answer"
else
	fail "with the server down the pods still answer"
fi
kill -KILL $A_CTR $B_PROCS
wait_ok "A's container and B's processes are gone" 10 all_gone $A_CTR $B_PROCS
if ! hello "${IP[$A]}" && ! hello "${IP[$B]}"; then pass "A and B answer no more"; else fail "A and B answer no more"; fi
if hello "${IP[$C]}"; then pass "C still answers"; else fail "C still answers"; fi

# ---- start: converge ----
lk_server_start
wait_ok "after the start: 3 pods ready again" 60 ready_is 3
run kc get pods -l app=web -o jsonpath='{.items[*].metadata.name}'
expect_eq "the same three pod objects (restarted, not replaced)" \
	"$(printf '%s\n' "$A" "$B" "$C" | sort | tr '\n' ' ')" "$(tr ' ' '\n' <<<"$OUT" | sort | tr '\n' ' ')"
run status_of "$A"
expect_match "A: restarted once, last run killed by SIGKILL (137, Error)" "^1 labkube://[0-9a-f]+ 137/Error\$" "$OUT"
expect_nomatch "A: a new container" "${CID[$A]}" "$OUT"
run status_of "$B"
expect_match "B: rebuilt, restartCount 1" "^1 labkube://[0-9a-f]+ " "$OUT"
expect_nomatch "B: a new container" "${CID[$B]}" "$OUT"
run status_of "$C"
expect_eq "C: adopted untouched" "0 ${CID[$C]} None/None" "$OUT"
wait_ok "the Endpoints are exactly the 3 pods' IPs" 20 eps_are_pods
expect_eq "the pods kept their IPs" "$BEFORE" "$(pod_ips)"
run kc get deployment web -o jsonpath='{.status.replicas}/{.status.readyReplicas}/{.status.availableReplicas}'
expect_eq "the Deployment: 3/3/3" 3/3/3 "$OUT"
run kc get replicasets -l app=web -o jsonpath='{.items[*].status.readyReplicas}'
expect_eq "one ReplicaSet, 3 ready" 3 "$OUT"
answer_all() { local ip; for ip in $(eps); do hello "$ip" || return 1; done; }
wait_ok "every endpoint answers" 10 answer_all
for p in "$A" "$B" "$C"; do hello "${IP[$p]}" || echo "# no answer from $p (A=$A B=$B C=$C) at ${IP[$p]}"; done
lk_server_stop
expect_eq "the server stops with code 0 at the end" 0 "$LK_STOP_RC"
lk_done
