#!/usr/bin/env bash
# t306: the termination grace period. A pod whose process ignores SIGTERM
# (terminationGracePeriodSeconds 5): after `kubectl delete` it gets SIGTERM
# (its trap logs it), is still running before the 5 s are up, and is killed
# after them (its pid, recorded from the node, is gone no sooner than 5 s
# and not much later); then the pod object is NotFound. A pod that exits on
# SIGTERM (grace 30) goes at once: the grace period is an upper bound.
# kubectl delete --grace-period=N overrides the spec.
. "$(dirname "$0")/lib.sh"
lk_plan 22
if lk_fake; then
	for i in $(seq 22); do skip "grace period ($i)" "the fake server runs no pods"; done
	exit 0
fi
lk_start
DATA=$LK_TMP/data

proc_alive() { # proc_alive PID:START: that process runs (not a zombie)
	local pid=${1%%:*} st
	st=$(awk '{print $3 ":" $22}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ "${st%%:*}" != Z ] && [ "${st#*:}" = "${1#*:}" ]
}
proc_gone() { ! proc_alive "$1"; }
ctr_proc() { # ctr_proc POD: "PID:START" of its container's init, from the node
	local uid id pid
	uid=$(kc get pod "$1" -o jsonpath='{.metadata.uid}') || return 1
	read -r id _ <"$DATA/pods/$uid/c/current" || return 1
	pid=$(jf 'd["pid"]' "$(cat "$DATA/pods/$uid/c/$id.state")") || return 1
	proc_id "$pid"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
pod() { # pod NAME GRACE COMMAND
	lk_manifest "$1.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: $2
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "$3"]
EOF
}
running() { [ "$(kc get pod "$1" -o jsonpath='{.status.phase}')" = Running ]; }
logged() { kc logs "$1" 2>/dev/null | grep -Fxq -- "$2"; }

expect_ok "create pod stubborn (ignores SIGTERM, grace 5)" kc apply -f \
	"$(pod stubborn 5 "trap 'echo TERM ignored' TERM; echo up; while :; do sleep 0.1; done")"
expect_ok "create pod polite (exits on SIGTERM, grace 30)" kc apply -f \
	"$(pod polite 30 "trap 'echo bye; exit 0' TERM; echo up; while :; do sleep 0.1; done")"
expect_ok "create pod override (ignores SIGTERM, grace 30)" kc apply -f \
	"$(pod override 30 "trap 'echo TERM ignored' TERM; echo up; while :; do sleep 0.1; done")"
wait_ok "stubborn running and logging" 40 logged stubborn up
wait_ok "polite running and logging" 20 logged polite up
wait_ok "override running and logging" 20 logged override up
S=$(ctr_proc stubborn) P=$(ctr_proc polite) O=$(ctr_proc override)
if proc_alive "$S" && proc_alive "$P" && proc_alive "$O"; then
	pass "their container processes are found from the node"
else
	fail "their container processes are found from the node" "stubborn=$S polite=$P override=$O"
fi

# ---- stubborn: SIGTERM ignored, SIGKILL after 5 s ----
T0=$(now_ms)
expect_ok "delete pod stubborn" kc delete pod stubborn --wait=false
run kc get pod stubborn -o jsonpath='{.metadata.deletionGracePeriodSeconds}'
expect_eq "its deletionGracePeriodSeconds is 5" 5 "$OUT"
wait_ok "it got SIGTERM (its trap logged it)" 4 logged stubborn "TERM ignored"
T1=$(now_ms)
if proc_alive "$S" && [ $((T1 - T0)) -lt 4500 ]; then
	pass "it still runs right after SIGTERM"
else
	fail "it still runs before the grace period ends" "alive: $(proc_alive "$S" && echo yes || echo no), $((T1 - T0)) ms after the delete"
fi
# SIGTERM has been seen (the marker above): 4 s in it must still run.
while [ $(($(now_ms) - T0)) -lt 4000 ]; do sleep 0.05; done
T1=$(now_ms)
if proc_alive "$S" && [ $((T1 - T0)) -lt 4900 ]; then
	pass "it still runs 4 s after the delete ($((T1 - T0)) ms)"
else
	fail "it still runs 4 s after the delete" "alive: $(proc_alive "$S" && echo yes || echo no), $((T1 - T0)) ms after the delete"
fi
lk_wait_for 15 proc_gone "$S"
T2=$(now_ms)
if proc_gone "$S"; then pass "then its process is killed"; else fail "then its process is killed" "$S still runs after $((T2 - T0)) ms"; fi
if [ $((T2 - T0)) -ge 5000 ] && [ $((T2 - T0)) -le 9000 ]; then
	pass "killed after the 5 s grace period, not much later ($((T2 - T0)) ms)"
else
	fail "killed after the 5 s grace period, not much later" "gone after $((T2 - T0)) ms (want 5000..9000)"
fi
wait_notfound "the pod object goes" 10 kc get pod stubborn

# ---- polite: exits on SIGTERM, no waiting for its 30 s ----
T0=$(now_ms)
expect_ok "delete pod polite" kc delete pod polite --wait=false
wait_notfound "polite goes well within its 30 s grace" 5 kc get pod polite
expect_eq "its process is gone ($(($(now_ms) - T0)) ms)" yes "$(proc_gone "$P" && echo yes)"

# ---- --grace-period overrides the spec's 30 s ----
T0=$(now_ms)
expect_ok "delete pod override --grace-period=2" kc delete pod override --grace-period=2 --wait=false
lk_wait_for 15 proc_gone "$O"
T2=$(now_ms)
if proc_gone "$O" && [ $((T2 - T0)) -ge 2000 ] && [ $((T2 - T0)) -le 6000 ]; then
	pass "override is killed after 2 s ($((T2 - T0)) ms), not its spec's 30"
else
	fail "override is killed after 2 s, not its spec's 30" "gone: $(proc_gone "$O" && echo yes || echo no) after $((T2 - T0)) ms"
fi
wait_notfound "override goes" 10 kc get pod override
lk_server_stop
expect_eq "the server stops with code 0" 0 "$LK_STOP_RC"
lk_done
