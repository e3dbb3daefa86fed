#!/usr/bin/env bash
# t122: a data dir written by an older labkube. The store records its schema
# version (SQLite's user_version). A data dir from before versions were
# recorded (tests/e2e/fixtures/datadir-v0.sql: the dump of one written by
# the binary of b3e3ef8; a dump carries no user_version, which is what the
# old store left at 0) opens with its objects and revisions, is upgraded once
# (logged), and keeps today's tables, the same as the old ones. A data dir
# with a newer version is refused at start: one error line naming the data
# dir and both versions, a non-zero exit, the file untouched; with the
# version set back it opens again.
. "$(dirname "$0")/lib.sh"
lk_plan 19
if lk_fake; then
	for i in $(seq 19); do skip "data dir versions ($i)" "the fake server has no store"; done
	exit 0
fi
command -v sqlite3 >/dev/null || lk_bail "the sqlite3 CLI is installed (make deps installs it)"

FIX=$LK_TOP/tests/e2e/fixtures/datadir-v0.sql
DB=$LK_TMP/data/labkube.db
sq() { sqlite3 "$DB" "$@"; }
mkdir -p "$LK_TMP/data"
expect_ok "load the old data dir from the fixture" bash -c 'sqlite3 "$1" <"$2"' _ "$DB" "$FIX"
expect_eq "the old data dir records no schema version" 0 "$(sq 'PRAGMA user_version')"

lk_netns_up
lk_kubeconfig
lk_server_start
expect_match "the server logs the upgrade once" \
	"^.*store: upgraded '$DB' from schema version 0 \\(none recorded\\) to 1\$" "$(cat "$LK_LOG")"
expect_eq "one upgrade line" 1 "$(grep -c 'store: upgraded' "$LK_LOG")"
run kc -n legacy get configmap old-cm -o jsonpath='{.data.answer} {.data.written-by} {.metadata.resourceVersion}'
expect_eq "the old configmap is there, same data and resourceVersion" "42 labkube-b3e3ef8 27" "$OUT"
run kc get namespace legacy -o jsonpath='{.status.phase}'
expect_eq "the old namespace is Active" Active "$OUT"
run kc get namespaces -o name
expect_eq "the namespaces: the old ones, none twice" \
	"$(printf 'namespace/%s\n' default kube-node-lease kube-public kube-system legacy)" "$OUT"
expect_ok "a new configmap in the old namespace" kc -n legacy create configmap new-cm --from-literal=k=v
run kc -n legacy get configmap new-cm -o jsonpath='{.metadata.resourceVersion}'
expect_gt "revisions go on after the old ones" "$OUT" 27

lk_server_stop
expect_eq "the upgraded data dir records version 1" 1 "$(sq 'PRAGMA user_version')"
# Version 1 added only the version: its tables are the old ones. A change
# to the tables without a new version and upgrade step fails here.
expect_eq "today's tables are the old data dir's" \
	"$(grep '^CREATE ' "$FIX")" "$(sq .schema)"

# ---- a newer data dir ----
OBJS=$(sq 'SELECT count(*) FROM objects')
sq 'PRAGMA user_version = 2'
run timeout -k 5 20 ip netns exec "$LK_NS" "$LABKUBE" server --data-dir "$LK_TMP/data" \
	--listen "127.0.0.1:$LK_PORT" --node-ip "$LK_NODE_IP" --node-name "$LK_NODE_NAME"
expect_eq "a newer data dir: the server exits with code 1" 1 "$RC"
expect_eq "a newer data dir: one error line naming the data dir and both versions" \
	"labkube: cannot open store '$DB': schema version 2 is newer than this labkube's (1): written by a newer labkube; not opening it" \
	"$OUT$ERR"
expect_eq "a newer data dir: its version is left as it was" 2 "$(sq 'PRAGMA user_version')"
expect_eq "a newer data dir: its objects are left as they were" "$OBJS" "$(sq 'SELECT count(*) FROM objects')"
expect_eq "a newer data dir: nothing runs in the node namespace" "" "$(ip netns pids "$LK_NS")"

# ---- set back: it opens again ----
sq 'PRAGMA user_version = 1'
lk_server_start
run kc -n legacy get configmaps -o name
expect_eq "set back to version 1: both configmaps" \
	"$(printf 'configmap/%s\n' new-cm old-cm)" "$OUT"
expect_eq "no second upgrade" 1 "$(grep -c 'store: upgraded' "$LK_LOG")"
lk_server_stop
expect_eq "the server stops with code 0" 0 "$LK_STOP_RC"
lk_done
