#!/usr/bin/env bash
# t120: `kubectl delete namespace` end to end. A namespace with a
# Deployment (2 running pods), a Service, a ConfigMap and a pod that ignores
# SIGTERM (grace 10 s, which keeps the namespace Terminating long enough to
# look at it): after the delete the namespace shows Terminating (phase and
# deletionTimestamp, in `get ns` too); new content is refused with 403
# Forbidden and upstream's message; its content goes while the namespace is
# still Terminating; then the namespace is NotFound, and every process of
# its pods (sandboxes and containers, by the pids recorded before) is gone,
# with their directories. The name can be used again, for an empty
# namespace.
. "$(dirname "$0")/lib.sh"
lk_plan 37
if lk_fake; then
	for i in $(seq 37); do skip "namespace deletion ($i)" "the fake server runs no pods"; done
	exit 0
fi
lk_start

X=lkt-nsdel
K=(kc -n "$X")
DATA=$LK_TMP/data

proc_alive() { # proc_alive PID:START: that process runs (not a zombie)
	local pid=${1%%:*} st
	st=$(awk '{print $3 ":" $22}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ "${st%%:*}" != Z ] && [ "${st#*:}" = "${1#*:}" ]
}
none_alive() { local p; for p in "$@"; do proc_alive "$p" && return 1; done; return 0; }
alive_of() { local p; for p in "$@"; do proc_alive "$p" && printf '%s ' "$p"; done; }
# The pod's processes, seen from the node: its sandbox (command line marker)
# and its containers' init processes (the pid the shim recorded).
pod_procs() { # pod_procs NAME: "PID:START" of its sandbox and containers
	local uid c id pid
	uid=$("${K[@]}" get pod "$1" -o jsonpath='{.metadata.uid}') || return 1
	for pid in $(procs_with "_sandbox $DATA $uid "); do proc_id "$pid"; done
	for c in "$DATA/pods/$uid"/*/current; do
		read -r id _ <"$c" || continue
		pid=$(jf 'd["pid"]' "$(cat "${c%/current}/$id.state")") || continue
		proc_id "$pid"
	done
}

expect_ok "create namespace $X" kc create namespace "$X"
expect_ok "create deployment web (2 replicas)" "${K[@]}" create deployment web \
	--image=gcr.io/google-samples/node-hello:1.0 --replicas=2 --port=8080
expect_ok "expose it as service web" "${K[@]}" expose deployment web --port=80 --target-port=8080
expect_ok "create configmap cfg" "${K[@]}" create configmap cfg --from-literal=a=b
M=$(lk_manifest stubborn.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'echo TERM ignored' TERM; echo up; while :; do sleep 0.2; done"]
EOF
)
expect_ok "create pod stubborn (ignores SIGTERM, grace 10 s)" "${K[@]}" apply -f "$M"
running() {
	[ "$("${K[@]}" get pods -o json | jf 'sorted(p["status"].get("phase","") + "/" + str(all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))) for p in d["items"])')" = \
		'["Running/True", "Running/True", "Running/True"]' ]
}
wait_ok "3 pods running and ready" 60 running
eps() { "${K[@]}" get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | sort | tr '\n' ' '; }
two_eps() { [ "$(eps | wc -w)" = 2 ]; }
wait_ok "service web has 2 endpoints" 20 two_eps

PROCS=()
for p in $("${K[@]}" get pods -o jsonpath='{.items[*].metadata.name}'); do
	PROCS+=($(pod_procs "$p"))
done
expect_eq "3 sandboxes and 3 containers found, all running" "6 6" \
	"${#PROCS[@]} $(alive_of "${PROCS[@]}" | wc -w)"
SUID=$("${K[@]}" get pod stubborn -o jsonpath='{.metadata.uid}')
UIDS=$("${K[@]}" get pods -o jsonpath='{.items[*].metadata.uid}')

# ---- delete: Terminating ----
expect_ok "kubectl delete namespace" kc delete namespace "$X" --wait=false
expect_eq "it prints deleted" "namespace \"$X\" deleted" "$OUT"
run kc get namespace "$X" -o jsonpath='{.status.phase} {.metadata.deletionTimestamp}'
expect_match "phase Terminating, deletionTimestamp set" \
	'^Terminating [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$OUT"
run kc get namespace "$X"
expect_match "get namespace shows Terminating" "^$X +Terminating +[0-9]+[sm]" "$OUT"

# ---- new content: 403 with upstream's message ----
MSG="is forbidden: unable to create new content in namespace $X because it is being terminated"
expect_fail "create configmap in it is refused" "${K[@]}" create configmap late --from-literal=a=b
expect_eq "kubectl shows the Forbidden message" \
	"error: failed to create configmap: configmaps \"late\" $MSG" "$ERR"
expect_fail "kubectl run in it is refused" "${K[@]}" run late-pod --image=busybox --restart=Never -- sleep 1
expect_eq "kubectl run shows Forbidden" "Error from server (Forbidden): pods \"late-pod\" $MSG" "$ERR"
api POST "/api/v1/namespaces/$X/secrets" -H 'Content-Type: application/json' \
	-d '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"late-secret"}}'
expect_code "POST secret: 403" 403
expect_eq "POST secret: a Forbidden Status with the message and details" \
	"Failure Forbidden 403 secrets \"late-secret\" $MSG late-secret secrets" \
	"$(jf '" ".join(str(x) for x in [d["status"], d["reason"], d["code"], d["message"], d["details"]["name"], d["details"]["kind"]])' "$BODY")"

# ---- its content goes, the namespace waits for the stubborn pod ----
wait_notfound "configmap cfg deleted" 10 "${K[@]}" get configmap cfg
wait_notfound "deployment web deleted" 10 "${K[@]}" get deployment web
wait_notfound "service web deleted" 10 "${K[@]}" get service web
wait_notfound "endpoints web deleted" 10 "${K[@]}" get endpoints web
no_rs() { [ "$("${K[@]}" get replicasets -o name)" = "" ]; }
wait_ok "replicasets deleted" 10 no_rs
web_gone() { [ "$("${K[@]}" get pods -l app=web -o name)" = "" ]; }
wait_ok "web pods deleted" 20 web_gone
run "${K[@]}" get pod stubborn -o jsonpath='{.metadata.deletionTimestamp}/{.metadata.deletionGracePeriodSeconds}'
expect_match "meanwhile stubborn is Terminating (grace 10)" '^[0-9T:Z-]+/10$' "$OUT"
run kc get namespace "$X" -o jsonpath='{.status.phase}'
expect_eq "meanwhile the namespace is still Terminating" Terminating "$OUT"
run "${K[@]}" logs stubborn
expect_line "stubborn got SIGTERM and ignored it" "TERM ignored" "$OUT"

# ---- then it is gone, and so is every process ----
wait_notfound "the namespace is NotFound" 40 kc get namespace "$X"
expect_eq "the pods' containers are gone once it is" "" "$(alive_of "${PROCS[@]}" | tr ' ' '\n' | while read -r p; do
	[ -n "$p" ] && ! grep -q "_sandbox" "/proc/${p%%:*}/cmdline" 2>/dev/null && echo "$p"; done)"
wait_ok "their sandboxes are gone" 10 none_alive "${PROCS[@]}"
left=""
for u in $UIDS; do [ -e "$DATA/pods/$u" ] && left="$left $u"; done
expect_eq "their directories are gone" "" "$left"
expect_eq "stubborn's shim is gone" "" "$(procs_with "_shim $DATA $SUID ")"
run kc get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}{"\n"}{end}'
expect_nomatch "no pod of $X in any list" "^$X\$" "$OUT"
run kc get all -n "$X"
expect_eq "get all in it: nothing" "No resources found in $X namespace." "$OUT$ERR"

# ---- the name again: a new, empty namespace ----
expect_ok "create it again" kc create namespace "$X"
run kc get namespace "$X" -o jsonpath='{.status.phase}'
expect_eq "it is Active" Active "$OUT"
run "${K[@]}" get configmaps,deployments,services,pods -o name
expect_eq "and empty" "" "$OUT"
lk_done
