# shellcheck shell=bash
# tests/e2e/lib.sh: the e2e harness, sourced by every tests/e2e/tNNN-*.sh.
#
# A test starts one cluster in network namespaces of its own, drives it with
# the real kubectl (several versions), curl and the Python client, and prints
# TAP-like lines ("ok N - what", "not ok N - what" plus "# " diagnostics) that
# tests/e2e/run.sh counts. Nothing here sends a packet outside the namespaces
# it creates: the API listens on 127.0.0.1 *inside* the node namespace, and
# the node and "outside" namespaces are joined by a veth with TEST-NET-1
# addresses (192.0.2.1 node, 192.0.2.2 outside) that exist nowhere else.
#
#   . "$(dirname "$0")/lib.sh"
#   lk_plan 2                # how many checks follow: printed as "1..2" first
#   lk_start                 # namespaces + veth + server; waits for /readyz
#   expect_ok "create" kc create deployment web --image=x
#   expect_eq "create prints" "deployment.apps/web created" "$OUT"
#   lk_done                  # optional; cleanup is a trap
#
# The plan: every file calls lk_plan N before its first check, with N the
# number of pass/fail/skip/expect_* checks it will print (computed, e.g.
# $((3 + 4 * $(lk_nversions))), when loops depend on LK_VERSIONS). A branch
# that cannot run its checks must print the same number (fail or skip them).
# A file that ends before its plan, runs past it, or never states one fails
# (lk_cleanup reports it; tests/e2e/run.sh checks it again from the output).
# Failure-only checks print "not ok" beyond the plan and so fail the file:
# the server's exit status at every stop (lk_server_stop; lk_server_kill is
# the explicit opt-out for a deliberate SIGKILL), processes left behind.
#
# Skips: skip DESC REASON only when the host lacks something the test cannot
# get (name it in REASON); a feature that does not work is a failure. Skips
# are counted on run.sh's closing line.
#
# Negative checks name the error: expect_notfound DESC CMD (kubectl prints
# "Error from server (NotFound)"), wait_notfound DESC SECS CMD, and the
# predicates notfound CMD / api_notfound PATH for lk_wait_for. A refusing or
# hung server is never "gone". Before asserting that something did *not*
# happen, wait for a positive marker that the component has seen the change
# (an event, an observedGeneration, a resourceVersion), not a fixed sleep.
#
# Plan:     lk_plan N (before the first check), lk_nversions (words in LK_VERSIONS)
# Cluster:  lk_start [extra server flags], lk_stop, lk_server_stop (checks the
#           exit status), lk_server_kill (SIGKILL, no check), lk_server_start
# kubectl:  k VERSION args (k 27 get pods), kc args (1.33), kall FN args
#           (calls FN 27 args, FN 30 args, FN 33 args), kbg FILE VERSION args
#           (background, e.g. get -w; stop with lk_kill PID)
# HTTP:     curl_api PATH [curl args] (body to stdout),
#           api METHOD PATH [curl args] (sets CODE, BODY, CTYPE)
# Python:   py [args] <script  (Debian python3 + kubernetes client, in the netns)
# Running:  run CMD... (sets OUT, ERR, RC; never fails)
# Checks:   expect_eq, expect_match, expect_line, expect_nomatch, expect_gt,
#           expect_ok, expect_fail, expect_notfound, expect_code, pass, fail,
#           skip, wait_notfound,
#           lk_wait_for SECS CMD, lk_wait_file FILE EREGEX SECS,
#           wait_ok DESC SECS CMD (pass once CMD succeeds), has WANT CMD,
#           matches EREGEX CMD (CMD's output contains / matches)
# Traffic:  ncurl (curl -s -m 3 in the node namespace), ocurl (outside)
# JSON:     jf EXPR [JSON]  (python expression over d; strings print raw)
# Procs:    procs_with TEXT, no_procs_with TEXT, proc_id PID; watch_since FILE PATH
#
# Environment: LABKUBE (binary, required unless LABKUBE_FAKE=1), LK_ID
# (unique id, set by run.sh), LK_VERSIONS ("27 30 33"), LK_PORT (6443),
# LK_KEEP=1 (keep the temp dir), LK_VERBOSE=1 (echo every command).
# LABKUBE_FAKE=1 runs shared/reference/kubectl-probe/fake_apiserver.py
# instead of labkube: for checking the harness and the tests' reading of
# kubectl output, never the default (FAKE_* variables pass through).

