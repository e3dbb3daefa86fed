#!/usr/bin/env bash
# t111: client-side `kubectl apply -f` with default validation (needs the
# OpenAPI documents), created / configured / unchanged, three-way merge that
# removes what the manifest dropped, and `delete -f` (kubectl-wire.md §5).
. "$(dirname "$0")/lib.sh"
lk_plan $((8 + 33 * $(lk_nversions)))
lk_start

manifest() { # manifest VERSION IMAGE REPLICAS TIER: Service + Deployment + ConfigMap
	local v=$1 image=$2 replicas=$3 tier=$4 labels="" data="  mode: one"
	[ -n "$tier" ] && labels="
    tier: $tier"
	[ "$replicas" = 3 ] && data="  mode: two
  extra: \"yes\""
	cat <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web$v
  labels:
    app: web$v$labels
spec:
  type: NodePort
  selector:
    app: web$v
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web$v
  labels:
    app: web$v$labels
spec:
  replicas: $replicas
  selector:
    matchLabels:
      app: web$v
  template:
    metadata:
      labels:
        app: web$v
    spec:
      containers:
      - name: web
        image: $image
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web$v
data:
$data
EOF
}

apply_cycle() {
	local v=$1 f1 f2 f3 o
	f1=$(manifest "$v" nginx:1.25 2 "" | lk_manifest "v1-$v.yaml")
	f2=$(manifest "$v" nginx:1.26 3 frontend | lk_manifest "v2-$v.yaml")
	f3=$(manifest "$v" nginx:1.26 3 "" | lk_manifest "v3-$v.yaml")

	expect_ok "1.$v apply (create)" k "$v" apply -f "$f1" || return
	expect_eq "1.$v apply prints created" "service/web$v created
deployment.apps/web$v created
configmap/web$v created" "$OUT"
	expect_ok "1.$v last-applied annotation stored" k "$v" get deploy "web$v" \
		-o 'jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}'
	expect_match "1.$v last-applied holds the manifest" '"image":"nginx:1\.25"' "$OUT"
	expect_ok "1.$v nodePort allocated" k "$v" get svc "web$v" -o 'jsonpath={.spec.ports[0].nodePort}'
	local np=$OUT
	expect_match "1.$v nodePort in 30000-32767" '^(3[01][0-9]{3}|32[0-6][0-9]{2}|327[0-5][0-9]|3276[0-7])$' "$np"

	expect_ok "1.$v apply again" k "$v" apply -f "$f1"
	expect_eq "1.$v apply again prints unchanged" "service/web$v unchanged
deployment.apps/web$v unchanged
configmap/web$v unchanged" "$OUT"

	expect_ok "1.$v apply changed manifest" k "$v" apply -f "$f2"
	expect_eq "1.$v apply changed prints configured" "service/web$v configured
deployment.apps/web$v configured
configmap/web$v configured" "$OUT"
	expect_ok "1.$v deployment after apply" k "$v" get deploy "web$v" -o json
	o=$OUT
	expect_eq "1.$v new image, replicas, labels" \
		"nginx:1.26 3 {\"app\": \"web$v\", \"tier\": \"frontend\"}" \
		"$(jf 'd["spec"]["template"]["spec"]["containers"][0]["image"]+" "+str(d["spec"]["replicas"])+" "+json.dumps(d["metadata"]["labels"])' "$o")"
	expect_eq "1.$v still one container, port kept" "web 8080" \
		"$(jf '" ".join(c["name"] + " " + str(c["ports"][0]["containerPort"]) for c in d["spec"]["template"]["spec"]["containers"])' "$o")"
	expect_ok "1.$v service after apply" k "$v" get svc "web$v" \
		-o 'jsonpath={.metadata.labels.tier} {.spec.ports[*].port} {.spec.ports[0].nodePort}'
	expect_eq "1.$v service label added, port and nodePort kept" "frontend 80 $np" "$OUT"
	expect_ok "1.$v configmap after apply" k "$v" get cm "web$v" -o 'jsonpath={.data.mode},{.data.extra}'
	expect_eq "1.$v configmap data changed" "two,yes" "$OUT"
	expect_ok "1.$v get deploy after apply" k "$v" get deploy "web$v" -o wide --no-headers
	expect_match "1.$v get deploy shows /3 and nginx:1.26" "^web$v +[0-9]+/3 .* web +nginx:1\\.26 +app=web$v\$" "$OUT"

	expect_ok "1.$v apply changed manifest again" k "$v" apply -f "$f2"
	expect_eq "1.$v second apply of it: unchanged" "service/web$v unchanged
deployment.apps/web$v unchanged
configmap/web$v unchanged" "$OUT"

	# Dropping a label from the manifest removes it (three-way merge: null).
	expect_ok "1.$v apply without the tier label" k "$v" apply -f "$f3"
	expect_eq "1.$v prints configured for the changed ones" "service/web$v configured
deployment.apps/web$v configured
configmap/web$v unchanged" "$OUT"
	expect_ok "1.$v labels after dropping tier" k "$v" get svc,deploy "web$v" -o 'jsonpath={.items[*].metadata.labels}'
	expect_eq "1.$v tier label removed from both" "{\"app\":\"web$v\"} {\"app\":\"web$v\"}" "$OUT"

	expect_fail "1.$v create -f of existing objects" k "$v" create -f "$f1"
	expect_match "1.$v create -f: AlreadyExists" \
		"^Error from server \\(AlreadyExists\\): error when creating \"$f1\": services \"web$v\" already exists\$" "$ERR"

	expect_ok "1.$v delete -f" k "$v" delete -f "$f3"
	expect_eq "1.$v delete -f prints deleted" "service \"web$v\" deleted
deployment.apps \"web$v\" deleted
configmap \"web$v\" deleted" "$OUT"
	expect_fail "1.$v delete -f again" k "$v" delete -f "$f3"
	expect_match "1.$v delete -f again: NotFound with file name" \
		"^Error from server \\(NotFound\\): error when deleting \"$f3\": services \"web$v\" not found\$" "$ERR"
	expect_notfound "1.$v get after delete -f" k "$v" get deploy "web$v"
	expect_eq "1.$v deployment gone" "Error from server (NotFound): deployments.apps \"web$v\" not found" "$ERR"
}
kall apply_cycle

# apply into a namespace given in the manifest, and from stdin.
expect_ok "create namespace lkt-apply" kc create namespace lkt-apply
expect_ok "apply -f - from stdin" kc apply -f - <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: from-stdin
  namespace: lkt-apply
data:
  k: v
EOF
expect_eq "apply from stdin prints created" "configmap/from-stdin created" "$OUT"
expect_ok "object landed in the manifest's namespace" kc get cm from-stdin -n lkt-apply -o 'jsonpath={.metadata.namespace}/{.data.k}'
expect_eq "namespace and data" "lkt-apply/v" "$OUT"
expect_ok "apply --dry-run=client leaves the store alone" kc apply --dry-run=client -f - <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: dry
  namespace: lkt-apply
EOF
expect_eq "dry-run=client prints (dry run)" "configmap/dry created (dry run)" "$OUT"
expect_notfound "dry-run object not stored" kc get cm dry -n lkt-apply
