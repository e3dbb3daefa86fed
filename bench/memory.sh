#!/usr/bin/env bash
# bench/memory.sh: the server's memory with 1,000 Services and with 1,000
# Pods (issue 10 item 2), run by bench/run.sh, or alone:
#
#   LABKUBE=/abs/build/labkube bench/memory.sh
#
# Makes a network namespace of its own (lkb-mem-PID) with loopback and a
# veth pair for the node IP (both ends inside), runs bench/memory.py in it
# (two servers in turn, on fresh data dirs), and writes the "## Memory"
# section to LKB_SECTION (bench/run.sh), or prints it; a phase that does not
# reach its count fails the run with no section. The pods' bridge, veths and
# namespaces all live inside that namespace. On exit, even on failure or
# Ctrl-C, it ends the processes this run started by pid (those in its
# namespace, and the pods' sandbox processes, found by their data dirs),
# deletes the namespace and its temporary directory.
#
# Environment: LKB_MEM_SERVICES, LKB_MEM_PODS (default 1000 each),
# LKB_KEEP=1 (keep the temporary directory). Needs root.
set -u

here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
ns=lkb-mem-$$
tmp=
ns_up=0

die() { echo "bench memory: $*" >&2; exit 1; }

# Pids of this run's pod processes: their cmdline names one of our data dirs
# (`_sandbox DATADIR ...`, `_shim DATADIR ...`), plus everything under them.
our_pod_pids() {
	local p all=() cmd kids
	[ -n "$tmp" ] || return 0
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		case $cmd in *" _sandbox $tmp/data-"* | *" _shim $tmp/data-"*) all+=("$p") ;; esac
	done
	local i=0
	while [ "$i" -lt "${#all[@]}" ]; do
		kids=$(cat /proc/"${all[$i]}"/task/*/children 2>/dev/null)
		for p in $kids; do all+=("$p"); done
		i=$((i + 1))
	done
	echo "${all[@]}"
}

cleanup() {
	local rc=$? p pids
	trap - EXIT INT TERM
	if [ "$ns_up" = 1 ]; then
		pids="$(ip netns pids "$ns" 2>/dev/null) $(our_pod_pids)"
		for p in $pids; do kill -TERM "$p" 2>/dev/null; done
		sleep 0.3
		pids="$(ip netns pids "$ns" 2>/dev/null) $(our_pod_pids)"
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null || echo "bench memory: could not delete netns $ns" >&2
	fi
	if [ -n "$tmp" ]; then
		if [ "${LKB_KEEP:-0}" = 1 ]; then
			echo "bench memory: kept $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench memory: interrupted" >&2; exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root: the pods run in a network namespace this creates"
[ -x "${LABKUBE:-}" ] || die "LABKUBE must name the labkube binary; got '${LABKUBE:-}'"
for tool in ip "$py"; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkb-mem.XXXXXX") || die "cannot make a temporary directory"
mkdir -p "$tmp/home"
ip netns add "$ns" || die "cannot create network namespace $ns"
ns_up=1
ip -n "$ns" link set lo up || die "cannot bring up lo in $ns"
# The node IP: a veth pair whose both ends stay in the namespace, with a
# TEST-NET-1 address that exists nowhere else (as bench/run.sh).
ip -n "$ns" link add lkb0 type veth peer name lkb1 &&
	ip -n "$ns" addr add 192.0.2.1/24 dev lkb0 &&
	ip -n "$ns" link set lkb0 up && ip -n "$ns" link set lkb1 up ||
	die "cannot make the node's veth in $ns"

ip netns exec "$ns" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME="$tmp/home" TMPDIR="$tmp" LANG=C.UTF-8 LKB_SECTION="${LKB_SECTION:-}" \
	"$py" "$here/memory.py" --labkube "$LABKUBE" --tmp "$tmp" --json "$tmp/memory.json" \
	--services "${LKB_MEM_SERVICES:-1000}" --pods "${LKB_MEM_PODS:-1000}" </dev/null &
wait $!