set -u

LK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KBIN=${KBIN:-$(dirname "$(readlink -f "$(command -v kubectl 2>/dev/null || echo /usr/bin/kubectl)")")}
LK_VERSIONS=${LK_VERSIONS:-"27 30 33"}
LK_DEFAULT_V=${LK_DEFAULT_V:-33}
LK_PORT=${LK_PORT:-6443}
LK_NODE_IP=192.0.2.1
LK_OUT_IP=192.0.2.2
LK_NODE_NAME=lkt-node
LK_ID=${LK_ID:-$(printf '%x%04x' $$ $RANDOM)}
LK_ID=${LK_ID:0:10}                     # veth names: "lkt" + id + "a" <= 15
LK_NS=lkt-$LK_ID-n                      # the node
LK_NS_OUT=lkt-$LK_ID-o                  # the outside client
LK_VETH=lkt${LK_ID}a                    # node end (its peer ends in "b")
LK_URL=http://127.0.0.1:$LK_PORT
LK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lkt-$LK_ID.XXXXXX")
LK_KCFG=$LK_TMP/kubeconfig
LK_LOG=$LK_TMP/server.log
LK_PY=/usr/bin/python3
LK_FAKE_DIR=${LK_FAKE_DIR:-$LK_TOP/../shared/reference/kubectl-probe}
[ -d "$LK_FAKE_DIR" ] || LK_FAKE_DIR=/work/shared/reference/kubectl-probe
LK_PID=
LK_BG_PIDS=()
LK_N=0
LK_PLAN=
LK_FAILED=0
LK_TIMEOUTS=0
LK_NETNS_UP=0
OUT='' ERR='' RC=0 CODE='' BODY='' CTYPE=''
mkdir -p "$LK_TMP/home"

# ---------------------------------------------------------------- reporting
lk_diag() { # lk_diag LABEL TEXT: indented "# " lines (at most 40)
	local label=$1 text=$2 n
	n=$(printf '%s\n' "$text" | wc -l)
	printf '#   %s:\n' "$label"
	printf '%s\n' "$text" | head -n 40 | cut -c1-400 | sed 's/^/#     |/'
	[ "$n" -gt 40 ] && printf '#     ... (%d more lines)\n' $((n - 40))
	return 0
}
lk_plan() { # lk_plan N: the number of checks this file will print; before the first
	[[ $1 =~ ^[1-9][0-9]*$ ]] || lk_bail "lk_plan wants a positive count, got '$1'"
	[ -z "$LK_PLAN" ] || lk_bail "lk_plan called twice ($LK_PLAN, then $1)"
	[ "$LK_N" -eq 0 ] || lk_bail "lk_plan after $LK_N checks: the plan comes first"
	LK_PLAN=$1
	echo "1..$1"
}
lk_nversions() { wc -w <<<"$LK_VERSIONS" | tr -d ' '; }
pass() { LK_N=$((LK_N + 1)); echo "ok $LK_N - $1"; }
fail() { # fail DESC [diagnostic lines...]
	LK_N=$((LK_N + 1)); LK_FAILED=$((LK_FAILED + 1))
	echo "not ok $LK_N - $1"
	shift
	local l
	for l in "$@"; do printf '#   %s\n' "$l"; done
	return 0
}
skip() { # skip DESC REASON: the host lacks something (REASON names it)
	[ -n "${2:-}" ] || { fail "$1 (skipped without a reason)"; return 0; }
	LK_N=$((LK_N + 1)); echo "ok $LK_N - $1 # SKIP $2"
}
lk_bail() { # a failure that makes the rest of the file meaningless
	fail "$@"
	exit 1
}

