#!/usr/bin/env bash
# t121: concurrent conflicting writes. Ten clients connected beforehand send
# their PUT of the same ConfigMap, from the same resourceVersion, at once:
# exactly one gets 200 and its change is what is stored, the nine others get
# 409 Conflict with upstream's Status. Ten simultaneous POSTs of one name:
# one 201, nine 409 AlreadyExists. kubectl replace from a stale file shows
# the Conflict. Six clients doing read-modify-write with retry on 409, each
# adding its own keys, lose no update (and did conflict); six clients
# merge-patching their own keys at once lose none either.
. "$(dirname "$0")/lib.sh"
lk_plan 20
lk_start

NS=default
CM=/api/v1/namespaces/$NS/configmaps
CONFLICT_MSG='Operation cannot be fulfilled on configmaps \"race\": the object has been modified; please apply your changes to the latest version and try again'

expect_ok "create configmap race" kc create configmap race --from-literal=who=nobody
RV0=$(kc get configmap race -o jsonpath='{.metadata.resourceVersion}')
kc get configmap race -o json >"$LK_TMP/race.json"

# ---- ten PUTs from one resourceVersion, released together ----
LK_PYTIMEOUT=60 py "$LK_TMP/race.json" >"$LK_TMP/put.out" 2>"$LK_TMP/put.err" <<'EOF'
import http.client, json, os, sys, threading
N = 10
base = json.load(open(sys.argv[1]))
url = os.environ["LK_URL"].split("//")[1]
host, port = url.split(":")
barrier = threading.Barrier(N)
res = [None] * N
def client(i):
    obj = json.loads(json.dumps(base))
    obj["data"] = {"who": "client-%d" % i}
    body = json.dumps(obj)
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.connect()
    barrier.wait()
    c.request("PUT", "/api/v1/namespaces/default/configmaps/race", body,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    res[i] = (r.status, json.loads(r.read()))
ts = [threading.Thread(target=client, args=(i,)) for i in range(N)]
for t in ts: t.start()
for t in ts: t.join()
for i, (code, b) in enumerate(res):
    if code == 200:
        print("200 client-%d %s" % (i, b["metadata"]["resourceVersion"]))
    else:
        print("%d %s" % (code, json.dumps([b.get("status"), b.get("reason"), b.get("code"),
              b.get("message"), {k: b.get("details", {}).get(k) for k in ("name", "kind")}],
              sort_keys=True)))
EOF
expect_eq "ten PUTs: all answered" 10 "$(wc -l <"$LK_TMP/put.out")"
expect_eq "ten PUTs: exactly one 200" 1 "$(grep -c '^200 ' "$LK_TMP/put.out")"
expect_eq "ten PUTs: nine 409" 9 "$(grep -c '^409 ' "$LK_TMP/put.out")"
expect_eq "the 409s: a Conflict Status with upstream's message and details" \
	"9 409 [\"Failure\", \"Conflict\", 409, \"$CONFLICT_MSG\", {\"kind\": \"configmaps\", \"name\": \"race\"}]" \
	"$(grep '^409 ' "$LK_TMP/put.out" | sort | uniq -c | sed 's/^ *//')"
read -r _ WINNER WRV < <(grep '^200 ' "$LK_TMP/put.out")
run kc get configmap race -o jsonpath='{.data.who} {.metadata.resourceVersion}'
expect_eq "the stored object is the winner's" "$WINNER $WRV" "$OUT"
expect_gt "its resourceVersion moved on" "${WRV:-0}" "$RV0"
[ -s "$LK_TMP/put.err" ] && lk_diag "client errors" "$(cat "$LK_TMP/put.err")"

# ---- kubectl replace from the stale copy ----
expect_fail "kubectl replace from a stale file fails" kc replace -f "$LK_TMP/race.json"
expect_eq "kubectl shows the Conflict" \
	"Error from server (Conflict): error when replacing \"$LK_TMP/race.json\": ${CONFLICT_MSG//\\/}" "$ERR"

# ---- ten POSTs of one name ----
LK_PYTIMEOUT=60 py >"$LK_TMP/post.out" 2>"$LK_TMP/post.err" <<'EOF'
import http.client, json, os, threading
N = 10
host, port = os.environ["LK_URL"].split("//")[1].split(":")
barrier = threading.Barrier(N)
res = [None] * N
def client(i):
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "born"}, "data": {"by": "client-%d" % i}})
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.connect()
    barrier.wait()
    c.request("POST", "/api/v1/namespaces/default/configmaps", body,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    b = json.loads(r.read())
    res[i] = "%d %s" % (r.status, b["data"]["by"] if r.status == 201 else
                        json.dumps([b.get("reason"), b.get("message")]))
ts = [threading.Thread(target=client, args=(i,)) for i in range(N)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(res))
EOF
expect_eq "ten POSTs: exactly one 201" 1 "$(grep -c '^201 ' "$LK_TMP/post.out")"
expect_eq "the nine others: 409 AlreadyExists" \
	"9 409 [\"AlreadyExists\", \"configmaps \\\"born\\\" already exists\"]" \
	"$(grep -v '^201 ' "$LK_TMP/post.out" | sort | uniq -c | sed 's/^ *//')"
run kc get configmap born -o jsonpath='{.data.by}'
expect_eq "the stored one is the creator's" "$(sed -n 's/^201 //p' "$LK_TMP/post.out")" "$OUT"

# ---- read-modify-write with retries: no lost update ----
expect_ok "create configmap tally" kc create configmap tally
LK_PYTIMEOUT=120 py >"$LK_TMP/rmw.out" 2>"$LK_TMP/rmw.err" <<'EOF'
import http.client, json, os, threading
C, M = 6, 15
host, port = os.environ["LK_URL"].split("//")[1].split(":")
path = "/api/v1/namespaces/default/configmaps/tally"
barrier = threading.Barrier(C)
conflicts = [0] * C
errors = []
def client(i):
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    barrier.wait()
    for j in range(M):
        for attempt in range(200):
            c.request("GET", path)
            r = c.getresponse()
            obj = json.loads(r.read())
            obj.setdefault("data", {})["c%d-%02d" % (i, j)] = "v%d" % j
            c.request("PUT", path, json.dumps(obj), {"Content-Type": "application/json"})
            r = c.getresponse()
            b = json.loads(r.read())
            if r.status == 200:
                break
            if r.status != 409 or b.get("reason") != "Conflict":
                errors.append("%d %s" % (r.status, b))
                return
            conflicts[i] += 1
        else:
            errors.append("client %d: 200 conflicts in a row" % i)
            return
ts = [threading.Thread(target=client, args=(i,)) for i in range(C)]
for t in ts: t.start()
for t in ts: t.join()
print("conflicts %d" % sum(conflicts))
for e in errors: print("error", e)
EOF
expect_eq "read-modify-write: no client error" "" "$(grep '^error' "$LK_TMP/rmw.out")$(cat "$LK_TMP/rmw.err")"
run kc get configmap tally -o json
expect_eq "read-modify-write: all 90 keys, none lost" \
	"$(for i in 0 1 2 3 4 5; do for j in $(seq -w 0 14); do echo "c$i-$j=v$((10#$j))"; done; done | sort)" \
	"$(jf '"\n".join(sorted("%s=%s" % kv for kv in d.get("data", {}).items()))' "$OUT")"
expect_gt "read-modify-write: the clients did conflict (and retried)" \
	"$(sed -n 's/^conflicts //p' "$LK_TMP/rmw.out")" 0

# ---- merge patches of own keys at once: none lost ----
expect_ok "create configmap patched" kc create configmap patched
LK_PYTIMEOUT=120 py >"$LK_TMP/patch.out" 2>"$LK_TMP/patch.err" <<'EOF'
import http.client, json, os, threading
C, M = 6, 10
host, port = os.environ["LK_URL"].split("//")[1].split(":")
barrier = threading.Barrier(C)
codes = []
def client(i):
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    barrier.wait()
    for j in range(M):
        c.request("PATCH", "/api/v1/namespaces/default/configmaps/patched",
                  json.dumps({"data": {"p%d-%d" % (i, j): "x"}}),
                  {"Content-Type": "application/merge-patch+json"})
        r = c.getresponse()
        r.read()
        codes.append(r.status)
ts = [threading.Thread(target=client, args=(i,)) for i in range(C)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join(sorted(set(map(str, codes)))), len(codes))
EOF
expect_eq "merge patches: 60 answered, all 200" "200 60" "$(cat "$LK_TMP/patch.out")"
run kc get configmap patched -o json
expect_eq "merge patches: all 60 keys" 60 "$(jf 'len(d.get("data", {}))' "$OUT")"
lk_server_stop
expect_eq "the server stops with code 0" 0 "$LK_STOP_RC"
lk_done
