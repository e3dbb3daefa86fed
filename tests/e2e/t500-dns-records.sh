#!/usr/bin/env bash
# t500: the cluster DNS (dns/, issue 5): every record of the Kubernetes
# DNS-Based Service Discovery spec (shared/specs/dns-spec-checklist.md),
# asked with dig from the node namespace, over UDP and TCP, at the kube-dns
# cluster IP 10.96.0.10 and at the server's own address 10.244.0.1:
# dns-version TXT; ClusterIP A, SRV per named port (none for unnamed ports
# or the wrong protocol), PTR; headless A per ready endpoint (with and
# without a selector, not-ready left out unless publishNotReadyAddresses),
# hostname records, SRV per endpoint x port, PTR; NXDOMAIN when a headless
# service has no ready endpoint; ExternalName as a CNAME (chased inside the
# zone), updated, then turned into a ClusterIP; pod records a-b-c-d.ns.pod;
# the kubernetes and kube-dns services; case-insensitive names; the TTL;
# NXDOMAIN vs NODATA with the SOA in the authority section; changes to
# services and EndpointSlices visible without a restart. As CoreDNS: the
# ready endpoints of ClusterIP services have PTR and endpoint names too
# (dig -x of a pod behind a Deployment's service), and SRV at the bare
# service name lists every port (named or not).
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "cluster DNS" "the fake server serves no DNS"
	exit 0
fi
lk_plan $((7 + 4 * 56 + 40))
# No upstream is reachable in the test's namespaces; name one that refuses
# at once so that nothing here waits on the host's resolvers.
lk_start --dns-upstream=127.0.0.1:9

NS=my-ns
K=(kc -n "$NS")
Z=cluster.local

# ---- dig, parsed
# dq SERVER NAME TYPE [dig options]: one query (transport from $DQ_TCP).
# Sets ST (status), FL (header flags), AN (answer: "owner TYPE rdata",
# owner lower-cased, sorted), AUTH (authority, the same form), TTLS (the
# answer's distinct TTLs), RAW (dig's output).
DQ_TCP=+notcp
dq() {
	local srv=$1 name=$2 type=$3
	shift 3
	run lk_nsexec dig @"$srv" "$DQ_TCP" +time=3 +tries=1 +noall +comments +answer \
		+authority "$@" "$name" "$type"
	RAW=$OUT
	ST=$(sed -n 's/.*status: \([A-Z0-9]*\),.*/\1/p' <<<"$RAW" | head -n 1)
	[ -n "$ST" ] || ST="(no answer: $(grep -m1 -E 'timed out|refused|error' <<<"$RAW"))"
	FL=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$RAW" | head -n 1)
	AN=$(dq_section ANSWER)
	AUTH=$(dq_section AUTHORITY)
	TTLS=$(awk '/^;; ANSWER SECTION:/{s=1; next} /^;;/ || /^$/{s=0} s && !/^;/{print $2}' \
		<<<"$RAW" | sort -u | tr '\n' ' ')
	TTLS=${TTLS% }
}
dq_section() {
	awk -v sec=";; $1 SECTION:" '
		index($0, sec) == 1 {s = 1; next}
		/^;;/ || /^$/ {s = 0}
		s && !/^;/ {
			line = tolower($1) " " $4
			for (i = 5; i <= NF; i++) line = line " " $i
			print line
		}' <<<"$RAW" | sort
}
dq_diag() { lk_diag "dig @$1 $DQ_TCP $2 $3" "$RAW"; }

