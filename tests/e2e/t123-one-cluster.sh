#!/usr/bin/env bash
# t123: one cluster per data dir and per network namespace (issue 10).
# While a server runs, a second one refuses to start with one line naming
# the data dir or the network namespace and the first's pid, and exits 1:
# on the same data dir in the same namespace, on another data dir in the
# same namespace, on the same data dir from another namespace; the first
# keeps answering, and a server with its own data dir in another namespace
# starts. With no server running, an API address some process listens on
# (even with SO_REUSEPORT) fails the start naming the address, and so does
# a DNS address that cannot be bound (port 53 of the bridge address taken,
# a --dns-listen address on no interface): no "serving on" nothing. The
# locks go with the server: a quick restart (connections of the last run
# in TIME_WAIT) works, and so does a start after SIGKILL while pods run
# (their sandboxes outlive the server and must not hold the locks). The
# lock files are removed at a clean stop.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "one cluster per data dir and namespace" "the fake server takes no locks"
	exit 0
fi
lk_plan 40

NS2=lkt-$LK_ID-m                        # a second node namespace
NS2_UP=0
trap 'rc=$?; [ "$NS2_UP" = 1 ] && ip netns del "$NS2" 2>/dev/null; (exit $rc); lk_cleanup' EXIT

# second NETNS DATA-DIR [flags]: a labkube server started beside the first
# one; it must end by itself (20 s at most). OUT, ERR, RC as with run.
second() {
	local ns=$1 dir=$2
	shift 2
	run timeout -k 5 20 ip netns exec "$ns" "$LABKUBE" server --data-dir "$dir" \
		--listen "127.0.0.1:$LK_PORT" --node-ip "$LK_NODE_IP" \
		--node-name "$LK_NODE_NAME" "$@"
}
# listener NETNS FILE PYTHON-ARGS: a Python socket held open in NETNS until
# killed; waits for it to say "bound". LISTENER is its pid.
listener() {
	local ns=$1 file=$2
	shift 2
	ip netns exec "$ns" "$LK_PY" -c '
import socket, sys, time
kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((host, port))
if kind == "tcp":
    s.listen(16)
print("bound", flush=True)
time.sleep(300)
' "$@" >"$file" 2>&1 </dev/null &
	LISTENER=$!
	LK_BG_PIDS+=("$LISTENER")
	lk_wait_file "$file" '^bound$' 10
}
forget() { # forget PID: a reaped process is not ended again at exit
	local p keep=()
	for p in "${LK_BG_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	LK_BG_PIDS=("${keep[@]}")
}
reap() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; forget "$1"; } # reap PID
nspids() { ip netns pids "$1" 2>/dev/null | sort -n | tr '\n' ' '; }
ready() { [ "$(ncurl "$LK_URL/readyz")" = ok ]; }

lk_start
NSLOCK=/run/labkube/netns-$(ip netns exec "$LK_NS" stat -L -c %d-%i /proc/self/ns/net).lock
FIRST=$LK_PID
expect_eq "the data dir's lock file holds the server's pid" "$FIRST" "$(cat "$LK_TMP/data/lock")"
expect_eq "the namespace's lock file ($NSLOCK) holds the server's pid" "$FIRST" "$(cat "$NSLOCK")"

# ---- a second server beside the first ----
second "$LK_NS" "$LK_TMP/data"
expect_eq "same data dir, same namespace: exit code 1" 1 "$RC"
expect_eq "same data dir, same namespace: one line naming the data dir and the pid" \
	"labkube: data dir '$LK_TMP/data' is in use by another labkube server (pid $FIRST)" "$OUT$ERR"

second "$LK_NS" "$LK_TMP/data2" --listen 127.0.0.1:6444
expect_eq "another data dir, same namespace: exit code 1" 1 "$RC"
expect_eq "another data dir, same namespace: one line naming the namespace and the pid" \
	"labkube: network namespace '$LK_NS' is in use by another labkube (pid $FIRST)" "$OUT$ERR"
expect_eq "another data dir, same namespace: its data dir is left empty (no store, no lock)" \
	"" "$(ls -A "$LK_TMP/data2")"

ip netns add "$NS2" || lk_bail "cannot create netns $NS2"
NS2_UP=1
ip -n "$NS2" link set lo up
second "$NS2" "$LK_TMP/data"
expect_eq "same data dir, another namespace: exit code 1" 1 "$RC"
expect_eq "same data dir, another namespace: one line naming the data dir and the pid" \
	"labkube: data dir '$LK_TMP/data' is in use by another labkube server (pid $FIRST)" "$OUT$ERR"
expect_eq "the refused servers left nothing running in either namespace" \
	"$FIRST " "$(nspids "$LK_NS")$(nspids "$NS2")"
expect_eq "the first server's lock files are still its own" "$FIRST $FIRST" \
	"$(cat "$LK_TMP/data/lock") $(cat "$NSLOCK")"
wait_ok "the first server still answers (/readyz ok)" 5 ready
expect_ok "the first server still serves kubectl" kc get namespace default

run lk_nsexec "$LABKUBE" cleanup
expect_eq "labkube cleanup is refused too, naming the server's pid" \
	"1 labkube cleanup: a labkube server (pid $FIRST) runs in this network namespace; stop it first" \
	"$RC $ERR"

