#!/usr/bin/env bash
# t101: /version, the health endpoints, `kubectl version` and `cluster-info`
# (kubectl-wire.md §1). labkube reports itself as v1.32.0+labkube...: minor 32
# keeps 1.31-1.33 inside the supported skew.
. "$(dirname "$0")/lib.sh"
lk_plan $((17 + 9 * $(lk_nversions)))
lk_start

api GET '/version?timeout=32s'
expect_code "GET /version" 200
expect_match "/version is JSON" '^application/json' "$CTYPE"
expect_match "gitVersion v1.32.0+labkube" '^v1\.32\.0\+labkube' "$(jf 'd["gitVersion"]' "$BODY")"
expect_eq "major 1, minor 32" "1 32" "$(jf 'd["major"] + " " + d["minor"]' "$BODY")"
expect_eq "version fields present" \
	'["buildDate", "compiler", "gitCommit", "gitTreeState", "gitVersion", "goVersion", "major", "minor", "platform"]' \
	"$(jf 'sorted(k for k in d if k in ("major","minor","gitVersion","gitCommit","gitTreeState","buildDate","goVersion","compiler","platform"))' "$BODY")"
expect_match "platform linux/..." '^linux/' "$(jf 'd["platform"]' "$BODY")"

for p in /readyz /livez /healthz; do
	api GET "$p"
	expect_code "GET $p" 200
	expect_eq "$p says ok" ok "$BODY"
done
api GET /lkt-no-such-path
expect_code "unknown path: 404" 404

check_version() {
	local v=$1
	expect_ok "1.$v version" k "$v" version || return
	if [ "$v" = 27 ]; then
		expect_match "1.27 version: Server Version: version.Info{...GitVersion:\"v1.32.0+labkube" \
			'^Server Version: version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.0\+labkube' "$OUT"
	else
		expect_match "1.$v version: Server Version: v1.32.0+labkube" '^Server Version: v1\.32\.0\+labkube' "$OUT"
	fi
	expect_match "1.$v version: Client Version" '^Client Version: ' "$OUT"
	if [ "$v" -ge 31 ]; then
		expect_nomatch "1.$v version: no skew warning" 'exceeds the supported minor version skew' "$ERR"
	else
		expect_match "1.$v version: skew warning names server 1.32" \
			"^WARNING: version difference between client \\(1\\.$v\\) and server \\(1\\.32\\) exceeds" "$ERR"
	fi
	expect_ok "1.$v version -o json" k "$v" version -o json
	expect_match "1.$v version -o json: serverVersion.gitVersion" '^v1\.32\.0\+labkube' \
		"$(jf 'd["serverVersion"]["gitVersion"]' "$OUT")"
}
kall check_version

check_cluster_info() {
	local v=$1 o
	expect_ok "1.$v cluster-info" k "$v" cluster-info || return
	o=$(lk_strip_ansi <<<"$OUT")
	expect_match "1.$v cluster-info: control plane line" \
		"^Kubernetes control plane is running at http://127\\.0\\.0\\.1:$LK_PORT\$" "$o"
	expect_match "1.$v cluster-info: dump hint" "cluster-info dump" "$o"
}
kall check_cluster_info

expect_ok "get --raw /readyz" kc get --raw /readyz
expect_eq "get --raw /readyz prints ok" ok "$OUT"
expect_ok "get --raw /version" kc get --raw /version
expect_match "get --raw /version has gitVersion" '"gitVersion": ?"v1\.32\.0\+labkube' "$OUT"
