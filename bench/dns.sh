#!/usr/bin/env bash
# bench/dns.sh: the cluster DNS benchmark (issue 5), run by bench/run.sh
# after the API part, or alone:
#
#   LABKUBE=/abs/build/labkube bench/dns.sh
#
# Makes a network namespace of its own (lkb-dns-PID) with loopback and a
# veth pair for the node IP (both ends inside). In it: labkube with
# LKB_DNS_SERVICES ClusterIP services (default 1000, in 10 namespaces) and
# LKB_DNS_HEADLESS selector-less headless services with 3 endpoints each
# (default 10), answering on 127.0.0.1:53 (--dns-listen); and dnsmasq on
# 127.0.0.2:53 answering the same names from an --addn-hosts file
# (--no-resolv --no-hosts, default --cache-size, --local=/cluster.local/).
# dnsperf (one thread, 4 sockets, up to 100 queries in flight, no rate
# limit) sends A queries for every name, shuffled, to each server in turn,
# LKB_DNS_ROUNDS rounds (default 5) of LKB_DNS_SECONDS (default 10), the
# order alternating; medians are reported. Then one rate-limited pass per
# server (LKB_DNS_RATE q/s, default 10000, 5 s, dnsperf -v) for latency
# percentiles. RSS (VmRSS) of both servers after the load; labkube's also
# right after start and after the services were created: it is the whole
# cluster (API, store, controllers, node agent, proxy, DNS) in one process.
#
# Every dnsperf run must exit 0, lose no query and get only NOERROR answers,
# or the run fails with no figure. Writes the "## DNS" section to
# LKB_SECTION (bench/run.sh), or prints it. On exit, even on failure or
# Ctrl-C, ends the processes in its namespace (all started by this run) by
# pid, deletes the namespace and its temporary directory (LKB_KEEP=1 keeps
# the directory). Needs root, kubectl, dig, dnsperf, dnsmasq.
set -u

here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
ns=lkb-dns-$$
tmp=
ns_up=0
N=${LKB_DNS_SERVICES:-1000}
H=${LKB_DNS_HEADLESS:-10}
ROUNDS=${LKB_DNS_ROUNDS:-5}
SECS=${LKB_DNS_SECONDS:-10}
RATE=${LKB_DNS_RATE:-10000}
LK_ADDR=127.0.0.1
DM_ADDR=127.0.0.2
lk_pid=
dm_pid=

die() { echo "bench dns: $*" >&2; exit 1; }
say() { echo "bench dns: $*" >&2; }

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	if [ "$ns_up" = 1 ]; then
		# Only what this run started can be in the namespace it created.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
		sleep 0.3
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null || echo "bench dns: could not delete netns $ns" >&2
	fi
	if [ -n "$tmp" ]; then
		if [ "${LKB_KEEP:-0}" = 1 ]; then
			say "kept $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench dns: interrupted" >&2; exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root: the servers run in a network namespace this creates"
[ -x "${LABKUBE:-}" ] || die "LABKUBE must name the labkube binary; got '${LABKUBE:-}'"
for tool in ip kubectl curl dig dnsperf dnsmasq "$py"; do
	command -v "$tool" >/dev/null 2>&1 || die "missing $tool (make bench installs dnsperf; dnsmasq-base is a build dependency)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkb-dns.XXXXXX") || die "cannot make a temporary directory"
mkdir -p "$tmp/home"
ip netns add "$ns" || die "cannot create network namespace $ns"
ns_up=1
ip -n "$ns" link set lo up || die "cannot bring up lo in $ns"
# The node IP: a veth pair whose both ends stay in the namespace, with a
# TEST-NET-1 address that exists nowhere else (as bench/run.sh).
ip -n "$ns" link add lkb0 type veth peer name lkb1 &&
	ip -n "$ns" addr add 192.0.2.1/24 dev lkb0 &&
	ip -n "$ns" link set lkb0 up && ip -n "$ns" link set lkb1 up ||
	die "cannot make the node's veth in $ns"

