#!/usr/bin/env bash
# t253: garbage collection through ownerReferences: cascading delete
# (background, the kubectl default), --cascade=orphan (dependents stay,
# without the reference), --cascade=foreground (the owner waits for its
# blocking dependents), the core/v1 ReplicationController default (orphan),
# dangling references at create, and objects with several owners.
. "$(dirname "$0")/lib.sh"
lk_plan 66
lk_start

uid_of() { kc get "$1" "$2" -o jsonpath='{.metadata.uid}'; }
# dependent KIND NAME OWNER-KIND OWNER-NAME OWNER-UID [extra metadata yaml]
dependent() {
	local body
	case $1 in
	ConfigMap) body='data: {k: v}' ;;
	Secret) body='stringData: {k: v}' ;;
	Pod) body="spec: {nodeName: lkt-elsewhere, terminationGracePeriodSeconds: 0, containers: [{name: c, image: registry.k8s.io/pause:3.9}]}" ;;
	esac
	cat >"$LK_TMP/dep-$2.yaml" <<EOF
apiVersion: v1
kind: $1
metadata:
  name: $2
  ownerReferences: [{apiVersion: v1, kind: $3, name: $4, uid: $5, blockOwnerDeletion: true}]
  ${6:-}
$body
EOF
	kc create -f "$LK_TMP/dep-$2.yaml" >/dev/null || fail "create $1 $2"
}
owner_with_deps() { # owner_with_deps NAME: a ConfigMap owning a cm, a secret, a pod
	local u
	kc create configmap "$1" >/dev/null || fail "create owner $1"
	u=$(uid_of cm "$1")
	dependent ConfigMap "$1-cm" ConfigMap "$1" "$u"
	dependent Secret "$1-secret" ConfigMap "$1" "$u"
	dependent Pod "$1-pod" ConfigMap "$1" "$u"
}
absent() { notfound kc get "$@"; } # NotFound, not any error
all_absent() { absent cm "$1-cm" && absent secret "$1-secret" && absent pod "$1-pod"; }
wait_gone() { # wait_gone DESC PREFIX
	if lk_wait_for 10 all_absent "$2"; then pass "$1"; else
		fail "$1"; lk_diag left "$(kc get cm,secret,pod 2>&1)"; fi
}

# Background (kubectl's default), on 1.27 and 1.33.
for v in 27 33; do
	owner_with_deps "bg$v"
	expect_ok "1.$v delete owner" k "$v" delete cm "bg$v"
	expect_eq "1.$v delete prints" "configmap \"bg$v\" deleted" "$OUT"
	wait_gone "1.$v background: configmap, secret and pod dependents deleted" "bg$v"
done

# A chain: a -> b -> c.
kc create configmap chain-a >/dev/null || fail "create configmap chain-a"
dependent ConfigMap chain-b ConfigMap chain-a "$(uid_of cm chain-a)"
dependent ConfigMap chain-c ConfigMap chain-b "$(uid_of cm chain-b)"
expect_ok "delete the head of a chain" kc delete cm chain-a
chain_gone() { absent cm chain-b && absent cm chain-c; }
if lk_wait_for 10 chain_gone; then pass "chain: every level deleted"; else fail "chain: every level deleted"; fi

# Orphan.
for v in 27 33; do
	owner_with_deps "or$v"
	expect_ok "1.$v delete --cascade=orphan" k "$v" delete cm "or$v" --cascade=orphan
	expect_ok "1.$v orphaned configmap still there" kc get cm "or$v-cm" -o json
	expect_eq "1.$v orphan: its ownerReferences removed" "False" "$(jf 'str("ownerReferences" in d["metadata"])' "$OUT")"
	expect_ok "1.$v orphaned pod still there" kc get pod "or$v-pod" -o json
	expect_eq "1.$v orphan: the pod's reference removed" "False" "$(jf 'str("ownerReferences" in d["metadata"])' "$OUT")"
	expect_notfound "1.$v orphan: the owner is gone (NotFound)" kc get cm "or$v"
done

# Foreground: the owner waits for a blocking dependent held by a finalizer.
kc create configmap fg >/dev/null || fail "create configmap fg"
dependent ConfigMap fg-held ConfigMap fg "$(uid_of cm fg)" 'finalizers: [example.com/hold]'
dependent Secret fg-secret ConfigMap fg "$(uid_of cm fg)"
expect_ok "delete --cascade=foreground --wait=false" kc delete cm fg --cascade=foreground --wait=false
secret_gone() { absent secret fg-secret; }
if lk_wait_for 10 secret_gone; then pass "foreground: free dependents deleted"; else fail "foreground: free dependents deleted"; fi
expect_ok "foreground: owner still there" kc get cm fg -o json
o=$OUT
expect_eq "foreground: owner has deletionTimestamp and the foregroundDeletion finalizer" \
	'True ["foregroundDeletion"]' \
	"$(jf 'str("deletionTimestamp" in d["metadata"])+" "+json.dumps(d["metadata"]["finalizers"])' "$o")"