# rec DESC SERVER NAME TYPE WANT...: NOERROR, authoritative, answer = WANT
# (lines "owner. TYPE rdata", any order).
rec() {
	local desc=$1 srv=$2 name=$3 type=$4 want
	shift 4
	want=$(printf '%s\n' "$@" | sort)
	dq "$srv" "$name" "$type"
	if [ "$ST" = NOERROR ] && [ "$AN" = "$want" ] && [[ " $FL " == *" aa "* ]]; then
		pass "$desc"
		return 0
	fi
	fail "$desc" "want NOERROR, flag aa, and exactly:"
	lk_diag want "$want"
	dq_diag "$srv" "$name" "$type"
	return 1
}
# neg DESC SERVER NAME TYPE NXDOMAIN|NOERROR: a negative answer: that
# status, no answer records, the zone's SOA in the authority section.
neg() {
	local desc=$1 srv=$2 name=$3 type=$4 want=$5
	dq "$srv" "$name" "$type"
	# names in the cluster zone carry the zone's own SOA
	local soa='^[^ ]+ SOA '
	[[ $name == *.$Z ]] && soa="^${Z//./\\.}\\. SOA "
	if [ "$ST" = "$want" ] && [ -z "$AN" ] && grep -Eq "$soa" <<<"$AUTH" && [[ " $FL " == *" aa "* ]]; then
		pass "$desc"
		return 0
	fi
	fail "$desc" "want $want, flag aa, empty answer, SOA in the authority section (matching $soa)"
	dq_diag "$srv" "$name" "$type"
	return 1
}
# empty DESC SERVER NAME TYPE: no answer records, NXDOMAIN or NODATA (where
# the spec does not say which).
empty() {
	local desc=$1 srv=$2 name=$3 type=$4
	dq "$srv" "$name" "$type"
	if [[ $ST == NXDOMAIN || $ST == NOERROR ]] && [ -z "$AN" ]; then
		pass "$desc ($ST)"
		return 0
	fi
	fail "$desc" "want NXDOMAIN or NOERROR with an empty answer"
	dq_diag "$srv" "$name" "$type"
	return 1
}
has_a() { # has_a SERVER NAME IP: the A answer holds IP (for waits)
	dq "$1" "$2" A
	grep -Fxq -- "$2. A $3" <<<"$AN"
}
is_status() { # is_status SERVER NAME TYPE STATUS (for waits)
	dq "$1" "$2" "$3"
	[ "$ST" = "$4" ]
}
dashed() { tr . - <<<"$1"; }
rev4() { awk -F. '{print $4 "." $3 "." $2 "." $1 ".in-addr.arpa"}' <<<"$1"; }
ready_eps() { # ready_eps SVC N: the service has N ready endpoints
	[ "$("${K[@]}" get endpointslices -l "kubernetes.io/service-name=$1" \
		-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c .)" = "$2" ]
}

wait_ok "the server answers at the kube-dns cluster IP (10.96.0.10)" 15 \
	has_a 10.96.0.10 kubernetes.default.svc.$Z 10.96.0.1

# ---- the objects
M=$(lk_manifest dns.yaml <<'Y'
apiVersion: v1
kind: Namespace
metadata: {name: my-ns}
---
apiVersion: v1
kind: Service
metadata: {name: my-service, namespace: my-ns}
spec:
  clusterIP: 10.96.50.50
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 80}
  - {name: dns-udp, port: 53, protocol: UDP}
  - {name: metrics, port: 9090}
---
apiVersion: v1
kind: Service
metadata: {name: my-headless, namespace: my-ns}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: my-ns, labels: {app: web}}
spec:
  hostname: web-0
  subdomain: my-headless
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: my-ns, labels: {app: web}}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
---
apiVersion: v1
kind: Service
metadata: {name: solo, namespace: my-ns}
spec:
  clusterIP: 10.96.50.53
  selector: {app: solo}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo-0, namespace: my-ns, labels: {app: solo}}
spec:
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
---
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: my-ns}
spec:
  clusterIP: None
  ports:
  - {name: http, port: 8080}
  - {name: dns, port: 5353, protocol: UDP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-1
  namespace: my-ns
  labels: {kubernetes.io/service-name: manual}
addressType: IPv4
endpoints:
- {addresses: [10.244.200.1], hostname: alpha, conditions: {ready: true}}
- {addresses: [10.244.200.2], conditions: {ready: true}}
- {addresses: [10.244.200.3], hostname: gamma, conditions: {ready: false}}
ports:
- {name: http, port: 8080, protocol: TCP}
- {name: dns, port: 5353, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: unready, namespace: my-ns}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: unready-1
  namespace: my-ns
  labels: {kubernetes.io/service-name: unready}
addressType: IPv4
endpoints:
- {addresses: [10.244.201.1], conditions: {ready: false}}
ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: my-ns}
spec:
  clusterIP: None
  selector: {app: nobody}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: unnamed, namespace: my-ns}
