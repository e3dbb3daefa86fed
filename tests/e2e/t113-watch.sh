#!/usr/bin/env bash
# t113: watches. `kubectl get -w` (1.27, 1.30, 1.33) sees changes made after it
# started; raw watches resume from a resourceVersion, honour selectors and
# timeoutSeconds; a watch from a compacted revision gets 410 Expired
# (kubectl-wire.md §3 "Watch", api-machinery.md §5).
. "$(dirname "$0")/lib.sh"

lk_plan $((27 + 9 * $(lk_nversions)))

# A tiny watch history (LK_COMPACT_FLAGS overrides): old revisions are then
# compacted by the server's cron while the rest of this file runs, and the
# last checks expect 410 for them. The fake server keeps all history.
COMPACT=
lk_fake || COMPACT=${LK_COMPACT_FLAGS:-"--history-revisions=2 --history-seconds=10"}
lk_start $COMPACT

NS=lkt-watch
CMS=/api/v1/namespaces/$NS/configmaps
expect_ok "create namespace" kc create namespace "$NS"
expect_ok "seed configmap w0" kc -n "$NS" create configmap w0 --from-literal=a=1
if [ -n "$COMPACT" ]; then # revisions that will be compacted away
	api POST "$CMS" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c0"}}'
	OLD=$(jf 'd["metadata"]["resourceVersion"]' "$BODY")
	for i in $(seq 20); do
		api PATCH "$CMS/c0" -H 'Content-Type: application/merge-patch+json' -d "{\"data\":{\"i\":\"$i\"}}"
	done
	api DELETE "$CMS/c0"
	COMPACT_T0=$(date +%s)
fi

# ---- kubectl get -w, three versions at once, with and without event types
rows_at_least() { [ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; } # FILE EREGEX N
declare -A WOUT WPID
for v in $LK_VERSIONS; do
	WOUT[$v]=$LK_TMP/watch-$v.out
	kbg "${WOUT[$v]}" "$v" -n "$NS" get cm -w --output-watch-events
	WPID[$v]=$LK_BGPID
	WOUT[p$v]=$LK_TMP/watch-plain-$v.out
	kbg "${WOUT[p$v]}" "$v" -n "$NS" get cm -w
	WPID[p$v]=$LK_BGPID
done
for v in $LK_VERSIONS; do
	lk_wait_file "${WOUT[$v]}" '^ADDED +w0 ' 15
	expect_match "1.$v get -w --output-watch-events lists w0" '^ADDED +w0 ' "$(cat "${WOUT[$v]}")"
	lk_wait_file "${WOUT[p$v]}" '^w0 ' 15
	expect_match "1.$v get -w prints the header" '^NAME +DATA +AGE$' "$(cat "${WOUT[p$v]}")"
done
sleep 0.5 # the watch request follows the list
expect_ok "create w1 after the watch started" kc -n "$NS" create configmap w1 --from-literal=a=1 --from-literal=b=2
expect_ok "label w1" kc -n "$NS" label configmap w1 lkt=yes
expect_ok "delete w1" kc -n "$NS" delete configmap w1
for v in $LK_VERSIONS; do
	lk_wait_file "${WOUT[$v]}" '^DELETED +w1 ' 10
	o=$(cat "${WOUT[$v]}")
	expect_match "1.$v watch header has EVENT" '^EVENT +NAME +DATA +AGE$' "$o"
	expect_match "1.$v watch sees ADDED w1 (2 keys)" '^ADDED +w1 +2 +[0-9]+s$' "$o"
	expect_match "1.$v watch sees MODIFIED w1" '^MODIFIED +w1 ' "$o"
	expect_match "1.$v watch sees DELETED w1" '^DELETED +w1 ' "$o"
	expect_eq "1.$v watch: w0 once, w1 three times, in order" "ADDED w0
ADDED w1
MODIFIED w1
DELETED w1" "$(awk 'NR > 1 {print $1, $2}' "${WOUT[$v]}")"
	# one row per event: wait for all three (DELETED is the last)
	lk_wait_for 10 rows_at_least "${WOUT[p$v]}" '^w1 ' 3
	expect_eq "1.$v plain get -w: one row per event" "w0 w1 w1 w1" \
		"$(awk 'NR > 1 {printf "%s%s", sep, $1; sep=" "}' "${WOUT[p$v]}")"
done
for v in $LK_VERSIONS; do
	if kill -0 "${WPID[$v]}" 2>/dev/null; then pass "1.$v get -w still running"; else fail "1.$v get -w still running"; fi
	lk_kill "${WPID[$v]}"
	lk_kill "${WPID[p$v]}"
done

# ---- get pods -w (a pod bound to a node that does not exist never runs)
pod() { # pod NAME: a Pod object nobody will start
	cat <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","namespace":"$NS","labels":{"app":"w"}},
 "spec":{"nodeName":"lkt-nowhere","containers":[{"name":"c","image":"registry.k8s.io/pause:3.9"}]}}
EOF
}
kbg "$LK_TMP/pods.out" 33 -n "$NS" get pods -w --output-watch-events
PW=$LK_BGPID
sleep 1
api POST "/api/v1/namespaces/$NS/pods" -H 'Content-Type: application/json' -d "$(pod p1)"
expect_code "create pod p1" 201
lk_wait_file "$LK_TMP/pods.out" '^ADDED +p1 ' 10
expect_match "get pods -w sees the new pod" '^ADDED +p1 +0/1 +Pending +0 +[0-9]+s$' "$(cat "$LK_TMP/pods.out")"
expect_match "get pods -w header" '^EVENT +NAME +READY +STATUS +RESTARTS +AGE$' "$(cat "$LK_TMP/pods.out")"
lk_kill "$PW"

