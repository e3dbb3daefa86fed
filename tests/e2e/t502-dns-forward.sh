#!/usr/bin/env bash
# t502: names outside the cluster zone are forwarded (dns/, issue 5). The
# test runs its own upstreams inside the node namespace: a dnsmasq on
# 127.0.0.2 answering example.test from a hosts file (one name with 120
# addresses, too big for one 1232-byte UDP answer), nothing on 127.0.0.3
# (refused), and a silent UDP socket on 127.0.0.4 (never answers). labkube
# gets --dns-upstream=127.0.0.4,127.0.0.3,127.0.0.2, so the first answer
# needs the retry to the next upstream (later ones start at the upstream
# that answered). Checks: forwarded A/AAAA/TXT/NXDOMAIN over
# UDP and TCP; no OPT to a client without EDNS0; a second ask served from
# the cache (dnsmasq sees one query); the big answer fetched over TCP from
# the upstream (the client gets all 120 records with a 4096-byte buffer, TC
# with 1232 bytes or 512 without EDNS0, all of them over TCP); a burst of
# 300 forwarded queries at once, every one answered; an ExternalName service pointing
# outside answered as CNAME + the upstream's A; a pod resolving an outside
# name through its search path; with the upstream gone, a cached name still
# answers and a new one gets SERVFAIL (not a timeout); the question comes
# back in each asker's case, from the cache and when coalesced (0x20
# resolvers check it); a flood of one question to silent upstreams (UDP and
# pipelined TCP that never reads) leaves other names answered and the
# server's memory bounded; new names go first to the upstream that answered
# last, not to the silent first one; without
# --dns-upstream (the host's resolv.conf, unreachable from here) SERVFAIL
# too.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "cluster DNS forwarding" "the fake server serves no DNS"
	exit 0
fi
lk_plan 46
command -v dnsmasq >/dev/null || lk_bail "dnsmasq is installed (Makefile DEB_PKGS: dnsmasq-base)"

DNSMASQ_PID=
SILENT_PID=
t502_cleanup() {
	local rc=$?
	[ -n "$DNSMASQ_PID" ] && kill -TERM "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
	[ -n "$SILENT_PID" ] && kill -TERM "$SILENT_PID" 2>/dev/null && wait "$SILENT_PID" 2>/dev/null
	DNSMASQ_PID='' SILENT_PID=''
	(exit "$rc")
	lk_cleanup
}
trap t502_cleanup EXIT

# dq NAME TYPE [dig options]: ask the cluster DNS; ST, FL, AN, RAW as t500.
S=10.96.0.10
dq() {
	local name=$1 type=$2
	shift 2
	run lk_nsexec dig @"$S" +time=5 +tries=1 +noall +comments +answer "$@" "$name" "$type"
	RAW=$OUT
	ST=$(sed -n 's/.*status: \([A-Z0-9]*\),.*/\1/p' <<<"$RAW" | head -n 1)
	[ -n "$ST" ] || ST="(no answer: $(grep -m1 -E 'timed out|refused|error' <<<"$RAW"))"
	FL=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$RAW" | head -n 1)
	AN=$(awk '/^;; ANSWER SECTION:/{s=1; next} /^;;/ || /^$/{s=0}
		s && !/^;/ {l = tolower($1) " " $4; for (i = 5; i <= NF; i++) l = l " " $i; print l}' <<<"$RAW" | sort)
}
check() { # check DESC STATUS WANT_ANSWER (after dq)
	if [ "$ST" = "$2" ] && [ "$AN" = "$3" ]; then pass "$1"; return 0; fi
	fail "$1" "want status $2 and answer:"
	lk_diag want "$3"
	lk_diag got "$RAW"
	return 1
}
qcount() { grep -c "query\[$1\] $2 from" "$LK_TMP/dnsmasq.log" 2>/dev/null; }

lk_start --dns-upstream=127.0.0.4,127.0.0.3,127.0.0.2

# ---- the upstreams, inside the node namespace
{
	echo "198.51.100.80 www.example.test"
	echo "2001:db8::80 www.example.test"
	echo "198.51.100.81 other.example.test"
	echo "198.51.100.82 later.example.test"
	for i in $(seq 1 120); do echo "198.51.100.$i big.example.test"; done
} >"$LK_TMP/up.hosts"
# ip netns exec execs the command: $! is dnsmasq's own pid (a shell
# function would put a subshell in between).
ip netns exec "$LK_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --user=root \
	--listen-address=127.0.0.2 --bind-interfaces --port=53 --no-resolv --no-hosts \
	--addn-hosts="$LK_TMP/up.hosts" --local=/example.test/ --local-ttl=60 \
	--edns-packet-max=1232 --txt-record=txt.example.test,"hello from upstream" \
	--log-queries --log-facility="$LK_TMP/dnsmasq.log" >>"$LK_TMP/dnsmasq.out" 2>&1 </dev/null &
DNSMASQ_PID=$!
# the silent one logs the names it is asked
ip netns exec "$LK_NS" "$LK_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.4", 53))
log = open(sys.argv[1], "a", buffering=1)
while True:
    p = s.recvfrom(4096)[0]
    i, labels = 12, []
    while i < len(p) and 0 < p[i] < 64:
        labels.append(p[i + 1:i + 1 + p[i]].decode("ascii", "replace"))
        i += 1 + p[i]
    log.write(".".join(labels).lower() + "\n")
