#!/usr/bin/env bash
# t303: pods outlive labkube. After SIGTERM and after SIGKILL of the server
# the pods keep serving while it is down, and the restarted agent adopts
# them: same IPs, same container IDs, no restart, logs and deletion still
# work. A pod whose sandbox dies is restarted with the same IP. Without
# CAP_NET_ADMIN/CAP_SYS_ADMIN the node is NotReady with the reason and no
# pod runs; a pod force-deleted meanwhile is cleaned up (processes, veth,
# directory) when the agent is back. Nothing leaks.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "node agent" "the fake server runs no pods"
	exit 0
fi
lk_plan 39
lk_start

NS=lkt-restart
K=(kc -n "$NS")
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
ready_pods() {
	"${K[@]}" get pods -l app=web -o json | jf 'len([p for p in d["items"] if p["status"].get("phase") == "Running" and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))])'
}
ready_is() { [ "$(ready_pods)" = "$1" ]; }
state() { # name ip containerID restarts, per pod
	"${K[@]}" get pods -o json | jf '"\n".join(sorted("%s %s %s %s" % (p["metadata"]["name"], p["status"].get("podIP"), p["status"]["containerStatuses"][0].get("containerID"), p["status"]["containerStatuses"][0]["restartCount"]) for p in d["items"]))'
}
web_ips() { "${K[@]}" get pods -l app=web -o jsonpath='{.items[*].status.podIP}'; }
answer() { # answer IP...: each answers "Hello Kubernetes!"
	local ip
	[ $# -gt 0 ] || return 1
	for ip in "$@"; do
		[ "$(lk_nsexec curl -s -m 2 "http://$ip:8080/")" = "Hello Kubernetes!" ] || return 1
	done
}
serving() { answer $(web_ips); }
state_is() { [ "$(state)" = "$1" ]; }
link_gone() { # link_gone DESC DEV: ip says DEV does not exist (not any error)
	run lk_nsexec ip -o link show "$2"
	if [ "$RC" -ne 0 ] && grep -q 'does not exist' <<<"$ERR"; then pass "$1"; return 0; fi
	fail "$1 (expected: Device \"$2\" does not exist)"; lk_cmd_diag ip -o link show "$2"
}

expect_ok "create namespace" kc create namespace "$NS"
expect_ok "create deployment web (node-hello x2)" "${K[@]}" create deployment web \
	--image=gcr.io/google-samples/node-hello:1.0 --replicas=2 --port=8080
M=$(lk_manifest ticker.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]}
EOF
)
expect_ok "create a logging pod" "${K[@]}" apply -f "$M"
wait_ok "2 web pods ready" 60 ready_is 2
phase_is() { [ "$("${K[@]}" get pod "$1" -o jsonpath='{.status.phase}')" = "$2" ]; }
wait_ok "ticker Running" 30 phase_is ticker Running
wait_ok "all serving" 10 serving
BEFORE=$(state)
IPS=$(web_ips)

# ---- SIGTERM ----
lk_server_stop 15 # a non-zero exit also fails the file (lib.sh)
expect_eq "server stops with code 0" 0 "$LK_STOP_RC"
if answer $IPS; then pass "pods keep serving while labkube is down"; else fail "pods keep serving while labkube is down"; fi
lk_server_start
wait_ok "after SIGTERM: pods adopted (same IPs, container IDs, no restarts)" 15 \
	state_is "$BEFORE"
expect_eq "after SIGTERM: state" "$BEFORE" "$(state)"
wait_ok "after SIGTERM: all serving" 10 serving
expect_eq "after SIGTERM: still ready" 2 "$(ready_pods)"
run "${K[@]}" logs ticker --tail=1
expect_match "after SIGTERM: logs of the adopted container" '^tick [0-9]+$' "$OUT"
N1=$(sed 's/tick //' <<<"$OUT")
sleep 0.6
run "${K[@]}" logs ticker --tail=1
expect_gt "after SIGTERM: it kept logging" "$(sed 's/tick //' <<<"$OUT")" "$N1"

# ---- SIGKILL ----
lk_server_kill # on purpose: no exit status to check
if answer $IPS; then pass "pods keep serving after SIGKILL of labkube"; else fail "pods keep serving after SIGKILL of labkube"; fi
lk_server_start
wait_ok "after SIGKILL: pods adopted (same IPs, container IDs, no restarts)" 15 \
	state_is "$BEFORE"
