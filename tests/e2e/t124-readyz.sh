#!/usr/bin/env bash
# t124: the health checks, registered by the components that answer for
# them (issue 10 item 3), in the format of upstream's healthz handler.
# /readyz?verbose lists every check by name ([+]ping ok, [+]node ok,
# [+]proxy ok, [+]dns ok) and "readyz check passed"; ?exclude= skips one
# ("[+]dns excluded: ok") and warns about a name that matches nothing;
# /readyz/NAME runs one, an unknown NAME is 404; /livez and /healthz run
# ping. A server that may run pods but cannot bind DNS on the bridge
# address (started without CAP_NET_BIND_SERVICE) is not ready: 500 with
# "[-]dns failed: reason withheld", /readyz/dns says why, and excluding
# dns makes it ready.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "health checks registered by components" "the fake server has no components"
	exit 0
fi
lk_plan 25
lk_start

nl=$'\n'
body() { cat "$LK_TMP/api.body"; echo .; } # the body with its last newline
all="[+]ping ok$nl[+]node ok$nl[+]proxy ok$nl[+]dns ok$nl"

api GET '/readyz?verbose'
expect_code "/readyz?verbose" 200
expect_eq "/readyz?verbose lists ping, node, proxy and dns" "${all}readyz check passed$nl." "$(body)"
expect_match "/readyz is text/plain" '^text/plain; charset=utf-8$' "$CTYPE"
run ncurl -D - -o /dev/null "$LK_URL/readyz"
expect_match "/readyz sends X-Content-Type-Options: nosniff" '^X-Content-Type-Options: nosniff' "$OUT"

api GET '/readyz?verbose=true&exclude=dns'
expect_eq "?exclude=dns: dns excluded" \
	"[+]ping ok$nl[+]node ok$nl[+]proxy ok$nl[+]dns excluded: ok${nl}readyz check passed$nl." "$(body)"
api GET '/readyz?verbose&exclude=nope&exclude=proxy&exclude=gone'
expect_eq "?exclude= of unknown names warns" \
	"[+]ping ok$nl[+]node ok$nl[+]proxy excluded: ok$nl[+]dns ok${nl}warn: some health checks cannot be excluded: no matches for \"nope\",\"gone\"${nl}readyz check passed$nl." \
	"$(body)"
api GET '/readyz?exclude=dns'
expect_eq "?exclude= without verbose: ok" "ok." "$(body)"

for c in ping node proxy dns; do
	api GET "/readyz/$c"
	expect_eq "/readyz/$c: 200 ok" "200 ok" "$CODE $BODY"
done
api GET /readyz/nope
expect_code "/readyz/nope: 404" 404
api GET '/livez?verbose'
expect_eq "/livez?verbose: ping only" "[+]ping ok${nl}livez check passed$nl." "$(body)"
api GET '/healthz?verbose'
expect_eq "/healthz?verbose: ping only" "[+]ping ok${nl}healthz check passed$nl." "$(body)"
api GET /livez/ping
expect_eq "/livez/ping: ok" "200 ok" "$CODE $BODY"
expect_ok "kubectl get --raw '/readyz?verbose'" kc get --raw '/readyz?verbose'
expect_match "kubectl prints the check list" '^\[\+\]dns ok$' "$OUT"
lk_server_stop

# Privileged for pods (CAP_NET_ADMIN, CAP_SYS_ADMIN) but not for port 53.
LK_SERVER_WRAP="setpriv --bounding-set=-net_bind_service --inh-caps=-net_bind_service" \
	LK_READY_PATH=/livez lk_server_start
api GET /readyz
expect_code "without CAP_NET_BIND_SERVICE: /readyz is 500" 500
expect_eq "the dns check fails, its reason withheld" \
	"[+]ping ok$nl[+]node ok$nl[+]proxy ok$nl[-]dns failed: reason withheld${nl}readyz check failed$nl." "$(body)"
api GET /readyz/dns
expect_code "/readyz/dns is 500" 500
expect_match "/readyz/dns says why" \
	'^internal server error: dns: cannot listen on [0-9.]+:53( \(tcp\))?: Permission denied$' "$BODY"
api GET /readyz/proxy
expect_eq "/readyz/proxy is still ok" "200 ok" "$CODE $BODY"
api GET '/readyz?exclude=dns'
expect_eq "/readyz?exclude=dns: ready" "200 ok" "$CODE $BODY"
run kc get --raw /readyz
expect_eq "kubectl get --raw /readyz fails" 1 "$RC"
expect_match "the server log says why dns is not served" \
	'dns: cannot listen on [0-9.]+:53.*Permission denied' "$(cat "$LK_LOG")"
lk_server_stop