' "$LK_TMP/silent.log" >/dev/null 2>&1 </dev/null &
SILENT_PID=$!
up_ok() { lk_nsexec dig @127.0.0.2 +short +time=1 +tries=1 www.example.test A | grep -qx 198.51.100.80; }
lk_wait_for 10 up_ok || lk_bail "the fake upstream (dnsmasq on 127.0.0.2) answers" "$(cat "$LK_TMP/dnsmasq.out")"
pass "the fake upstream (dnsmasq on 127.0.0.2) answers"

# ---- forwarding
dq www.example.test A
check "forwarded A (past a silent and a refusing upstream)" NOERROR "www.example.test. A 198.51.100.80"
expect_match "... recursion available (ra)" '(^| )ra( |$)' "$FL"
dq www.example.test AAAA
check "forwarded AAAA" NOERROR "www.example.test. AAAA 2001:db8::80"
dq txt.example.test TXT
check "forwarded TXT" NOERROR 'txt.example.test. TXT "hello from upstream"'
dq nosuch.example.test A
check "forwarded NXDOMAIN" NXDOMAIN ""
expect_eq "new names go first to the upstream that answered last (the silent one saw only the first)" \
	"www.example.test" "$(sort -u "$LK_TMP/silent.log" 2>/dev/null)"
dq other.example.test A +tcp
check "forwarded over TCP (client to labkube)" NOERROR "other.example.test. A 198.51.100.81"
dq www.example.test A +noedns
check "client without EDNS0: answered" NOERROR "www.example.test. A 198.51.100.80"
expect_nomatch "... without an OPT record" 'OPT PSEUDOSECTION' "$RAW"
dq WWW.Example.TEST A
check "forwarded name in mixed case" NOERROR "www.example.test. A 198.51.100.80"

# ---- the question in the asker's case (0x20), cached and coalesced
run lk_nsexec dig @"$S" +time=5 +tries=1 +noall +question WwW.eXaMpLe.TeSt A
expect_match "cached answer: the question as this client spelled it" \
	'^;WwW\.eXaMpLe\.TeSt\.[[:space:]]+IN[[:space:]]+A$' "$OUT"
run lk_nsexec dig @"$S" +time=5 +tries=1 +noall +question +tcp wWw.ExAmPlE.tEsT A
expect_match "... over TCP" '^;wWw\.ExAmPlE\.tEsT\.[[:space:]]+IN[[:space:]]+A$' "$OUT"
# two askers of one new name at once, in different case: whether the second
# waits for the first's upstream query or is served from the cache, each
# gets its own spelling back
run ip netns exec "$LK_NS" timeout 30 "$LK_PY" -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
def name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"
sent = {1: name([b"CoAl", b"example", b"test"]), 2: name([b"cOaL", b"EXAMPLE", b"test"])}
for i, n in sent.items():
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + n + struct.pack(">HH", 1, 1),
             ("10.96.0.10", 53))
ok = []
for _ in sent:
    r = s.recv(4096)
    i = struct.unpack(">H", r[:2])[0]
    ok.append(r[12:12 + len(sent[i])] == sent[i])
print(" ".join("same" if o else "other" for o in ok))
'
expect_eq "one new name asked twice at once in different case: each answer in its asker's case" \
	"same same" "$OUT"

# ---- cache
N1=$(qcount A other.example.test)
dq other.example.test A
check "asked again: same answer" NOERROR "other.example.test. A 198.51.100.81"
dq other.example.test A
TTL=$(awk '/^;; ANSWER SECTION:/{getline; print $2}' <<<"$RAW")
N2=$(qcount A other.example.test)
# (N1 >= 1: the upstream's log shows the first ask, so its count means something)
if [[ $N1 =~ ^[1-9][0-9]*$ ]] && [ "$N2" = "$N1" ]; then pass "... from the cache: the upstream saw no new query"
else fail "... from the cache: the upstream saw no new query" "queries for other.example.test in dnsmasq's log: '$N1' before, '$N2' after"; fi
if [[ $TTL =~ ^[0-9]+$ ]] && [ "$TTL" -le 60 ]; then pass "... cached TTL within the upstream's 60 s ($TTL)"
else fail "... cached TTL within the upstream's 60 s" "got '$TTL'"; fi