# ---- raw watches
rv_of() { jf 'd["metadata"]["resourceVersion"]' "$1"; }
api POST "$CMS" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"r1","labels":{"sel":"in"}},"data":{"v":"1"}}'
expect_code "create r1" 201
RV1=$(rv_of "$BODY")
api PATCH "$CMS/r1" -H 'Content-Type: application/merge-patch+json' -d '{"data":{"v":"2"}}'
expect_code "patch r1" 200
RV2=$(rv_of "$BODY")
expect_gt "resourceVersion grows on update" "$RV2" "$RV1"

events() { # events QUERY: "HTTP code", then the watch lines as "TYPE name rv"
	echo "HTTP $(curl_api "$CMS?watch=true&$1" --max-time 8 -o "$LK_TMP/events.out" -w '%{http_code}')"
	"$LK_PY" -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        try:
            e = json.loads(line); m = e["object"].get("metadata", {})
            print(e["type"], m.get("name", e["object"].get("reason", "")), m.get("resourceVersion", e["object"].get("code", "")))
        except Exception:
            print("unparsable:", line.strip()[:200])' "$LK_TMP/events.out"
}
start=$(date +%s%N)
got=$(events "resourceVersion=$RV1&timeoutSeconds=2")
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "watch from RV1 replays only what came after" "HTTP 200
MODIFIED r1 $RV2" "$got"
if [ "$ms" -ge 1500 ] && [ "$ms" -lt 6000 ]; then pass "timeoutSeconds=2 ends the stream (${ms} ms)"
else fail "timeoutSeconds=2 ends the stream (${ms} ms)"; fi
expect_eq "watch from the latest RV: a 200 stream with nothing in it" "HTTP 200" "$(events "resourceVersion=$RV2&timeoutSeconds=1")"
got=$(events "timeoutSeconds=1")
expect_match "watch without RV: ADDED for existing r1" "^ADDED r1 $RV2\$" "$got"
expect_match "watch without RV: ADDED for existing w0" "^ADDED w0 [0-9]+\$" "$got"
expect_nomatch "watch without RV: no MODIFIED replay" "^MODIFIED" "$got"
got=$(events "resourceVersion=0&timeoutSeconds=1")
expect_match "watch from RV 0: ADDED r1" "^ADDED r1 $RV2\$" "$got"

# Live events, with a field selector and a label selector.
RVL=$(curl_api "$CMS" | jf 'd["metadata"]["resourceVersion"]')
curl_api "$CMS?watch=true&resourceVersion=$RVL&fieldSelector=metadata.name%3Dr1&timeoutSeconds=4" --max-time 8 >"$LK_TMP/fs.out" &
FS=$!
curl_api "$CMS?watch=true&resourceVersion=$RVL&labelSelector=sel%3Din&timeoutSeconds=4" --max-time 8 >"$LK_TMP/ls.out" &
LS=$!
LK_BG_PIDS+=("$FS" "$LS")
sleep 0.5
api POST "$CMS" -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"r2","labels":{"sel":"in"}}}'
RV3=$(rv_of "$BODY")
api PATCH "$CMS/r1" -H 'Content-Type: application/merge-patch+json' -d '{"metadata":{"labels":{"sel":"out"}}}'
RV4=$(rv_of "$BODY")
api DELETE "$CMS/r2"
expect_code "delete r2" 200
wait "$FS" "$LS"
summ() { "$LK_PY" -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        e = json.loads(line); m = e["object"]["metadata"]
        print(e["type"], m["name"], m["resourceVersion"], m.get("labels", {}).get("sel", "-"))' "$1"; }
expect_eq "field selector metadata.name=r1: only r1's change" "MODIFIED r1 $RV4 out" "$(summ "$LK_TMP/fs.out")"
got=$(summ "$LK_TMP/ls.out")
expect_match "label selector: ADDED r2" "^ADDED r2 $RV3 in\$" "$got"
expect_match "label selector: r1 leaving the selector is DELETED (old labels, new RV)" "^DELETED r1 $RV4 in\$" "$got"
expect_match "label selector: r2 DELETED with a newer RV" "^DELETED r2 [0-9]+ in\$" "$got"
expect_eq "label selector: three events" 3 "$(grep -c . <<<"$got")"

# ---- a watch from a compacted revision: 410 Expired.
if lk_fake; then
	for d in "watch from a compacted revision gets 410 Expired" "410 says too old resource version" "410 reason Expired"; do
		skip "$d" "LABKUBE_FAKE=1: the fake server keeps all history"
	done
else
	expired=0 out=
	while [ $(($(date +%s) - COMPACT_T0)) -lt 45 ]; do # compaction runs from the server's cron
		out=$(curl_api "$CMS?watch=true&resourceVersion=$OLD&timeoutSeconds=1" -w '\nHTTP %{http_code}' --max-time 5)
		if grep -q '"code": *410' <<<"$out" || grep -q '^HTTP 410' <<<"$out"; then expired=1; break; fi
		sleep 1
	done
	if [ "$expired" = 1 ]; then
		pass "watch from a compacted revision gets 410 Expired"
	else
		fail "watch from a compacted revision gets 410 Expired (within 45 s, flags: $COMPACT)"
	fi
	expect_match "410 says too old resource version" 'too old resource version' "$out"
	expect_match "410 reason Expired" '"reason": *"Expired"' "$out"
fi
