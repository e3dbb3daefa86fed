#!/usr/bin/env bash
# t251: the Endpoints and EndpointSlice controllers for Services with a
# selector, as kubectl 1.27, 1.30 and 1.33 show them (get endpoints, get
# endpointslices, describe svc). The pods are made by hand and never run:
# they are bound to another node (nothing here starts them) and their
# status (podIP, Ready) is written through the status subresource, as a
# kubelet would.
. "$(dirname "$0")/lib.sh"
lk_plan $((64 + 13 * $(lk_nversions)))
lk_start

OTHER=lkt-elsewhere

# mkpod NAME LABEL-APP [NAMED-PORT] [extra metadata yaml]
mkpod() {
	local ports=''
	[ -n "${3:-}" ] && ports="ports: [{name: $3, containerPort: 8080}]"
	cat >"$LK_TMP/pod-$1.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: $2}
  ${4:-}
spec:
  nodeName: $OTHER
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: registry.k8s.io/pause:3.9, $ports}]
EOF
	kc create -f "$LK_TMP/pod-$1.yaml" >/dev/null || fail "create pod $1"
}
# podstatus NAME IP READY(True|False) [TIME]: what a kubelet would report
podstatus() {
	local t=${4:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
	api PATCH "/api/v1/namespaces/default/pods/$1/status" \
		-H 'Content-Type: application/merge-patch+json' \
		-d "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$2\",\"podIPs\":[{\"ip\":\"$2\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"$3\",\"lastTransitionTime\":\"$t\"}]}}"
	[ "$CODE" = 200 ] || fail "PATCH pods/$1/status" "HTTP $CODE: $BODY"
}
ep_json() { kc get endpoints "$1" -o json 2>/dev/null; }
# ready and not-ready ip:port pairs of an Endpoints, sorted, one line
EPS_PAIRS='" ".join(sorted(a["ip"]+":"+str(p["port"])+("" if k=="addresses" else "(nr)") for s in d.get("subsets",[]) for k in ("addresses","notReadyAddresses") for a in s.get(k,[]) for p in s.get("ports",[])))'
SLICE_EPS='" ".join(sorted(a+"="+str(e["conditions"]["ready"]) for i in d["items"] for e in i["endpoints"] for a in e["addresses"]))'
pairs() { ep_json "$1" | jf "$EPS_PAIRS"; }
slice_eps() { kc get endpointslices -l "kubernetes.io/service-name=$1" -o json | jf "$SLICE_EPS"; }
wait_pairs() { # wait_pairs DESC SVC WANT
	local t
	check() { [ "$(pairs "$1")" = "$2" ]; }
	if lk_wait_for 10 check "$2" "$3"; then pass "$1"; else
		t=$(pairs "$2"); fail "$1"; lk_diag want "$3"; lk_diag got "$t"
	fi
}
wait_slices() { # wait_slices DESC SVC WANT
	local t
	check() { [ "$(slice_eps "$1")" = "$2" ]; }
	if lk_wait_for 10 check "$2" "$3"; then pass "$1"; else
		t=$(slice_eps "$2"); fail "$1"; lk_diag want "$3"; lk_diag got "$t"
	fi
}

cat >"$LK_TMP/web.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: metrics, port: 9090, targetPort: 9090}
EOF
expect_ok "create service web (named targetPort)" kc create -f "$LK_TMP/web.yaml"
mkpod a web http
mkpod b web http
mkpod c web          # no port named http: only in the metrics port
podstatus a 10.244.9.1 True
podstatus b 10.244.9.2 False
podstatus c 10.244.9.3 True

wait_pairs "endpoints: ready in addresses, not ready in notReadyAddresses, named port per pod" web \
	"10.244.9.1:8080 10.244.9.1:9090 10.244.9.2:8080(nr) 10.244.9.2:9090(nr) 10.244.9.3:9090"
o=$(ep_json web)
expect_eq "endpoints: the service's labels" 'front' "$(jf 'd["metadata"]["labels"]["tier"]' "$o")"
expect_eq "endpoints: headless label only when headless" \
	"$(kc get svc web -o json | jf 'str(d["spec"].get("clusterIP", "") in ("", "None"))')" \
	"$(jf 'str("service.kubernetes.io/headless" in d["metadata"]["labels"])' "$o")"
expect_eq "endpoints: targetRef and nodeName" "Pod default a $OTHER" \
	"$(jf '[" ".join([x["targetRef"]["kind"], x["targetRef"]["namespace"], x["targetRef"]["name"], x["nodeName"]]) for s in d["subsets"] for x in s.get("addresses",[]) if x["ip"]=="10.244.9.1"][0]' "$o")"
expect_eq "endpoints: targetRef uid is the pod's" "$(kc get pod a -o jsonpath='{.metadata.uid}')" \
	"$(jf '[x["targetRef"]["uid"] for s in d["subsets"] for x in s.get("addresses",[]) if x["ip"]=="10.244.9.1"][0]' "$o")"
expect_eq "endpoints: ports carry their names" "http metrics" \
	"$(jf '" ".join(sorted(set(p["name"] for s in d["subsets"] for p in s["ports"])))' "$o")"
expect_match "endpoints: last-change-trigger-time" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
	"$(jf 'd["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"]' "$o")"
expect_eq "endpoints: no ownerReferences" "False" "$(jf 'str("ownerReferences" in d["metadata"])' "$o")"

wait_slices "endpointslices: every pod, ready as Ready" web \
	"10.244.9.1=True 10.244.9.2=False 10.244.9.3=True"
o=$(kc get endpointslices -l kubernetes.io/service-name=web -o json)
expect_eq "slices: one per port set" "2" "$(jf 'len(d["items"])' "$o")"
expect_eq "slices: managed-by, service-name, service labels" \
	"endpointslice-controller.k8s.io web front" \
	"$(jf '" ".join([d["items"][0]["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"], d["items"][0]["metadata"]["labels"]["kubernetes.io/service-name"], d["items"][0]["metadata"]["labels"]["tier"]])' "$o")"
expect_eq "slices: generateName and owner" "web- Service/web True" \
	"$(jf 'd["items"][0]["metadata"]["generateName"]+" "+d["items"][0]["metadata"]["ownerReferences"][0]["kind"]+"/"+d["items"][0]["metadata"]["ownerReferences"][0]["name"]+" "+str(d["items"][0]["metadata"]["ownerReferences"][0]["controller"])' "$o")"
expect_eq "slices: conditions of the not-ready pod" '{"ready": false, "serving": false, "terminating": false}' \
	"$(jf '[e["conditions"] for i in d["items"] for e in i["endpoints"] if e["addresses"]==["10.244.9.2"]][0]' "$o")"
expect_eq "slices: addressType, nodeName, targetRef" "IPv4 $OTHER Pod/c" \
	"$(jf '[i["addressType"]+" "+e["nodeName"]+" "+e["targetRef"]["kind"]+"/"+e["targetRef"]["name"] for i in d["items"] for e in i["endpoints"] if e["addresses"]==["10.244.9.3"]][0]' "$o")"

show() {
	local v=$1
	expect_ok "1.$v get endpoints" k "$v" get endpoints web
	expect_match "1.$v get endpoints columns" '^NAME +ENDPOINTS +AGE$' "$OUT"
	expect_match "1.$v get endpoints row: ready pairs only" \
		'^web +10\.244\.9\.[13]:[0-9]+,10\.244\.9\.[13]:[0-9]+,10\.244\.9\.[13]:[0-9]+ +[0-9]+s$' "$OUT"
	expect_nomatch "1.$v get endpoints: not-ready pod hidden" '10\.244\.9\.2' "$OUT"
	expect_ok "1.$v get endpointslices" k "$v" get endpointslices -l kubernetes.io/service-name=web
	expect_match "1.$v get endpointslices columns" '^NAME +ADDRESSTYPE +PORTS +ENDPOINTS +AGE$' "$OUT"
	expect_match "1.$v slice row with both ports" \
		'^web-[a-z0-9]{5} +IPv4 +(8080,9090|9090,8080) +10\.244\.9\.[12],10\.244\.9\.[12] +[0-9]+s$' "$OUT"
	expect_match "1.$v slice row with the metrics port" '^web-[a-z0-9]{5} +IPv4 +9090 +10\.244\.9\.3 +[0-9]+s$' "$OUT"
	expect_ok "1.$v describe svc" k "$v" describe svc web
	expect_match "1.$v describe: http endpoints" '^Endpoints: +10\.244\.9\.1:8080$' "$OUT"
	expect_match "1.$v describe: metrics endpoints" \
		'^Endpoints: +(10\.244\.9\.1:9090,10\.244\.9\.3:9090|10\.244\.9\.3:9090,10\.244\.9\.1:9090)$' "$OUT"
}
kall show

# Readiness flips move addresses.
podstatus b 10.244.9.2 True
podstatus a 10.244.9.1 False
wait_pairs "readiness flip: a to notReadyAddresses, b to addresses" web \
	"10.244.9.1:8080(nr) 10.244.9.1:9090(nr) 10.244.9.2:8080 10.244.9.2:9090 10.244.9.3:9090"
wait_slices "readiness flip in the slices" web "10.244.9.1=False 10.244.9.2=True 10.244.9.3=True"
expect_ok "1.27 get endpoints after the flip" k 27 get endpoints web
expect_nomatch "1.27: a is hidden now" '10\.244\.9\.1:' "$OUT"

# publishNotReadyAddresses: every pod is an address, ready in slices.
expect_ok "publishNotReadyAddresses" kc patch svc web -p '{"spec":{"publishNotReadyAddresses":true}}'
wait_pairs "publishNotReadyAddresses: all in addresses" web \
	"10.244.9.1:8080 10.244.9.1:9090 10.244.9.2:8080 10.244.9.2:9090 10.244.9.3:9090"
wait_slices "publishNotReadyAddresses: all ready in slices" web "10.244.9.1=True 10.244.9.2=True 10.244.9.3=True"
expect_ok "publishNotReadyAddresses off" kc patch svc web -p '{"spec":{"publishNotReadyAddresses":false}}'

# A terminating pod (held by a finalizer) leaves Endpoints, stays in the
# slice marked terminating.
mkpod d web http 'finalizers: [example.com/hold]'
podstatus d 10.244.9.4 True
wait_pairs "pod d added" web \
	"10.244.9.1:8080(nr) 10.244.9.1:9090(nr) 10.244.9.2:8080 10.244.9.2:9090 10.244.9.3:9090 10.244.9.4:8080 10.244.9.4:9090"
expect_ok "delete pod d (held)" kc delete pod d --wait=false
wait_pairs "terminating pod leaves Endpoints" web \
	"10.244.9.1:8080(nr) 10.244.9.1:9090(nr) 10.244.9.2:8080 10.244.9.2:9090 10.244.9.3:9090"
wait_slices "terminating pod stays in the slice, not ready" web \
	"10.244.9.1=False 10.244.9.2=True 10.244.9.3=True 10.244.9.4=False"
expect_eq "terminating pod's conditions" '{"ready": false, "serving": true, "terminating": true}' \
	"$(kc get endpointslices -l kubernetes.io/service-name=web -o json | jf '[e["conditions"] for i in d["items"] for e in i["endpoints"] if e["addresses"]==["10.244.9.4"]][0]')"
expect_ok "release pod d" kc patch pod d --type=merge -p '{"metadata":{"finalizers":null}}'
wait_slices "released pod leaves the slice" web "10.244.9.1=False 10.244.9.2=True 10.244.9.3=True"

# Deleted and relabelled pods leave.
expect_ok "delete pod c" kc delete pod c
expect_ok "relabel pod b" kc label pod b app=other --overwrite
wait_pairs "deleted and relabelled pods leave" web "10.244.9.1:8080(nr) 10.244.9.1:9090(nr)"
wait_slices "... and leave the slices" web "10.244.9.1=False"

# No pod at all: no subsets, one placeholder slice.
expect_ok "delete pod a" kc delete pod a
wait_pairs "no pods: no subsets" web ""
expect_ok "get endpoints: <none>" kc get endpoints web
expect_match "empty Endpoints prints <none>" '^web +<none> +[0-9]+s$' "$OUT"
check_placeholder() { kc get endpointslices -l kubernetes.io/service-name=web 2>&1 | grep -Eq '^web-[a-z0-9]{5} +IPv4 +<unset> +<unset> '; }
if lk_wait_for 10 check_placeholder; then pass "placeholder slice (<unset> <unset>)"; else
	fail "placeholder slice (<unset> <unset>)"; lk_diag got "$(kc get endpointslices 2>&1)"; fi

# Unnamed port: slices say "name": "" and 1.33 describe works.
cat >"$LK_TMP/plain.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: plain}
spec:
  selector: {app: plain}
  ports: [{port: 80, targetPort: 8080}]
EOF
expect_ok "create service plain (unnamed port)" kc create -f "$LK_TMP/plain.yaml"
mkpod p1 plain
podstatus p1 10.244.9.5 True
wait_slices "plain: the slice" plain "10.244.9.5=True"
expect_eq "unnamed port: name is \"\"" '[{"name": "", "port": 8080, "protocol": "TCP"}]' \
	"$(kc get endpointslices -l kubernetes.io/service-name=plain -o json | jf 'd["items"][0]["ports"]')"
expect_eq "unnamed port in Endpoints: no name" '[{"port": 8080, "protocol": "TCP"}]' \
	"$(ep_json plain | jf 'd["subsets"][0]["ports"]')"
for v in $LK_VERSIONS; do
	expect_ok "1.$v describe svc plain" k "$v" describe svc plain
	expect_match "1.$v describe svc plain: Endpoints" '^Endpoints: +10\.244\.9\.5:8080$' "$OUT"
done

# Headless with hostname + subdomain.
cat >"$LK_TMP/db.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
EOF
expect_ok "create headless service db" kc create -f "$LK_TMP/db.yaml"
cat >"$LK_TMP/db-0.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: db-0, labels: {app: db}}
spec:
  hostname: db-0
  subdomain: db
  nodeName: $OTHER
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
EOF
expect_ok "create pod db-0" kc create -f "$LK_TMP/db-0.yaml"
podstatus db-0 10.244.9.6 True
wait_pairs "headless: the pod" db "10.244.9.6:5432"
expect_eq "headless: hostname and the headless label" 'db-0 ' \
	"$(ep_json db | jf 'd["subsets"][0]["addresses"][0]["hostname"]+" "+d["metadata"]["labels"]["service.kubernetes.io/headless"]')"
expect_eq "headless slice: hostname and label" 'db-0 ' \
	"$(kc get endpointslices -l kubernetes.io/service-name=db -o json | jf 'd["items"][0]["endpoints"][0]["hostname"]+" "+d["items"][0]["metadata"]["labels"]["service.kubernetes.io/headless"]')"

# Steady state: nothing rewrites plain's objects while the controllers work
# through the changes below (their results are the positive markers).
rv1=$(kc get endpointslices -l kubernetes.io/service-name=plain -o jsonpath='{.items[0].metadata.resourceVersion}')
rv2=$(kc get endpoints plain -o jsonpath='{.metadata.resourceVersion}')
expect_match "steady state: resourceVersions read" '^[0-9]+ [0-9]+$' "$rv1 $rv2"

# A Service without selector gets no Endpoints from the controller. The
# marker: a selector Service created after it, whose Endpoints and slice
# show that both controllers got past nosel.
cat >"$LK_TMP/nosel.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: nosel}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: marker}
spec:
  selector: {app: plain}
  ports: [{port: 80, targetPort: 8080}]
EOF
expect_ok "create service nosel (no selector), then service marker" kc create -f "$LK_TMP/nosel.yaml"
wait_pairs "marker: its Endpoints (the controller got past nosel)" marker "10.244.9.5:8080"
wait_slices "marker: its slice" marker "10.244.9.5=True"
expect_notfound "no Endpoints for a selector-less service (NotFound)" kc get endpoints nosel
expect_eq "no controller slices for it" "0" \
	"$(kc get endpointslices -l kubernetes.io/service-name=nosel -o json | jf 'len(d["items"])')"

# Deleting the Service removes its Endpoints and slices.
expect_ok "delete service web" kc delete svc web
gone() { notfound kc get endpoints web &&
	[ "$(kc get endpointslices -l kubernetes.io/service-name=web -o json | jf 'len(d["items"])')" = 0 ]; }
if lk_wait_for 10 gone; then pass "service gone: Endpoints NotFound, no slices"; else
	fail "service gone: Endpoints NotFound, no slices"; lk_diag got "$(kc get endpoints,endpointslices 2>&1)"; fi

expect_eq "steady state: slice not rewritten" "$rv1" \
	"$(kc get endpointslices -l kubernetes.io/service-name=plain -o jsonpath='{.items[0].metadata.resourceVersion}')"
expect_eq "steady state: Endpoints not rewritten" "$rv2" "$(kc get endpoints plain -o jsonpath='{.metadata.resourceVersion}')"

# After a restart the controllers resync: pod p1's IP is changed while the
# server is down. No API answers then, so the change goes into the store
# (sqlite3, as an admin repairing it would); nothing announces it, and only
# a controller that reconciles everything when it starts can notice it.
lk_server_stop # fails the file unless the server exits 0
run sqlite3 "$LK_TMP/data/labkube.db" "UPDATE objects SET json = json_set(json, '\$.status.podIP', '10.244.9.7', '\$.status.podIPs', json('[{\"ip\": \"10.244.9.7\"}]')) WHERE resource = 'pods' AND ns = 'default' AND name = 'p1'; SELECT changes();"
expect_eq "while down: p1's podIP changed in the store (1 row)" "1" "$OUT"
[ -n "$ERR" ] && lk_diag stderr "$ERR"
lk_server_start
expect_eq "after restart: the API shows p1's new IP" "10.244.9.7" "$(kc get pod p1 -o jsonpath='{.status.podIP}')"
wait_pairs "after restart: the new pod IP" plain "10.244.9.7:8080"
wait_slices "after restart: the new pod IP in the slice" plain "10.244.9.7=True"
wait_pairs "after restart: marker follows too" marker "10.244.9.7:8080"
expect_eq "after restart: still one slice" "1" \
	"$(kc get endpointslices -l kubernetes.io/service-name=plain -o name | wc -l)"

lk_done
