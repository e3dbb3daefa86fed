#!/usr/bin/env bash
# t250: the Node object for this host and its heartbeat, as `kubectl get
# nodes` and `kubectl describe node` show them on kubectl 1.27, 1.30 and
# 1.33 (server/node/nodestatus.c): Ready with the control-plane role,
# INTERNAL-IP = --node-ip, node info, capacity, the Lease in
# kube-node-lease renewed every 10 s, pods bound to the node listed.
. "$(dirname "$0")/lib.sh"
lk_plan $((24 + 19 * $(lk_nversions)))
lk_start

N=$LK_NODE_NAME
wait_ok "lease kube-node-lease/$N appears" 10 kc get lease -n kube-node-lease "$N"

nodes() {
	local v=$1
	expect_ok "1.$v get nodes" k "$v" get nodes
	expect_match "1.$v get nodes columns" '^NAME +STATUS +ROLES +AGE +VERSION$' "$OUT"
	expect_match "1.$v get nodes row: Ready, control-plane, version" \
		"^$N +Ready +control-plane +[0-9]+[sm].* +v1\\.32\\.0\\+labkube\\.0\\.1\\.0\$" "$OUT"
	expect_ok "1.$v get nodes -o wide" k "$v" get nodes -o wide
	expect_match "1.$v -o wide columns" \
		'^NAME +STATUS +ROLES +AGE +VERSION +INTERNAL-IP +EXTERNAL-IP +OS-IMAGE +KERNEL-VERSION +CONTAINER-RUNTIME$' "$OUT"
	expect_match "1.$v -o wide row: INTERNAL-IP, runtime" \
		"^$N +Ready +control-plane .* +$LK_NODE_IP +<none> +.+ +$(uname -r | sed 's/[.+]/\\&/g') +labkube://0\\.1\\.0\$" "$OUT"
}
kall nodes

# The object itself.
expect_ok "get node -o json" kc get node "$N" -o json
o=$OUT
expect_eq "labels: hostname, os, arch, control-plane role" \
	"$N linux amd64 " \
	"$(jf '" ".join(d["metadata"]["labels"][k] for k in ["kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "node-role.kubernetes.io/control-plane"])' "$o")"
expect_eq "addresses: InternalIP, Hostname" \
	"InternalIP=$LK_NODE_IP Hostname=$N" \
	"$(jf '" ".join(a["type"]+"="+a["address"] for a in d["status"]["addresses"])' "$o")"
expect_eq "capacity: cpu = nproc, pods 110, memory in Ki" \
	"$(nproc) 110 True" \
	"$(jf 'd["status"]["capacity"]["cpu"]+" "+d["status"]["capacity"]["pods"]+" "+str(d["status"]["capacity"]["memory"].endswith("Ki"))' "$o")"
expect_eq "allocatable present" "True" "$(jf 'str("cpu" in d["status"]["allocatable"])' "$o")"
expect_eq "nodeInfo: runtime, kubelet, os, arch" \
	"labkube://0.1.0 v1.32.0+labkube.0.1.0 linux amd64" \
	"$(jf '" ".join(d["status"]["nodeInfo"][k] for k in ["containerRuntimeVersion", "kubeletVersion", "operatingSystem", "architecture"])' "$o")"
expect_eq "nodeInfo: kernel from uname" "$(uname -r)" "$(jf 'd["status"]["nodeInfo"]["kernelVersion"]' "$o")"
expect_eq "nodeInfo: osImage from os-release" \
	"$(. /etc/os-release && echo "$PRETTY_NAME")" "$(jf 'd["status"]["nodeInfo"]["osImage"]' "$o")"
expect_eq "conditions: the kubelet's four" \
	"MemoryPressure=False DiskPressure=False PIDPressure=False Ready=True" \
	"$(jf '" ".join(c["type"]+"="+c["status"] for c in d["status"]["conditions"])' "$o")"
expect_eq "Ready: reason and message" "KubeletReady: kubelet is posting ready status" \
	"$(jf '[c["reason"]+": "+c["message"] for c in d["status"]["conditions"] if c["type"]=="Ready"][0]' "$o")"
