#!/usr/bin/env bash
# bench/run.sh: labkube's API benchmarks, run by `make bench`.
#
#   LABKUBE=/abs/build/labkube SQLITE_INSERT=/abs/build/bench/sqlite_insert bench/run.sh
#
# Makes a network namespace of its own (lkb-PID) with only loopback up, runs
# bench/lkbench.py inside it (which starts the server, wrk, hey and the
# SQLite insert loop as it goes), prints a table and rewrites bench/RESULTS.md.
# Then, as a separate step, bench/pods.sh (the "## Pods" section; see there).
# Every packet stays on that namespace's loopback. On exit, even on failure or
# Ctrl-C, it ends the processes left in its namespace (all started by this
# run) by pid, deletes the namespace and its temporary directory.
#
# Environment: LKB_RESULTS (default bench/RESULTS.md; empty = do not write),
# LKB_QUICK=1 (one short round of each, for trying the harness; never for
# RESULTS.md), LKB_KEEP=1 (keep the temporary directory: data dirs, logs,
# raw figures in results.json), TMPDIR (where data dirs live: this is the
# filesystem that both labkube and sqlite_insert write to).
# Needs root (network namespaces) and the Debian packages wrk and hey
# (`make bench` installs them when missing).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
py=/usr/bin/python3 # Debian's: a pyenv python3 may come first on PATH
ns=lkb-$$
tmp=
ns_up=0
pods_pid=

die() { echo "bench: $*" >&2; exit 1; }

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	# The pods step cleans up after itself on TERM (bench/pods.sh).
	[ -n "$pods_pid" ] && kill -TERM "$pods_pid" 2>/dev/null && wait "$pods_pid" 2>/dev/null
	if [ "$ns_up" = 1 ]; then
		# Only what this run started can be in the namespace it created.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
		sleep 0.2
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null || echo "bench: could not delete netns $ns" >&2
	fi
	if [ -n "$tmp" ]; then
		if [ "${LKB_KEEP:-0}" = 1 ]; then
			echo "bench: kept $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root: the benchmarks run in a network namespace they create (try: sudo make bench)"
[ -x "${LABKUBE:-}" ] || die "LABKUBE must name the labkube binary (make bench sets it); got '${LABKUBE:-}'"
[ -x "${SQLITE_INSERT:-}" ] || die "SQLITE_INSERT must name the sqlite_insert binary (make bench builds it); got '${SQLITE_INSERT:-}'"
for tool in ip wrk hey "$py"; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool (make bench installs wrk and hey)"
done

results=${LKB_RESULTS-$here/RESULTS.md}
# The hand-kept "## Services" section (up to the next "## " heading).
services_section=$(awk '/^## Services/{p=1; print; next} p && /^## /{p=0} p' "$here/RESULTS.md" 2>/dev/null)
quick=()
if [ "${LKB_QUICK:-0}" = 1 ]; then
	quick=(--quick)
	[ "$results" = "$here/RESULTS.md" ] && results= # a quick run never overwrites the report
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkb-bench.XXXXXX") || die "cannot make a temporary directory"
mkdir -p "$tmp/home"
ip netns add "$ns" || die "cannot create network namespace $ns"
ns_up=1
ip -n "$ns" link set lo up || die "cannot bring up lo in $ns"
# The node needs a non-loopback address (the "kubernetes" Endpoints may not
# point at 127.0.0.0/8): a veth pair whose both ends stay in the namespace,
# with a TEST-NET-1 address that exists nowhere else. No client targets it.
ip -n "$ns" link add lkb0 type veth peer name lkb1 &&
	ip -n "$ns" addr add 192.0.2.1/24 dev lkb0 &&
	ip -n "$ns" link set lkb0 up && ip -n "$ns" link set lkb1 up ||
	die "cannot make the node's veth in $ns"

# HOME points into the temporary directory: the server writes a kubeconfig
# to ~/.kube/config when there is none, and must not touch the real one.
# In the background and waited for, so that a signal runs the cleanup at once.
ip netns exec "$ns" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME="$tmp/home" TMPDIR="$tmp" LANG=C.UTF-8 \
	"$py" "$here/lkbench.py" --labkube "$LABKUBE" --sqlite-insert "$SQLITE_INSERT" \
	--tmp "$tmp" --repo "$top" --json "$tmp/results.json" \
	${results:+--results "$results"} "${quick[@]}" </dev/null &
wait $! || exit $?

# ---------------------------------------------------------------- services step
# bench/proxy-sync.sh and bench/proxy-apply.sh (issue 4) print their figures;
# the "## Services" section of the report is kept across the API step's
# rewrite (lkbench.py writes the file anew) and updated by hand from them.
# LKB_PROXY=0 skips them; a quick run skips them too.
if [ -n "$results" ] && [ -n "${services_section:-}" ] && ! grep -q '^## Services' "$results"; then
	printf '\n%s\n' "$services_section" >>"$results"
fi
if [ "${LKB_PROXY:-1}" = 1 ] && [ "${LKB_QUICK:-0}" != 1 ]; then
	LABKUBE="$LABKUBE" "$here/proxy-sync.sh" 1000 10000 </dev/null || exit $?
	LABKUBE="$LABKUBE" "$here/proxy-apply.sh" 10 </dev/null || exit $?
	LABKUBE="$LABKUBE" "$here/proxy-wrk.sh" 7 3 </dev/null || exit $?
fi
# DNS step: bench/dns.sh (issue 5) rewrites only the "## DNS" section; LKB_DNS=0 skips it.
if [ "${LKB_DNS:-1}" = 1 ] && [ "${LKB_QUICK:-0}" != 1 ]; then LABKUBE="$LABKUBE" LKB_RESULTS="$results" "$here/dns.sh" </dev/null || exit $?; fi

# ---------------------------------------------------------------- pods step
# bench/pods.sh (issue 3): pod start-up time and memory per pod, in a network
# namespace of its own with its own cleanup; rewrites only the "## Pods"
# section of the report. LKB_PODS=0 skips it; LKB_QUICK=1 makes it one short
# round that writes nothing.
if [ "${LKB_PODS:-1}" = 1 ]; then
	if [ "${LKB_QUICK:-0}" = 1 ]; then
		export LKB_PODS_SIZES=${LKB_PODS_SIZES:-1,10} LKB_PODS_ROUNDS=${LKB_PODS_ROUNDS:-1}
	fi
	LABKUBE="$LABKUBE" LKB_RESULTS="$results" "$here/pods.sh" </dev/null &
	pods_pid=$!
	wait "$pods_pid"
	rc=$?
	pods_pid=
	exit "$rc"
fi
