#!/usr/bin/env bash
# bench/proxy-apply.sh [ROUNDS]: time from `kubectl apply` of a Service to the
# first successful curl through its cluster IP, with the pods already
# running. Uses the e2e harness (tests/e2e/lib.sh): the cluster runs in
# throw-away namespaces and every packet stays in them. Hook for
# bench/run.sh:  LABKUBE=... bench/proxy-apply.sh 10
LK_SHOW_LOG=0
. "$(dirname "$0")/../tests/e2e/lib.sh"
ROUNDS=${1:-10}
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
kc apply -f "$M" >/dev/null
lk_wait_for 60 sh -c "[ \"\$(ip netns exec $LK_NS curl -s -m1 http://127.0.0.1:$LK_PORT/api/v1/namespaces/default/pods | grep -c '\"podIP\"')\" -ge 2 ]"
sleep 2
ms=()
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
	kc apply -f "$f" >/dev/null
	until lk_nsexec curl -s -m 1 "http://$ip/" | grep -q "You've hit"; do
		[ $((($(date +%s%N) - s) / 1000000)) -gt 20000 ] && break
		sleep 0.01
	done
	ms+=($((($(date +%s%N) - s) / 1000000)))
done
sorted=$(printf '%s\n' "${ms[@]}" | sort -n)
echo "# apply->first curl (ms), $ROUNDS rounds: $(echo $sorted | tr '\n' ' ')"
echo "# median $(sed -n "$(((ROUNDS + 1) / 2))p" <<<"$sorted") ms, max $(tail -1 <<<"$sorted") ms"
lk_done