expect_eq "daemonEndpoints.kubeletEndpoint.Port" "10250" \
	"$(jf 'd["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]' "$o")"

# The Lease: holder, duration, owner, renewed every 10 s.
expect_ok "get lease -o json" kc get lease -n kube-node-lease "$N" -o json
o=$OUT
expect_eq "lease: holder, duration 40, owned by the Node" \
	"$N 40 Node/$N" \
	"$(jf 'd["spec"]["holderIdentity"]+" "+str(d["spec"]["leaseDurationSeconds"])+" "+d["metadata"]["ownerReferences"][0]["kind"]+"/"+d["metadata"]["ownerReferences"][0]["name"]' "$o")"
expect_match "lease renewTime is a MicroTime" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' "$(jf 'd["spec"]["renewTime"]' "$o")"
r1=$(jf 'd["spec"]["renewTime"]' "$o")
expect_ok "get lease (1.27 columns)" k 27 get lease -n kube-node-lease
expect_match "lease row: NAME HOLDER AGE" "^$N +$N +[0-9]+s\$" "$OUT"

# A pod bound to the node, for describe's Non-terminated Pods.
cat >"$LK_TMP/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: default}
spec:
  nodeName: $N
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
EOF
expect_ok "create a pod bound to the node" kc create -f "$LK_TMP/pod.yaml"

describe() {
	local v=$1
	expect_ok "1.$v describe node" k "$v" describe node "$N"
	expect_match "1.$v describe: Roles" '^Roles: +control-plane$' "$OUT"
	expect_match "1.$v describe: Lease holder" "^  HolderIdentity: +$N\$" "$OUT"
	expect_match "1.$v describe: Lease renew time" '^  RenewTime: +[A-Z][a-z]{2}, ' "$OUT"
	expect_match "1.$v describe: Ready condition" \
		'^  Ready +True +.* +KubeletReady +kubelet is posting ready status$' "$OUT"
	expect_match "1.$v describe: InternalIP" "^  InternalIP: +$LK_NODE_IP\$" "$OUT"
	expect_match "1.$v describe: Hostname" "^  Hostname: +$N\$" "$OUT"
	expect_match "1.$v describe: capacity pods" '^  pods: +110$' "$OUT"
	expect_match "1.$v describe: runtime" '^  Container Runtime Version: +labkube://0\.1\.0$' "$OUT"
	expect_match "1.$v describe: kubelet version" '^  Kubelet Version: +v1\.32\.0\+labkube\.0\.1\.0$' "$OUT"
	expect_match "1.$v describe: the bound pod" '^  default +bound +0 \(0%\)' "$OUT"
	expect_match "1.$v describe: kubelet events" '^  Normal +Starting +[0-9]+s +kubelet +Starting kubelet\.$' "$OUT"
	expect_nomatch "1.$v describe: no error" 'Error|error' "$ERR"
}
kall describe

# Heartbeat: the lease is renewed within ~10 s.
renewed() { # a new renewTime (a failing get is not one)
	local r
	r=$(kc get lease -n kube-node-lease "$N" -o jsonpath='{.spec.renewTime}') && [ -n "$r" ] && [ "$r" != "$r1" ]
}
if lk_wait_for 15 renewed; then pass "lease renewed within 15 s"; else fail "lease renewed within 15 s"; fi

# A deleted Node registers again at the next tick.
expect_ok "delete node" kc delete node "$N"
if lk_wait_for 15 kc get node "$N"; then pass "node registered again"; else fail "node registered again"; fi

# The same Node after a restart (no duplicate, same uid).
uid=$(kc get node "$N" -o jsonpath='{.metadata.uid}')
lk_server_stop # fails the file unless the server exits 0
lk_server_start
wait_ok "the node is there after the restart" 5 kc get node "$N"
expect_eq "restart keeps the node's uid" "$uid" "$(kc get node "$N" -o jsonpath='{.metadata.uid}')"
expect_eq "one node" "1" "$(kc get nodes -o name | wc -l)"

lk_done