expect_eq "after SIGKILL: state" "$BEFORE" "$(state)"
wait_ok "after SIGKILL: all serving" 10 serving

# ---- a dead sandbox: the pod comes back with the same IP ----
TUID=$("${K[@]}" get pod ticker -o jsonpath='{.metadata.uid}')
TIP=$("${K[@]}" get pod ticker -o jsonpath='{.status.podIP}')
SB=$(procs_with "_sandbox $LK_TMP/data $TUID ")
expect_match "ticker has one sandbox process" '^[0-9]+ $' "$SB"
kill -KILL $SB
restarted() { [ "$("${K[@]}" get pod ticker -o jsonpath='{.status.containerStatuses[0].restartCount}/{.status.phase}/{.status.containerStatuses[0].ready}')" = "1/Running/true" ]; }
wait_ok "sandbox killed: the container restarts" 20 restarted
expect_eq "sandbox killed: same IP" "$TIP" "$("${K[@]}" get pod ticker -o jsonpath='{.status.podIP}')"
run "${K[@]}" get events --field-selector involvedObject.name=ticker -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}'
expect_line "sandbox killed: SandboxChanged event" "SandboxChanged" "$OUT"
has_sandbox() { [ -n "$(procs_with "_sandbox $LK_TMP/data $TUID ")" ]; }
wait_ok "sandbox killed: one sandbox again" 10 has_sandbox

# ---- without root capabilities: NotReady, nothing runs ----
lk_server_stop 15 # fails the file unless the server exits 0
cat >"$LK_TMP/nocaps.sh" <<EOF
#!/bin/sh
exec setpriv --bounding-set -net_admin,-sys_admin -- "$LABKUBE" "\$@"
EOF
chmod +x "$LK_TMP/nocaps.sh"
REAL=$LABKUBE
LABKUBE=$LK_TMP/nocaps.sh
lk_server_start
node_reason() { kc get node "$LK_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}'; }
not_ready() { node_reason | grep -q '^False .*CAP_NET_ADMIN and CAP_SYS_ADMIN'; }
wait_ok "no capabilities: node NotReady with the reason" 20 not_ready
expect_match "no capabilities: the server log says it once" 'node: labkube needs root \(CAP_NET_ADMIN and CAP_SYS_ADMIN\)' "$(cat "$LK_LOG")"
expect_eq "said once" 1 "$(grep -c 'needs root (CAP_NET_ADMIN' "$LK_LOG")"
# a pod force-deleted while the agent is away
GONE=$("${K[@]}" get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
GUID=$("${K[@]}" get pod "$GONE" -o jsonpath='{.metadata.uid}')
GIP=$("${K[@]}" get pod "$GONE" -o jsonpath='{.status.podIP}')
expect_ok "force-delete a pod while the agent is away" "${K[@]}" delete pod "$GONE" --force --grace-period=0
expect_match "its processes still run meanwhile" '[0-9]' "$(procs_with "$GUID")"
lk_server_stop 15 # the server without capabilities, too, exits 0
LABKUBE=$REAL
lk_server_start
wait_ok "agent back: the deleted pod's processes are gone" 15 no_procs_with "$GUID"
VETH=lkv$(tr -d - <<<"$GUID" | cut -c1-12)
link_gone "agent back: its veth is gone" "$VETH"
expect_eq "agent back: its directory is gone" "" "$(ls "$LK_TMP/data/pods" | grep -- "$GUID")"
expect_fail "agent back: its IP answers no more" lk_nsexec curl -s -m 2 "http://$GIP:8080/"
wait_ok "agent back: the deployment has 2 ready pods again" 60 ready_is 2
wait_ok "agent back: all serving" 10 serving

# ---- clean up: nothing left ----
expect_ok "delete the deployment" "${K[@]}" delete deployment web
expect_ok "delete the pods" "${K[@]}" delete pods --all --grace-period=1 --wait=true --timeout=30s
wait_ok "no pod process left" 20 no_procs_with "_shim $LK_TMP/data "
wait_ok "no sandbox left" 10 no_procs_with "_sandbox $LK_TMP/data "
run lk_nsexec ip -o link show master labkube0
expect_eq "no veth left" "" "$OUT"