spec:
  clusterIP: 10.96.50.51
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: my-ext, namespace: my-ns}
spec:
  type: ExternalName
  externalName: www.example.com
---
apiVersion: v1
kind: Service
metadata: {name: ext-in, namespace: my-ns}
spec:
  type: ExternalName
  externalName: my-service.my-ns.svc.cluster.local
Y
)
expect_ok "apply services, pods, EndpointSlices in my-ns" kc apply -f "$M"
wait_ok "my-headless has two ready endpoints" 60 ready_eps my-headless 2
IP0=$("${K[@]}" get pod web-0 -o jsonpath='{.status.podIP}')
IP1=$("${K[@]}" get pod web-1 -o jsonpath='{.status.podIP}')
expect_match "pods have IPs" '^10\.244\.[0-9.]+ 10\.244\.[0-9.]+$' "$IP0 $IP1"
wait_ok "the ClusterIP service solo has a ready endpoint" 60 ready_eps solo 1
IPS=$("${K[@]}" get pod solo-0 -o jsonpath='{.status.podIP}')
expect_match "solo-0 has an IP" '^10\.244\.[0-9.]+$' "$IPS"
wait_ok "the new services resolve" 10 has_a 10.96.0.10 my-service.$NS.svc.$Z 10.96.50.50

# ---- the checks, once per transport and server address
records() { # records SERVER LABEL
	local s=$1 l=$2 sn=my-service.$NS.svc.$Z hn=my-headless.$NS.svc.$Z mn=manual.$NS.svc.$Z
	local t1 srv

	rec "$l dns-version TXT" "$s" dns-version.$Z TXT "dns-version.$Z. TXT \"1.1.0\""
	# ClusterIP service
	rec "$l ClusterIP A" "$s" $sn A "$sn. A 10.96.50.50"
	neg "$l ClusterIP AAAA: NODATA" "$s" $sn AAAA NOERROR
	dq "$s" $sn A
	expect_eq "$l TTL is 5 s (--dns-ttl default)" 5 "$TTLS"
	dq "$s" _http._tcp.$sn SRV
	expect_match "$l SRV _http._tcp: port 80, target the service" "^_http\._tcp\.$sn\. SRV [0-9]+ [0-9]+ 80 $sn\.\$" "$AN"
	dq "$s" _dns-udp._udp.$sn SRV
	expect_match "$l SRV _dns-udp._udp: port 53" "^_dns-udp\._udp\.$sn\. SRV [0-9]+ [0-9]+ 53 $sn\.\$" "$AN"
	dq "$s" _metrics._tcp.$sn SRV
	expect_match "$l SRV _metrics._tcp: port 9090" "^_metrics\._tcp\.$sn\. SRV [0-9]+ [0-9]+ 9090 $sn\.\$" "$AN"
	empty "$l SRV with the wrong protocol (_http._udp): no record" "$s" _http._udp.$sn SRV
	empty "$l SRV of an unknown port name: no record" "$s" _nosuch._tcp.$sn SRV
	rec "$l PTR of the cluster IP" "$s" "$(rev4 10.96.50.50)" PTR "$(rev4 10.96.50.50). PTR $sn."
	rec "$l unnamed port: A" "$s" unnamed.$NS.svc.$Z A "unnamed.$NS.svc.$Z. A 10.96.50.51"
	rec "$l SRV at a bare ClusterIP name: every port, the service as target" "$s" $sn SRV \
		"$sn. SRV 0 33 80 $sn." "$sn. SRV 0 33 53 $sn." "$sn. SRV 0 33 9090 $sn."
	rec "$l SRV at the bare name of a service with an unnamed port" "$s" unnamed.$NS.svc.$Z SRV \
		"unnamed.$NS.svc.$Z. SRV 0 100 8080 unnamed.$NS.svc.$Z."
	# a pod behind a ClusterIP service only (a Deployment's pod)
	local on=solo.$NS.svc.$Z pn
	pn=$(dashed "$IPS").$on
	rec "$l dig -x of a ClusterIP service's pod: its name under the service" "$s" -x "$IPS" \
		"$(rev4 "$IPS"). PTR $pn."
	rec "$l ... which resolves back to the pod" "$s" "$pn" A "$pn. A $IPS"
	rec "$l ... the service name is still the cluster IP" "$s" $on A "$on. A 10.96.50.53"
	rec "$l ... SRV at the service name: the service port to the service" "$s" $on SRV \
		"$on. SRV 0 100 80 $on."
	empty "$l unnamed port: no SRV" "$s" _http._tcp.unnamed.$NS.svc.$Z SRV
	# kubernetes and kube-dns
	rec "$l kubernetes.default A" "$s" kubernetes.default.svc.$Z A "kubernetes.default.svc.$Z. A 10.96.0.1"
	rec "$l kubernetes.default SRV at the bare name" "$s" kubernetes.default.svc.$Z SRV \
		"kubernetes.default.svc.$Z. SRV 0 100 443 kubernetes.default.svc.$Z."
	dq "$s" _https._tcp.kubernetes.default.svc.$Z SRV
	expect_match "$l kubernetes SRV _https._tcp: 443" \
		"^_https\._tcp\.kubernetes\.default\.svc\.$Z\. SRV [0-9]+ [0-9]+ 443 kubernetes\.default\.svc\.$Z\.\$" "$AN"
	rec "$l kube-dns.kube-system A" "$s" kube-dns.kube-system.svc.$Z A "kube-dns.kube-system.svc.$Z. A 10.96.0.10"
	rec "$l PTR 10.96.0.10" "$s" "$(rev4 10.96.0.10)" PTR "$(rev4 10.96.0.10). PTR kube-dns.kube-system.svc.$Z."
	# headless with a selector (pods web-0 with hostname/subdomain, web-1)
	rec "$l headless A: one per ready endpoint" "$s" $hn A "$hn. A $IP0" "$hn. A $IP1"
	neg "$l headless AAAA (IPv4 endpoints): NODATA" "$s" $hn AAAA NOERROR
	rec "$l hostname record web-0.my-headless" "$s" web-0.$hn A "web-0.$hn. A $IP0"
	rec "$l PTR of web-0's IP: under the headless and the ClusterIP service" "$s" "$(rev4 "$IP0")" PTR \
		"$(rev4 "$IP0"). PTR web-0.$hn." "$(rev4 "$IP0"). PTR $(dashed "$IP0").$sn."
	dq "$s" _http._tcp.$hn SRV
	t1=$(awk '$5 == 80 {print $6}' <<<"$AN" | grep -v "^web-0\.")
	if [ "$(wc -l <<<"$AN")" = 2 ] && grep -Eq "^_http\._tcp\.$hn\. SRV [0-9]+ [0-9]+ 80 web-0\.$hn\.\$" <<<"$AN" &&
		[[ $t1 == *.$hn. ]]; then
		pass "$l headless SRV: one per endpoint, web-0 by hostname"
		rec "$l the other SRV target resolves to web-1's IP" "$s" "${t1%.}" A "${t1%.}. A $IP1"
	else
		fail "$l headless SRV: one per endpoint, web-0 by hostname"
		dq_diag "$s" _http._tcp.$hn SRV
		fail "$l the other SRV target resolves to web-1's IP" "no other SRV target to ask"
	fi
	# headless without a selector (hand-written EndpointSlice)
	rec "$l selector-less headless A: ready endpoints only" "$s" $mn A \
		"$mn. A 10.244.200.1" "$mn. A 10.244.200.2"
	rec "$l selector-less hostname record alpha.manual" "$s" alpha.$mn A "alpha.$mn. A 10.244.200.1"
	neg "$l not-ready endpoint's hostname: NXDOMAIN" "$s" gamma.$mn A NXDOMAIN
	dq "$s" _http._tcp.$mn SRV
	expect_eq "$l selector-less SRV _http._tcp: two records, port 8080" \
		"8080 8080" "$(awk '{print $5}' <<<"$AN" | tr '\n' ' ' | sed 's/ $//')"
	expect_match "$l ... one of them alpha.manual" "^_http\._tcp\.$mn\. SRV [0-9]+ [0-9]+ 8080 alpha\.$mn\.\$" "$AN"
	rec "$l SRV at a bare headless name: endpoint x port" "$s" $mn SRV \
		"$mn. SRV 0 25 8080 alpha.$mn." "$mn. SRV 0 25 5353 alpha.$mn." \
		"$mn. SRV 0 25 8080 10-244-200-2.$mn." "$mn. SRV 0 25 5353 10-244-200-2.$mn."
	dq "$s" _dns._udp.$mn SRV
	expect_eq "$l selector-less SRV _dns._udp: two records, port 5353" \
		"5353 5353" "$(awk '{print $5}' <<<"$AN" | tr '\n' ' ' | sed 's/ $//')"
	rec "$l PTR of a ready endpoint with a hostname" "$s" "$(rev4 10.244.200.1)" PTR \
		"$(rev4 10.244.200.1). PTR alpha.$mn."
	dq "$s" "$(rev4 10.244.200.2)" PTR
	t1=$(awk '$2 == "PTR" {print $3}' <<<"$AN")
	if [ "$ST" = NOERROR ] && [ "$(wc -l <<<"$AN")" = 1 ] && [[ $t1 == *.$mn. ]]; then
		pass "$l PTR of a ready endpoint without a hostname: a name under the service"
		rec "$l ... which resolves back to the address" "$s" "${t1%.}" A "${t1%.}. A 10.244.200.2"
	else
		fail "$l PTR of a ready endpoint without a hostname: a name under the service"
		dq_diag "$s" "$(rev4 10.244.200.2)" PTR
		fail "$l ... which resolves back to the address" "no PTR name to ask"
	fi
	rec "$l publishNotReadyAddresses: the not-ready address is served" "$s" unready.$NS.svc.$Z A \
		"unready.$NS.svc.$Z. A 10.244.201.1"
	neg "$l headless without ready endpoints: NXDOMAIN" "$s" nobody.$NS.svc.$Z A NXDOMAIN
	# ExternalName
	rec "$l ExternalName CNAME" "$s" my-ext.$NS.svc.$Z CNAME "my-ext.$NS.svc.$Z. CNAME www.example.com."
	dq "$s" my-ext.$NS.svc.$Z A
	expect_line "$l ExternalName asked for A: the CNAME first" "my-ext.$NS.svc.$Z. CNAME www.example.com." "$AN"
	rec "$l ExternalName to a cluster name: CNAME chased inside the zone" "$s" ext-in.$NS.svc.$Z A \
		"ext-in.$NS.svc.$Z. CNAME $sn." "$sn. A 10.96.50.50"
	# pods
	rec "$l pod record a-b-c-d.ns.pod" "$s" "$(dashed "$IP0").$NS.pod.$Z" A "$(dashed "$IP0").$NS.pod.$Z. A $IP0"
	neg "$l pod name that is not an address: NXDOMAIN" "$s" not-an-ip.$NS.pod.$Z A NXDOMAIN
	# case, negatives
	dq "$s" MY-SERVICE.My-Ns.SVC.Cluster.Local A
	if [ "$ST" = NOERROR ] && [ "$AN" = "$sn. A 10.96.50.50" ]; then
		pass "$l case-insensitive: MY-SERVICE.My-Ns.SVC.Cluster.Local"
	else
		fail "$l case-insensitive: MY-SERVICE.My-Ns.SVC.Cluster.Local"
		dq_diag "$s" MY-SERVICE.My-Ns.SVC.Cluster.Local A
	fi
	neg "$l unknown service: NXDOMAIN + SOA" "$s" nosuch.$NS.svc.$Z A NXDOMAIN
	neg "$l unknown namespace: NXDOMAIN + SOA" "$s" my-service.nosuch-ns.svc.$Z A NXDOMAIN
	neg "$l below a service name: NXDOMAIN" "$s" a.b.$sn A NXDOMAIN
	neg "$l other name in the zone: NXDOMAIN" "$s" nosuch.$Z A NXDOMAIN
	neg "$l TXT of a service: NODATA" "$s" $sn TXT NOERROR
	neg "$l namespace name (has services below): NODATA, not NXDOMAIN" "$s" $NS.svc.$Z A NOERROR
	neg "$l svc.$Z: NODATA, not NXDOMAIN" "$s" svc.$Z A NOERROR
	neg "$l PTR of an unused cluster IP: NXDOMAIN" "$s" "$(rev4 10.96.99.99)" PTR NXDOMAIN
	dq "$s" $Z SOA
	expect_match "$l $Z SOA: the zone's SOA" "^$Z\. SOA " "$AN"
}

