#!/usr/bin/env bash
# bench/pods.sh: the pods benchmark (issue 3), run by bench/run.sh after the
# API part, or alone:
#
#   LABKUBE=/abs/build/labkube bench/pods.sh
#
# Makes a network namespace of its own (lkb-pods-PID) with loopback and a
# veth pair for the node IP (both ends inside), runs bench/pods.py in it
# (server, kubectl, the peer processes), and writes the "## Pods" section
# to LKB_SECTION (bench/run.sh), or prints it; a round that does not reach N
# Ready, or leaves a pod or a process behind, fails the run with no section. The pods' bridge, veths and namespaces all
# live inside that namespace. On exit, even on failure or Ctrl-C, it ends the
# processes this run started by pid (those in its namespace, and the pods'
# sandbox/shim/container processes, found by their data dir), deletes the
# namespace and its temporary directory.
#
# Environment: LKB_PODS_SIZES (default 1,10,100), LKB_PODS_ROUNDS (default 3),
# LKB_KEEP=1 (keep the temporary directory). Needs root, kubectl, curl.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
py=/usr/bin/python3
ns=lkb-pods-$$
name=pods
. "$here/nodens.sh"

[ "$(id -u)" -eq 0 ] || die "needs root: the pods run in a network namespace this creates"
[ -x "${LABKUBE:-}" ] || die "LABKUBE must name the labkube binary; got '${LABKUBE:-}'"
for tool in ip kubectl curl unshare "$py"; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool"
done

nodens_up pods
# A private copy of the binary: PSS splits shared pages among every process
# that maps the same file, and other labkube servers on the machine (other
# runs, tests) would otherwise shrink this run's per-pod figure.
cp "$LABKUBE" "$tmp/labkube" || die "cannot copy $LABKUBE"

# HOME and kubectl's cache dir point into the temporary directory.
ip netns exec "$ns" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME="$tmp/home" KUBECONFIG="$tmp/home/none" TMPDIR="$tmp" LANG=C.UTF-8 LKB_SECTION="${LKB_SECTION:-}" \
	"$py" "$here/pods.py" --labkube "$tmp/labkube" --tmp "$tmp" --repo "$top" \
	--json "$tmp/pods.json" --sizes "${LKB_PODS_SIZES:-1,10,100}" \
	--rounds "${LKB_PODS_ROUNDS:-3}" </dev/null &
wait $!
