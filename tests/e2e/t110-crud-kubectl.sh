#!/usr/bin/env bash
# t110: the everyday kubectl verbs, as a user reads them, for kubectl 1.27,
# 1.30 and 1.33 (1.32+ send protobuf bodies for create deployment, service,
# namespace and configmap: kubectl-wire.md §4). Each version works in its own
# namespace. Pods need not run: only what the API stores and prints matters.
. "$(dirname "$0")/lib.sh"
lk_plan $((4 + 100 * $(lk_nversions)))
lk_start

CIP='10\.(9[6-9]|10[0-9]|11[01])\.[0-9]+\.[0-9]+' # inside 10.96.0.0/12
NP=':3[0-9]{4}'                                   # an allocated node port
RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
UUID='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

crud() {
	local v=$1 ns=lkt-v$1 d=hw$1 o gen
	local K=(k "$v" -n "$ns")

	# namespace (protobuf from 1.32 on)
	expect_ok "1.$v create namespace" k "$v" create namespace "$ns" || return
	expect_eq "1.$v create namespace prints" "namespace/$ns created" "$OUT"
	expect_ok "1.$v get ns" k "$v" get ns "$ns"
	expect_match "1.$v get ns columns" '^NAME +STATUS +AGE$' "$OUT"
	expect_match "1.$v get ns row: Active" "^$ns +Active +[0-9]+s\$" "$OUT"

	# create deployment (protobuf from 1.32 on)
	expect_ok "1.$v create deployment" "${K[@]}" create deployment "$d" \
		--image=registry.k8s.io/pause:3.9 --replicas=2 --port=8080
	expect_eq "1.$v create deployment prints" "deployment.apps/$d created" "$OUT"
	expect_ok "1.$v get deploy" "${K[@]}" get deploy
	expect_match "1.$v get deploy columns" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE$' "$OUT"
	expect_match "1.$v get deploy row" "^$d +[0-9]+/2 +[0-9]+ +[0-9]+ +([0-9]+s|[0-9]+m[0-9]*s?)\$" "$OUT"
	expect_ok "1.$v get deploy -o wide" "${K[@]}" get deploy "$d" -o wide
	expect_match "1.$v -o wide columns" \
		'^NAME +READY +UP-TO-DATE +AVAILABLE +AGE +CONTAINERS +IMAGES +SELECTOR$' "$OUT"
	expect_match "1.$v -o wide row: container, image, selector" \
		"^$d +[0-9]+/2 +.* +pause +registry\\.k8s\\.io/pause:3\\.9 +app=$d\$" "$OUT"
	expect_ok "1.$v get deploy -A" k "$v" get deploy -A
	expect_match "1.$v -A: NAMESPACE column" '^NAMESPACE +NAME +READY +UP-TO-DATE +AVAILABLE +AGE$' "$OUT"
	expect_match "1.$v -A: row has the namespace" "^$ns +$d +[0-9]+/2 " "$OUT"
	expect_ok "1.$v get deploy --show-labels" "${K[@]}" get deploy --show-labels
	expect_match "1.$v --show-labels column" "^$d +[0-9]+/2 +.* +app=$d\$" "$OUT"

	# what the server stamps, as -o yaml / -o json show it
	expect_ok "1.$v get deploy -o yaml" "${K[@]}" get deploy "$d" -o yaml
	o=$OUT
	expect_match "1.$v -o yaml: uid" '^  uid: [0-9a-f-]{36}$' "$o"
	expect_match "1.$v -o yaml: creationTimestamp" '^  creationTimestamp: "[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$o"
	expect_match "1.$v -o yaml: resourceVersion" '^  resourceVersion: "[0-9]+"$' "$o"
	expect_match "1.$v -o yaml: namespace" "^  namespace: $ns\$" "$o"
	expect_ok "1.$v get deploy -o json" "${K[@]}" get deploy "$d" -o json
	o=$OUT
	expect_match "1.$v uid is a UUID" "$UUID" "$(jf 'd["metadata"]["uid"]' "$o")"
	expect_match "1.$v creationTimestamp is RFC 3339 UTC" "$RFC3339" "$(jf 'd["metadata"]["creationTimestamp"]' "$o")"
	expect_match "1.$v resourceVersion is a decimal string" '^[1-9][0-9]*$' "$(jf 'd["metadata"]["resourceVersion"]' "$o")"
	expect_eq "1.$v kind, apiVersion, replicas, labels" "Deployment apps/v1 2 {\"app\": \"$d\"}" \
		"$(jf 'd["kind"]+" "+d["apiVersion"]+" "+str(d["spec"]["replicas"])+" "+json.dumps(d["metadata"]["labels"])' "$o")"
	expect_eq "1.$v containerPort 8080/TCP" "8080/TCP" \
		"$(jf 'str(d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]) + "/" + d["spec"]["template"]["spec"]["containers"][0]["ports"][0].get("protocol", "?")' "$o")"
	gen=$(jf 'd["metadata"].get("generation", 0)' "$o")
	expect_match "1.$v generation set" '^[1-9][0-9]*$' "$gen"
	expect_ok "1.$v get deploy -o json (list)" "${K[@]}" get deploy -o json
	expect_eq "1.$v list -o json prints kind List" "List 1" "$(jf 'd["kind"] + " " + str(len(d["items"]))' "$OUT")"

	# services: create service nodeport / clusterip (protobuf from 1.32), expose
	expect_ok "1.$v create service nodeport" "${K[@]}" create service nodeport "np$v" --tcp=80:8080
	expect_eq "1.$v create service nodeport prints" "service/np$v created" "$OUT"
	expect_ok "1.$v get svc np" "${K[@]}" get svc "np$v"
	expect_match "1.$v get svc columns" '^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE$' "$OUT"
	expect_match "1.$v get svc row: NodePort 80:3xxxx/TCP" \
		"^np$v +NodePort +$CIP +<none> +80$NP/TCP +[0-9]+s\$" "$OUT"
	expect_ok "1.$v create service clusterip" "${K[@]}" create service clusterip "cip$v" --tcp=5678:8080
	expect_eq "1.$v create service clusterip prints" "service/cip$v created" "$OUT"
	expect_ok "1.$v expose --port=80 --target-port=8080" "${K[@]}" expose deployment "$d" \
		--port=80 --target-port=8080 --name="ex$v"
	expect_eq "1.$v expose prints exposed" "service/ex$v exposed" "$OUT"
	expect_ok "1.$v exposed service fields" "${K[@]}" get svc "ex$v" \
		-o 'jsonpath={.spec.type} {.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.ports[0].protocol} {.spec.selector.app}'
	expect_eq "1.$v expose: ClusterIP 80 -> 8080 TCP, selector" "ClusterIP 80 8080 TCP $d" "$OUT"
	expect_ok "1.$v expose --type=NodePort (port from the deployment)" "${K[@]}" expose deployment "$d" \
		--type=NodePort --name="exnp$v"
	expect_eq "1.$v expose NodePort prints exposed" "service/exnp$v exposed" "$OUT"
	expect_ok "1.$v get svc -o wide" "${K[@]}" get svc -o wide
	o=$OUT
	expect_match "1.$v svc -o wide: SELECTOR column" '^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE +SELECTOR$' "$o"
	expect_match "1.$v svc row: ClusterIP 5678/TCP" "^cip$v +ClusterIP +$CIP +<none> +5678/TCP +[0-9]+s +app=cip$v\$" "$o"
	expect_match "1.$v svc row: exposed 80/TCP app=$d" "^ex$v +ClusterIP +$CIP +<none> +80/TCP +[0-9]+s +app=$d\$" "$o"
	expect_match "1.$v svc row: exposed NodePort 8080:3xxxx/TCP" "^exnp$v +NodePort +$CIP +<none> +8080$NP/TCP +" "$o"

	# label / annotate (merge patches)
	expect_ok "1.$v label" "${K[@]}" label deployment "$d" tier=web
	expect_eq "1.$v label prints labeled" "deployment.apps/$d labeled" "$OUT"
	expect_ok "1.$v get --show-labels after label" "${K[@]}" get deploy "$d" --show-labels --no-headers
	expect_match "1.$v labels app and tier" " app=$d,tier=web\$" "$OUT"
	expect_fail "1.$v label without --overwrite" "${K[@]}" label deployment "$d" tier=db
	expect_match "1.$v --overwrite error" "'tier' already has a value \\(web\\), and --overwrite is false" "$ERR"
	expect_ok "1.$v label -l selects" "${K[@]}" get deploy -l tier=web -o name
	expect_eq "1.$v -l tier=web finds it" "deployment.apps/$d" "$OUT"
	expect_ok "1.$v unlabel" "${K[@]}" label deployment "$d" tier-
	expect_eq "1.$v unlabel prints unlabeled" "deployment.apps/$d unlabeled" "$OUT"
	expect_ok "1.$v labels after unlabel" "${K[@]}" get deploy "$d" -o 'jsonpath={.metadata.labels}'
	expect_eq "1.$v only app remains" "{\"app\":\"$d\"}" "$OUT"
	expect_ok "1.$v annotate" "${K[@]}" annotate deployment "$d" lkt/note=hello
	if [ "$v" = 27 ]; then # a 1.27 client quirk (kubectl-wire.md §7)
		expect_eq "1.$v annotate prints annotate" "deployment.apps/$d annotate" "$OUT"
	else
		expect_eq "1.$v annotate prints annotated" "deployment.apps/$d annotated" "$OUT"
	fi
	expect_ok "1.$v annotation stored" "${K[@]}" get deploy "$d" -o 'jsonpath={.metadata.annotations.lkt/note}'
	expect_eq "1.$v annotation value" "hello" "$OUT"

	# scale (merge patch on /scale)
	run "${K[@]}" get deploy "$d" -o 'jsonpath={.metadata.generation}'
	gen=$OUT
	expect_ok "1.$v scale" "${K[@]}" scale deployment "$d" --replicas=3
	expect_eq "1.$v scale prints scaled" "deployment.apps/$d scaled" "$OUT"
	expect_ok "1.$v replicas after scale" "${K[@]}" get deploy "$d" -o 'jsonpath={.spec.replicas} {.metadata.generation}'
	expect_eq "1.$v spec.replicas is 3" 3 "${OUT% *}"
	expect_eq "1.$v scale bumps generation" "$((gen + 1))" "${OUT#* }"
	expect_ok "1.$v get deploy after scale" "${K[@]}" get deploy "$d" --no-headers
	expect_match "1.$v READY column shows /3" "^$d +[0-9]+/3 " "$OUT"

	# set image (strategic merge patch, containers merged by name)
	expect_ok "1.$v set image" "${K[@]}" set image "deployment/$d" pause=registry.k8s.io/pause:3.10
	expect_eq "1.$v set image prints image updated" "deployment.apps/$d image updated" "$OUT"
	expect_ok "1.$v image after set image" "${K[@]}" get deploy "$d" \
		-o 'jsonpath={.spec.template.spec.containers[*].name}={.spec.template.spec.containers[*].image}'
	expect_eq "1.$v one container with the new image" "pause=registry.k8s.io/pause:3.10" "$OUT"
	expect_ok "1.$v -o wide after set image" "${K[@]}" get deploy "$d" -o wide --no-headers
	expect_match "1.$v IMAGES column updated" " registry\\.k8s\\.io/pause:3\\.10 +app=$d\$" "$OUT"

	# configmap (protobuf from 1.32 on)
	expect_ok "1.$v create configmap" "${K[@]}" create configmap "cm$v" --from-literal=a=1 --from-literal=b=two
	expect_eq "1.$v create configmap prints" "configmap/cm$v created" "$OUT"
	expect_ok "1.$v get cm" "${K[@]}" get cm "cm$v"
	expect_match "1.$v get cm columns" '^NAME +DATA +AGE$' "$OUT"
	expect_match "1.$v get cm row: 2 keys" "^cm$v +2 +[0-9]+s\$" "$OUT"
	expect_ok "1.$v configmap data" "${K[@]}" get cm "cm$v" -o 'jsonpath={.data.a},{.data.b}'
	expect_eq "1.$v configmap data a,b" "1,two" "$OUT"

	# delete, then NotFound
	expect_ok "1.$v delete deployment" "${K[@]}" delete deployment "$d"
	expect_eq "1.$v delete prints deleted" "deployment.apps \"$d\" deleted" "$OUT"
	expect_notfound "1.$v get deleted deployment" "${K[@]}" get deploy "$d"
	expect_eq "1.$v NotFound after delete" "Error from server (NotFound): deployments.apps \"$d\" not found" "$ERR"
	expect_ok "1.$v delete service" "${K[@]}" delete svc "np$v"
	expect_eq "1.$v delete svc prints deleted" "service \"np$v\" deleted" "$OUT"
	expect_ok "1.$v delete two services" "${K[@]}" delete svc "cip$v" "ex$v"
	expect_eq "1.$v delete two prints both" "service \"cip$v\" deleted
service \"ex$v\" deleted" "$OUT"
	expect_ok "1.$v delete configmap" "${K[@]}" delete cm "cm$v"
	expect_eq "1.$v delete cm prints deleted" "configmap \"cm$v\" deleted" "$OUT"
	expect_ok "1.$v get deploy when none" "${K[@]}" get deploy
	expect_eq "1.$v no deployments left" "No resources found in $ns namespace." "$ERR$OUT"
	expect_ok "1.$v delete namespace" k "$v" delete namespace "$ns" --wait=false
	expect_eq "1.$v delete ns prints deleted" "namespace \"$ns\" deleted" "$OUT"
}
kall crud

# The default namespace and the kubernetes service are there from the start.
expect_ok "get svc kubernetes" kc get svc kubernetes
expect_match "kubernetes service: ClusterIP 10.96.0.1 443/TCP" \
	'^kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +' "$OUT"
expect_ok "get ns default" kc get ns default -o 'jsonpath={.status.phase}'
expect_eq "default namespace Active" Active "$OUT"