# ---- a big answer: TC from the upstream, TCP to it
dq big.example.test A +bufsize=4096 +ignore
expect_eq "120 records over UDP with a 4096-byte buffer (fetched over TCP upstream)" 120 "$(grep -c ' A ' <<<"$AN")"
expect_nomatch "... no TC" '(^| )tc( |$)' "$FL"
dq big.example.test A +bufsize=1232 +ignore
expect_match "1232-byte buffer: TC set" '(^| )tc( |$)' "$FL"
dq big.example.test A +tcp
expect_eq "over TCP: all 120 records" 120 "$(grep -c ' A ' <<<"$AN")"
dq big.example.test A
expect_eq "plain dig (falls back to TCP itself): 120 records" 120 "$(grep -c ' A ' <<<"$AN")"

dq big.example.test A +noedns +ignore
expect_match "client without EDNS0 (512 bytes): TC set" '(^| )tc( |$)' "$FL"
expect_nomatch "... and no OPT added" 'OPT PSEUDOSECTION' "$RAW"

# ---- a burst: 300 different names at once, each forwarded (more than a
# default-sized socket buffer holds)
run ip netns exec "$LK_NS" timeout 30 "$LK_PY" -c '
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
def q(i):
    name = b"".join(bytes([len(l)]) + l for l in (b"burst%d" % i, b"example", b"test")) + b"\0"
    return struct.pack(">HHHHHH", 1000 + i, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
for i in range(300):
    s.sendto(q(i), ("10.96.0.10", 53))
seen, codes = set(), {}
s.settimeout(0.5)
end = time.time() + 10
while time.time() < end and len(seen) < 300:
    try:
        r = s.recv(4096)
    except socket.timeout:
        continue
    i, fl = struct.unpack(">HH", r[:4])
    if 1000 <= i < 1300 and i not in seen:
        seen.add(i)
        codes[fl & 15] = codes.get(fl & 15, 0) + 1
print(len(seen), " ".join("rcode%d=%d" % kv for kv in sorted(codes.items())))
'
expect_eq "a burst of 300 forwarded queries: every one answered, NXDOMAIN from the upstream" "300 rcode3=300" "$OUT"

# ---- ExternalName pointing outside
M=$(lk_manifest ext.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: www.example.test}
---
apiVersion: v1
kind: Service
metadata: {name: ext-bad}
spec: {type: ExternalName, externalName: nosuch.example.test}
Y
)
expect_ok "create ExternalName services ext (www.example.test) and ext-bad" kc apply -f "$M"
cname_ok() { dq ext.default.svc.cluster.local CNAME; [ -n "$AN" ]; }
lk_wait_for 10 cname_ok
dq ext.default.svc.cluster.local A
check "ExternalName: CNAME + the upstream's A" NOERROR \
	"$(printf '%s\n' "ext.default.svc.cluster.local. CNAME www.example.test." "www.example.test. A 198.51.100.80" | sort)"
dq ext.default.svc.cluster.local A +tcp
check "... over TCP" NOERROR \
	"$(printf '%s\n' "ext.default.svc.cluster.local. CNAME www.example.test." "www.example.test. A 198.51.100.80" | sort)"
dq ext.default.svc.cluster.local AAAA
check "... AAAA: CNAME + the upstream's AAAA" NOERROR \
	"$(printf '%s\n' "ext.default.svc.cluster.local. CNAME www.example.test." "www.example.test. AAAA 2001:db8::80" | sort)"
dq ext-bad.default.svc.cluster.local A
check "ExternalName to a name that does not exist: CNAME, NXDOMAIN (RFC 6604)" NXDOMAIN \
	"ext-bad.default.svc.cluster.local. CNAME nosuch.example.test."