# ---------------------------------------------------------------- running
run() { # run CMD...: OUT=stdout, ERR=stderr, RC=exit code (never fails)
	[ "${LK_VERBOSE:-0}" = 1 ] && echo "# + $*" >&2
	"$@" >"$LK_TMP/run.out" 2>"$LK_TMP/run.err"
	RC=$?
	OUT=$(cat "$LK_TMP/run.out")
	ERR=$(cat "$LK_TMP/run.err")
	# A server that stopped answering would make every later command wait
	# for its timeout: give up on the file after three in a row.
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		LK_TIMEOUTS=$((LK_TIMEOUTS + 1))
		if [ "$LK_TIMEOUTS" -ge 3 ]; then
			lk_cmd_diag "$@"
			lk_bail "server answers (3 commands in a row timed out)"
		fi
	else
		LK_TIMEOUTS=0
	fi
	return 0
}
lk_cmd_diag() { # after run: what the command printed
	printf '#   command: %s\n#   exit: %s\n' "$*" "$RC"
	[ -n "$OUT" ] && lk_diag stdout "$OUT"
	[ -n "$ERR" ] && lk_diag stderr "$ERR"
	return 0
}

# ---------------------------------------------------------------- assertions
expect_eq() { # expect_eq DESC WANT GOT
	if [ "$2" == "$3" ]; then pass "$1"; return 0; fi
	fail "$1"; lk_diag want "$2"; lk_diag got "$3"
	if [ "$(printf '%s\n' "$2" | wc -l)" -gt 1 ]; then
		lk_diag diff "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3"))"
	fi
	return 1
}
expect_match() { # expect_match DESC EREGEX GOT: some line of GOT matches
	if grep -Eq -- "$2" <<<"$3"; then pass "$1"; return 0; fi
	fail "$1" "no line matches: $2"; lk_diag got "$3"
	return 1
}
expect_line() { # expect_line DESC LINE GOT: LINE is exactly one of GOT's lines
	if grep -Fxq -- "$2" <<<"$3"; then pass "$1"; return 0; fi
	fail "$1" "no line is exactly: $2"; lk_diag got "$3"
	return 1
}
expect_gt() { # expect_gt DESC A B: integers, A > B
	if [[ $2 =~ ^[0-9]+$ && $3 =~ ^[0-9]+$ ]] && [ "$2" -gt "$3" ]; then pass "$1"; return 0; fi
	fail "$1" "want $2 > $3"
	return 1
}
expect_nomatch() { # expect_nomatch DESC EREGEX GOT: no line of GOT matches
	if ! grep -Eq -- "$2" <<<"$3"; then pass "$1"; return 0; fi
	fail "$1" "a line matches: $2"; lk_diag got "$3"
	return 1
}
expect_ok() { # expect_ok DESC CMD...: CMD exits 0 (OUT/ERR/RC kept)
	local desc=$1; shift
	run "$@"
	if [ "$RC" -eq 0 ]; then pass "$desc"; return 0; fi
	fail "$desc"; lk_cmd_diag "$@"
	return 1
}
expect_fail() { # expect_fail DESC CMD...: CMD exits non-zero (OUT/ERR/RC kept)
	local desc=$1; shift
	run "$@"
	if [ "$RC" -ne 0 ]; then pass "$desc"; return 0; fi
	fail "$desc (expected a failure)"; lk_cmd_diag "$@"
	return 1
}
notfound() { # notfound CMD...: CMD (kubectl) fails with "Error from server (NotFound)"
	local err
	err=$("$@" 2>&1 >/dev/null) && return 1
	grep -q 'Error from server (NotFound)' <<<"$err"
}
expect_notfound() { # expect_notfound DESC CMD...: CMD fails with NotFound (a refusal or timeout fails)
	local desc=$1; shift
	run "$@"
	if [ "$RC" -ne 0 ] && grep -q 'Error from server (NotFound)' <<<"$ERR"; then pass "$desc"; return 0; fi
	fail "$desc (expected Error from server (NotFound))"; lk_cmd_diag "$@"
	return 1
}
wait_notfound() { # wait_notfound DESC SECONDS CMD...: pass once CMD fails with NotFound
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" notfound "$@"; then pass "$desc"; return 0; fi
	run "$@"
	fail "$desc" "waited ${secs}s for NotFound from: $*"; lk_cmd_diag "$@"
	return 1
}
api_notfound() { # api_notfound PATH: the API answers 404 with reason NotFound
	local code
	code=$(timeout -k 5 30 ip netns exec "$LK_NS" curl -s --max-time 25 -o "$LK_TMP/nf.body" \
		-w '%{http_code}' "$LK_URL$1" 2>/dev/null)
	[ "$code" = 404 ] && grep -q '"reason": *"NotFound"' "$LK_TMP/nf.body"
}
expect_code() { # expect_code DESC WANT: after api, CODE == WANT
	if [ "$CODE" == "$2" ]; then pass "$1"; return 0; fi
	fail "$1" "want HTTP $2, got $CODE ($CTYPE)"; lk_diag body "$BODY"
	return 1
}
lk_wait_for() { # lk_wait_for SECONDS CMD...: retry CMD until it succeeds
	local t=$1 end; shift
	end=$(($(date +%s%N) + t * 1000000000))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
wait_ok() { # wait_ok DESC SECONDS CMD...: pass DESC once CMD succeeds
	local desc=$1 secs=$2
	shift 2
	if lk_wait_for "$secs" "$@"; then pass "$desc"; else fail "$desc" "waited ${secs}s for: $*"; fi
}
has() { # has WANT CMD...: CMD's output contains WANT
	local want=$1
	shift
	"$@" 2>/dev/null | grep -Fq -- "$want"
}
matches() { # matches EREGEX CMD...: some line of CMD's output matches EREGEX
	local re=$1
	shift
	"$@" 2>/dev/null | grep -Eq -- "$re"
}
lk_file_has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
lk_wait_file() { lk_wait_for "$3" lk_file_has "$1" "$2"; } # FILE EREGEX SECONDS

# ---------------------------------------------------------------- JSON
jf() { # jf EXPR [JSON]: evaluate a Python expression over d (JSON from arg or stdin)
	local expr=$1
	if [ $# -ge 2 ]; then printf '%s' "$2"; else cat; fi | "$LK_PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
    v = eval(sys.argv[1], {"json": json, "d": d})
except Exception as e:
    print("<jf error: %s: %s>" % (type(e).__name__, e)); sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
' "$expr"
}

# ---------------------------------------------------------------- clients
lk_nsexec() { ip netns exec "$LK_NS" "$@"; }
k() { # k VERSION args...: kubectl.1.VERSION in the node namespace
	local v=${1#1.}; shift
	timeout -k 5 "${LK_KTIMEOUT:-20}" ip netns exec "$LK_NS" \
		env HOME="$LK_TMP/home" KUBECONFIG="$LK_KCFG" \
		"$KBIN/kubectl.1.$v" --kubeconfig="$LK_KCFG" \
		--cache-dir="$LK_TMP/cache-1.$v" "$@"
}
kc() { k "$LK_DEFAULT_V" "$@"; }
kall() { # kall FN args...: FN VERSION args... for each of $LK_VERSIONS
	local fn=$1 v; shift
	for v in $LK_VERSIONS; do "$fn" "$v" "$@"; done
}
kbg() { # kbg OUTFILE VERSION args...: kubectl in the background; LK_BGPID
	local out=$1 v=${2#1.}; shift 2
	timeout -k 5 "${LK_BGTIMEOUT:-60}" ip netns exec "$LK_NS" \
		env HOME="$LK_TMP/home" KUBECONFIG="$LK_KCFG" \
		"$KBIN/kubectl.1.$v" --kubeconfig="$LK_KCFG" \
		--cache-dir="$LK_TMP/cache-1.$v" "$@" >"$out" 2>&1 </dev/null &
	LK_BGPID=$!
	LK_BG_PIDS+=("$LK_BGPID")
}
lk_kill() { # lk_kill PID: stop a background job of ours, reap it
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
curl_api() { # curl_api PATH [curl args...]: the body on stdout
	local path=$1; shift
	timeout -k 5 30 ip netns exec "$LK_NS" curl -sS --max-time 25 "$@" "$LK_URL$path"
}
api() { # api METHOD PATH [curl args...]: sets CODE, BODY, CTYPE
	local m=$1 path=$2; shift 2
	: >"$LK_TMP/api.body"
	CODE=$(timeout -k 5 30 ip netns exec "$LK_NS" curl -sS --max-time 25 \
		-o "$LK_TMP/api.body" -w '%{http_code}\n%{content_type}' \
		-X "$m" "$@" "$LK_URL$path" 2>"$LK_TMP/api.err")
	CTYPE=$(sed -n 2p <<<"$CODE")
	CODE=$(sed -n 1p <<<"$CODE")
	BODY=$(cat "$LK_TMP/api.body")
	[ -n "$CODE" ] || CODE=000
	if [ "$CODE" = 000 ]; then
		LK_TIMEOUTS=$((LK_TIMEOUTS + 1))
		[ "$LK_TIMEOUTS" -ge 3 ] && lk_bail "server answers (3 requests in a row got no reply: $(cat "$LK_TMP/api.err"))"
	else
		LK_TIMEOUTS=0
	fi
	return 0
}
py() { # py [args] <script: Debian python3 + kubernetes client in the netns
	timeout -k 5 "${LK_PYTIMEOUT:-60}" ip netns exec "$LK_NS" \
		env -i PATH=/usr/bin:/bin HOME="$LK_TMP/home" KUBECONFIG="$LK_KCFG" \
		LK_URL="$LK_URL" LK_TMP="$LK_TMP" python3 - "$@"
}
lk_out() { # lk_out CMD...: CMD in the outside namespace
	ip netns exec "$LK_NS_OUT" "$@"
}
ncurl() { lk_nsexec curl -s -m 3 "$@"; } # curl from the node
ocurl() { lk_out curl -s -m 3 "$@"; }    # curl from the outside namespace

# ---------------------------------------------------------------- cluster
lk_netns_up() {
	[ "$(id -u)" -eq 0 ] || lk_bail "e2e tests need root (network namespaces)"
	ip netns add "$LK_NS" || lk_bail "cannot create netns $LK_NS"
	LK_NETNS_UP=1
	ip netns add "$LK_NS_OUT" || lk_bail "cannot create netns $LK_NS_OUT"
	# Both veth ends are created inside the namespaces: nothing in the host's.
	ip -n "$LK_NS" link add "$LK_VETH" type veth peer name "${LK_VETH%a}b" \
		netns "$LK_NS_OUT" || lk_bail "cannot create veth $LK_VETH"
	ip -n "$LK_NS" addr add "$LK_NODE_IP/24" dev "$LK_VETH"
	ip -n "$LK_NS_OUT" addr add "$LK_OUT_IP/24" dev "${LK_VETH%a}b"
	ip -n "$LK_NS" link set lo up
	ip -n "$LK_NS_OUT" link set lo up
	ip -n "$LK_NS" link set "$LK_VETH" up
	ip -n "$LK_NS_OUT" link set "${LK_VETH%a}b" up
}

lk_kubeconfig() {
	cat >"$LK_KCFG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: labkube
  cluster:
    server: $LK_URL
contexts:
- name: labkube
  context:
    cluster: labkube
    namespace: default
    user: labkube
current-context: labkube
users:
- name: labkube
  user: {}
EOF
}

lk_alive() { # the server process exists and is not a zombie
	[ -n "$LK_PID" ] || return 1
	local st
	st=$(awk '{print $3}' "/proc/$LK_PID/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# lk_server_start [extra flags]: start, wait for /readyz to say ok. With
# LK_SERVER_WRAP (a command and its arguments) the server runs under it;
# with LK_READY_PATH (default /readyz) that path is the one waited for.
lk_server_start() {
	local ready=0 ready_path=${LK_READY_PATH:-/readyz}
	echo "--- start $(date +%T.%N)" >>"$LK_LOG"
	if [ "${LABKUBE_FAKE:-0}" = 1 ]; then
		ip netns exec "$LK_NS" env FAKE_PORT="$LK_PORT" FAKE_TABLE="${FAKE_TABLE:-1}" \
			FAKE_OPENAPI="${FAKE_OPENAPI:-v2pb+v3}" FAKE_AGG="${FAKE_AGG:-0}" \
			FAKE_VERSION="${FAKE_VERSION:-1.32.0+labkube}" \
			FAKE_WATCH_TIMEOUT="${FAKE_WATCH_TIMEOUT:-30}" \
			FAKE_LOG="$LK_TMP/requests.log" PROBE="$LK_TMP" \
			"$LK_PY" "$LK_FAKE_DIR/fake_apiserver.py" "$@" \
			>>"$LK_LOG" 2>&1 </dev/null &
	else
		[ -x "${LABKUBE:-}" ] || lk_bail "LABKUBE is not an executable: '${LABKUBE:-}'"
		ip netns exec "$LK_NS" ${LK_SERVER_WRAP:-} "$LABKUBE" server --data-dir "$LK_TMP/data" \
			--listen "127.0.0.1:$LK_PORT" --node-ip "$LK_NODE_IP" \
			--node-name "$LK_NODE_NAME" ${LK_SERVER_ARGS:-} "$@" \
			>>"$LK_LOG" 2>&1 </dev/null &
	fi
	LK_PID=$!
	for _ in $(seq 100); do
		if [ "$(ip netns exec "$LK_NS" curl -s --max-time 1 "$LK_URL$ready_path" 2>/dev/null)" = ok ]; then
			ready=1
			break
		fi
		lk_alive || break
		sleep 0.1
	done
	if [ "$ready" != 1 ]; then
		if lk_alive; then
			fail "server ready within 10 s ($ready_path = ok)"
		else
			wait "$LK_PID"
			fail "server ready within 10 s (it exited with code $?)"
			LK_PID=
		fi
		exit 1 # the EXIT trap shows the server log
	fi
	return 0
}

lk_server_stop() { # lk_server_stop [SECONDS]: SIGTERM, wait; LK_STOP_RC, LK_STOP_MS
	# A non-zero exit (a sanitizer report, a crash, a hang past SECONDS) is a
	# failure line beyond the plan: a stop mid-test is checked like the last.
	local pid=$LK_PID
	lk_server_term "$@"
	[ -n "$pid" ] || return 0
	if ! lk_fake && [ "$LK_STOP_RC" != 0 ]; then
		fail "server (pid $pid) exits with code 0 on SIGTERM (got $LK_STOP_RC after ${LK_STOP_MS} ms)"
		[ -s "$LK_LOG" ] && lk_diag "server log, last 30 lines" "$(tail -n 30 "$LK_LOG")"
	fi
	return 0
}
lk_server_kill() { # lk_server_kill: SIGKILL on purpose (a crash test); no status check
	[ -n "$LK_PID" ] || return 0
	kill -KILL "$LK_PID" 2>/dev/null
	wait "$LK_PID" 2>/dev/null
	LK_STOP_RC=$?
	LK_PID=
	return 0
}
lk_server_term() { # SIGTERM, wait up to SECONDS, then SIGKILL; no check
	local t=${1:-15} start end
	LK_STOP_RC='' LK_STOP_MS=''
	[ -n "$LK_PID" ] || return 0
	start=$(date +%s%N)
	kill -TERM "$LK_PID" 2>/dev/null
	end=$((start + t * 1000000000))
	while lk_alive && [ "$(date +%s%N)" -lt "$end" ]; do sleep 0.05; done
	if lk_alive; then
		echo "# server pid $LK_PID still running ${t}s after SIGTERM: SIGKILL"
		kill -KILL "$LK_PID" 2>/dev/null
	fi
	wait "$LK_PID" 2>/dev/null
	LK_STOP_RC=$?
	LK_STOP_MS=$((($(date +%s%N) - start) / 1000000))
	LK_PID=
	return 0
}

lk_start() { # lk_start [extra server flags]
	lk_netns_up
	lk_kubeconfig
	lk_server_start "$@"
}

lk_reap_ns() { # lk_reap_ns NETNS DESC: fail DESC if processes run in NETNS; kill them
	local p pids
	pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
	[ -n "${pids// /}" ] || return 0
	fail "$2" "left: $(for p in $pids; do printf '%s(%s) ' "$p" "$(cat /proc/$p/comm 2>/dev/null)"; done)"
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
}

lk_stop() { # stop everything this test started; safe to call twice
	local p
	for p in "${LK_BG_PIDS[@]}"; do lk_kill "$p"; done
	LK_BG_PIDS=()
	# Sanitizer reports (leaks at exit) and crashes show up in the status.
	[ -n "$LK_PID" ] && lk_server_stop
	if [ "$LK_NETNS_UP" = 1 ]; then
		# Anything still running in our node namespace was started by our
		# server (pods): report it, then end those processes by pid.
		lk_reap_ns "$LK_NS" "no process left in the node namespace after the server stopped"
		# The outside namespace runs only what the test started there.
		lk_reap_ns "$LK_NS_OUT" "no process left in the outside namespace at the end"
		ip -n "$LK_NS" link del "$LK_VETH" 2>/dev/null
		ip netns del "$LK_NS" 2>/dev/null
		ip netns del "$LK_NS_OUT" 2>/dev/null
		LK_NETNS_UP=0
	fi
}

lk_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	lk_stop
	if [ "$LK_FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
		if [ -s "$LK_LOG" ] && [ "${LK_SHOW_LOG:-1}" = 1 ]; then
			lk_diag "server log, last 30 lines" "$(tail -n 30 "$LK_LOG")"
		fi
	fi
	if [ -z "$LK_PLAN" ]; then
		fail "the file states its plan (lk_plan N) before its first check"
	elif [ "$LK_N" -ne "$LK_PLAN" ] && [ "$LK_FAILED" -eq 0 ]; then
		fail "ran $LK_N checks, as many as planned ($LK_PLAN)"
	fi
	if [ "${LK_KEEP:-0}" = 1 ]; then
		echo "# kept $LK_TMP"
	else
		rm -rf "$LK_TMP"
	fi
	[ "$LK_FAILED" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	[ "$rc" -ne 0 ] && exit "$rc"
	exit 1
}
trap lk_cleanup EXIT
trap 'echo "# interrupted"; exit 130' INT TERM

lk_done() { exit 0; } # explicit end; the EXIT trap reports and cleans up

# ---------------------------------------------------------------- helpers
lk_fake() { [ "${LABKUBE_FAKE:-0}" = 1 ]; }
lk_has_flag() { # lk_has_flag NAME: `labkube server --help` lists --NAME
	lk_fake && return 1
	"$LABKUBE" server --help 2>&1 | grep -q -- "--$1\b"
}
# Cluster IP and node port allocation come with the services issue, whose
# --service-node-port-range flag announces them; until then tests accept a
# service without them (the fake server allocates).
lk_service_alloc() { lk_fake || lk_has_flag service-node-port-range; }
lk_manifest() { # lk_manifest NAME <yaml: writes $LK_TMP/NAME, prints the path
	cat >"$LK_TMP/$1"
	echo "$LK_TMP/$1"
}
lk_strip_ansi() { sed -E 's/\x1b\[[0-9;]*m//g'; }
procs_with() { # procs_with TEXT: pids whose command line holds TEXT (never this shell's)
	local p c
	for p in /proc/[0-9]*; do
		case ${p#/proc/} in "$$" | "$BASHPID") continue ;; esac
		c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		case $c in *"$1"*) printf '%s ' "${p#/proc/}" ;; esac
	done
}
no_procs_with() { [ -z "$(procs_with "$1")" ]; }
# proc_id PID: "PID:STARTTIME" (field 22 of /proc/PID/stat), so that a
# recycled pid is not taken for the same process.
proc_id() { [ -r "/proc/$1/stat" ] && echo "$1:$(awk '{print $22}' "/proc/$1/stat")"; }
# watch_since FILE PATH: FILE.list = the list at PATH, FILE = the raw watch
# events from that list's resourceVersion on, so no event is missed however
# late the watch connects (stopped by lk_kill, or lk_stop at the end).
watch_since() {
	local rv sep='?'
	[[ $2 == *\?* ]] && sep='&'
	curl_api "$2" >"$1.list" || return 1
	rv=$(jf 'd["metadata"]["resourceVersion"]' <"$1.list") || return 1
	timeout -k 5 120 ip netns exec "$LK_NS" curl -sN --max-time 115 \
		"$LK_URL$2${sep}watch=1&resourceVersion=$rv" >"$1" 2>"$1.err" </dev/null &
	LK_BGPID=$!
	LK_BG_PIDS+=("$LK_BGPID")
}