# Locks are per data dir and per namespace: a cluster of its own starts.
ip netns exec "$NS2" "$LABKUBE" server --data-dir "$LK_TMP/data3" --listen "127.0.0.1:$LK_PORT" \
	--node-ip 127.0.0.1 --node-name lkt-other >"$LK_TMP/other.log" 2>&1 </dev/null &
OTHER=$!
LK_BG_PIDS+=("$OTHER")
other_ready() { [ "$(ip netns exec "$NS2" curl -s -m 1 "$LK_URL/readyz")" = ok ]; }
wait_ok "another data dir in another namespace: a second cluster starts" 15 other_ready
kill -TERM "$OTHER"
wait "$OTHER"
expect_eq "the second cluster stops with code 0" 0 "$?"
forget "$OTHER"
[ "$(nspids "$NS2")" = "" ] || fail "nothing left in $NS2" "left: $(nspids "$NS2")"
ip netns del "$NS2"
NS2_UP=0

# ---- a quick restart: the last run's connections in TIME_WAIT ----
kbg "$LK_TMP/w.out" 33 get namespaces -w
W=$LK_BGPID
lk_wait_file "$LK_TMP/w.out" '^default ' 10
lk_server_stop
reap "$W"
run lk_nsexec ss -Htan state time-wait "( sport = :$LK_PORT )"
expect_gt "stopped with a watch open: connections on port $LK_PORT in TIME_WAIT" \
	"$(grep -c . <<<"$OUT")" 0
expect_eq "a clean stop removes both lock files" "no no" \
	"$([ -e "$LK_TMP/data/lock" ] && echo yes || echo no) $([ -e "$NSLOCK" ] && echo yes || echo no)"
lk_server_start
pass "a quick restart on the same data dir and address is ready"
lk_server_stop

# ---- the API address taken by another process ----
listener "$LK_NS" "$LK_TMP/l1.out" tcp 127.0.0.1 "$LK_PORT" || fail "a python listener on 127.0.0.1:$LK_PORT"
second "$LK_NS" "$LK_TMP/data"
expect_eq "API address in use (SO_REUSEADDR+SO_REUSEPORT listener): exit code 1" 1 "$RC"
expect_eq "API address in use: one line naming the address" \
	"labkube: cannot listen on 127.0.0.1:$LK_PORT: Address already in use" "$OUT$ERR"
reap "$LISTENER"

# ---- a DNS address that cannot be bound ----
listener "$LK_NS" "$LK_TMP/l2.out" udp 0.0.0.0 53 || fail "a python UDP socket on 0.0.0.0:53"
second "$LK_NS" "$LK_TMP/data"
expect_eq "DNS port 53 taken on the bridge address: exit code 1" 1 "$RC"
expect_line "DNS port 53 taken: the line names the bridge address" \
	"dns: cannot listen on 10.244.0.1:53: Address already in use" "$OUT$ERR"
expect_nomatch "DNS port 53 taken: never 'dns: serving'" 'dns: serving' "$OUT$ERR"
expect_eq "DNS port 53 taken: only the python socket runs in the namespace" \
	"$LISTENER " "$(nspids "$LK_NS")"
reap "$LISTENER"

second "$LK_NS" "$LK_TMP/data" --dns-listen 192.0.2.99:5353
expect_eq "--dns-listen on no interface: exit code 1" 1 "$RC"
expect_line "--dns-listen on no interface: the line names the address" \
	"dns: cannot listen on 192.0.2.99:5353: Cannot assign requested address" "$OUT$ERR"
expect_nomatch "--dns-listen on no interface: never 'dns: serving'" 'dns: serving' "$OUT$ERR"
expect_eq "after the failed starts: no lock file left" "no no" \
	"$([ -e "$LK_TMP/data/lock" ] && echo yes || echo no) $([ -e "$NSLOCK" ] && echo yes || echo no)"

# ---- SIGKILL while pods run: the sandboxes do not hold the locks ----
lk_server_start
expect_ok "start again after the failed starts" kc get namespace default
expect_ok "create a pod" kc run hold --image=registry.k8s.io/pause:3.9
pod_running() { [ "$(kc get pod hold -o jsonpath='{.status.phase}')" = Running ]; }
wait_ok "the pod runs" 30 pod_running
UID_=$(kc get pod hold -o jsonpath='{.metadata.uid}')
KILLED=$LK_PID
lk_server_kill
expect_match "after SIGKILL of the server: the pod's processes still run" '[0-9]' "$(procs_with "$UID_")"
expect_eq "after SIGKILL: the data dir's lock file is left with the dead server's pid" \
	"$KILLED" "$(cat "$LK_TMP/data/lock" 2>/dev/null)"
lk_server_start
pass "after SIGKILL with pods running: a new server starts on the same data dir"
expect_eq "the new server holds the data dir's lock" "$LK_PID" "$(cat "$LK_TMP/data/lock")"
wait_ok "the pod is adopted, still Running" 20 pod_running
expect_ok "delete the pod" kc delete pod hold --grace-period=1 --wait=true --timeout=30s
lk_server_stop
expect_eq "the server stops with code 0" 0 "$LK_STOP_RC"
expect_eq "at the end: no lock file left" "no no" \
	"$([ -e "$LK_TMP/data/lock" ] && echo yes || echo no) $([ -e "$NSLOCK" ] && echo yes || echo no)"
lk_done