# ---- from a pod, through its search path
SCRIPT='for n in www.example.test ext; do printf "Q %s " "$n"; dig +search +short +time=5 +tries=1 "$n" | tr "\n" " "; echo; done; echo DONE; exec sleep 3600'
SJ=$(printf '%s' "$SCRIPT" | "$LK_PY" -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
M=$(lk_manifest pod.yaml <<Y
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: registry.k8s.io/e2e-test-images/dnsutils:1.3, command: [sh, -c, $SJ]}
Y
)
expect_ok "a dnsutils pod looks up www.example.test and ext" kc apply -f "$M"
log_done() { kc logs client 2>/dev/null | grep -q '^DONE$'; }
wait_ok "... it has done its lookups" 60 log_done
LOG=$(kc logs client 2>/dev/null)
expect_line "pod: www.example.test (search list tried, then forwarded)" "Q www.example.test 198.51.100.80 " "$LOG"
expect_line "pod: ext (short ExternalName name): CNAME target and address" \
	"Q ext www.example.test. 198.51.100.80 " "$LOG"
run kc delete pod client --wait=false

# ---- the upstream goes away
dq later.example.test A
check "later.example.test asked once while the upstream is up" NOERROR "later.example.test. A 198.51.100.82"
kill -TERM "$DNSMASQ_PID" 2>/dev/null
wait "$DNSMASQ_PID" 2>/dev/null
DNSMASQ_PID=
dq later.example.test A
check "upstream gone: a cached name still answers" NOERROR "later.example.test. A 198.51.100.82"
dq never-asked.example.test A
check "upstream gone: a new name gets SERVFAIL within dig's 5 s (no hang)" SERVFAIL ""
dq never-asked.example.test A +tcp
check "... over TCP too" SERVFAIL ""
dq kubernetes.default.svc.cluster.local A
check "cluster names still answer" NOERROR "kubernetes.default.svc.cluster.local. A 10.96.0.1"

# ---- a flood of one question while no upstream answers: 8 TCP
# connections pipelining it without reading their answers, and UDP
# datagrams. Other names still answer, and the memory stays bounded.
rss_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$LK_PID/status"; }
RSS0=$(rss_kb VmRSS)
timeout -k 5 120 ip netns exec "$LK_NS" "$LK_PY" -c '
import socket, struct, sys, time
def q(i):
    n = b"".join(bytes([len(l)]) + l for l in (b"flood", b"example", b"test")) + b"\0"
    return struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + n + struct.pack(">HH", 1, 1)
msg = q(7)
tcp = b"".join(struct.pack(">H", len(msg)) + msg for _ in range(20000))
conns = []
for _ in range(8):
    c = socket.create_connection(("10.96.0.10", 53))
    c.setblocking(False)
    conns.append([c, 0])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(60000):
    try:
        u.sendto(q(i), ("10.96.0.10", 53))
    except OSError:
        pass
    if i % 1000 == 0:
        for cs in conns:
            try:
                cs[1] += cs[0].send(tcp[cs[1]:cs[1] + 65536])
            except OSError:
                pass
open(sys.argv[1], "w").write("sent\n")
time.sleep(100)
' "$LK_TMP/flood.sent" >/dev/null 2>"$LK_TMP/flood.err" </dev/null &
LK_BG_PIDS+=("$!")
FLOOD_PID=$!
if lk_wait_file "$LK_TMP/flood.sent" sent 60; then pass "the flood was sent"
else fail "the flood was sent" "$(cat "$LK_TMP/flood.err")"; fi
dq kubernetes.default.svc.cluster.local A
check "during a flood of one unanswered question: cluster names answer" NOERROR \
	"kubernetes.default.svc.cluster.local. A 10.96.0.1"
dq later.example.test A
check "... cached outside names answer" NOERROR "later.example.test. A 198.51.100.82"
dq kubernetes.default.svc.cluster.local A +tcp
check "... over TCP too" NOERROR "kubernetes.default.svc.cluster.local. A 10.96.0.1"
HWM=$(rss_kb VmHWM)
if [[ $RSS0 =~ ^[0-9]+$ && $HWM =~ ^[0-9]+$ ]] && [ $((HWM - RSS0)) -lt $((200 * 1024)) ]; then
	pass "... the server's peak memory grew by less than 200 MiB ($(((HWM - RSS0) / 1024)) MiB)"
else
	fail "... the server's peak memory grew by less than 200 MiB" "VmRSS before ${RSS0} kB, VmHWM after ${HWM} kB"
fi
lk_kill "$FLOOD_PID"

# ---- no --dns-upstream: the host's resolv.conf, whose servers are
# unreachable from the test's namespace
lk_server_stop
lk_server_start
dq www.example.test A
check "default upstreams unreachable: SERVFAIL within dig's 5 s" SERVFAIL ""
dq kubernetes.default.svc.cluster.local A
check "... cluster names answer" NOERROR "kubernetes.default.svc.cluster.local. A 10.96.0.1"
lk_done
