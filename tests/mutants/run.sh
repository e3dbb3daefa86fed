#!/usr/bin/env bash
# tests/mutants/run.sh: proof that the tests can fail.
#
#   tests/mutants/run.sh                 # every tests/mutants/NN-*.patch
#   tests/mutants/run.sh 05 07-dns       # by number or name prefix
#   make mutants / make mutants-ci       # the same via make (after the build)
#
# Each NN-name.patch is a deliberate breakage (a unified diff, applied with
# -p1 and no fuzz) under a header of "# " lines saying what it breaks; one
# of them, "# tests: NAME...", names the tests that must catch it: unit
# binaries (test_store: build/tests/test_store through tests/unit/run.sh),
# e2e files (t251: tests/e2e/run.sh t251) and source checks (lint-includes:
# tests/lint/includes.sh, which reads the patched sources and builds
# nothing), in the order to run them.
#
# Nothing here touches the working tree or its build directory. A snapshot
# is copied into a scratch directory once (the files git knows or would
# add, as they are now, plus a copy of $BUILD with its timestamps, so that
# only what a patch changes recompiles); each mutant gets a copy of that
# snapshot, its patch (a patch that does not apply is an error), a build of
# what its tests need (a mutant that does not build is an error, not a
# catch; so is one whose patched .c file did not recompile), then its tests
# in order until one fails. That test caught it, provided the same test
# passes on the unpatched snapshot (checked once per test, on first use):
# a test that fails anyway catches nothing. One line per mutant, then
#   mutants: C caught of N
# exit 0 only when every mutant was caught. Scratch copies are removed.
#
# Environment: BUILD (build dir to copy, default build; make passes its
# own), SANITIZE (passed to make), MUT_ALL=1 (run every named test, not
# only up to the first catch), MUT_BASELINE=0 (skip the unpatched runs),
# MUT_KEEP=1 (keep the scratch directory), MUT_UNIT_TIMEOUT (seconds per
# unit binary, default 300), TMPDIR. e2e tests need root (as make e2e).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
unit_timeout=${MUT_UNIT_TIMEOUT:-300}
t_start=$(date +%s)

die() { echo "mutants: $*" >&2; echo "mutants: 0 caught of ${total:-?} (error)"; exit 2; }
case $build in # copied to, and rebuilt in, $scratch/$build: never outside it
/* | *..* | '') die "BUILD must be a directory name relative to the tree, got '$build'" ;;
esac

# ---- which mutants, and their tests
names=("$@")
patches=()
if [ ${#names[@]} -eq 0 ]; then
	for p in "$here"/[0-9]*.patch; do [ -e "$p" ] && patches+=("$p"); done
else
	for n in "${names[@]}"; do
		n=$(basename "$n" .patch)
		found=0
		for p in "$here/$n".patch "$here/$n"-*.patch; do
			[ -e "$p" ] && patches+=("$p") && found=1
		done
		[ "$found" = 1 ] || die "no mutant named '$n' in $here"
	done
fi
total=${#patches[@]}
[ "$total" -gt 0 ] || die "no mutants found in $here"

declare -A TESTS
need_root=0
for p in "${patches[@]}"; do
	m=$(basename "$p" .patch)
	line=$(grep -m1 -E '^# tests:' "$p") || die "$m: no '# tests:' line in its header"
	read -r -a ts <<<"${line#\# tests:}"
	[ ${#ts[@]} -gt 0 ] || die "$m: '# tests:' names no test"
	for t in "${ts[@]}"; do
		case $t in
		test_*) [ -f "$top/tests/unit/$t.c" ] || die "$m: no unit test tests/unit/$t.c" ;;
		t[0-9]*) compgen -G "$top/tests/e2e/$t*.sh" >/dev/null || die "$m: no e2e file tests/e2e/$t*.sh"
			need_root=1 ;;
		lint-*) [ -x "$top/tests/lint/${t#lint-}.sh" ] || die "$m: no source check tests/lint/${t#lint-}.sh" ;;
		*) die "$m: '$t' is neither a unit binary (test_*), an e2e file (tNNN) nor a source check (lint-*)" ;;
		esac
	done
	TESTS[$m]="${ts[*]}"
done
if [ "$need_root" = 1 ] && [ "$(id -u)" -ne 0 ]; then
	die "these mutants name e2e files, which need root (try: sudo make mutants)"
fi
if [ ! -x "$top/$build/labkube" ] || [ ! -e "$top/$build/.deps" ]; then
	die "no built tree in $top/$build (run make first: the scratch copies reuse its objects)"
fi

# ---- the snapshot
scratch=$(mktemp -d "${TMPDIR:-/tmp}/lkmut.XXXXXX") || die "cannot make a scratch directory"
cleanup() {
	if [ "${MUT_KEEP:-0}" = 1 ]; then echo "mutants: kept $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
base=$scratch/base
mkdir -p "$base"
# Tracked and untracked-but-not-ignored files as they are now (edits
# included), without build directories; outside a git work tree, every
# file but those. Then the objects, timestamps kept.
list_sources() {
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files -z --cached --others --exclude-standard --deduplicate
	else
		(cd "$top" && find . -path ./.git -prune -o -path './build*' -prune -o -type f -printf '%P\0')
	fi
}
(set -o pipefail
 list_sources | grep -zv '^build[^/]*/' |
	(cd "$top" && while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done) |
	(cd "$top" && tar -c --format=posix --null -T - -f -) | tar -x -C "$base" -f -) ||
	die "cannot copy the sources of $top"
if [ ! -f "$base/Makefile" ] || [ ! -x "$base/tests/unit/run.sh" ]; then
	die "the copy of $top has no Makefile or tests"
fi
cp -a "$top/$build" "$base/$build" || die "cannot copy $top/$build"