records 10.96.0.10 "[udp 10.96.0.10]"
DQ_TCP=+tcp
records 10.96.0.10 "[tcp 10.96.0.10]"
DQ_TCP=+notcp
records 10.244.0.1 "[udp 10.244.0.1]"
DQ_TCP=+tcp
records 10.244.0.1 "[tcp 10.244.0.1]"
DQ_TCP=+notcp

# ---- changes follow the API, no restart
S=10.96.0.10
expect_ok "add an endpoint to the selector-less slice" "${K[@]}" patch endpointslice manual-1 --type=json \
	-p '[{"op":"add","path":"/endpoints/-","value":{"addresses":["10.244.200.4"],"hostname":"delta","conditions":{"ready":true}}}]'
wait_ok "... its A record appears" 10 has_a $S manual.$NS.svc.$Z 10.244.200.4
wait_ok "... and its hostname record" 10 has_a $S delta.manual.$NS.svc.$Z 10.244.200.4
expect_ok "make gamma ready" "${K[@]}" patch endpointslice manual-1 --type=json \
	-p '[{"op":"replace","path":"/endpoints/2/conditions/ready","value":true}]'
wait_ok "... gamma.manual resolves" 10 has_a $S gamma.manual.$NS.svc.$Z 10.244.200.3
expect_ok "change my-ext's externalName" "${K[@]}" patch svc my-ext -p '{"spec":{"externalName":"bar.example.com"}}'
cname_is() { dq $S my-ext.$NS.svc.$Z CNAME; [ "$AN" = "my-ext.$NS.svc.$Z. CNAME $1" ]; }
wait_ok "... the CNAME follows (bar.example.com.)" 10 cname_is bar.example.com.
expect_ok "turn my-ext into a ClusterIP service" "${K[@]}" patch svc my-ext --type=merge \
	-p '{"spec":{"type":"ClusterIP","externalName":null,"clusterIP":"10.96.50.52","clusterIPs":["10.96.50.52"],"ports":[{"name":"http","port":80}]}}'
