#!/usr/bin/env bash
# tests/unit/run.sh: run libcheck unit test binaries and add up their results.
#
#   tests/unit/run.sh build/tests/test_json build/tests/test_store ...
#
# Each binary runs with libcheck's defaults (CK_FORK unset: every test in its
# own child). Its summary line "NN%: Checks: N, Failures: F, Errors: E" gives
# the counts; a binary that dies before printing it, or exits non-zero with no
# failure counted, counts as one failure. The output of a failing binary is
# shown in full, a passing one gets one line. Closes with exactly
#   unit: N passed, M failed
# and exits non-zero if M > 0.
set -u

passed=0
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/lkt-unit.XXXXXX")
trap 'rm -f "$out"' EXIT

for bin in "$@"; do
	name=$(basename "$bin")
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: not an executable file ($bin)"
		failed=$((failed + 1))
		continue
	fi
	start=$(date +%s.%N)
	"$bin" >"$out" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	# The last summary line wins (a binary may run several srunners).
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: no libcheck summary line (exit $rc, ${secs}s)"
		sed 's/^/    /' "$out"
		failed=$((failed + 1))
		continue
	fi
	n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	bad=$((f + e))
	good=$((n - bad))
	[ "$good" -lt 0 ] && good=0
	if [ "$bad" -eq 0 ] && [ "$rc" -ne 0 ]; then
		bad=1 # all checks passed but the binary failed (leak report, crash at exit)
	fi
	passed=$((passed + good))
	failed=$((failed + bad))
	if [ "$bad" -eq 0 ]; then
		echo "ok   $name: $good passed (${secs}s)"
	else
		echo "FAIL $name: $good passed, $bad failed (exit $rc, ${secs}s)"
		# libcheck prints one line per failing check: file:line:F|E:tcase:test:...
		sed 's/^/    /' "$out"
	fi
done

echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
