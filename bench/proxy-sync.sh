#!/usr/bin/env bash
# bench/proxy-sync.sh [N...]: the service proxy's sync time beside `nft -f`.
# For each N (default 1000 10000) services x 2 endpoints, in throw-away
# network namespaces (never the host's): labkube's nftables back end
# programming them over netlink (`labkube proxy bench N`: one full sync, then
# one service changed = incremental), and `nft -f` loading kube-proxy's
# layout for the same services (shared/recipes/nft-ruleset.py N). Prints one
# line per N with the ratio nft -f / labkube full.
# Hook for bench/run.sh:  LABKUBE=... bench/proxy-sync.sh 1000 10000
set -u
LABKUBE=${LABKUBE:-$(cd "$(dirname "$0")/.." && pwd)/build/labkube}
RECIPE=${RECIPE:-/work/shared/recipes/nft-ruleset.py}
[ -f "$RECIPE" ] || RECIPE=$(cd "$(dirname "$0")/../.." && pwd)/shared/recipes/nft-ruleset.py
ID=lkb$$
TMP=$(mktemp -d)
cleanup() { ip netns del "$ID-a" 2>/dev/null; ip netns del "$ID-b" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
for n in "${@:-1000 10000}"; do
	for x in $n; do
		ip netns add "$ID-a"; ip netns add "$ID-b"
		lk=$(ip netns exec "$ID-a" "$LABKUBE" proxy bench "$x")
		python3 "$RECIPE" "$x" >"$TMP/rules.nft"
		s=$(date +%s%N)
		ip netns exec "$ID-b" nft -f "$TMP/rules.nft"
		nft_ms=$((($(date +%s%N) - s) / 1000000))
		full=$(sed -n 's/.*full_ms=\([0-9.]*\).*/\1/p' <<<"$lk")
		ratio=$(python3 -c "print('%.2f' % ($nft_ms / max($full, 0.001)))")
		echo "$lk nft_f_ms=$nft_ms ratio_nft_over_labkube_full=$ratio"
		ip netns del "$ID-a"; ip netns del "$ID-b"
	done
done
