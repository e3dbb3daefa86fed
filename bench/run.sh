#!/usr/bin/env bash
# bench/run.sh: every benchmark behind `make bench`, and the only writer of
# bench/RESULTS.md.
#
#   LABKUBE=/abs/build/labkube SQLITE_INSERT=/abs/build/bench/sqlite_insert bench/run.sh
#
# Runs the sections in turn, each by its own script, each writing its part
# of the report to a file of its own (LKB_SECTION; see bench/benchlib.py):
#
#   api      bench/lkbench.py, in a network namespace made here (lkb-PID)
#   sync     bench/proxy-sync.sh 1000 4000 10000  (proxy sync beside nft -f)
#   apply    bench/proxy-apply.sh 10              (kubectl apply -> first curl)
#   wrk      bench/proxy-wrk.sh 7 3               (NodePort vs pod IP, wrk)
#   dns      bench/dns.sh                         (labkube vs dnsmasq, dnsperf)
#   pods     bench/pods.sh                        (start-up, memory per pod)
#   memory   bench/memory.sh                      (server RSS: idle, 1,000 Services, 1,000 Pods)
#
# Then RESULTS.md is assembled from those files under a header naming the
# commit, the date, the machine, the binary and the load average: only when
# every section succeeded, only from a clean tree (`git status --porcelain
# --untracked-files=no` empty, checked before and after, and HEAD unchanged
# during the run). Nothing in RESULTS.md is kept from an earlier run or
# written by hand. A run that cannot write RESULTS.md prints its sections on
# the terminal instead.
#
# Environment:
#   LKB_RESULTS   where to write (default bench/RESULTS.md; empty: terminal only)
#   LKB_QUICK=1   small sizes and one or two short rounds of everything, for
#                 trying the harness: terminal only
#   LKB_SECTIONS  a subset, e.g. "api dns" (default: all); a subset never
#                 writes bench/RESULTS.md
#   LKB_ALLOW_DIRTY=1  with an LKB_RESULTS other than bench/RESULTS.md, write
#                 it even from a tree with uncommitted changes, marked NOT
#                 REPRODUCIBLE at the top (for working on the harness)
#   LKB_KEEP=1    keep the temporary directories (data dirs, logs, raw JSON)
#   TMPDIR        where data dirs live (the filesystem labkube and
#                 sqlite_insert write to)
# Each step ends the processes it started by pid and deletes the network
# namespaces and temporary directories it made, even on failure or Ctrl-C.
# Needs root, and wrk, hey, dnsperf, dnsmasq, nft, kubectl, curl, dig
# (`make bench` installs the Debian packages it can).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
py=/usr/bin/python3 # Debian's: a pyenv python3 may come first on PATH
ns=lkb-$$
tmp=
ns_up=0
child=

die() { echo "bench: $*" >&2; exit 1; }

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	# The step scripts clean up after themselves on TERM.
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
	if [ "$ns_up" = 1 ]; then
		# Only what this run started can be in the namespace it created.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
		sleep 0.2
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null || echo "bench: could not delete netns $ns" >&2
	fi
	if [ -n "$tmp" ]; then
		if [ "${LKB_KEEP:-0}" = 1 ]; then
			echo "bench: kept $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root: the benchmarks run in network namespaces they create (try: sudo make bench)"
[ -x "${LABKUBE:-}" ] || die "LABKUBE must name the labkube binary (make bench sets it); got '${LABKUBE:-}'"
[ -x "${SQLITE_INSERT:-}" ] || die "SQLITE_INSERT must name the sqlite_insert binary (make bench builds it); got '${SQLITE_INSERT:-}'"
for tool in ip git wrk hey nft dnsperf dnsmasq kubectl curl dig unshare "$py"; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool (make bench installs wrk, hey, dnsperf, dnsmasq-base)"
done

all_sections="api sync apply wrk dns pods memory"
sections=${LKB_SECTIONS:-$all_sections}
for s in $sections; do
	case " $all_sections " in *" $s "*) ;; *) die "unknown section '$s' in LKB_SECTIONS (have: $all_sections)" ;; esac
done
results=${LKB_RESULTS-$here/RESULTS.md}
quick=0
[ "${LKB_QUICK:-0}" = 1 ] && quick=1
dirty_ok=0
if [ -n "$results" ]; then
	if [ "$quick" = 1 ]; then
		echo "bench: LKB_QUICK=1: the figures go to the terminal only" >&2
		results=
	elif [ "$sections" != "$all_sections" ] && [ "$results" -ef "$here/RESULTS.md" ]; then
		echo "bench: LKB_SECTIONS is a subset: the figures go to the terminal only" >&2
		results=
	fi
