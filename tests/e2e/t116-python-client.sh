#!/usr/bin/env bash
# t116: the Debian python3-kubernetes client: create, read, list with
# selectors, patch, read-modify-replace (the client sends objects back in its
# own serialisation), replace with a stale resourceVersion, /scale, watch from
# a list's resourceVersion, delete; errors arrive as ApiException with the
# Status body.
. "$(dirname "$0")/lib.sh"
lk_plan 26
lk_start

run py <<'PY'
import json, threading, time
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

def show(name, value):
    print("check %s %s" % (name, json.dumps(value, sort_keys=True, default=str)), flush=True)

def check(name, fn):
    """Print what fn returns; an exception is printed instead, and the rest goes on."""
    try:
        show(name, fn())
    except ApiException as e:
        show(name, "ApiException %s: %s" % (e.status, (e.body or "")[:300]))
    except Exception as e:
        show(name, "%s: %s" % (type(e).__name__, e))

def status_of(call):
    try:
        call()
        return "no exception"
    except ApiException as e:
        b = json.loads(e.body)
        return [e.status, b.get("kind"), b.get("reason")]

NS = "lkt-py"
config.load_kube_config()
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
M = client.V1ObjectMeta
CM = {}

check("ns_created", lambda: v1.create_namespace(client.V1Namespace(metadata=M(name=NS))).metadata.name)
check("ns_listed", lambda: sorted(n.metadata.name for n in v1.list_namespace().items if n.metadata.name in ("default", NS)))

def create_c1():
    CM["c1"] = cm = v1.create_namespaced_config_map(NS, client.V1ConfigMap(
        metadata=M(name="c1", labels={"app": "py"}), data={"k": "v"}))
    return [len(cm.metadata.uid), cm.metadata.resource_version.isdigit(),
            type(cm.metadata.creation_timestamp).__name__]
check("cm_created", create_c1)
def read_c1():
    got = v1.read_namespaced_config_map("c1", NS)
    return [got.metadata.name, got.metadata.namespace, got.data, got.metadata.uid == CM["c1"].metadata.uid]
check("cm_read", read_c1)
check("cm_c2", lambda: v1.create_namespaced_config_map(NS, client.V1ConfigMap(
    metadata=M(name="c2", labels={"app": "other"}))).metadata.name)
check("list_selector", lambda: [c.metadata.name for c in v1.list_namespaced_config_map(NS, label_selector="app=py").items])
check("list_field_selector", lambda: [c.metadata.name for c in v1.list_namespaced_config_map(NS, field_selector="metadata.name=c2").items])
check("list_all_ns", lambda: sorted(c.metadata.name for c in v1.list_config_map_for_all_namespaces(label_selector="app").items))

check("err_exists", lambda: status_of(lambda: v1.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=M(name="c1")))))
check("err_missing", lambda: status_of(lambda: v1.read_namespaced_config_map("nope", NS)))
check("err_invalid", lambda: status_of(lambda: v1.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=M(name="Bad_Name")))))

def patched():
    p = v1.patch_namespaced_config_map("c1", NS, {"metadata": {"labels": {"x": "1"}}, "data": {"k2": "v2"}})
    return [p.metadata.labels, p.data]
check("patched", patched)
def replaced():
    # read-modify-write: the object goes back as the client serialises it
    # (creationTimestamp as 2024-01-01T00:00:00+00:00, for one)
    fresh = v1.read_namespaced_config_map("c1", NS)
    fresh.data = {"k": "fresh"}
    return v1.replace_namespaced_config_map("c1", NS, fresh).data
check("replaced", replaced)
def conflict():
    stale = v1.read_namespaced_config_map("c1", NS)
    stale.metadata.resource_version = CM["c1"].metadata.resource_version
    stale.data = {"k": "stale"}
    return status_of(lambda: v1.replace_namespaced_config_map("c1", NS, stale))
check("err_conflict", conflict)
check("after_conflict", lambda: v1.read_namespaced_config_map("c1", NS).data)

def deploy():
    dep = apps.create_namespaced_deployment(NS, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d1"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d1"}},
                 "template": {"metadata": {"labels": {"app": "d1"}},
                              "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}})
    return [dep.metadata.name, dep.spec.replicas, dep.spec.template.spec.containers[0].image]
check("deploy_created", deploy)
def scale():
    apps.patch_namespaced_deployment_scale("d1", NS, {"spec": {"replicas": 3}})
    return [apps.read_namespaced_deployment_scale("d1", NS).spec.replicas,
            apps.read_namespaced_deployment("d1", NS).spec.replicas]
check("scale", scale)
check("deploy_listed", lambda: [d.metadata.name for d in apps.list_deployment_for_all_namespaces(
    field_selector="metadata.namespace=" + NS).items])
def svc():
    s = v1.create_namespaced_service(NS, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s1"},
                                          "spec": {"selector": {"app": "d1"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    return [s.spec.type, s.spec.ports[0].protocol, s.spec.ports[0].target_port, bool(s.spec.cluster_ip)]
check("svc", svc)

def watch_cms():
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
    finally:
        t.join()
    return seen
check("watch", watch_cms)

check("deleted_kind", lambda: type(v1.delete_namespaced_config_map("c1", NS)).__name__)
check("after_delete", lambda: [c.metadata.name for c in v1.list_namespaced_config_map(NS, label_selector="app=py").items])
print("done")
PY
PYOUT=$OUT
if [ "$RC" -eq 0 ]; then pass "python script ran (exit 0)"
else fail "python script ran (exit $RC)"; lk_diag stderr "$ERR"; fi
pycheck() { # pycheck NAME WANT(json)
	expect_eq "python: $1" "$2" "$(sed -n "s/^check $1 //p" <<<"$PYOUT")"
}
pycheck ns_created '"lkt-py"'
pycheck ns_listed '["default", "lkt-py"]'
pycheck cm_created '[36, true, "datetime"]'
pycheck cm_read '["c1", "lkt-py", {"k": "v"}, true]'
pycheck cm_c2 '"c2"'
pycheck list_selector '["c1"]'
pycheck list_field_selector '["c2"]'
pycheck list_all_ns '["c1", "c2"]'
pycheck err_exists '[409, "Status", "AlreadyExists"]'
pycheck err_missing '[404, "Status", "NotFound"]'
pycheck err_invalid '[422, "Status", "Invalid"]'
pycheck patched '[{"app": "py", "x": "1"}, {"k": "v", "k2": "v2"}]'
pycheck replaced '{"k": "fresh"}'
pycheck err_conflict '[409, "Status", "Conflict"]'
pycheck after_conflict '{"k": "fresh"}'
pycheck deploy_created '["d1", 1, "registry.k8s.io/pause:3.9"]'
pycheck scale '[3, 3]'
pycheck deploy_listed '["d1"]'
pycheck svc '["ClusterIP", "TCP", 8080, true]'
pycheck watch '[["ADDED", "w1"], ["MODIFIED", "w1"], ["DELETED", "w1"]]'
pycheck deleted_kind '"V1Status"'
pycheck after_delete '[]'
expect_match "python script finished" '^done$' "$PYOUT"

# What python made is what kubectl shows.
expect_ok "kubectl sees the python objects" kc -n lkt-py get deploy,svc,cm -o name
expect_eq "kubectl lists them" "deployment.apps/d1
service/s1
configmap/c2" "$(grep -v kube-root-ca <<<"$OUT")"
