#!/usr/bin/env bash
# t503: the cluster DNS as a DNS server (dns/, issue 5): kube-dns as kubectl
# shows it (cluster-info, get svc); header rules (FORMERR for two
# questions, NOTIMP for other opcodes, BADVERS for EDNS version 1, a
# response packet never answered, flags aa/rd/ra, the id echoed); EDNS0
# (answers up to the client's buffer, TC beyond, the full answer over TCP,
# no OPT to a client without EDNS0, name compression); ANY answered
# conservatively; CNAME loops between ExternalName services answered
# without repeated records; the question echoed in its case; the zone's NS
# resolves; malformed UDP and TCP input (junk, bad labels, pointer
# loops, short reads, idle connections) answered with FORMERR or dropped,
# more idle TCP connections than the server keeps not shutting out a new one,
# and a normal query answers after each batch; TCP pipelining; the flags
# --dns-listen, --cluster-domain and --dns-ttl after a restart.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "cluster DNS protocol" "the fake server serves no DNS"
	exit 0
fi
lk_plan $((81 + $(lk_nversions)))
lk_start --dns-upstream=127.0.0.1:9

S=10.96.0.10
dq() { # dq [@SERVER] NAME TYPE [dig options]: ST, FL, AN, RAW, SIZE, EDNS
	local srv=$S
	if [[ $1 == @* ]]; then srv=${1#@}; shift; fi
	local name=$1 type=$2
	shift 2
	run lk_nsexec dig @"$srv" +time=3 +tries=1 +noall +comments +answer "$@" "$name" "$type"
	RAW=$OUT
	ST=$(sed -n 's/.*status: \([A-Z0-9]*\),.*/\1/p' <<<"$RAW" | head -n 1)
	[ -n "$ST" ] || ST="(no answer: $(grep -m1 -E 'timed out|refused|error' <<<"$RAW"))"
	FL=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$RAW" | head -n 1)
	AN=$(awk '/^;; ANSWER SECTION:/{s=1; next} /^;;/ || /^$/{s=0}
		s && !/^;/ {l = tolower($1) " " $4; for (i = 5; i <= NF; i++) l = l " " $i; print l}' <<<"$RAW" | sort)
	EDNS=$(sed -n 's/^; EDNS: //p' <<<"$RAW")
}
flag() { [[ " $FL " == *" $1 "* ]]; }
alive() { # a normal query answers over UDP and TCP
	dq kubernetes.default.svc.cluster.local A
	[ "$AN" = "kubernetes.default.svc.cluster.local. A 10.96.0.1" ] || return 1
	dq kubernetes.default.svc.cluster.local A +tcp
	[ "$AN" = "kubernetes.default.svc.cluster.local. A 10.96.0.1" ]
}
expect_alive() {
	if alive; then pass "$1"; else fail "$1" "status $ST"; lk_diag dig "$RAW"; fi
}
wait_ok "the server answers" 15 alive

# ---- kube-dns as kubectl sees it
cluster_info() {
	run k "$1" cluster-info
	OUT=$(lk_strip_ansi <<<"$OUT")
	expect_match "kubectl 1.$1 cluster-info lists CoreDNS (kube-dns)" \
		"^CoreDNS is running at $LK_URL/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy\$" "$OUT"
}
kall cluster_info
run kc get svc -n kube-system kube-dns --no-headers
expect_match "kubectl get svc kube-dns: 10.96.0.10, 53/UDP,53/TCP" '^kube-dns +ClusterIP +10\.96\.0\.10 +<none> +53/UDP,53/TCP ' "$OUT"
run kc get svc -n kube-system -l k8s-app=kube-dns,kubernetes.io/cluster-service=true -o name
expect_eq "labels k8s-app=kube-dns, kubernetes.io/cluster-service=true" service/kube-dns "$OUT"
run kc get endpointslices -n kube-system -l kubernetes.io/service-name=kube-dns \
	-o jsonpath='{.items[*].endpoints[*].addresses[0]}'
expect_eq "its endpoint is the bridge address" 10.244.0.1 "$OUT"
run curl_api /readyz
expect_eq "/readyz is ok" ok "$OUT"

# ---- a big headless service (100 endpoints) and a plain one
{
	cat <<'Y'
apiVersion: v1
kind: Service
metadata: {name: big}
spec:
  clusterIP: None
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: plain}
spec:
  clusterIP: 10.96.53.10
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: big-1
  labels: {kubernetes.io/service-name: big}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints:
Y
	for i in $(seq 1 100); do echo "- {addresses: [10.244.100.$i], conditions: {ready: true}}"; done
} >"$LK_TMP/big.yaml"
expect_ok "apply a headless service with 100 endpoints" kc apply -f "$LK_TMP/big.yaml"
BIG=big.default.svc.cluster.local
big_ok() { dq $BIG A +tcp; [ "$(grep -c ' A ' <<<"$AN")" = 100 ]; }
wait_ok "over TCP: all 100 A records" 10 big_ok

# ---- EDNS0 and truncation
dq $BIG A +bufsize=512 +ignore
expect_match "+bufsize=512: TC set" ' tc ' " $FL "
expect_eq "... answer section empty or partial, never more than fits" 1 \
	"$([ "$(grep -c ' A ' <<<"$AN")" -lt 100 ] && echo 1 || echo 0)"
dq $BIG A +noedns +ignore
expect_match "no EDNS0 (512 bytes): TC set" ' tc ' " $FL "
dq $BIG A +ignore
expect_match "dig's default 1232-byte buffer: TC set (the answer is ~1.6 kB)" ' tc ' " $FL "
dq $BIG A +bufsize=4096 +ignore +stats
expect_eq "+bufsize=4096: all 100 records over UDP" 100 "$(grep -c ' A ' <<<"$AN")"
expect_nomatch "... no TC" ' tc ' " $FL "
SIZE=$(sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\).*/\1/p' <<<"$RAW")
if [[ $SIZE =~ ^[0-9]+$ ]] && [ "$SIZE" -lt 2200 ]; then
	pass "... names compressed ($SIZE bytes for 100 records; uncompressed would be ~5 kB)"
else
	fail "... names compressed" "message size '$SIZE'"
fi
dq $BIG A
expect_eq "plain dig retries over TCP by itself: 100 records" 100 "$(grep -c ' A ' <<<"$AN")"
dq plain.default.svc.cluster.local A
expect_match "the answer to an EDNS0 query carries OPT (version 0, udp 1232)" '^version: 0, flags:.*; udp: 1232$' "$EDNS"
dq plain.default.svc.cluster.local A +noedns
expect_nomatch "no OPT in the answer to a query without EDNS0" 'OPT PSEUDOSECTION' "$RAW"
expect_eq "... still answered" "plain.default.svc.cluster.local. A 10.96.53.10" "$AN"
dq plain.default.svc.cluster.local A +edns=1 +noednsneg
expect_eq "EDNS version 1: BADVERS" BADVERS "$ST"
dq plain.default.svc.cluster.local A +dnssec
expect_eq "DO bit set: still answered" "plain.default.svc.cluster.local. A 10.96.53.10" "$AN"
expect_match "... DO echoed in the OPT" '^version: 0, flags: do;' "$EDNS"
dq plain.default.svc.cluster.local A +norec
if flag aa && flag ra && ! flag rd && flag qr; then pass "flags: qr aa ra, rd not set when not asked"
else fail "flags: qr aa ra, rd not set when not asked" "flags: $FL"; fi
dq plain.default.svc.cluster.local A +rec
if flag rd; then pass "rd copied from the query"; else fail "rd copied from the query" "flags: $FL"; fi

# ---- ANY, other types and classes
dq plain.default.svc.cluster.local ANY
if [ "$ST" = NOERROR ] && [ -n "$AN" ] && [ "$(wc -l <<<"$AN")" -le 5 ]; then
	pass "ANY: answered conservatively (NOERROR, a few records)"
else
	fail "ANY: answered conservatively (NOERROR, a few records)"
	lk_diag dig "$RAW"
fi
dq nosuch.default.svc.cluster.local ANY
expect_eq "ANY on a name that does not exist: NXDOMAIN" NXDOMAIN "$ST"
dq plain.default.svc.cluster.local MX
if [ "$ST" = NOERROR ] && [ -z "$AN" ]; then pass "MX of a service: NODATA"; else fail "MX of a service: NODATA" "status $ST"; lk_diag dig "$RAW"; fi
dq plain.default.svc.cluster.local TYPE65400
if [ "$ST" = NOERROR ] && [ -z "$AN" ]; then pass "unknown type: NODATA"; else fail "unknown type: NODATA" "status $ST"; fi
dq version.bind TXT -c CH
expect_match "class CH gets an answer, not silence" '^(NOERROR|REFUSED|NOTIMP|NXDOMAIN|SERVFAIL)$' "$ST"

# ---- CNAME loops between ExternalName services, case of the question
M=$(lk_manifest loops.yaml <<'Y'
apiVersion: v1
kind: Service
metadata: {name: loop-a}
spec: {type: ExternalName, externalName: loop-b.default.svc.cluster.local}
---
apiVersion: v1
kind: Service
metadata: {name: loop-b}
spec: {type: ExternalName, externalName: loop-a.default.svc.cluster.local}
---
apiVersion: v1
kind: Service
metadata: {name: self}
spec: {type: ExternalName, externalName: self.default.svc.cluster.local}
Y
)
expect_ok "ExternalName services in a loop (a -> b -> a, self -> self)" kc apply -f "$M"
loop_ok() { dq loop-a.default.svc.cluster.local CNAME; [ -n "$AN" ]; }
lk_wait_for 10 loop_ok
for n in loop-a self; do
	for t in "" +tcp; do
		dq $n.default.svc.cluster.local A $t
		if [[ $ST =~ ^(NOERROR|SERVFAIL)$ ]] && grep -q " CNAME " <<<"$AN" && [ -z "$(uniq -d <<<"$AN")" ]; then
			pass "CNAME loop ($n${t:+ over TCP}): answered, no record repeated (RFC 2181 5)"
		else
			fail "CNAME loop ($n${t:+ over TCP}): answered, no record repeated (RFC 2181 5)" "status $ST"
			lk_diag dig "$RAW"
		fi
	done
done
expect_alive "the server answers after the loops"
run lk_nsexec dig @$S +time=3 +tries=1 +noall +question +answer Plain.DEFAULT.svc.Cluster.Local A
expect_match "the question is echoed in the case it was asked" '^;Plain\.DEFAULT\.svc\.Cluster\.Local\.[[:space:]]+IN[[:space:]]+A$' "$OUT"
expect_match "... and the answer's owner name follows it" '^Plain\.DEFAULT\.svc\.Cluster\.Local\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.96\.53\.10$' "$OUT"
dq cluster.local NS
NSN=$(awk '$2 == "NS" {print $3}' <<<"$AN")
if [ "$ST" = NOERROR ] && [[ $NSN =~ ^[a-z0-9.-]+\.$ ]] && [ "$(wc -l <<<"$NSN")" = 1 ]; then
	pass "the zone has one NS record ($NSN)"
else
	fail "the zone has one NS record" "status $ST"; lk_diag dig "$RAW"
	NSN=
fi
if [ -n "$NSN" ]; then dq "$NSN" A; else ST='' AN='' RAW='(no NS name to ask)'; fi
if [ "$ST" = NOERROR ] && [ "$AN" = "$NSN A 10.96.0.10" ]; then
	pass "the zone's NS ($NSN) has the kube-dns address"
else
	fail "the zone's NS has the kube-dns address" "status $ST"; lk_diag dig "$RAW"
fi

# ---- raw packets (python, in the node namespace)
cat >"$LK_TMP/raw.py" <<'PY'
import socket, struct, sys

SRV = sys.argv[1]
CASE = sys.argv[2]

def name(n):
    out = b""
    for label in n.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"

def question(n, t=1, c=1):
    return name(n) + struct.pack(">HH", t, c)

def header(id_, flags, qd, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)

GOOD = "kubernetes.default.svc.cluster.local"

def summary(resp):
    if resp is None:
        return "none"
    if len(resp) < 12:
        return "short(%d)" % len(resp)
    id_, fl, qd, an, ns, ar = struct.unpack(">HHHHHH", resp[:12])
    return "id=%d qr=%d opcode=%d rcode=%d tc=%d qd=%d an=%d" % (
        id_, fl >> 15, (fl >> 11) & 15, fl & 15, (fl >> 9) & 1, qd, an)

def udp(pkt, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(pkt, (SRV, 53))
    try:
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b

def tcp_msgs(data, count, timeout=2.0):
    """Send data on one connection, read up to count framed answers."""
    s = socket.create_connection((SRV, 53), timeout=timeout)
    s.sendall(data)
    out = []
    try:
        for _ in range(count):
            l = recv_exact(s, 2)
            if l is None:
                break
            m = recv_exact(s, struct.unpack(">H", l)[0])
            if m is None:
                break
            out.append(m)
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out

def frame(pkt):
    return struct.pack(">H", len(pkt)) + pkt

q_good = header(7, 0x0100, 1) + question(GOOD)
cases = {
    "two-questions": header(101, 0x0100, 2) + question(GOOD) + question(GOOD),
    "no-question": header(102, 0x0100, 0),
    "opcode-status": header(103, 0x0100 | (2 << 11), 1) + question(GOOD),
    "opcode-notify": header(104, 0x0000 | (4 << 11), 1) + question(GOOD),
    "opcode-update": header(105, 0x0000 | (5 << 11), 1) + question(GOOD),
    "response-packet": header(106, 0x8180, 1) + question(GOOD),
    "short-5-bytes": b"\x00\x6b\x01\x00\x00",
    "header-only-qd1": header(108, 0x0100, 1),
    "label-64": header(109, 0x0100, 1) + b"\x40" + b"a" * 64 + b"\0" + struct.pack(">HH", 1, 1),
    "name-too-long": header(110, 0x0100, 1) + (b"\x3f" + b"a" * 63) * 5 + b"\0" + struct.pack(">HH", 1, 1),
    "pointer-loop": header(111, 0x0100, 1) + b"\xc0\x0c" + struct.pack(">HH", 1, 1),
    "pointer-forward": header(112, 0x0100, 1) + b"\xc0\xff" + struct.pack(">HH", 1, 1),
    "truncated-question": header(113, 0x0100, 1) + question(GOOD)[:-3],
    "counts-beyond": header(114, 0x0100, 1, 5, 5, 5) + question(GOOD),
    "bad-opt": header(115, 0x0100, 1, 0, 0, 1) + question(GOOD) + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\xff\xff",
    "two-opts": header(116, 0x0100, 1, 0, 0, 2) + question(GOOD) + (b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00") * 2,
    "reserved-label-type": header(117, 0x0100, 1) + b"\x80abc\0" + struct.pack(">HH", 1, 1),
}

if CASE == "list":
    print(" ".join(cases))
elif CASE in cases:
    print(summary(udp(cases[CASE])))
elif CASE == "random":
    import random
    random.seed(5)
    for i in range(300):
        n = random.randrange(0, 600)
        pkt = bytes(random.randrange(256) for _ in range(n))
        if i % 3 == 0 and n > 12:   # keep a plausible header
            pkt = header(i, 0x0100, 1) + pkt[12:]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(pkt, (SRV, 53))
        s.close()
    print("sent 300")
elif CASE == "mutate":
    # every single-byte corruption of a good query: each reply (if any) is
    # a response (qr set) to that packet's id
    import random
    random.seed(6)
    bad = []
    for i in range(len(q_good)):
        for v in (0x00, 0xff, 0xc0, random.randrange(256)):
            pkt = bytearray(q_good)
            pkt[i] = v
            r = udp(bytes(pkt), 0.2)
            if r is None:
                continue
            if len(r) < 12 or r[:2] != bytes(pkt[:2]) or not r[2] & 0x80:
                bad.append("%d=%d:%s" % (i, v, summary(r)))
    print("bad " + " ".join(bad) if bad else "ok")
elif CASE == "tcp-pipeline":
    a = header(201, 0x0100, 1) + question(GOOD)
    b = header(202, 0x0100, 1) + question("plain.default.svc.cluster.local")
    out = tcp_msgs(frame(a) + frame(b), 2)
    print(" | ".join(summary(m) for m in out))
elif CASE == "tcp-axfr":
    out = tcp_msgs(frame(header(301, 0x0000, 1) + question("cluster.local", 252)), 1)
    print(summary(out[0]) if out else "none")
elif CASE == "tcp-split":
    # the length prefix and the message in separate writes, byte by byte
    import time
    s = socket.create_connection((SRV, 53), timeout=2)
    for ch in frame(q_good):
        s.send(bytes([ch]))
        time.sleep(0.002)
    l = recv_exact(s, 2)
    print(summary(recv_exact(s, struct.unpack(">H", l)[0]) if l else None))
    s.close()
elif CASE == "tcp-junk":
    # junk on TCP: zero length, huge length then close, short message, random
    res = []
    for data in (b"\x00\x00", b"\xff\xff" + b"x" * 100, frame(b"\x01\x02\x03"), frame(bytes(range(200))),
                 frame(cases["two-questions"]), frame(cases["pointer-loop"])):
        try:
            out = tcp_msgs(data, 1, 1.0)
            res.append(summary(out[0]) if out else "none")
        except OSError as e:
            res.append("error:" + type(e).__name__)
    print(" | ".join(res))
elif CASE == "tcp-idle":
    # many idle connections, and one stuck after a partial length prefix
    conns = [socket.create_connection((SRV, 53), timeout=2) for _ in range(40)]
    conns[0].send(b"\x00")
    conns[1].send(frame(q_good)[:10])
    r1 = summary(udp(q_good))
    out = tcp_msgs(frame(q_good), 1)
    r2 = summary(out[0]) if out else "none"
    for c in conns:
        c.close()
    print("udp " + r1 + " | tcp " + r2)
PY
raw() { run lk_nsexec timeout 60 "$LK_PY" "$LK_TMP/raw.py" "$S" "$@"; }

raw two-questions
expect_match "two questions: FORMERR (id echoed, qr set)" '^id=101 qr=1 opcode=0 rcode=1 ' "$OUT"
raw no-question
expect_match "no question: FORMERR" '^id=102 qr=1 opcode=0 rcode=1 ' "$OUT"
raw opcode-status
expect_match "opcode STATUS: NOTIMP, opcode echoed" '^id=103 qr=1 opcode=2 rcode=4 ' "$OUT"
raw opcode-notify
expect_match "opcode NOTIFY: NOTIMP" '^id=104 qr=1 opcode=4 rcode=4 ' "$OUT"
raw opcode-update
expect_match "opcode UPDATE: NOTIMP" '^id=105 qr=1 opcode=5 rcode=4 ' "$OUT"
raw response-packet
expect_eq "a response packet (qr set) is never answered" none "$OUT"
for c in short-5-bytes header-only-qd1 label-64 name-too-long pointer-loop pointer-forward \
	truncated-question counts-beyond bad-opt two-opts reserved-label-type; do
	raw "$c"
	expect_match "malformed ($c): FORMERR or dropped" '^(none|id=[0-9]+ qr=1 opcode=0 rcode=1 .*)$' "$OUT"
done
expect_alive "a normal query answers after the malformed packets"
raw random
expect_eq "300 random packets sent" "sent 300" "$OUT"
expect_alive "... and the server still answers"
raw mutate
expect_eq "every 1-byte corruption of a query: any reply is a response with its id" ok "$OUT"
expect_alive "... and the server still answers"
raw tcp-pipeline
expect_match "TCP: two pipelined queries on one connection, both answered" \
	'^id=201 qr=1 opcode=0 rcode=0 tc=0 qd=1 an=1 \| id=202 qr=1 opcode=0 rcode=0 tc=0 qd=1 an=1$' "$OUT"
raw tcp-split
expect_match "TCP: a query written byte by byte is answered" '^id=7 qr=1 opcode=0 rcode=0 tc=0 qd=1 an=1$' "$OUT"
raw tcp-axfr
expect_match "AXFR of the zone over TCP: REFUSED" '^id=301 qr=1 opcode=0 rcode=5 ' "$OUT"
raw tcp-junk
expect_match "TCP junk: FORMERR, or the connection closed" \
	'^((none|error:[A-Za-z]+|id=[0-9]+ qr=1 opcode=0 rcode=1 [^|]*)( \| |$)){6}$' "$OUT"
expect_match "... two questions over TCP: FORMERR" '\| id=101 qr=1 opcode=0 rcode=1 ' "$OUT"
raw tcp-idle
expect_match "40 idle TCP connections (one mid-message) do not stall UDP or TCP" \
	'^udp id=7 qr=1 opcode=0 rcode=0 tc=0 qd=1 an=1 \| tcp id=7 qr=1 opcode=0 rcode=0 tc=0 qd=1 an=1$' "$OUT"
# more idle TCP connections than the server keeps (256): the least recently
# active idle ones make room, so a new client is still answered
timeout -k 5 60 ip netns exec "$LK_NS" "$LK_PY" -c '
import socket, sys, time
conns = [socket.create_connection(("10.96.0.10", 53), timeout=10) for _ in range(300)]
open(sys.argv[1], "w").write("open %d\n" % len(conns))
time.sleep(50)
' "$LK_TMP/idle.open" >/dev/null 2>"$LK_TMP/idle.err" </dev/null &
LK_BG_PIDS+=("$!")
IDLE_PID=$!
if lk_wait_file "$LK_TMP/idle.open" '^open 300$' 30; then pass "300 idle TCP connections opened"
else fail "300 idle TCP connections opened" "$(cat "$LK_TMP/idle.err")"; fi
dq kubernetes.default.svc.cluster.local A +tcp
expect_eq "300 idle TCP connections open: a new TCP client is answered" \
	"kubernetes.default.svc.cluster.local. A 10.96.0.1" "$AN"
lk_kill "$IDLE_PID"
expect_alive "the server answers after all of it"
# 250 characters, 252 bytes on the wire (at most 255: dig refuses longer)
dq "$(printf 'a%.0s' $(seq 63)).$(printf 'b%.0s' $(seq 63)).$(printf 'c%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 44)).cluster.local" A
if [ "$ST" = NXDOMAIN ] && [ -z "$AN" ]; then pass "a 250-character name in the zone: NXDOMAIN"
else fail "a 250-character name in the zone: NXDOMAIN" "status $ST"; lk_diag dig "$RAW"; fi
dq 'my\.svc.default.svc.cluster.local' A
expect_eq "a label with an escaped dot: NXDOMAIN" NXDOMAIN "$ST"
run curl_api /readyz
expect_eq "/readyz is ok" ok "$OUT"

# ---- flags: --dns-listen, --cluster-domain, --dns-ttl
lk_server_stop
expect_eq "server stops cleanly" 0 "$LK_STOP_RC"
lk_server_start --dns-upstream=127.0.0.1:9 --dns-listen=127.0.0.1:5353,192.0.2.1:5354 \
	--cluster-domain=lab.example --dns-ttl=17
dom_ok() { dq kubernetes.default.svc.lab.example A; [ "$AN" = "kubernetes.default.svc.lab.example. A 10.96.0.1" ]; }
wait_ok "--cluster-domain=lab.example: kubernetes.default.svc.lab.example" 15 dom_ok
TTL=$(awk '/^;; ANSWER SECTION:/{getline; print $2}' <<<"$RAW")
expect_eq "--dns-ttl=17: the TTL" 17 "$TTL"
dq dns-version.lab.example TXT
expect_eq "dns-version in the new zone" 'dns-version.lab.example. TXT "1.1.0"' "$AN"
dq kubernetes.default.svc.cluster.local A
if [ "$ST" = SERVFAIL ] && [ -z "$AN" ]; then pass "cluster.local is no longer ours (forwarded: the refusing upstream gives SERVFAIL)"
else fail "cluster.local is no longer ours (forwarded: the refusing upstream gives SERVFAIL)" "status $ST"; lk_diag dig "$RAW"; fi
dq @127.0.0.1 kubernetes.default.svc.lab.example A -p 5353
expect_eq "--dns-listen 127.0.0.1:5353 (UDP)" "kubernetes.default.svc.lab.example. A 10.96.0.1" "$AN"
dq @127.0.0.1 kubernetes.default.svc.lab.example A -p 5353 +tcp
expect_eq "--dns-listen 127.0.0.1:5353 (TCP)" "kubernetes.default.svc.lab.example. A 10.96.0.1" "$AN"
run lk_out dig @192.0.2.1 -p 5354 +time=3 +tries=1 +short kubernetes.default.svc.lab.example A
expect_eq "--dns-listen 192.0.2.1:5354: answers the outside namespace" 10.96.0.1 "$OUT"
dq @10.244.0.1 plain.default.svc.lab.example A +tcp
expect_eq "the bridge address still serves (TCP), objects kept across the restart" \
	"plain.default.svc.lab.example. A 10.96.53.10" "$AN"
lk_done