expect_ok "foreground: held dependent is being deleted" kc get cm fg-held -o json
expect_eq "foreground: dependent has a deletionTimestamp" "True" "$(jf 'str("deletionTimestamp" in d["metadata"])' "$OUT")"
expect_ok "release the held dependent" kc patch cm fg-held --type=merge -p '{"metadata":{"finalizers":null}}'
fg_gone() { absent cm fg-held && absent cm fg; }
if lk_wait_for 10 fg_gone; then pass "foreground: owner gone after its dependents"; else
	fail "foreground: owner gone after its dependents"; lk_diag left "$(kc get cm -o yaml 2>&1)"; fi

# Foreground with kubectl waiting (1.27 and 1.33).
for v in 27 33; do
	owner_with_deps "fw$v"
	expect_ok "1.$v delete --cascade=foreground (waits)" k "$v" delete cm "fw$v" --cascade=foreground
	if all_absent "fw$v" && absent cm "fw$v"; then pass "1.$v foreground: all gone when kubectl returns"
	else fail "1.$v foreground: all gone when kubectl returns"; lk_diag left "$(kc get cm,secret,pod 2>&1)"; fi
done

# The DELETE answer shows the finalizer (raw API).
kc create configmap raw >/dev/null || fail "create configmap raw"
dependent ConfigMap raw-held ConfigMap raw "$(uid_of cm raw)" 'finalizers: [example.com/hold]'
api DELETE /api/v1/namespaces/default/configmaps/raw -H 'Content-Type: application/json' \
	-d '{"propagationPolicy":"Foreground"}'
expect_code "DELETE propagationPolicy=Foreground: 200" 200
expect_eq "answer: the object, with foregroundDeletion and deletionTimestamp" \
	'ConfigMap ["foregroundDeletion"] True' \
	"$(jf 'd["kind"]+" "+json.dumps(d["metadata"]["finalizers"])+" "+str("deletionTimestamp" in d["metadata"])' "$BODY")"
api DELETE /api/v1/namespaces/default/configmaps/raw -H 'Content-Type: application/json' \
	-d '{"propagationPolicy":"Orphan"}'
expect_code "DELETE again with Orphan: 200" 200
expect_eq "the policy switches the finalizer" '["orphan"]' "$(jf 'json.dumps(d["metadata"].get("finalizers"))' "$BODY")"
raw_gone() { absent cm raw; }
if lk_wait_for 10 raw_gone; then pass "orphan finalizer processed: owner gone"; else fail "orphan finalizer processed: owner gone"; fi
# (The first, foreground, request already had it deleted: its finalizer
# holds it, so it is still there to orphan.)
expect_ok "held dependent still there" kc get cm raw-held -o json
expect_eq "held dependent: ownerReferences removed" "False" \
	"$(jf 'str("ownerReferences" in d["metadata"])' "$OUT")"
kc patch cm raw-held --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null || fail "release raw-held"

# core/v1 ReplicationController: no policy means orphan.
cat >"$LK_TMP/rc.yaml" <<'EOF'
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  replicas: 0
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc}}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
EOF
expect_ok "create rc (0 replicas)" kc create -f "$LK_TMP/rc.yaml"
dependent ConfigMap rc-dep ReplicationController rc "$(uid_of rc rc)"
api DELETE /api/v1/namespaces/default/replicationcontrollers/rc
expect_code "DELETE rc without options: 200" 200
rc_gone() { absent rc rc; }
if lk_wait_for 10 rc_gone; then pass "rc gone"; else fail "rc gone"; fi
expect_ok "rc's dependent orphaned" kc get cm rc-dep -o json
expect_eq "rc dependent: reference removed" "False" "$(jf 'str("ownerReferences" in d["metadata"])' "$OUT")"

# A dangling reference at create: collected.
dependent ConfigMap ghost ConfigMap nobody 0b6a4ac0-7d7e-4c55-b3d4-7d3c41b6a8a1
ghost_gone() { absent cm ghost; }
if lk_wait_for 10 ghost_gone; then pass "dangling owner at create: dependent deleted"; else fail "dangling owner at create: dependent deleted"; fi

