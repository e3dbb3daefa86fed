#!/usr/bin/env bash
# tests/e2e/run.sh: run the e2e tests, each file in a cluster of its own.
#
#   LABKUBE=/abs/build/labkube tests/e2e/run.sh            # every t*.sh
#   LABKUBE=... tests/e2e/run.sh t110 t112-errors          # by name or prefix
#   T="t110 t111" make e2e                                 # the same via make
#
# Each test prints its plan ("1..N", before its first check) and "ok"/"not ok"
# lines (see lib.sh); this adds them up. A file fails when it prints a "not
# ok" line, exits non-zero, states no plan (or states it after a check), or
# runs a number of checks other than its plan (it stopped early, or ran none);
# each of those counts as one failure when no "not ok" line says more.
# "ok ... # SKIP reason" lines count as skipped, not passed. Output of failing
# files is kept in $LK_LOGDIR. Closes with exactly
#   e2e: N passed, M failed, K skipped
# and exits non-zero when M > 0. Needs root: tests create network namespaces.
# LK_JOBS=N runs N files at once (each has its own namespaces).
set -u

here=$(cd "$(dirname "$0")" && pwd)
jobs=${LK_JOBS:-1}
per_test_timeout=${LK_TEST_TIMEOUT:-300}

finish() { echo "e2e: $1 passed, $2 failed, ${3:-0} skipped"; [ "$2" -eq 0 ]; exit $?; }

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e: these tests need root: each one runs the cluster in network namespaces it creates (try: sudo make e2e)"
	finish 0 1
fi
if [ "${LABKUBE_FAKE:-0}" != 1 ] && [ ! -x "${LABKUBE:-}" ]; then
	echo "e2e: LABKUBE must name the labkube binary (make e2e sets it); got '${LABKUBE:-}'"
	finish 0 1
fi
kbin=$(dirname "$(readlink -f "$(command -v kubectl 2>/dev/null || echo /nonexistent)")")
for tool in ip curl timeout "$kbin/kubectl.1.27" "$kbin/kubectl.1.30" "$kbin/kubectl.1.33"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "e2e: missing $tool (kubectl.1.27..1.33 must sit beside the kubectl on PATH)"
		finish 0 1
	fi
done

# Which files: arguments, else $T, else all. A name may be a prefix (t110).
names=("$@")
[ ${#names[@]} -eq 0 ] && [ -n "${T:-}" ] && read -r -a names <<<"$T"
files=()
if [ ${#names[@]} -eq 0 ]; then
	for f in "$here"/t[0-9]*.sh; do [ -e "$f" ] && files+=("$f"); done
else
	for n in "${names[@]}"; do
		n=$(basename "$n" .sh)
		found=0
		for f in "$here/$n".sh "$here/$n"-*.sh; do
			[ -e "$f" ] && files+=("$f") && found=1
		done
		[ "$found" = 1 ] || { echo "e2e: no test named '$n' in $here"; finish 0 1; }
	done
fi
[ ${#files[@]} -gt 0 ] || { echo "e2e: no tests found in $here"; finish 0 1; }

logdir=${LK_LOGDIR:-$(mktemp -d "${TMPDIR:-/tmp}/lkt-e2e.XXXXXX")}
mkdir -p "$logdir"
[ "${LABKUBE_FAKE:-0}" = 1 ] && echo "e2e: LABKUBE_FAKE=1: against the reference fake server, not labkube"

# Remove what a test killed by the timeout could not clean up itself: only
# the namespaces named with that test's own id, and processes inside them.
sweep() {
	local id=$1 ns p left=0
	for ns in "lkt-$id-n" "lkt-$id-o"; do
		ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || continue
		left=1
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	return $left
}

run_one() { # run_one FILE ID: writes $logdir/NAME.log and NAME.rc
	local f=$1 id=$2 name rc start
	name=$(basename "$f" .sh)
	start=$(date +%s)
	LK_ID=$id timeout -k 20 "$per_test_timeout" bash "$f" >"$logdir/$name.log" 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 124 ] && echo "not ok - $name timed out after ${per_test_timeout}s" >>"$logdir/$name.log"
	if ! sweep "$id"; then
		echo "not ok - $name left network namespaces lkt-$id-* behind (removed)" >>"$logdir/$name.log"
	fi
	echo "$rc $(($(date +%s) - start))" >"$logdir/$name.rc"
}

report() { # report FILE: one line, plus the failures; updates totals
	local f=$1 name rc secs ok notok skipped log plan first ran
	name=$(basename "$f" .sh)
	log=$logdir/$name.log
	read -r rc secs <"$logdir/$name.rc"
	ok=$(grep -cE '^ok ' "$log")
	notok=$(grep -cE '^not ok ' "$log")
	skipped=$(grep -cE '^ok .*# SKIP' "$log")
	ran=$((ok + notok))
	ok=$((ok - skipped))
	# The plan: the first "1..N" line, printed before the first check.
	plan=$(grep -nE '^1\.\.[0-9]+$' "$log" | head -n 1)
	first=$(grep -nE '^(not )?ok ' "$log" | head -n 1 | cut -d: -f1)
	if [ "$notok" -eq 0 ]; then
		if [ -z "$plan" ]; then
			echo "not ok - $name states no plan (lk_plan N)" >>"$log"
			notok=1
		elif [ -n "$first" ] && [ "${plan%%:*}" -gt "$first" ]; then
			echo "not ok - $name states its plan after its first check" >>"$log"
			notok=1
		elif [ "$ran" -ne "${plan#*..}" ]; then
			echo "not ok - $name ran $ran checks of the ${plan#*..} it planned" >>"$log"
			notok=1
		fi
	fi
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		echo "not ok - $name exited with code $rc" >>"$log"
		notok=1
	fi
	total_ok=$((total_ok + ok))
	total_fail=$((total_fail + notok))
	total_skip=$((total_skip + skipped))
	if [ "$notok" -eq 0 ]; then
		printf 'PASS %-24s %3d ok%s  (%ss)\n' "$name" "$ok" \
			"$([ "$skipped" -gt 0 ] && echo ", $skipped skipped")" "$secs"
	else
		printf 'FAIL %-24s %3d ok, %d not ok  (%ss, log %s)\n' "$name" "$ok" "$notok" "$secs" "$log"
		# each "not ok" line with the "#" diagnostics under it
		awk '/^not ok /{p=1; print "    " $0; next} p && /^#/{print "    " $0; next} {p=0}' "$log" | head -n 200
	fi
}

total_ok=0 total_fail=0 total_skip=0
i=0
pending=()
for f in "${files[@]}"; do
	i=$((i + 1))
	id=$(printf '%x%02x%02x' $$ $((i % 256)) $((RANDOM % 256)))
	if [ "$jobs" -le 1 ]; then
		run_one "$f" "$id"
		report "$f"
	else
		run_one "$f" "$id" &
		pending+=("$f")
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	fi
done
if [ "$jobs" -gt 1 ]; then
	wait
	for f in "${pending[@]}"; do report "$f"; done
fi

if [ "$total_skip" -gt 0 ]; then # say what was skipped, and why
	echo "e2e: skipped checks:"
	for f in "${files[@]}"; do
		grep -hE '^ok .*# SKIP' "$logdir/$(basename "$f" .sh).log" 2>/dev/null |
			sed "s/^/    $(basename "$f" .sh): /"
	done
fi
if [ "$total_fail" -eq 0 ] && [ -z "${LK_LOGDIR:-}" ]; then rm -rf "$logdir"; fi
finish "$total_ok" "$total_fail" "$total_skip"
