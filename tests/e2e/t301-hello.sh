#!/usr/bin/env bash
# t301: the hello-world lab with real processes. `kubectl create deployment
# hello-world --image=gcr.io/google-samples/node-hello:1.0 --replicas=2
# --port=8080` gives two Running, Ready pods, each its own process with its
# own IP that answers `curl http://POD_IP:8080/` with "Hello Kubernetes!"
# from the node and from another pod (through the bridge); the Service's
# Endpoints list both; scaling to 3 and back to 1 starts and stops
# processes; deleting the deployment leaves no process, veth or IP behind.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "node agent" "the fake server runs no pods"
	exit 0
fi
lk_plan 28
lk_start

NS=lkt-hello
K=(kc -n "$NS")
wait_ok() { # wait_ok DESC SECONDS CMD...
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
running_ready() { # running_ready SELECTOR N: exactly N pods Running and Ready
	local got
	got=$("${K[@]}" get pods -l "$1" -o json | jf 'len([p for p in d["items"] if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp") and all(c.get("ready") for c in p["status"].get("containerStatuses", [{}]))])')
	[ "$got" = "$2" ]
}
pod_count() { [ "$("${K[@]}" get pods -l "$1" -o json | jf 'str(len(d["items"]))')" = "$2" ]; } # a failing get is no count
pod_ips() { "${K[@]}" get pods -l "$1" -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort; }
veth_count() { lk_nsexec ip -o link show master labkube0 2>/dev/null | grep -c 'lkv'; }
veths_are() { [ "$(veth_count)" = "$1" ]; }
shims() { # number of shim processes of this cluster
	local p n=0
	for p in /proc/[0-9]*; do
		case ${p#/proc/} in "$$" | "$BASHPID") continue ;; esac
		case $(tr '\0' ' ' 2>/dev/null <"$p/cmdline") in *"_shim $LK_TMP/data "*) n=$((n + 1)) ;; esac
	done
	echo "$n"
}
shims_are() { [ "$(shims)" = "$1" ]; }

expect_ok "create namespace" kc create namespace "$NS"
expect_ok "create deployment hello-world" "${K[@]}" create deployment hello-world \
	--image=gcr.io/google-samples/node-hello:1.0 --replicas=2 --port=8080
wait_ok "2 pods Running and Ready" 60 running_ready app=hello-world 2
run "${K[@]}" get pods -l app=hello-world --no-headers
expect_eq "kubectl get pods: 2 rows 1/1 Running" "2" "$(grep -cE '^hello-world-[a-z0-9]+-[a-z0-9]{5} +1/1 +Running +0 ' <<<"$OUT")"
IPS=$(pod_ips app=hello-world)
expect_eq "two distinct pod IPs" 2 "$(sort -u <<<"$IPS" | grep -c '^10\.244\.')"
for i in 1 2; do # exactly two checks, whatever the list holds
	ip=$(sed -n "${i}p" <<<"$IPS")
	run lk_nsexec curl -sS -m 5 "http://$ip:8080/"
	expect_eq "curl http://$ip:8080/ (pod $i) from the node" "Hello Kubernetes!" "$OUT"
done
expect_eq "one shim per container" 2 "$(shims)"
expect_eq "one veth per pod on labkube0" 2 "$(veth_count)"

# From another pod: pod-to-pod through the bridge.
IP1=$(head -n 1 <<<"$IPS")
M=$(lk_manifest client.yaml <<EOF
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  containers:
  - name: curl
    image: curlimages/curl:8.5.0
    command: ["curl", "-sS", "-m", "5", "http://$IP1:8080/"]
EOF
)
expect_ok "a client pod curls the first pod" "${K[@]}" apply -f "$M"
phase_is() { [ "$("${K[@]}" get pod "$1" -o jsonpath='{.status.phase}')" = "$2" ]; }
wait_ok "client pod Succeeded" 30 phase_is client Succeeded
run "${K[@]}" logs client
expect_eq "pod to pod: Hello Kubernetes!" "Hello Kubernetes!" "$OUT"

# The Service's Endpoints list both pods (the endpoints controller reads our
# status: podIP and Ready).
expect_ok "expose the deployment" "${K[@]}" expose deployment hello-world --port=80 --target-port=8080
ep_ips() { "${K[@]}" get endpoints hello-world -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | sort; }
ep_has_both() { [ "$(ep_ips)" = "$IPS" ]; }
wait_ok "endpoints list both pod IPs" 20 ep_has_both

# Scale: 3 processes, then 1.
expect_ok "scale to 3" "${K[@]}" scale deployment hello-world --replicas=3
wait_ok "3 pods Running and Ready" 60 running_ready app=hello-world 3
wait_ok "3 shims" 10 shims_are 3
expect_ok "scale to 1" "${K[@]}" scale deployment hello-world --replicas=1
wait_ok "1 pod left" 60 pod_count app=hello-world 1
wait_ok "1 shim left" 20 shims_are 1
wait_ok "1 veth left" 10 veths_are 1
LAST=$(pod_ips app=hello-world)
run lk_nsexec curl -sS -m 5 "http://$LAST:8080/"
expect_eq "the remaining pod still answers" "Hello Kubernetes!" "$OUT"

expect_ok "delete the deployment" "${K[@]}" delete deployment hello-world
wait_ok "its pods are gone" 60 pod_count app=hello-world 0
wait_ok "no shim left" 20 shims_are 0
wait_ok "no veth left" 10 veths_are 0
expect_fail "the last pod IP answers no more" lk_nsexec curl -sS -m 2 "http://$LAST:8080/"
expect_ok "delete the client pod" "${K[@]}" delete pod client --wait=true --timeout=20s