fi
tree_state() { # the tracked changes, empty on a clean tree
	git -C "$top" status --porcelain --untracked-files=no 2>&1
}
commit=$(git -C "$top" rev-parse HEAD 2>/dev/null) || die "cannot read the commit of $top"
if [ -n "$results" ] && [ -n "$(tree_state)" ]; then
	if [ "${LKB_ALLOW_DIRTY:-0}" = 1 ] && ! [ "$results" -ef "$here/RESULTS.md" ] && [ "${results##*/}" != RESULTS.md ]; then
		dirty_ok=1
		echo "bench: the tree has uncommitted changes: $results will be marked NOT REPRODUCIBLE" >&2
	else
		echo "bench: refusing to write $results: the tree has uncommitted changes to tracked files:" >&2
		tree_state | head -n 20 | sed 's/^/bench:   /' >&2
		die "commit them (RESULTS.md must name a commit that reproduces it), or run with LKB_RESULTS= to print the figures only"
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkb-bench.XXXXXX") || die "cannot make a temporary directory"
mkdir -p "$tmp/home" "$tmp/sections"
load_start=$("$py" "$here/benchlib.py" load)
date_start=$(date -u '+%Y-%m-%d %H:%M UTC')
t_start=$(date +%s)
failed=()
declare -A took

# step NAME CMD...: run one section's script in the background (so that a
# signal reaches the cleanup at once), its section file in $tmp/sections.
step() {
	local name=$1 t0 rc
	shift
	echo "bench: ---- section $name: $*" >&2
	t0=$(date +%s)
	# stdout to the terminal's stderr: run.sh's own stdout is the report alone
	LKB_SECTION="$tmp/sections/$name.md" "$@" </dev/null >&2 &
	child=$!
	wait "$child"
	rc=$?
	child=
	took[$name]=$(($(date +%s) - t0))
	if [ "$rc" -ne 0 ]; then
		failed+=("$name (exit $rc)")
		echo "bench: section $name FAILED (exit $rc)" >&2
	elif ! [ -s "$tmp/sections/$name.md" ]; then
		failed+=("$name (exit 0 but no section written)")
		echo "bench: section $name FAILED: exit 0 but no section written" >&2
	fi
}

# The API section's namespace is made here, not in the backgrounded step,
# so that the cleanup above knows to delete it.
api_netns() {
	ip netns add "$ns" || return 1
	ns_up=1
	ip -n "$ns" link set lo up || return 1
	# The node needs a non-loopback address (the "kubernetes" Endpoints may
	# not point at 127.0.0.0/8): a veth pair whose both ends stay in the
	# namespace, with a TEST-NET-1 address that exists nowhere else. No
	# client targets it.
	ip -n "$ns" link add lkb0 type veth peer name lkb1 &&
		ip -n "$ns" addr add 192.0.2.1/24 dev lkb0 &&
		ip -n "$ns" link set lkb0 up && ip -n "$ns" link set lkb1 up
}
api() {
	local q=()
	[ "$quick" = 1 ] && q=(--quick)
	# HOME points into the temporary directory: the server writes a
	# kubeconfig to ~/.kube/config when there is none.
	ip netns exec "$ns" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$tmp/home" TMPDIR="$tmp" LANG=C.UTF-8 LKB_SECTION="$LKB_SECTION" \
		"$py" "$here/lkbench.py" --labkube "$LABKUBE" --sqlite-insert "$SQLITE_INSERT" \
		--tmp "$tmp" --repo "$top" --json "$tmp/results.json" "${q[@]}"
}

export LABKUBE
for s in $sections; do
	case $s in
	api)
		if api_netns; then
			step api api
		else
			failed+=("api (cannot make network namespace $ns)")
		fi ;;
	sync)
		if [ "$quick" = 1 ]; then
			step sync env LKB_SYNC_ROUNDS=2 "$here/proxy-sync.sh" 200 1000
		else
			step sync "$here/proxy-sync.sh" 1000 4000 10000
		fi ;;
	apply) step apply "$here/proxy-apply.sh" "$([ "$quick" = 1 ] && echo 3 || echo 10)" ;;
	wrk)
		if [ "$quick" = 1 ]; then
			step wrk "$here/proxy-wrk.sh" 2 1
		else
			step wrk "$here/proxy-wrk.sh" 7 3
		fi ;;
	dns)
		if [ "$quick" = 1 ]; then
			step dns env LKB_DNS_SERVICES=100 LKB_DNS_HEADLESS=3 LKB_DNS_ROUNDS=2 LKB_DNS_SECONDS=2 "$here/dns.sh"
		else
			step dns "$here/dns.sh"
		fi ;;
	pods)
		if [ "$quick" = 1 ]; then
			step pods env LKB_PODS_SIZES="${LKB_PODS_SIZES:-1,10}" LKB_PODS_ROUNDS="${LKB_PODS_ROUNDS:-1}" "$here/pods.sh"
		else
			step pods "$here/pods.sh"
		fi ;;
	memory)
		if [ "$quick" = 1 ]; then
			step memory env LKB_MEM_SERVICES=100 LKB_MEM_PODS=50 "$here/memory.sh"
		else
			step memory "$here/memory.sh"
		fi ;;
	esac