mkvars=(BUILD="$build" SANITIZE="${SANITIZE:-}")
targets_for() { # targets_for TEST...: the make targets those tests run
	local t e2e=0 out=()
	for t in "$@"; do
		case $t in
		test_*) out+=("$build/tests/$t") ;;
		lint-*) ;; # reads sources: nothing to build
		*) e2e=1 ;;
		esac
	done
	[ "$e2e" = 1 ] && out+=("$build/labkube")
	echo "${out[@]}"
}

# run_test DIR TEST LOG: 0 when the test passes in DIR
run_test() {
	local dir=$1 t=$2 log=$3
	case $t in
	test_*)
		(cd "$dir" && timeout -k 10 "$unit_timeout" tests/unit/run.sh "$build/tests/$t") >"$log" 2>&1 ;;
	lint-*)
		"$dir/tests/lint/${t#lint-}.sh" "$dir" >"$log" 2>&1 ;;
	*)
		mkdir -p "$dir/e2e-logs"
		LABKUBE="$dir/$build/labkube" LK_LOGDIR="$dir/e2e-logs" \
			"$dir/tests/e2e/run.sh" "$t" >"$log" 2>&1 ;;
	esac
}

# why LOG: the first line that says what failed
why() {
	{ grep -m1 -E '^\s*not ok|:[0-9]+:[FE]:' "$1" || grep -m1 -E '^(FAIL |lint-[a-z]+: )' "$1"; } |
		sed -E 's/^\s+//' | cut -c1-200
}

# Bring the snapshot's objects up to date with its sources once, so that
# each mutant recompiles only what its patch changes.
all_tests=()
for m in "${!TESTS[@]}"; do read -r -a ts <<<"${TESTS[$m]}"; all_tests+=("${ts[@]}"); done
base_targets=$(targets_for "${all_tests[@]}" | tr ' ' '\n' | sort -u)
# shellcheck disable=SC2086
[ -z "$base_targets" ] || make -C "$base" --no-print-directory "${mkvars[@]}" $base_targets \
	>"$scratch/base-build.log" 2>&1 ||
	die "the unpatched snapshot does not build: $(grep -m1 -E 'error|Error' "$scratch/base-build.log")"

declare -A BASE_OK
baseline() { # baseline TEST: 0 when TEST passes on the unpatched snapshot
	local t=$1 log=$scratch/base-$1.log
	[ "${MUT_BASELINE:-1}" = 0 ] && return 0
	if [ -z "${BASE_OK[$t]:-}" ]; then
		if run_test "$base" "$t" "$log"; then
			BASE_OK[$t]=ok
		else
			BASE_OK[$t]=fail
			echo "    ($t fails on the unpatched tree too: $(why "$log"))"
		fi
	fi
	[ "${BASE_OK[$t]}" = ok ]
}

# ---- the mutants
caught=0
results=()
for p in "${patches[@]}"; do
	m=$(basename "$p" .patch)
	read -r -a ts <<<"${TESTS[$m]}"
	dir=$scratch/$m
	log=$scratch/$m.log
	m_start=$(date +%s)
	cp -a "$base" "$dir" || die "cannot copy the snapshot for $m"
	if ! (cd "$dir" && patch -p1 -F0 --forward --batch --no-backup-if-mismatch -s <"$p") >"$log" 2>&1; then
		results+=("ERROR  $m: the patch does not apply: $(grep -m2 -iE "can't find|failed|reversed|malformed|only garbage" "$log" | tr '\n' ' ')")
		echo "${results[-1]}"
		rm -rf "$dir"
		continue
	fi
	targets=$(targets_for "${ts[@]}")
	# shellcheck disable=SC2086
	if [ -n "$targets" ] && ! make -C "$dir" --no-print-directory "${mkvars[@]}" $targets >"$log" 2>&1; then
		results+=("ERROR  $m: does not build: $(grep -m1 -E 'error' "$log")")
		echo "${results[-1]}"
		rm -rf "$dir"
		continue
	fi
	# the mutation must be in what runs: every patched .c recompiled
	# (unless its tests build nothing: a source check reads the patch itself)
	missing=
	[ -n "$targets" ] && while read -r f; do
		case $f in *.c) grep -qE -- "-c $f( |$)" "$log" || missing="$missing $f" ;; esac
	done < <(sed -n -E 's|^\+\+\+ b/([^[:space:]]+).*|\1|p' "$p")
	if [ -n "$missing" ]; then
		results+=("ERROR  $m: patched but not recompiled:$missing")
		echo "${results[-1]}"
		rm -rf "$dir"
		continue
	fi
	by="" notes=()
	for t in "${ts[@]}"; do
		tlog=$scratch/$m-$t.log
		if run_test "$dir" "$t" "$tlog"; then
			notes+=("$t passed")
			continue
		fi
		if ! baseline "$t"; then
			notes+=("$t fails unpatched too")
			continue
		fi
		notes+=("$t failed")
		[ -z "$by" ] && by="$t: $(why "$tlog")"
		[ "${MUT_ALL:-0}" = 1 ] || break
	done
	secs=$(($(date +%s) - m_start))
	if [ -n "$by" ]; then
		caught=$((caught + 1))
		results+=("caught $m by $by (${secs}s)")
	else
		results+=("MISSED $m: ${notes[*]} (${secs}s)")
	fi
	[ "${MUT_ALL:-0}" = 1 ] && [ -n "$by" ] && results[-1]="${results[-1]} [${notes[*]}]"
	echo "${results[-1]}"
	[ "${MUT_KEEP:-0}" = 1 ] || rm -rf "$dir"
done

echo "mutants: $caught caught of $total ($(($(date +%s) - t_start))s)"
[ "$caught" -eq "$total" ]
