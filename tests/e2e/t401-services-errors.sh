#!/usr/bin/env bash
# t401: Service validation and allocation errors as kubectl prints them
# (upstream's exact texts, shared/specs/services.md §2), for kubectl 1.27,
# 1.30 and 1.33.
. "$(dirname "$0")/lib.sh"
lk_plan $((6 + 12 * $(lk_nversions)))
lk_start

mk() { # mk FILE NAME SPEC-YAML
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: %s\n' "$2" "$3" >"$LK_TMP/$1"
}
mk bad-ip.yaml x '{clusterIP: 1.1.1.1, ports: [{port: 80}]}'
mk np-a.yaml np-a '{type: NodePort, ports: [{port: 80, nodePort: 30080}]}'
mk np-b.yaml np-b '{type: NodePort, ports: [{port: 80, nodePort: 30080}]}'
mk np-low.yaml np-low '{type: NodePort, ports: [{port: 80, nodePort: 80}]}'
mk multi.yaml multi '{ports: [{port: 80}, {port: 81}]}'
mk dup.yaml dup '{ports: [{name: http, port: 80}, {name: http, port: 81}]}'
mk proto.yaml proto '{ports: [{port: 80, protocol: ICMP}]}'
mk ext.yaml ext '{type: ExternalName}'
mk extbad.yaml extbad '{type: ExternalName, externalName: "Not_A_Name"}'
mk aff.yaml aff '{sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}, ports: [{port: 80}]}'
mk taken.yaml taken '{clusterIP: 10.96.0.1, ports: [{port: 80}]}'
mk etp.yaml etp '{externalTrafficPolicy: Local, ports: [{port: 80}]}'

expect_ok "create a NodePort service on 30080" kc create -f "$LK_TMP/np-a.yaml"
errors() {
	local v=$1
	run k "$v" create -f "$LK_TMP/bad-ip.yaml"
	expect_line "1.$v: clusterIP out of range" 'The Service "x" is invalid: spec.clusterIPs: Invalid value: []string{"1.1.1.1"}: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12' "$ERR"
	run k "$v" create -f "$LK_TMP/taken.yaml"
	expect_line "1.$v: clusterIP taken" 'The Service "taken" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.1"}: failed to allocate IP 10.96.0.1: provided IP is already allocated' "$ERR"
	run k "$v" create -f "$LK_TMP/np-b.yaml"
	expect_line "1.$v: nodePort taken" 'The Service "np-b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated' "$ERR"
	run k "$v" create -f "$LK_TMP/np-low.yaml"
	expect_line "1.$v: nodePort out of range" 'The Service "np-low" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767' "$ERR"
	run k "$v" create -f "$LK_TMP/multi.yaml"
	expect_match "1.$v: several ports need names" '^\* spec\.ports\[1\]\.name: Required value$' "$ERR"
	expect_match "1.$v: several ports need names (header)" '^The Service "multi" is invalid: $' "$ERR"
	run k "$v" create -f "$LK_TMP/dup.yaml"
	expect_line "1.$v: duplicate port name" 'The Service "dup" is invalid: spec.ports[1].name: Duplicate value: "http"' "$ERR"
	run k "$v" create -f "$LK_TMP/proto.yaml"
	expect_line "1.$v: bad protocol" 'The Service "proto" is invalid: spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"' "$ERR"
	run k "$v" create -f "$LK_TMP/ext.yaml"
	expect_line "1.$v: ExternalName needs a name" 'The Service "ext" is invalid: spec.externalName: Required value' "$ERR"
	run k "$v" create -f "$LK_TMP/extbad.yaml"
	expect_match "1.$v: ExternalName must be a DNS subdomain" '^The Service "extbad" is invalid: spec.externalName: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain' "$ERR"
	run k "$v" create -f "$LK_TMP/aff.yaml"
	expect_line "1.$v: affinity timeout range" 'The Service "aff" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400' "$ERR"
	run k "$v" create -f "$LK_TMP/etp.yaml"
	expect_line "1.$v: eTP only for external services" 'The Service "etp" is invalid: spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services' "$ERR"
}
kall errors

# A failed create takes nothing: 30080 is still np-a's only, and nothing leaked.
run kc get svc -o name
expect_eq "only the good services exist" "service/kubernetes
service/np-a" "$OUT"

# Update: clusterIP is immutable; an out-of-range node port on update.
expect_ok "create a ClusterIP service" kc create service clusterip imm --tcp=80
IP=$(curl_api /api/v1/namespaces/default/services/imm | jf 'd["spec"]["clusterIP"]')
run kc patch svc imm -p '{"spec":{"clusterIP":"10.96.0.99","clusterIPs":["10.96.0.99"]}}'
expect_line "clusterIP may not change" 'The Service "imm" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set' "$ERR"
run kc patch svc np-a -p '{"spec":{"ports":[{"port":80,"nodePort":40000}]}}'
expect_match "nodePort out of range on update" '40000.*port is not in the valid range' "$ERR"
expect_eq "clusterIP unchanged" "$IP" "$(curl_api /api/v1/namespaces/default/services/imm | jf 'd["spec"]["clusterIP"]')"
lk_done
