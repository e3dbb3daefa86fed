# bench/nodens.sh: sourced by bench/pods.sh and bench/memory.sh, the
# benchmarks that run pods: a network namespace of their own with loopback
# and a veth pair for the node IP (both ends inside, TEST-NET-1 192.0.2.1
# that exists nowhere else, as bench/run.sh), a temporary directory, and the
# cleanup that runs on exit, even on failure or Ctrl-C: it ends the
# processes of the run by pid (those in the namespace, and the pods'
# sandbox/shim/container processes, found by a data dir under the temporary
# directory), deletes the namespace, and removes the directory (LKB_KEEP=1
# keeps it).
#
# The sourcing script sets `name` (messages say "bench NAME") and `ns`, then
# calls nodens_up TMPLABEL; afterwards `tmp` is the temporary directory.

tmp=
ns_up=0

die() { echo "bench $name: $*" >&2; exit 1; }

# Pids of this run's pod processes: their cmdline names a data dir under tmp
# (`_sandbox DATADIR ...`, `_shim DATADIR ...`), plus everything under them.
our_pod_pids() {
	local p all=() cmd kids
	[ -n "$tmp" ] || return 0
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		case $cmd in *" _sandbox $tmp/data"* | *" _shim $tmp/data"*) all+=("$p") ;; esac
	done
	local i=0
	while [ "$i" -lt "${#all[@]}" ]; do
		kids=$(cat /proc/"${all[$i]}"/task/*/children 2>/dev/null)
		for p in $kids; do all+=("$p"); done
		i=$((i + 1))
	done
	echo "${all[@]}"
}

nodens_cleanup() {
	local rc=$? p pids
	trap - EXIT INT TERM
	if [ "$ns_up" = 1 ]; then
		pids="$(ip netns pids "$ns" 2>/dev/null) $(our_pod_pids)"
		for p in $pids; do kill -TERM "$p" 2>/dev/null; done
		sleep 0.3
		pids="$(ip netns pids "$ns" 2>/dev/null) $(our_pod_pids)"
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null || echo "bench $name: could not delete netns $ns" >&2
	fi
	if [ -n "$tmp" ]; then
		if [ "${LKB_KEEP:-0}" = 1 ]; then
			echo "bench $name: kept $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}
trap nodens_cleanup EXIT
trap 'echo "bench $name: interrupted" >&2; exit 130' INT TERM

# nodens_up TMPLABEL: the temporary directory (lkb-TMPLABEL.XXXXXX, with a
# home/), then the namespace and its node veth.
nodens_up() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkb-$1.XXXXXX") || die "cannot make a temporary directory"
	mkdir -p "$tmp/home"
	ip netns add "$ns" || die "cannot create network namespace $ns"
	ns_up=1
	ip -n "$ns" link set lo up || die "cannot bring up lo in $ns"
	ip -n "$ns" link add lkb0 type veth peer name lkb1 &&
		ip -n "$ns" addr add 192.0.2.1/24 dev lkb0 &&
		ip -n "$ns" link set lkb0 up && ip -n "$ns" link set lkb1 up ||
		die "cannot make the node's veth in $ns"
}
