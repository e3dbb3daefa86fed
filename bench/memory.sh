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
name=memory
. "$here/nodens.sh"

[ "$(id -u)" -eq 0 ] || die "needs root: the pods run in a network namespace this creates"
[ -x "${LABKUBE:-}" ] || die "LABKUBE must name the labkube binary; got '${LABKUBE:-}'"
for tool in ip "$py"; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool"
done

nodens_up mem

ip netns exec "$ns" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME="$tmp/home" TMPDIR="$tmp" LANG=C.UTF-8 LKB_SECTION="${LKB_SECTION:-}" \
	"$py" "$here/memory.py" --labkube "$LABKUBE" --tmp "$tmp" --json "$tmp/memory.json" \
	--services "${LKB_MEM_SERVICES:-1000}" --pods "${LKB_MEM_PODS:-1000}" </dev/null &
wait $!
