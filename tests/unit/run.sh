#!/usr/bin/env bash
# tests/unit/run.sh: run libcheck unit test binaries and add up their results.
#
#   tests/unit/run.sh build/tests/test_json build/tests/test_store ...
#
# Each binary runs with libcheck's defaults (CK_FORK unset: every test in its
# own child), under a timeout of LK_UNIT_TIMEOUT seconds (default 300). It
# prints its plan first ("unit-plan: N", from tests/unit/plan.c: the tests it
# registered) and then one libcheck summary line per suite runner,
# "NN%: Checks: N, Failures: F, Errors: E"; every summary line is added up.
# A binary fails, counting at least one failure, when any check failed, when
# it prints no plan or no summary, when its checks do not add up to its plan
# (it stopped early or ran none), when it times out, or when it exits
# non-zero (a leak report, a crash at exit). The output of a failing binary
# is shown in full, a passing one gets one line. Closes with exactly
#   unit: N passed, M failed, 0 skipped
# (libcheck has no skip: a unit test that cannot run here fails) and exits
# non-zero if M > 0.
set -u

timeout_s=${LK_UNIT_TIMEOUT:-300}
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
	timeout -k 10 "$timeout_s" "$bin" >"$out" 2>&1 </dev/null
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	plan=$(sed -nE 's/^unit-plan: ([0-9]+)$/\1/p' "$out" | head -n 1)
	# n checks, f failures, e errors, summed over every summary line
	read -r lines n f e < <(sed -nE 's/.*[0-9]+%: Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/p' "$out" |
		awk '{l++; n += $1; f += $2; e += $3} END {print l + 0, n + 0, f + 0, e + 0}')
	bad=$((f + e))
	good=$((n - bad))
	[ "$good" -lt 0 ] && good=0
	why=
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after ${timeout_s}s"
	elif [ "$lines" -eq 0 ]; then
		why="no libcheck summary line (exit $rc)"
	elif [ -z "$plan" ]; then
		why="no plan line (is tests/unit/plan.c linked in?)"
	elif [ "$n" -ne "$plan" ]; then
		why="ran $n checks of the $plan it registered"
	elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		why="exit $rc with every check passed (a leak report or a crash at exit)"
	fi
	[ -n "$why" ] && [ "$bad" -eq 0 ] && bad=1
	passed=$((passed + good))
	failed=$((failed + bad))
	if [ "$bad" -eq 0 ]; then
		echo "ok   $name: $good passed (${secs}s)"
	else
		echo "FAIL $name: $good passed, $bad failed (exit $rc, ${secs}s)${why:+: $why}"
		# libcheck prints one line per failing check: file:line:F|E:tcase:test:...
		sed 's/^/    /' "$out"
	fi
done

echo "unit: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