wait_ok "... A is the new cluster IP" 10 has_a $S my-ext.$NS.svc.$Z 10.96.50.52
neg "... and the CNAME is gone (NODATA)" $S my-ext.$NS.svc.$Z CNAME NOERROR
expect_ok "scale the selector's pods away (delete web-0, web-1)" "${K[@]}" delete pod web-0 web-1 --wait=false
wait_ok "... the headless service becomes NXDOMAIN" 30 is_status $S my-headless.$NS.svc.$Z A NXDOMAIN
wait_ok "... the hostname record too" 10 is_status $S web-0.my-headless.$NS.svc.$Z A NXDOMAIN
expect_ok "delete the service my-service" "${K[@]}" delete svc my-service
wait_ok "... its name is NXDOMAIN" 10 is_status $S my-service.$NS.svc.$Z A NXDOMAIN
wait_ok "... and its PTR" 10 is_status $S "$(rev4 10.96.50.50)" PTR NXDOMAIN
expect_ok "delete the slice manual-1" "${K[@]}" delete endpointslice manual-1
wait_ok "... manual is NXDOMAIN" 10 is_status $S manual.$NS.svc.$Z A NXDOMAIN
# slices that arrive before their service; two slices make one service;
# a hostname shared by two addresses; the service deleted, slices kept
M=$(lk_manifest early.yaml <<'Y'
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: early-1
  labels: {kubernetes.io/service-name: early}
addressType: IPv4
endpoints:
- {addresses: [10.244.210.1], hostname: h1, conditions: {ready: true}}
ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: early-2
  labels: {kubernetes.io/service-name: early}
addressType: IPv4
endpoints:
- {addresses: [10.244.210.2], hostname: h2, conditions: {ready: true}}
- {addresses: [10.244.210.3], hostname: h1, conditions: {ready: true}}
ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-2
  namespace: my-ns
  labels: {kubernetes.io/service-name: manual}
addressType: IPv4
endpoints:
- {addresses: [10.244.200.9], conditions: {ready: true}}
ports: [{name: http, port: 8080, protocol: TCP}]
Y
)
expect_ok "two EndpointSlices for a service that does not exist yet (then one for manual)" kc apply -f "$M"
# manual-2, written after them, is the marker: once it resolves, the DNS
# has seen the two slices before it
wait_ok "... the slice written after them is served (manual: 10.244.200.9)" 10 \
	has_a $S manual.$NS.svc.$Z 10.244.200.9
