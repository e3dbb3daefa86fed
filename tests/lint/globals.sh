#!/usr/bin/env bash
# tests/lint/globals.sh: no component state in file-scope variables
# (ARCHITECTURE.md "Where state lives"), checked on the built objects.
#
#   tests/lint/globals.sh [BUILD]    # BUILD: the build folder (default: build)
#
# Lists the writable data of every object built from common/, server/,
# proxy/ and dns/ (symbols in .data, .bss, .tdata, .tbss: what a function
# can change; const tables of pointers land in .data.rel.ro and are not
# listed) and fails on any that is not in ALLOWED (process-wide settings,
# each with its reason) or KNOWN (today's exceptions, each naming what
# removes it). A KNOWN line that no longer happens fails too: delete it.
# Function-local statics count: they are file-scope state with a smaller
# name. images/ is not checked: each image is its own process in a pod.
# Prints one "lint-globals: ok ..." line, or one line per variable and exits 1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
build=${1:-build}

# FILE SYMBOL   # why it is process-wide, not a component's
ALLOWED=(
	# --verbose: one log level for the process, set once by main.c.
	"common/util.c lk_verbose"
	# The deterministic random source tests ask for (lk_random_seed):
	# a test knob for the whole process.
	"common/util.c test_seed"
	# Thread-local text of the last YAML error, handed back as a
	# borrowed message: per thread by construction, no component's.
	"common/yaml.c yaml_msg"
)

# FILE SYMBOL   # why, and what removes it
KNOWN=()

declare -A listed seen
for k in "${ALLOWED[@]}" "${KNOWN[@]}"; do listed[$k]=1; done
for k in "${KNOWN[@]}"; do seen[$k]=0; done

objs=0 bad=0
while IFS= read -r -d '' src; do
	src=${src#./}
	o=$build/${src%.c}.o
	[ -f "$o" ] || continue
	objs=$((objs + 1))
	while read -r sym; do
		k="$src ${sym%%.[0-9]*}"    # a function-local static: name.N
		if [ -n "${listed[$k]+x}" ]; then
			[ -n "${seen[$k]+x}" ] && seen[$k]=1
			continue
		fi
		echo "lint-globals: $src keeps '$sym' in a file-scope variable: component state belongs in its handle (ARCHITECTURE.md)"
		bad=$((bad + 1))
	done < <(objdump -t "$o" | awk 'NF >= 5 && $(NF-2) ~ /^\.(t?data|t?bss)$/ && $(NF) != $(NF-2) && $(NF) !~ /^(\.L|__)/ { print $NF }')
done < <(find common server proxy dns -name '*.c' -print0 2>/dev/null | sort -z)

stale=0
for k in "${KNOWN[@]}"; do
	if [ "${seen[$k]}" = 0 ]; then
		echo "lint-globals: '$k' is listed as a known exception but no longer happens: delete it from KNOWN in tests/lint/globals.sh"
		stale=$((stale + 1))
	fi
done

if [ "$objs" -eq 0 ]; then
	echo "lint-globals: no objects under $build (build first)"
	exit 1
fi
if [ $((bad + stale)) -gt 0 ]; then
	echo "lint-globals: FAILED: $bad variable(s) holding state, $stale stale exception(s)"
	exit 1
fi
echo "lint-globals: ok ($objs objects, ${#ALLOWED[@]} process-wide settings, ${#KNOWN[@]} known exceptions)"
