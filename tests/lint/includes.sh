#!/usr/bin/env bash
# tests/lint/includes.sh: the include direction of ARCHITECTURE.md, checked.
#
#   tests/lint/includes.sh [TOP]     # TOP: the tree to check (default: this one)
#
# Reads every `#include "..."` line of every .c and .h under the project's
# source folders (common, images, server, proxy, dns; tests/, fuzz/ and
# bench/ may include anything) and fails when a file includes a header its
# folder may not, per RULES below. A name without a slash is the including
# file's own folder. An accepted break would be listed in KNOWN with its
# reason (there is none): any other break fails, and so does a KNOWN line
# that no longer happens.
# Prints one "lint-includes: ok ..." line, or one line per break and exits 1.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 2

# FOLDER: what files in it may include (folders, or single headers). The
# longest FOLDER that prefixes a file's path is its layer. Bottom to top,
# as in ARCHITECTURE.md; server/labkube.h is the context every component
# is handed, so components may include it, lower layers may not.
RULES=(
	"common: common"
	"images: common images"
	"server/store: common server/store"
	"server/resources: common server/store server/resources"
	"server/registry: common server/store server/resources server/registry"
	"server/api: common server/store server/resources server/registry server/labkube.h server/api"
	"server/controllers: common server/store server/resources server/registry server/labkube.h server/controllers"
	"server/node: common server/store server/resources server/registry server/labkube.h server/node images"
	"proxy: common server/store server/resources server/registry server/labkube.h proxy"
	"dns: common server/store server/resources server/registry server/labkube.h dns"
	"server: common server images proxy dns"
)

# FILE HEADER   # why, and what would remove it (none today)
KNOWN=()

layer_of() { # layer_of FILE: the longest RULES folder prefixing FILE
	local f=$1 best= r k
	for r in "${RULES[@]}"; do
		k=${r%%:*}
		case $f in "$k"/*) [ ${#k} -gt ${#best} ] && best=$k ;; esac
	done
	echo "$best"
}

allowed() { # allowed LAYER HEADER
	local r k list a
	for r in "${RULES[@]}"; do
		k=${r%%:*}
		[ "$k" = "$1" ] || continue
		list=${r#*:}
		for a in $list; do
			[ "$2" = "$a" ] && return 0
			case $2 in "$a"/*) return 0 ;; esac
		done
	done
	return 1
}

declare -A known_seen
for k in "${KNOWN[@]}"; do known_seen[$k]=0; done

files=0 includes=0 bad=0
while IFS= read -r -d '' f; do
	f=${f#./}
	layer=$(layer_of "$f")
	[ -n "$layer" ] || continue
	files=$((files + 1))
	while IFS= read -r h; do
		includes=$((includes + 1))
		case $h in */*) ;; *) h=$(dirname "$f")/$h ;; esac
		allowed "$layer" "$h" && continue
		if [ -n "${known_seen["$f $h"]+x}" ]; then
			known_seen["$f $h"]=1
			continue
		fi
		echo "lint-includes: $f includes \"$h\": $layer/ may include only:" \
			"$(for r in "${RULES[@]}"; do [ "${r%%:*}" = "$layer" ] && echo "${r#*: }"; done)" \
			"(ARCHITECTURE.md)"
		bad=$((bad + 1))
	done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' "$f")
done < <(find common images server proxy dns -name '*.[ch]' -print0 2>/dev/null | sort -z)

stale=0
for k in "${KNOWN[@]}"; do
	if [ "${known_seen[$k]}" = 0 ]; then
		echo "lint-includes: '$k' is listed as a known exception but no longer happens: delete it from KNOWN in tests/lint/includes.sh"
		stale=$((stale + 1))
	fi
done

if [ "$files" -eq 0 ]; then
	echo "lint-includes: no source files under $top"
	exit 1
fi
if [ $((bad + stale)) -gt 0 ]; then
	echo "lint-includes: FAILED: $bad include(s) against the layering, $stale stale exception(s)"
	exit 1
fi
echo "lint-includes: ok ($files files, $includes includes, ${#KNOWN[@]} known exceptions)"
