#!/usr/bin/env bash
# bench/proxy-apply.sh [ROUNDS]: time from `kubectl apply` of a Service to the
# first successful curl through its cluster IP, with the pods already
# running (default 10 rounds, one new Service each). Uses the e2e harness
# (tests/e2e/lib.sh): the cluster runs in throw-away namespaces and every
# packet stays in them; the harness's EXIT trap stops the server and the
# pods and deletes the namespaces by name. Every step is a check of the
# harness (planned, counted): a failed apply, or a Service that does not
# answer within 20 s, fails the run and gives no figure. Writes the
# "## Services: apply → curl" section to LKB_SECTION (bench/run.sh), or
# prints it.
#
#   LABKUBE=/abs/build/labkube bench/proxy-apply.sh 10
LK_SHOW_LOG=0
. "$(dirname "$0")/../tests/e2e/lib.sh"
ROUNDS=${1:-10}
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || lk_bail "ROUNDS must be 1..99, got '$ROUNDS'"
lk_plan $((2 + 2 * ROUNDS))
LOAD0=$("$LK_PY" "$LK_TOP/bench/benchlib.py" load)
T0=$(date +%s)
lk_start
M=$(lk_manifest dep.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  replicas: 2
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia}}
    spec: {containers: [{name: kubia, image: luksa/kubia, ports: [{containerPort: 8080}]}]}
Y
)
expect_ok "apply the deployment" kc apply -f "$M"
two_running() {
	[ "$(kc get pods -l app=kubia -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Running$')" = 2 ]
}
wait_ok "2 kubia pods Running" 60 two_running || lk_bail "no pods to serve the services"
sleep 1
: >"$LK_TMP/rounds"
for r in $(seq "$ROUNDS"); do
	ip=10.96.42.$r
	f=$(lk_manifest "svc$r.yaml" <<Y
apiVersion: v1
kind: Service
metadata: {name: b$r}
spec: {clusterIP: $ip, selector: {app: kubia}, ports: [{port: 80, targetPort: 8080}]}
Y
)
	s=$(date +%s%N)
	kc apply -f "$f" >"$LK_TMP/apply.out" 2>&1
	rc=$?
	a=$(date +%s%N)
	if [ "$rc" = 0 ]; then pass "round $r: kubectl apply of service b$r"; else
		fail "round $r: kubectl apply of service b$r (exit $rc)" "$(cat "$LK_TMP/apply.out")"; continue
	fi
	ok=0
	while [ $((($(date +%s%N) - s) / 1000000)) -lt 20000 ]; do
		if lk_nsexec curl -s -m 1 "http://$ip/" 2>/dev/null | grep -q "You've hit"; then ok=1; break; fi
		sleep 0.01
	done
	e=$(date +%s%N)
	if [ "$ok" = 1 ]; then
		pass "round $r: curl http://$ip/ answered by a kubia pod"
		echo "$(((a - s) / 1000)) $(((e - s) / 1000))" >>"$LK_TMP/rounds"
	else
		fail "round $r: curl http://$ip/ answered by a kubia pod within 20 s"
	fi
done
if [ "$LK_FAILED" = 0 ]; then
	"$LK_PY" - "$LK_TMP/rounds" "$ROUNDS" "$LOAD0" "$(($(date +%s) - T0))" "$LK_TOP/bench" <<'P' || fail "write the section"
import sys, os
sys.path.insert(0, sys.argv[5])
import benchlib
from benchlib import median
rows = [tuple(int(x) / 1e3 for x in l.split()) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
load0 = [float(x) for x in sys.argv[3].split()]
load1 = benchlib.loadavg()
assert len(rows) == n, (len(rows), n)
apply_ms = [a for a, _ in rows]
total = [t for _, t in rows]
after = [t - a for a, t in rows]
flags = benchlib.load_flags(load0, load1) + [
    benchlib.drift("apply → curl", total, " ms"),
    benchlib.drift("after kubectl apply exited", after, " ms")]
m, ma, mk = median(total), median(after), median(apply_ms)
L = ["## Services: `kubectl apply` → first answer through the cluster IP", "",
     "Written by `bench/proxy-apply.sh %d` (the e2e harness, tests/e2e/lib.sh, in throw-away "
     "namespaces); %s s. Two kubia pods already Running; per round a new Service with a fixed "
     "cluster IP is applied, then curl from the node every 10 ms until a pod answers through "
     "the cluster IP (a round without an answer in 20 s fails the run)." % (n, sys.argv[4]), "",
     "| what | median | min | max |", "|---|--:|--:|--:|",
     "| `kubectl apply` exec → first curl answered | %.0f ms | %.0f ms | %.0f ms |" % (
         m, min(total), max(total)),
     "| of which `kubectl apply` (exec → exit) | %.0f ms | %.0f ms | %.0f ms |" % (
         mk, min(apply_ms), max(apply_ms)),
     "| of which after kubectl exited (endpoints, proxy sync, curl) | %.0f ms | %.0f ms | %.0f ms |" % (
         ma, min(after), max(after)), "",
     "Per round (ms, total / after kubectl exited): %s." % ", ".join(
         "%.0f / %.0f" % (t, x) for t, x in zip(total, after)), "",
     "Reading (computed): %.0f%% of the median time is kubectl's own run; the rest, %.0f ms, "
     "is the cluster making the Service reachable, measured with a curl every 10 ms (so to "
     "within about 10 ms plus one curl's start)." % (100 * mk / m, ma), "",
     benchlib.load_line(load0, load1), "", benchlib.flags_block(flags)]
benchlib.emit("\n".join(L), "apply → curl")
P
fi
lk_done