# In the namespace, with a clean environment. An array, not a function, so
# that "${NSX[@]}" CMD & gives the pid of CMD itself (ip and env exec it).
NSX=(ip netns exec "$ns" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HOME="$tmp/home" KUBECONFIG="$tmp/kubeconfig" LANG=C.UTF-8)
nsx() { "${NSX[@]}" "$@"; }
kc() { nsx kubectl --kubeconfig="$tmp/kubeconfig" --cache-dir="$tmp/kcache" "$@"; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null; }
cat >"$tmp/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: b, cluster: {server: "http://127.0.0.1:6443"}}]
contexts: [{name: b, context: {cluster: b, user: b}}]
current-context: b
users: [{name: b, user: {}}]
EOF

# ---- labkube
say "starting labkube"
"${NSX[@]}" "$LABKUBE" server --data-dir "$tmp/data" --listen 127.0.0.1:6443 --node-ip 192.0.2.1 \
	--node-name lkb-dns --dns-upstream=127.0.0.1:9 --dns-listen="$LK_ADDR:53" --quiet \
	>"$tmp/labkube.log" 2>&1 </dev/null &
lk_pid=$!
for _ in $(seq 200); do
	[ "$(nsx curl -s --max-time 1 http://127.0.0.1:6443/readyz 2>/dev/null)" = ok ] && break
	kill -0 "$lk_pid" 2>/dev/null || die "labkube exited: $(tail -n 5 "$tmp/labkube.log")"
	sleep 0.1
done
lk_dig() { nsx dig @"$LK_ADDR" +short +time=1 +tries=1 "$@" 2>/dev/null; }
for _ in $(seq 100); do
	[ "$(lk_dig kubernetes.default.svc.cluster.local A)" = 10.96.0.1 ] && break
	sleep 0.1
done
[ "$(lk_dig kubernetes.default.svc.cluster.local A)" = 10.96.0.1 ] ||
	die "labkube does not answer DNS on $LK_ADDR:53: $(tail -n 5 "$tmp/labkube.log")"
rss_start=$(rss_kb "$lk_pid")

# ---- the services
say "creating $N ClusterIP and $H headless services"
"$py" - "$N" "$H" >"$tmp/objs.yaml" <<'PY'
import sys
n, h = int(sys.argv[1]), int(sys.argv[2])
nns = 10
out = []
for k in range(nns):
    out.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench-%d}\n" % k)
for i in range(n):
    out.append("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%04d, namespace: bench-%d}\n"
               "spec: {ports: [{name: http, port: 80}]}\n" % (i, i % nns))
for j in range(h):
    out.append("apiVersion: v1\nkind: Service\nmetadata: {name: hl-%02d, namespace: bench-0}\n"
               "spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n" % j)
    eps = "".join("- {addresses: [10.244.%d.%d], conditions: {ready: true}}\n" % (100 + j, e + 1)
                  for e in range(3))
    out.append("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: hl-%02d-1\n"
               "  namespace: bench-0\n  labels: {kubernetes.io/service-name: hl-%02d}\naddressType: IPv4\n"
               "ports: [{name: http, port: 80, protocol: TCP}]\nendpoints:\n%s" % (j, j, eps))
