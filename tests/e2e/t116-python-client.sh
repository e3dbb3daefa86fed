#!/usr/bin/env bash
# t116: the Debian python3-kubernetes client: create, read, list with
# selectors, patch, replace with a stale resourceVersion, /scale, watch from
# a list's resourceVersion, delete; errors arrive as ApiException with the
# Status body.
. "$(dirname "$0")/lib.sh"
lk_start

run py <<'EOF'
import json, threading, time, traceback
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

def check(name, value):
    print("check %s %s" % (name, json.dumps(value, sort_keys=True, default=str)))

def status_of(e):
    try:
        b = json.loads(e.body)
        return [e.status, b.get("kind"), b.get("reason"), b.get("message")]
    except Exception:
        return [e.status, None, None, e.body]

NS = "lkt-py"
config.load_kube_config()
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
M = client.V1ObjectMeta

ns = v1.create_namespace(client.V1Namespace(metadata=M(name=NS)))
check("ns_created", ns.metadata.name)
check("ns_listed", sorted(n.metadata.name for n in v1.list_namespace().items if n.metadata.name in ("default", NS)))

cm = v1.create_namespaced_config_map(NS, client.V1ConfigMap(
    metadata=M(name="c1", labels={"app": "py"}), data={"k": "v"}))
check("cm_uid", bool(cm.metadata.uid) and len(cm.metadata.uid) == 36)
check("cm_rv", cm.metadata.resource_version.isdigit())
check("cm_created_is_datetime", type(cm.metadata.creation_timestamp).__name__)
got = v1.read_namespaced_config_map("c1", NS)
check("cm_read", [got.metadata.name, got.metadata.namespace, got.data, got.metadata.uid == cm.metadata.uid])
v1.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=M(name="c2", labels={"app": "other"})))
check("list_selector", [c.metadata.name for c in v1.list_namespaced_config_map(NS, label_selector="app=py").items])
check("list_field_selector", [c.metadata.name for c in v1.list_namespaced_config_map(NS, field_selector="metadata.name=c2").items])
check("list_all_ns", sorted(c.metadata.name for c in v1.list_config_map_for_all_namespaces(label_selector="app").items))

for name, call in [
        ("err_exists", lambda: v1.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=M(name="c1")))),
        ("err_missing", lambda: v1.read_namespaced_config_map("nope", NS)),
        ("err_invalid", lambda: v1.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=M(name="Bad_Name"))))]:
    try:
        call()
        check(name, "no exception")
    except ApiException as e:
        check(name, status_of(e)[:3])

p = v1.patch_namespaced_config_map("c1", NS, {"metadata": {"labels": {"x": "1"}}, "data": {"k2": "v2"}})
check("patched", [p.metadata.labels, p.data])
stale = v1.read_namespaced_config_map("c1", NS)
stale.metadata.resource_version = cm.metadata.resource_version
stale.data = {"k": "stale"}
try:
    v1.replace_namespaced_config_map("c1", NS, stale)
    check("err_conflict", "no exception")
except ApiException as e:
    check("err_conflict", status_of(e)[:3])
fresh = v1.read_namespaced_config_map("c1", NS)
fresh.data = {"k": "fresh"}
check("replaced", v1.replace_namespaced_config_map("c1", NS, fresh).data)

dep = apps.create_namespaced_deployment(NS, {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d1"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d1"}},
             "template": {"metadata": {"labels": {"app": "d1"}},
                          "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}})
check("deploy_created", [dep.metadata.name, dep.spec.replicas, dep.spec.template.spec.containers[0].image])
apps.patch_namespaced_deployment_scale("d1", NS, {"spec": {"replicas": 3}})
sc = apps.read_namespaced_deployment_scale("d1", NS)
check("scale", [sc.spec.replicas, apps.read_namespaced_deployment("d1", NS).spec.replicas])
check("deploy_listed", [d.metadata.name for d in apps.list_deployment_for_all_namespaces(field_selector="metadata.namespace=" + NS).items])

svc = v1.create_namespaced_service(NS, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s1"},
                                        "spec": {"selector": {"app": "d1"}, "ports": [{"port": 80, "targetPort": 8080}]}})
check("svc", [svc.spec.type, bool(svc.spec.cluster_ip), svc.spec.ports[0].protocol, svc.spec.ports[0].target_port])

# Watch from the list's resourceVersion while another thread makes changes.
rv = v1.list_namespaced_config_map(NS).metadata.resource_version
def writer():
    time.sleep(0.5)
    v1.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=M(name="w1")))
    v1.patch_namespaced_config_map("w1", NS, {"data": {"a": "b"}})
    v1.delete_namespaced_config_map("w1", NS)
t = threading.Thread(target=writer)
t.start()
seen = []
w = watch.Watch()
try:
    for ev in w.stream(v1.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=10):
        seen.append([ev["type"], ev["object"].metadata.name])
        if ev["type"] == "DELETED":
            w.stop()
except Exception:
    traceback.print_exc()
t.join()
check("watch", seen)

st = v1.delete_namespaced_config_map("c1", NS)
check("deleted_kind", type(st).__name__)
check("after_delete", [c.metadata.name for c in v1.list_namespaced_config_map(NS, label_selector="app=py").items])
print("done")
EOF
PYOUT=$OUT
if [ "$RC" -ne 0 ]; then
	fail "python script ran (exit $RC)"
	lk_diag stderr "$ERR"
fi
pycheck() { # pycheck NAME WANT(json)
	local got
	got=$(sed -n "s/^check $1 //p" <<<"$PYOUT")
	expect_eq "python: $1" "$2" "$got"
}
pycheck ns_created '"lkt-py"'
pycheck ns_listed '["default", "lkt-py"]'
pycheck cm_uid true
pycheck cm_rv true
pycheck cm_created_is_datetime '"datetime"'
pycheck cm_read '["c1", "lkt-py", {"k": "v"}, true]'
pycheck list_selector '["c1"]'
pycheck list_field_selector '["c2"]'
pycheck list_all_ns '["c1", "c2"]'
pycheck err_exists '[409, "Status", "AlreadyExists"]'
pycheck err_missing '[404, "Status", "NotFound"]'
pycheck err_invalid '[422, "Status", "Invalid"]'
pycheck patched '[{"app": "py", "x": "1"}, {"k": "v", "k2": "v2"}]'
pycheck err_conflict '[409, "Status", "Conflict"]'
pycheck replaced '{"k": "fresh"}'
pycheck deploy_created '["d1", 1, "registry.k8s.io/pause:3.9"]'
pycheck scale '[3, 3]'
pycheck deploy_listed '["d1"]'
pycheck svc '["ClusterIP", true, "TCP", 8080]'
pycheck watch '[["ADDED", "w1"], ["MODIFIED", "w1"], ["DELETED", "w1"]]'
pycheck deleted_kind '"V1Status"'
pycheck after_delete '[]'
expect_match "python script finished" '^done$' "$PYOUT"

# What python saw is what kubectl sees.
expect_ok "kubectl sees the python objects" kc -n lkt-py get deploy,svc,cm -o name
expect_eq "kubectl lists them" "deployment.apps/d1
service/s1
configmap/c2" "$(grep -v kube-root-ca <<<"$OUT")"
