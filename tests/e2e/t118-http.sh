#!/usr/bin/env bash
# t118: HTTP-layer behaviour clients rely on, each a bug once:
#  - a write's reply waits for the group commit, then the same keep-alive
#    connection serves the next request (a resumed connection used to stall);
#  - query booleans follow Go's ParseBool (the Python client sends watch=True);
#  - bulk generateName creates all succeed with distinct names (the retry on
#    a colliding suffix itself is forced in tests/unit/test_write.c).
. "$(dirname "$0")/lib.sh"
lk_plan 6
lk_start

body='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ka1"}}'
run lk_nsexec curl -s -m 5 -o /dev/null -w '%{http_code} ' \
	-XPOST -H 'Content-Type: application/json' -d "$body" \
	"http://127.0.0.1:$LK_PORT/api/v1/namespaces/default/configmaps" \
	--next -s -m 5 -o /dev/null -w '%{http_code} ' \
	"http://127.0.0.1:$LK_PORT/api/v1/namespaces/default/configmaps/ka1" \
	--next -s -m 5 -o /dev/null -w '%{http_code}' -XDELETE \
	"http://127.0.0.1:$LK_PORT/api/v1/namespaces/default/configmaps/ka1"
expect_eq "POST, GET, DELETE on one keep-alive connection" "201 200 200" "$OUT"

api GET '/api/v1/namespaces/default/configmaps'
rv=$(jf 'd["metadata"]["resourceVersion"]' "$BODY")
lk_nsexec curl -s -m 5 -o "$LK_TMP/live.out" \
	"http://127.0.0.1:$LK_PORT/api/v1/namespaces/default/configmaps?watch=True&resourceVersion=$rv&timeoutSeconds=2" &
wpid=$!
LK_BG_PIDS+=("$wpid")
sleep 0.5
api POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' \
	-d '{"metadata":{"name":"wt1"}}'
expect_code "create during watch" 201
out=$(lk_nsexec curl -s -m 5 \
	"http://127.0.0.1:$LK_PORT/api/v1/namespaces/default/configmaps?watch=True&resourceVersion=$rv&timeoutSeconds=1")
wait "$wpid" 2>/dev/null
expect_match "watch=True (live, from the list's resourceVersion) streams the create" '"type":"ADDED".*"name":"wt1"' "$(cat "$LK_TMP/live.out" 2>/dev/null)"
expect_match "watch=True replays events from a resourceVersion" '"type":"ADDED".*"name":"wt1"' "$out"

codes=$(for i in $(seq 1 300); do
	lk_nsexec curl -s -o /dev/null -w '%{http_code}\n' -XPOST \
		-H 'Content-Type: application/json' -d '{"metadata":{"generateName":"g-"}}' \
		"http://127.0.0.1:$LK_PORT/api/v1/namespaces/default/configmaps"
done | sort | uniq -c | tr -s ' ')
expect_eq "300 generateName creates all 201" " 300 201" "$codes"
api GET '/api/v1/namespaces/default/configmaps'
expect_eq "300 distinct generated names" 300 \
	"$(jf 'len({i["metadata"]["name"] for i in d["items"] if i["metadata"]["name"].startswith("g-")})' "$BODY")"

lk_done