sys.stdout.write("---\n".join(out))
PY
s0=$(date +%s%N)
kc create -f "$tmp/objs.yaml" >/dev/null 2>"$tmp/create.err" || die "kubectl create failed: $(tail -n 3 "$tmp/create.err")"
create_s=$(awk -v a="$s0" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f", (b - a) / 1e9}')
say "created them in ${create_s} s (kubectl create -f, one request per object)"
kc get svc -A -o jsonpath='{range .items[*]}{.metadata.name}.{.metadata.namespace}.svc.cluster.local {.spec.clusterIP}{"\n"}{end}' \
	>"$tmp/svcs.txt" || die "cannot list services"
kc get endpointslices -n bench-0 -o jsonpath='{range .items[*]}{.metadata.labels.kubernetes\.io/service-name}{range .endpoints[*]} {.addresses[0]}{end}{"\n"}{end}' \
	>"$tmp/eps.txt" || die "cannot list endpoint slices"
# hosts file for dnsmasq (same names, same answers) and the query file
awk '$2 != "None" && $2 != "" {print $2, $1}' "$tmp/svcs.txt" >"$tmp/hosts"
awk 'NF > 1 && $1 ~ /^hl-/ {for (i = 2; i <= NF; i++) print $i, $1 ".bench-0.svc.cluster.local"}' "$tmp/eps.txt" >>"$tmp/hosts"
awk '{print $2}' "$tmp/hosts" | sort -u | "$py" -c '
import random, sys
names = [l.strip() for l in sys.stdin if l.strip()]
random.seed(1)
random.shuffle(names)
sys.stdout.write("".join("%s A\n" % n for n in names))' >"$tmp/queries"
nq=$(wc -l <"$tmp/queries")
nsvc=$(grep -c 'svc-' "$tmp/svcs.txt")
[ "$nsvc" = "$N" ] || die "expected $N services, listed $nsvc"
last=$(awk '/^svc-/{print $1}' "$tmp/svcs.txt" | sort | tail -n 1)
lastip=$(awk -v n="$last" '$1 == n {print $2}' "$tmp/svcs.txt")
for _ in $(seq 100); do
	[ "$(lk_dig "$last" A)" = "$lastip" ] && break
	sleep 0.1
done
[ "$(lk_dig "$last" A)" = "$lastip" ] || die "labkube does not answer $last"
rss_loaded=$(rss_kb "$lk_pid")

# ---- dnsmasq
say "starting dnsmasq"
"${NSX[@]}" dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --user=root \
	--listen-address="$DM_ADDR" --bind-interfaces --port=53 --no-resolv --no-hosts \
	--addn-hosts="$tmp/hosts" --local=/cluster.local/ --local-ttl=5 \
	>"$tmp/dnsmasq.log" 2>&1 </dev/null &
dm_pid=$!
dm_dig() { nsx dig @"$DM_ADDR" +short +time=1 +tries=1 "$@" 2>/dev/null; }
for _ in $(seq 100); do
	[ "$(dm_dig "$last" A)" = "$lastip" ] && break
	sleep 0.1
done
[ "$(dm_dig "$last" A)" = "$lastip" ] || die "dnsmasq does not answer $last: $(tail -n 3 "$tmp/dnsmasq.log")"

# Both answer the same: every 50th name, answers compared as sets.
mismatch=0
while read -r name _; do
	a=$(lk_dig "$name" A | sort | tr '\n' ' ')
	b=$(dm_dig "$name" A | sort | tr '\n' ' ')
	if [ "$a" != "$b" ] || [ -z "$a" ]; then
		mismatch=$((mismatch + 1))
		say "answers differ for $name: labkube '$a' dnsmasq '$b'"
	fi
done < <(awk 'NR % 50 == 1' "$tmp/queries")
[ "$mismatch" = 0 ] || die "$mismatch names answered differently"

# ---- the runs
perf() { # perf ADDR OUTFILE [dnsperf args]
	local addr=$1 out=$2
	shift 2
	nsx dnsperf -s "$addr" -p 53 -d "$tmp/queries" -T 1 -c 4 -q 100 "$@" >"$out" 2>&1
}
get() { # get FILE FIELD: a figure from dnsperf's statistics
	case $2 in
	qps) sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$1" ;;
	avg) sed -n 's/^ *Average Latency (s): *\([0-9.]*\).*/\1/p' "$1" ;;
	max) sed -n 's/^ *Average Latency (s):.*max \([0-9.]*\)).*/\1/p' "$1" ;;
	lost) sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$1" ;;
	sent) sed -n 's/^ *Queries sent: *\([0-9]*\).*/\1/p' "$1" ;;
	noerror) sed -n 's/^ *Response codes: *NOERROR \([0-9]*\).*/\1/p' "$1" ;;
	esac
}
: >"$tmp/rounds.txt"
load_before=$("$py" "$here/benchlib.py" load)
t_start=$(date +%s)
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="labkube dnsmasq"; else order="dnsmasq labkube"; fi
	for who in $order; do
		addr=$LK_ADDR
		[ "$who" = dnsmasq ] && addr=$DM_ADDR
		f=$tmp/perf-$who-$r.txt
		perf "$addr" "$f" -l "$SECS" || die "dnsperf failed: $(tail -n 5 "$f")"
		line="$who round=$r qps=$(get "$f" qps) avg_s=$(get "$f" avg) max_s=$(get "$f" max) sent=$(get "$f" sent) lost=$(get "$f" lost) noerror=$(get "$f" noerror)"
		echo "$line" | tee -a "$tmp/rounds.txt" >&2
		sent=$(get "$f" sent) lost=$(get "$f" lost) noerror=$(get "$f" noerror)
		[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$lost" = 0 ] && [ "$noerror" = "$sent" ] ||
			die "dnsperf against $who, round $r: sent '$sent', lost '$lost', NOERROR '$noerror': $(tail -n 20 "$f")"
	done
done
# latency percentiles at a fixed rate both can sustain
for who in labkube dnsmasq; do
	addr=$LK_ADDR
	[ "$who" = dnsmasq ] && addr=$DM_ADDR
	f=$tmp/lat-$who.txt
	perf "$addr" "$f" -l 5 -Q "$RATE" -v || die "dnsperf -v against $who failed: $(tail -n 5 "$f")"
	sent=$(get "$f" sent) lost=$(get "$f" lost) noerror=$(get "$f" noerror)
	[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$lost" = 0 ] && [ "$noerror" = "$sent" ] ||
		die "dnsperf -v against $who: sent '$sent', lost '$lost', NOERROR '$noerror'"
done
load_after=$("$py" "$here/benchlib.py" load)
rss_lk=$(rss_kb "$lk_pid")
rss_dm=$(rss_kb "$dm_pid")
kill -0 "$lk_pid" 2>/dev/null || die "labkube died during the runs: $(tail -n 5 "$tmp/labkube.log")"

# ---- figures
# (a quoted here-document: nothing in it is expanded by the shell)
"$py" - "$tmp" "$here" "$nq" "$N" "$H" "$ROUNDS" "$SECS" "$RATE" \
	"$rss_start" "$rss_loaded" "$rss_lk" "$rss_dm" "$(($(date +%s) - t_start))" "$load_before" "$load_after" <<'PY'
import os, statistics, sys
tmp, here, nq = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, here)
import benchlib
N, H, ROUNDS, SECS, RATE = (int(x) for x in sys.argv[4:9])
rss = dict(zip(("start", "loaded", "lk", "dm"), (int(x or 0) for x in sys.argv[9:13])))
elapsed = sys.argv[13]
load_before = [float(x) for x in sys.argv[14].split()]
load_after = [float(x) for x in sys.argv[15].split()]
rounds = {"labkube": [], "dnsmasq": []}
for line in open(os.path.join(tmp, "rounds.txt")):
    w = line.split()
    d = dict(x.split("=", 1) for x in w[1:])
    rounds[w[0]].append(d)
def med(who, k):
    return statistics.median(float(d[k]) for d in rounds[who] if d.get(k))
def pct(who):
    lat = []
    codes = {}
    for line in open(os.path.join(tmp, "lat-%s.txt" % who)):
        if line.startswith("> "):
            p = line.split()
            codes[p[1]] = codes.get(p[1], 0) + 1
            try:
                lat.append(float(p[-1]))
            except ValueError:
                pass
    lat.sort()
    if not lat:
        return None
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
    return {"n": len(lat), "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999), "max": lat[-1],
            "codes": codes}
lk_q, dm_q = med("labkube", "qps"), med("dnsmasq", "qps")
lk_a, dm_a = med("labkube", "avg_s"), med("dnsmasq", "avg_s")
lost = {w: sum(int(d.get("lost", 0) or 0) for d in rounds[w]) for w in rounds}
pl, pd = pct("labkube"), pct("dnsmasq")
us = lambda s: "%.0f" % (s * 1e6)
out = []
out.append("dns: %s names (%d ClusterIP + %d headless x 3 endpoints), dnsperf -T 1 -c 4 -q 100, %d x %d s, medians"
           % (nq, N, H, ROUNDS, SECS))
out.append("dns: labkube qps=%.0f avg_us=%s lost=%d | dnsmasq qps=%.0f avg_us=%s lost=%d | ratio labkube/dnsmasq qps=%.2f"
           % (lk_q, us(lk_a), lost["labkube"], dm_q, us(dm_a), lost["dnsmasq"], lk_q / dm_q))
for who, p in (("labkube", pl), ("dnsmasq", pd)):
    if p:
        out.append("dns: %s at %s q/s: p50_us=%s p90_us=%s p99_us=%s p99.9_us=%s max_us=%s (%d answers %s)"
                   % (who, RATE, us(p["p50"]), us(p["p90"]), us(p["p99"]), us(p["p999"]), us(p["max"]), p["n"],
                      ",".join("%s=%d" % kv for kv in sorted(p["codes"].items()))))
out.append("dns: rss_kb labkube start=%d with_services=%d after_load=%d | dnsmasq after_load=%d"
           % (rss["start"], rss["loaded"], rss["lk"], rss["dm"]))
sys.stderr.write("\n".join(out) + "\n")
flags = benchlib.load_flags(load_before, load_after)
for who in ("labkube", "dnsmasq"):
    flags.append(benchlib.drift("%s q/s" % who, [float(d["qps"]) for d in rounds[who]]))
per = [float(a["qps"]) / float(b["qps"]) for a, b in zip(rounds["labkube"], rounds["dnsmasq"])]
L = ["## DNS", "",
     "Written by `bench/dns.sh` (in a network namespace of its own); %s s." % elapsed, "",
     "Same run, one network namespace: labkube answering %s cluster names "
     "(%d ClusterIP services in 10 namespaces + %d headless services with 3 endpoints each) from its zone on "
     "127.0.0.1:53 (`--dns-listen`), and dnsmasq answering the same names from an `--addn-hosts` file on "
     "127.0.0.2:53 (`--no-resolv --no-hosts --local=/cluster.local/`, default cache). dnsperf 1 thread, "
     "4 sockets, 100 queries in flight, no rate limit, A queries for every name shuffled; %d rounds of %d s "
     "per server, order alternating; medians. Both servers were checked to give the same answers first "
     "(every 50th name); every dnsperf run exited 0 with no query lost and every answer NOERROR."
     % (nq, N, H, ROUNDS, SECS), "",
     "| | labkube | dnsmasq | labkube / dnsmasq |", "|---|--:|--:|--:|",
     "| queries per second (median) | %.0f | %.0f | %.2f |" % (lk_q, dm_q, lk_q / dm_q),
     "| average latency at full load, µs (median) | %s | %s | %.2f |" % (us(lk_a), us(dm_a), lk_a / dm_a)]
if pl and pd:
    for k, name in (("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")):
        L.append("| latency %s at %s q/s, µs | %s | %s | %.2f |" % (name, RATE, us(pl[k]), us(pd[k]), pl[k] / pd[k]))
L.append("| RSS after the runs, MiB | %.1f | %.1f | |" % (rss["lk"] / 1024, rss["dm"] / 1024))
L += ["",
      "labkube's RSS is the whole single-node cluster in one process (API server, SQLite store, watch "
      "history, controllers, node agent, proxy, DNS): %.1f MiB right after start, %.1f MiB once the "
      "services existed, %.1f MiB after the runs. dnsmasq's is a DNS server alone."
      % (rss["start"] / 1024, rss["loaded"] / 1024, rss["lk"] / 1024), "",
      "Per round (q/s): labkube %s; dnsmasq %s." % (
          ", ".join("%.0f" % float(d["qps"]) for d in rounds["labkube"]),
          ", ".join("%.0f" % float(d["qps"]) for d in rounds["dnsmasq"])), "",
      "Reading (computed): labkube answered %.2f× dnsmasq's queries per second at the median "
      "(per round %.2f–%.2f×), %s; at %s q/s its p99 latency was %.2f× dnsmasq's." % (
          lk_q / dm_q, min(per), max(per),
          "ahead in every round" if min(per) > 1 else "behind in every round" if max(per) < 1
          else "ahead in some rounds and not in others",
          RATE, pl["p99"] / pd["p99"] if pl and pd else float("nan")), "",
      benchlib.load_line(load_before, load_after), "", benchlib.flags_block(flags)]
benchlib.emit("\n".join(L), "DNS")
PY
