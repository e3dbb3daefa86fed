#!/usr/bin/env bash
# bench/proxy-sync.sh [N...]: the service proxy's sync time beside `nft -f`
# of kube-proxy's layout, both timed as whole processes from the fork to the
# exit, for N services x 2 endpoints (default 1000 4000 10000), in fresh
# network namespaces (never the host's) that are deleted by name after each
# measurement and on any exit. LKB_SYNC_ROUNDS rounds per N (default 3).
# See bench/proxy-sync.py for what each side does, bench/kube-proxy-nft.py
# for the peer's input. Writes the "## Services: proxy sync" section to
# LKB_SECTION (bench/run.sh), or prints it. Needs root and nft.
#
#   LABKUBE=/abs/build/labkube bench/proxy-sync.sh 1000 10000
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench proxy-sync: needs root (network namespaces)" >&2; exit 1; }
export LABKUBE=${LABKUBE:-$here/../build/labkube}
[ -x "$LABKUBE" ] || { echo "bench proxy-sync: no labkube binary at $LABKUBE" >&2; exit 1; }
command -v nft >/dev/null || { echo "bench proxy-sync: missing nft" >&2; exit 1; }
exec /usr/bin/python3 "$here/proxy-sync.py" "$@"