neg "... no service, no name (NXDOMAIN)" $S early.default.svc.$Z A NXDOMAIN
expect_ok "create the headless service early" kc create service clusterip early --clusterip=None --tcp=80
E=early.default.svc.$Z
wait_ok "... its A records: the union of both slices" 10 has_a $S $E 10.244.210.3
rec "... exactly the three addresses" $S $E A "$E. A 10.244.210.1" "$E. A 10.244.210.2" "$E. A 10.244.210.3"
rec "a hostname on two addresses: both" $S h1.$E A "h1.$E. A 10.244.210.1" "h1.$E. A 10.244.210.3"
expect_ok "delete the slice early-2" kc delete endpointslice early-2
wait_ok "... h2 goes" 10 is_status $S h2.$E A NXDOMAIN
rec "... h1 keeps the other slice's address" $S h1.$E A "h1.$E. A 10.244.210.1"
expect_ok "delete the service early (its slice early-1 stays)" kc delete svc early
wait_ok "... its name is NXDOMAIN" 10 is_status $S $E A NXDOMAIN
neg "... the hostname record too" $S h1.$E A NXDOMAIN
# names that look like the zone's own labels
M=$(lk_manifest odd.yaml <<'Y'
apiVersion: v1
kind: Namespace
metadata: {name: pod}
---
apiVersion: v1
kind: Namespace
metadata: {name: svc}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: pod}
spec: {clusterIP: 10.96.50.61, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: pod, namespace: svc}
spec: {clusterIP: 10.96.50.62, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: hop1}
spec: {type: ExternalName, externalName: hop2.default.svc.cluster.local}
---
apiVersion: v1
kind: Service
metadata: {name: hop2}
spec: {type: ExternalName, externalName: late.default.svc.cluster.local}
Y
)
expect_ok "services named svc in namespace pod, pod in namespace svc; a CNAME chain" kc apply -f "$M"
wait_ok "svc.pod.svc.$Z" 10 has_a $S svc.pod.svc.$Z 10.96.50.61
rec "pod.svc.svc.$Z" $S pod.svc.svc.$Z A "pod.svc.svc.$Z. A 10.96.50.62"
expect_ok "create a service in another namespace" kc create service clusterip late --tcp=80 --clusterip=10.96.50.60
wait_ok "... it resolves" 10 has_a $S late.default.svc.$Z 10.96.50.60
rec "ExternalName -> ExternalName -> ClusterIP: the chain, then the address" $S hop1.default.svc.$Z A \
	"hop1.default.svc.$Z. CNAME hop2.default.svc.$Z." "hop2.default.svc.$Z. CNAME late.default.svc.$Z." \
	"late.default.svc.$Z. A 10.96.50.60"
expect_ok "delete the namespace" kc delete namespace $NS --wait=false
wait_ok "... its services go" 30 is_status $S unnamed.$NS.svc.$Z A NXDOMAIN
run curl_api /readyz
expect_eq "/readyz is ok" ok "$OUT"
lk_done