done

load_end=$("$py" "$here/benchlib.py" load)
elapsed=$(($(date +%s) - t_start))
if [ "${#failed[@]}" -gt 0 ]; then
	for s in $sections; do [ -s "$tmp/sections/$s.md" ] && cat "$tmp/sections/$s.md"; done
	echo >&2
	echo "bench: FAILED: ${failed[*]}; $(basename "${results:-RESULTS.md}") not written (the sections that succeeded are above)" >&2
	exit 1
fi

# ---------------------------------------------------------------- the report
if [ -n "$results" ] && [ "$dirty_ok" = 0 ]; then
	[ "$(git -C "$top" rev-parse HEAD)" = "$commit" ] ||
		die "HEAD moved during the run (from $commit): not writing $results"
	[ -z "$(tree_state)" ] || die "the tree changed during the run: not writing $results"
fi
names=()
for s in $sections; do names+=("$s=${took[$s]}"); done
"$py" - "$tmp/sections" "$top" "$commit" "$dirty_ok" "$LABKUBE" "$load_start" "$load_end" \
	"$date_start" "$elapsed" "$quick" "${names[@]}" >"$tmp/RESULTS.md" <<'PY' || die "cannot assemble the report"
import hashlib, os, platform, subprocess, sys, time
secdir, top, commit, dirty, labkube, load0, load1, date0, elapsed, quick = sys.argv[1:11]
names = [a.split("=", 1) for a in sys.argv[11:]]
git = lambda *a: subprocess.run(["git", "-C", top] + list(a), capture_output=True,
                                text=True).stdout.strip()
cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:"))
h = hashlib.sha256()
with open(labkube, "rb") as f:
    for b in iter(lambda: f.read(1 << 20), b""):
        h.update(b)
ver = subprocess.run([labkube, "version"], capture_output=True, text=True).stdout.strip()
ncpu = os.cpu_count()
o = ["# labkube benchmarks", ""]
if dirty == "1":
    o += ["**NOT REPRODUCIBLE: written from a tree with uncommitted changes to tracked "
          "files (LKB_ALLOW_DIRTY=1); the commit below is not what was measured.**", ""]
if quick == "1":
    o += ["**Quick run (LKB_QUICK=1): small sizes, short rounds.**", ""]
o += ["Written by `make bench` (bench/run.sh): every section below by its own script, all in "
      "this one run, from the commit named here; nothing is kept from an earlier run or "
      "written by hand. Do not edit: commit, then run `make bench` again.", "",
      "| | |", "|---|---|",
      "| commit | %s (%s, %s) |" % (commit, git("log", "-1", "--format=%s", commit).replace("|", "\\|"),
                                   git("log", "-1", "--format=%cd", "--date=short", commit)),
      "| date | %s, %s min in all |" % (date0, "%.1f" % (int(elapsed) / 60)),
      "| binary | %s (%s), sha256 %s |" % (os.path.relpath(labkube, top) if labkube.startswith(top) else labkube,
                                          ver.splitlines()[0] if ver else "?", h.hexdigest()[:16]),
      "| machine | %d CPUs, %s, %.1f GiB RAM |" % (ncpu, cpu, mem / 1048576),
      "| kernel | %s |" % platform.release(),
      "| load average (1, 5, 15 min) | %s at the start, %s at the end |" % (load0, load1),
      "| sections (seconds) | %s |" % ", ".join("%s %s" % (n, t) for n, t in names), ""]
flagged = []
texts = []
for n, _ in names:
    t = open(os.path.join(secdir, n + ".md")).read()
    texts.append(t)
    k = sum(1 for l in t.splitlines() if l.startswith("- **drift**") or l.startswith("- **load**"))
    if k:
        flagged.append("%s (%d)" % (t.splitlines()[0].lstrip("# "), k))
if flagged:
    o += ["Flagged (load above %d CPUs, or rounds spread more than the threshold; see each "
          "section): %s." % (ncpu, "; ".join(flagged)), ""]
else:
    o += ["No section flagged load above %d CPUs or a spread of rounds above its threshold." % ncpu, ""]
o += ["Ratios are against a peer measured in the same run; figures are medians over rounds. "
      "Compare ratios across machines, not absolute figures.", ""]
sys.stdout.write("\n".join(o) + "\n" + "\n".join(t.rstrip("\n") + "\n" for t in texts))
PY
if [ -n "$results" ]; then
	cp "$tmp/RESULTS.md" "$results.tmp" && mv "$results.tmp" "$results" || die "cannot write $results"
	echo "bench: wrote $results ($elapsed s)" >&2
else
	cat "$tmp/RESULTS.md"
	echo "bench: not written to a file (quick, subset or LKB_RESULTS empty; $elapsed s)" >&2
fi