# An owner recreated with the same name is not the owner.
kc create configmap same >/dev/null || fail "create configmap same"
dependent ConfigMap same-dep ConfigMap same "$(uid_of cm same)"
kc delete cm same --cascade=orphan >/dev/null || fail "delete cm same --cascade=orphan"
kc create configmap same >/dev/null || fail "create configmap same again"
kc patch cm same-dep --type=merge -p "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"same\",\"uid\":\"0b6a4ac0-0000-4c55-b3d4-7d3c41b6a8a1\"}]}}" >/dev/null ||
	fail "point same-dep at a uid that is not the new owner's"
samedep_gone() { absent cm same-dep; }
if lk_wait_for 10 samedep_gone; then pass "uid mismatch: dependent deleted"; else fail "uid mismatch: dependent deleted"; fi
expect_ok "the new same-named owner stays" kc get cm same

# Two owners: one goes, the reference is stripped, the object stays.
kc create configmap o1 >/dev/null || fail "create configmap o1"
kc create configmap o2 >/dev/null || fail "create configmap o2"
cat >"$LK_TMP/two.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: two
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: o1, uid: $(uid_of cm o1)}
  - {apiVersion: v1, kind: ConfigMap, name: o2, uid: $(uid_of cm o2)}
EOF
expect_ok "create an object with two owners" kc create -f "$LK_TMP/two.yaml"
expect_ok "delete one owner" kc delete cm o1
one_ref() { [ "$(kc get cm two -o jsonpath='{.metadata.ownerReferences[*].name}')" = o2 ]; }
if lk_wait_for 10 one_ref; then pass "two owners: the dangling reference stripped"; else
	fail "two owners: the dangling reference stripped"; lk_diag got "$(kc get cm two -o yaml 2>&1)"; fi
expect_ok "delete the other" kc delete cm o2
two_gone() { absent cm two; }
if lk_wait_for 10 two_gone; then pass "two owners: gone with the last one"; else fail "two owners: gone with the last one"; fi

# Deployments: the workload controllers create a ReplicaSet (no
# ReplicaSet, or no pod, is a failure), and deleting the Deployment removes it.
rs_of() { kc get rs -l "app=$1" -o json | jf 'str(len(d["items"]))'; }
rs_count() { [ "$(rs_of "$1")" = "$2" ]; } # a failing get is not 0
expect_ok "create deployment gcd (0 replicas)" kc create deployment gcd --image=registry.k8s.io/pause:3.9 --replicas=0
wait_ok "gcd: the deployment controller makes its ReplicaSet" 5 rs_count gcd 1
expect_ok "delete deployment gcd" kc delete deployment gcd
wait_ok "deployment deleted: its ReplicaSet deleted" 10 rs_count gcd 0
# Orphan keeps the ReplicaSet, without its reference.
expect_ok "create deployment gco (0 replicas)" kc create deployment gco --image=registry.k8s.io/pause:3.9 --replicas=0
wait_ok "gco: its ReplicaSet" 5 rs_count gco 1
expect_ok "delete deployment --cascade=orphan" kc delete deployment gco --cascade=orphan
expect_eq "orphaned ReplicaSet kept, no ownerReferences" "1 False" \
	"$(kc get rs -l app=gco -o json | jf 'str(len(d["items"]))+" "+str(any("ownerReferences" in i["metadata"] for i in d["items"]))')"
# Foreground: kubectl returns once the pods and the ReplicaSet are gone.
expect_ok "create deployment gcf (1 replica)" kc create deployment gcf --image=registry.k8s.io/pause:3.9 --replicas=1
pod_count() { [ "$(kc get pods -l "app=$1" -o json | jf 'str(len(d["items"]))')" = "$2" ]; }
wait_ok "gcf: its pod is created" 10 pod_count gcf 1
LK_KTIMEOUT=60 expect_ok "delete deployment --cascade=foreground (waits)" \
	kc delete deployment gcf --cascade=foreground --timeout=50s
expect_eq "foreground: no ReplicaSet and no pod left" "0 0" \
	"$(rs_of gcf) $(kc get pods -l app=gcf -o json | jf 'str(len(d["items"]))')"

# After a restart the index is rebuilt from the store.
kc create configmap rs-owner >/dev/null || fail "create configmap rs-owner"
dependent ConfigMap rs-dep ConfigMap rs-owner "$(uid_of cm rs-owner)"
lk_server_stop # fails the file unless the server exits 0
lk_server_start
expect_ok "delete an owner after a restart" kc delete cm rs-owner
rsdep_gone() { absent cm rs-dep; }
if lk_wait_for 10 rsdep_gone; then pass "after restart: dependent deleted"; else fail "after restart: dependent deleted"; fi

lk_done
