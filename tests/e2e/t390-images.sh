#!/usr/bin/env bash
# t390: the built-in images (images/images.h), each run directly as
# the node agent runs it (`labkube _image REF ARGS...`) on loopback inside a
# network namespace of this test's own, with a UTS namespace whose hostname
# plays the pod name and a mount namespace for the "volumes". Asserts what a
# client of the real image sees: bodies, status codes, headers, access logs,
# the UDP answers of netexec and serve-hostname, and exit codes on SIGTERM.
# No cluster is started; nothing leaves the namespace.
. "$(dirname "$0")/lib.sh"
if lk_fake; then
	lk_plan 1
	skip "built-in images" "the fake server has no images"
	exit 0
fi
lk_plan 145
[ "$(id -u)" -eq 0 ] || lk_bail "e2e tests need root (network namespaces)"
[ -x "${LABKUBE:-}" ] || lk_bail "LABKUBE is not an executable: '${LABKUBE:-}'"

# lib.sh's cleanup deletes $LK_NS and reports anything left running in it.
ip netns add "$LK_NS" || lk_bail "cannot create netns $LK_NS"
LK_NETNS_UP=1
ip -n "$LK_NS" link set lo up
POD=lkt-img-pod
IMG_PID= IMG_RC= IMG_SETUP=:

# img_start NAME ARGS...: `labkube _image ARGS` in the pod namespaces, its
# output in $LK_TMP/NAME.out and .err; IMG_SETUP runs first (mounts).
img_start() {
	local name=$1; shift
	ip netns exec "$LK_NS" unshare --uts --mount sh -c \
		"hostname $POD && $IMG_SETUP && exec \"\$@\"" sh "$LABKUBE" _image "$@" \
		>"$LK_TMP/$name.out" 2>"$LK_TMP/$name.err" </dev/null &
	IMG_PID=$!
	IMG_SETUP=:
}
# img_stop [SIGNAL]: signal the image (TERM), wait up to 5 s; IMG_RC.
img_stop() {
	local i
	kill "-${1:-TERM}" "$IMG_PID" 2>/dev/null
	for i in $(seq 50); do kill -0 "$IMG_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$IMG_PID" 2>/dev/null && kill -KILL "$IMG_PID"
	wait "$IMG_PID" 2>/dev/null
	IMG_RC=$?
}
img_wait_exit() { # img_wait_exit SECONDS: the image exits by itself; IMG_RC
	local i
	for i in $(seq $(($1 * 10))); do kill -0 "$IMG_PID" 2>/dev/null || break; sleep 0.1; done
	img_stop KILL
}
nsc() { timeout -k 2 15 ip netns exec "$LK_NS" curl -sS --max-time 10 "$@"; }
port_up() { nsc -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; }
wait_port() { # wait_port PORT DESC NAME: a check, the image serves HTTP on PORT within 5 s
	if lk_wait_for 5 port_up "$1"; then pass "$2: serves on :$1 within 5 s"; return 0; fi
	fail "$2: serves on :$1 within 5 s" "stderr: $(tail -n 5 "$LK_TMP/$3.err" 2>/dev/null)"
	return 1
}
# udp PORT MESSAGE [TIMEOUT]: one datagram to 127.0.0.1:PORT, the answer.
udp() {
	ip netns exec "$LK_NS" "$LK_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
try:
    print(s.recv(4096).decode(), end="")
except socket.timeout:
    print("<timeout>", end="")
' "$1" "$2" "${3:-3}"
}
tcp_read() { # tcp_read PORT: what a raw TCP server writes before closing
	ip netns exec "$LK_NS" "$LK_PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
print(s.recv(4096).decode(), end="")' "$1"
}
# udp_after PORT FIRST SECOND: send FIRST, then SECOND, on one socket; print
# the first answer. FIRST is ignored when SECOND's answer comes first (the
# server reads datagrams in order): a positive marker, no fixed wait.
udp_after() {
	ip netns exec "$LK_NS" "$LK_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for m in sys.argv[2:4]:
    s.sendto(m.encode(), ("127.0.0.1", int(sys.argv[1])))
try:
    print(s.recv(4096).decode(), end="")
except socket.timeout:
    print("<timeout>", end="")
' "$1" "$2" "$3"
}
udp_answers() { [ "$(udp "$1" "$2" 1 2>/dev/null)" = "$3" ]; } # udp_answers PORT MSG WANT
hdr() { grep -i "^$1:" <<<"$2" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
stopped_ok() { # stopped_ok DESC [WANT_RC]: after img_stop
	expect_eq "$1" "${2:-0}" "$IMG_RC"
}

# ---------------------------------------------------------------- the catalog
run "$LABKUBE" images
expect_eq "labkube images exits 0" 0 "$RC"
expect_match "labkube images has the table header" '^NAME +MATCHES +DESCRIPTION' "$OUT"
for n in node-hello kubia k8sbook nginx httpd http-echo agnhost pause busybox \
	alpine debian ubuntu curl jessie-dnsutils dnsutils; do
	expect_match "labkube images lists $n" "^$n " "$OUT"
done
run "$LABKUBE" _image no-such-image
expect_eq "_image of an image not in the catalog exits 127" 127 "$RC"
expect_match "... and names the built-in images" 'node-hello.*agnhost' "$ERR"

# ---------------------------------------------------------------- node-hello
img_start nodehello gcr.io/google-samples/node-hello:1.0
wait_port 8080 node-hello nodehello
expect_eq "node-hello answers Hello Kubernetes!" "Hello Kubernetes!" \
	"$(nsc http://127.0.0.1:8080/)"
run nsc -s -o /dev/null -w '%{num_connects}\n' http://127.0.0.1:8080/a \
	-o /dev/null http://127.0.0.1:8080/b
expect_eq "node-hello keeps the connection alive (2 requests, 1 connect)" \
	"$(printf '1\n0')" "$OUT"
run nsc -sI http://127.0.0.1:8080/
expect_match "node-hello answers HEAD with 200" '^HTTP/1.1 200' "$OUT"
run nsc -s --http1.0 http://127.0.0.1:8080/
expect_eq "node-hello answers HTTP/1.0 clients" "Hello Kubernetes!" "$OUT"
# Ten clients at once, each with a few keep-alive requests.
pids=()
for i in $(seq 10); do
	nsc -s "http://127.0.0.1:8080/$i" "http://127.0.0.1:8080/$i" \
		"http://127.0.0.1:8080/$i" >"$LK_TMP/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
all=$(cat "$LK_TMP"/par.* | grep -o 'Hello Kubernetes!' | wc -l)
expect_eq "node-hello serves 10 concurrent clients (30 answers)" 30 "$all"
img_stop TERM
stopped_ok "node-hello exits 0 on SIGTERM"

# ---------------------------------------------------------------- hello-app
img_start helloapp gcr.io/google-samples/hello-app:2.0
wait_port 8080 hello-app helloapp
expect_eq "hello-app:2.0 answers its version and the pod name" \
	"$(printf 'Hello, world!\nVersion: 2.0.0\nHostname: %s' "$POD")" \
	"$(nsc http://127.0.0.1:8080/)"
img_stop TERM
stopped_ok "hello-app exits 0 on SIGTERM"
expect_match "hello-app logs Go-style lines" '^[0-9/]{10} [0-9:]{8} Serving request: /$' \
	"$(cat "$LK_TMP/helloapp.err")"

# ---------------------------------------------------------------- kubia
img_start kubia docker.io/luksa/kubia:latest
wait_port 8080 kubia kubia
expect_eq "kubia answers You've hit POD" "You've hit $POD" "$(nsc http://127.0.0.1:8080/)"
img_stop TERM
stopped_ok "kubia exits 0 on SIGTERM"
expect_line "kubia logs its start" "Kubia server starting..." "$(cat "$LK_TMP/kubia.out")"
expect_match "kubia logs each request as Node shows it" \
	'^Received request from ::ffff:127\.0\.0\.1$' "$(cat "$LK_TMP/kubia.out")"

img_start kubia3 luksa/kubia:v3
wait_port 8080 kubia:v3 kubia3   # wait_port spent request 1
codes=$(for i in 2 3 4 5; do nsc -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:8080/; done)
expect_eq "kubia:v3 fails from its 5th request on" "200 200 200 500 " "$codes"
img_stop TERM

img_start unhealthy luksa/kubia-unhealthy
wait_port 8080 kubia-unhealthy unhealthy
codes=$(for i in 2 3 4 5 6; do nsc -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:8080/; done)
expect_eq "kubia-unhealthy fails after its 5th request" "200 200 200 200 500 " "$codes"
expect_eq "kubia-unhealthy says so" "I'm not well. Please restart me!" \
	"$(nsc http://127.0.0.1:8080/)"
img_stop TERM

# ---------------------------------------------------------------- k8sbook
img_start k8sbook nigelpoulton/k8sbook:1.0
wait_port 8080 k8sbook k8sbook
run nsc -si http://127.0.0.1:8080/
expect_match "k8sbook serves its HTML page" '<h1[^>]*>Kubernetes rocks!</h1>' "$OUT"
expect_eq "k8sbook's page is text/html" "text/html; charset=utf-8" "$(hdr Content-Type "$OUT")"
expect_match "k8sbook answers other paths with Express's 404" \
	'Cannot GET /nope' "$(nsc http://127.0.0.1:8080/nope)"
img_stop TERM
stopped_ok "k8sbook exits 0 on SIGTERM"

# ---------------------------------------------------------------- http-echo
img_start echo hashicorp/http-echo:1.0 -text=hello world
img_wait_exit 3
expect_eq "http-echo refuses extra arguments (exit 127)" 127 "$IMG_RC"
img_start echo hashicorp/http-echo
img_wait_exit 3
expect_eq "http-echo without -text exits 127" 127 "$IMG_RC"
expect_match "... saying why" 'Missing -text option' "$(cat "$LK_TMP/echo.err")"
img_start echo hashicorp/http-echo -listen=:5678 "-text=hello world"
wait_port 5678 http-echo echo
run nsc -si http://127.0.0.1:5678/any/path
expect_match "http-echo answers its text and a newline" '^hello world\r?$' "$OUT"
expect_eq "http-echo names itself" "http-echo" "$(hdr X-App-Name "$OUT")"
expect_eq "http-echo /health" '{"status":"ok"}' "$(nsc http://127.0.0.1:5678/health)"
img_stop TERM
stopped_ok "http-echo exits 0 on SIGTERM"
expect_match "http-echo logs each request on stdout" \
	'^[0-9/]{10} [0-9:]{8} 127\.0\.0\.1:5678 127\.0\.0\.1:[0-9]+ "GET /any/path HTTP/1\.1" 200 12 "curl/' \
	"$(cat "$LK_TMP/echo.out")"
img_start echo2 hashicorp/http-echo -text=second -listen=127.0.0.1:8088 -status-code=202
wait_port 8088 "http-echo -listen" echo2
expect_eq "http-echo -listen and -status-code" "202 second" \
	"$(nsc -s -w '%{http_code} ' -o /dev/null http://127.0.0.1:8088/; nsc http://127.0.0.1:8088/)"
img_stop INT
stopped_ok "http-echo exits 2 on SIGINT, as upstream" 2

# ---------------------------------------------------------------- nginx
# A tmpfs over /usr/share: the pod has no html directory of its own.
IMG_SETUP='mount -t tmpfs tmpfs /usr/share'
img_start nginx nginx
wait_port 80 nginx nginx
run nsc -si http://127.0.0.1/
expect_match "nginx serves its welcome page" '<h1>Welcome to nginx!</h1>' "$OUT"
expect_eq "nginx says Server: nginx/1.27.0" "nginx/1.27.0" "$(hdr Server "$OUT")"
expect_eq "nginx's welcome page is 615 bytes" 615 "$(hdr Content-Length "$OUT")"
run nsc -si http://127.0.0.1/missing.html
expect_match "nginx answers 404 with its error page" '^HTTP/1.1 404 Not Found' "$OUT"
expect_match "... naming its version" '<hr><center>nginx/1.27.0</center>' "$OUT"
run nsc -si -X POST http://127.0.0.1/
expect_match "nginx refuses POST on a static page (405)" '^HTTP/1.1 405 Not Allowed' "$OUT"
img_stop QUIT
stopped_ok "nginx exits 0 on SIGQUIT (its STOPSIGNAL)"
expect_match "nginx logs access lines on stdout (main format)" \
	'^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "GET / HTTP/1\.1" 200 615 "-" "curl/[^"]*" "-"$' \
	"$(cat "$LK_TMP/nginx.out")"
expect_line "nginx's entrypoint prints its start-up lines" \
	"/docker-entrypoint.sh: Configuration complete; ready for start up" "$(cat "$LK_TMP/nginx.out")"
expect_match "nginx notices on stderr" '\[notice\] [0-9]+#[0-9]+: start worker processes' \
	"$(cat "$LK_TMP/nginx.err")"

# A "volume" at /usr/share/nginx/html, as a ConfigMap or emptyDir would be.
IMG_SETUP='mount -t tmpfs tmpfs /usr/share && mkdir -p /usr/share/nginx/html/sub && echo "from a volume" >/usr/share/nginx/html/index.html'
img_start nginx2 nginx:1.25.3-alpine
wait_port 80 "nginx with a volume" nginx2
run nsc -si http://127.0.0.1/
expect_match "nginx serves index.html from /usr/share/nginx/html" '^from a volume' "$OUT"
expect_eq "nginx:1.25.3-alpine says nginx/1.25.3" "nginx/1.25.3" "$(hdr Server "$OUT")"
run nsc -si http://127.0.0.1/sub
expect_match "nginx redirects a directory to dir/ (301)" '^HTTP/1.1 301' "$OUT"
run nsc -si http://127.0.0.1/sub/
expect_match "nginx forbids a directory without index.html (403)" '^HTTP/1.1 403' "$OUT"
run nsc -si 'http://127.0.0.1/../../etc/passwd' --path-as-is
expect_nomatch "nginx does not serve files outside its root" 'root:' "$OUT"
img_stop TERM
stopped_ok "nginx exits 0 on SIGTERM"

# ---------------------------------------------------------------- httpd
IMG_SETUP='mount -t tmpfs tmpfs /usr/local'
img_start httpd httpd:2.4
wait_port 80 httpd httpd
run nsc -si http://127.0.0.1/
expect_match "httpd says It works!" '^<html><body><h1>It works!</h1></body></html>' "$OUT"
expect_eq "httpd says Server: Apache/2.4.0 (Unix) for the tag 2.4" "Apache/2.4.0 (Unix)" \
	"$(hdr Server "$OUT")"
run nsc -si http://127.0.0.1/nope
expect_match "httpd answers 404 with Apache's page" '<h1>Not Found</h1>' "$OUT"
img_stop WINCH
stopped_ok "httpd exits 0 on SIGWINCH (its STOPSIGNAL)"
expect_match "httpd logs access lines on stdout (common format)" \
	'^127\.0\.0\.1 - - \[[^]]+\] "GET / HTTP/1\.1" 200 45$' "$(cat "$LK_TMP/httpd.out")"
expect_match "httpd's error log says it resumed normal operations" \
	'AH00489: Apache/2.4.0 \(Unix\) configured -- resuming normal operations' \
	"$(cat "$LK_TMP/httpd.err")"

# ---------------------------------------------------------------- pause
img_start pause registry.k8s.io/pause:3.9
sleep 0.3
img_stop TERM
stopped_ok "pause exits 0 on SIGTERM"
expect_match "pause says why it stops" 'Shutting down, got signal: Terminated' \
	"$(cat "$LK_TMP/pause.err")"
run "$LABKUBE" _image registry.k8s.io/pause:3.9 /pause -v
expect_eq "pause -v prints its version" "pause.c v3.9" "$OUT"

# ---------------------------------------------------------------- agnhost netexec
AG=registry.k8s.io/e2e-test-images/agnhost:2.53
img_start netexec "$AG" netexec --http-port=8080 --udp-port 8081
wait_port 8080 netexec netexec
B=http://127.0.0.1:8080
expect_eq "netexec /hostname" "$POD" "$(nsc $B/hostname)"
expect_eq "netexec /hostName" "$POD" "$(nsc $B/hostName)"
expect_eq "netexec /echo?msg=" "hello there" "$(nsc "$B/echo?msg=hello%20there")"
expect_eq "netexec /echo?code=" "418" "$(nsc -s -o /dev/null -w '%{http_code}' "$B/echo?msg=x&code=418")"
expect_match "netexec /clientip" '^127\.0\.0\.1:[0-9]+$' "$(nsc $B/clientip)"
expect_eq "netexec /healthz" "200" "$(nsc -s -o /dev/null -w '%{http_code}' $B/healthz)"
expect_eq "netexec /readyz" "ok" "$(nsc $B/readyz)"
expect_match "netexec / answers NOW: <time>" '^NOW: [0-9]{4}-[0-9]{2}-[0-9]{2} ' "$(nsc $B/)"
expect_eq "netexec /header?key=" "v1" "$(nsc -H 'X-Lkt: v1' "$B/header?key=X-Lkt")"
expect_eq "netexec /shell?cmd=" '{"output":"hi\n"}' "$(nsc "$B/shell?cmd=echo%20hi")"
expect_eq "netexec /shell reports a failing command" \
	'{"error":"exit status 3","output":"no\n"}' "$(nsc "$B/shell?cmd=echo%20no;exit%203")"
expect_eq "netexec /dial over HTTP" "{\"responses\":[\"$POD\",\"$POD\"]}" \
	"$(nsc "$B/dial?request=hostname&protocol=http&host=127.0.0.1&port=8080&tries=2")"
expect_eq "netexec /dial over UDP" "{\"responses\":[\"$POD\"]}" \
	"$(nsc "$B/dial?request=hostname&protocol=udp&host=127.0.0.1&port=8081&tries=1")"
expect_match "netexec /dial reports a refused connection" \
	'^\{"errors":\["Get \\"http://127.0.0.1:1/hostname\\": dial tcp 127.0.0.1:1: connect: connection refused"\]\}$' \
	"$(nsc "$B/dial?request=hostname&protocol=http&host=127.0.0.1&port=1&tries=1")"
expect_eq "netexec /dial without request is a 400" 400 \
	"$(nsc -s -o /dev/null -w '%{http_code}' "$B/dial?host=127.0.0.1&port=8080")"
expect_eq "netexec /redirect" "307 /echo?msg=x" \
	"$(nsc -s -o /dev/null -w '%{http_code} %{redirect_url}' "$B/redirect?location=/echo%3Fmsg=x&code=307" | sed 's|http://127.0.0.1:8080||')"
# A slow /shell runs beside the server: /hostname still answers at once.
nsc "$B/shell?cmd=sleep%202" >/dev/null &
SLOW=$!
sleep 0.2
t0=$(date +%s%N)
nsc $B/hostname >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
wait "$SLOW"
expect_gt "netexec answers while a slow /shell runs (< 1000 ms, took $ms)" 1000 "$ms"
expect_eq "netexec UDP hostname" "$POD" "$(udp 8081 hostname)"
expect_eq "netexec UDP echo" "udp works" "$(udp 8081 'echo udp works')"
expect_match "netexec UDP clientip" '^127\.0\.0\.1:[0-9]+$' "$(udp 8081 clientip)"
expect_eq "netexec UDP ignores unknown commands (the next datagram's answer comes first)" \
	"$POD" "$(udp_after 8081 bogus hostname)"
img_stop TERM
stopped_ok "netexec exits 0 on SIGTERM"
expect_match "netexec logs like upstream" 'Started HTTP server on port 8080' "$(cat "$LK_TMP/netexec.err")"

img_start netexec2 "$AG" netexec --http-port=8080 --udp-port=-1 --delay-shutdown=1
wait_port 8080 "netexec --delay-shutdown" netexec2
expect_eq "netexec without UDP: /healthz is 412 as upstream" 412 \
	"$(nsc -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/healthz)"
kill -TERM "$IMG_PID"
sleep 0.3
expect_eq "netexec --delay-shutdown: /readyz is 503 after SIGTERM" "503 shutting down" \
	"$(nsc -s -w '%{http_code} ' -o /dev/null http://127.0.0.1:8080/readyz; nsc http://127.0.0.1:8080/readyz)"
img_wait_exit 3
stopped_ok "netexec --delay-shutdown exits 0 after the delay"

img_start netexec3 "$AG" netexec
wait_port 8080 "netexec /exit" netexec3
run nsc "http://127.0.0.1:8080/exit?code=3&timeout=1s"
img_wait_exit 3
stopped_ok "netexec /exit?code=3 exits 3" 3

# ---------------------------------------------------------------- agnhost serve-hostname
img_start sh "$AG" serve-hostname
wait_port 9376 serve-hostname sh
expect_eq "serve-hostname over HTTP" "$POD" "$(nsc http://127.0.0.1:9376/)"
img_stop TERM
stopped_ok "serve-hostname exits 0 on SIGTERM"
img_start shudp "$AG" serve-hostname --udp --http=false --port 9377
lk_wait_for 5 udp_answers 9377 x "$POD"
expect_eq "serve-hostname --udp answers the hostname" "$POD" "$(udp 9377 x)"
img_stop TERM
img_start shtcp "$AG" serve-hostname --tcp --http=false --port 9378
lk_wait_for 5 tcp_read 9378
expect_eq "serve-hostname --tcp writes the hostname" "$POD" "$(tcp_read 9378)"
img_stop TERM
img_start shbad "$AG" serve-hostname --udp
img_wait_exit 3
expect_eq "serve-hostname refuses --udp with HTTP on (exit 1)" 1 "$IMG_RC"

# ---------------------------------------------------------------- agnhost, the rest
run "$LABKUBE" _image "$AG" entrypoint-tester override arguments
expect_eq "agnhost entrypoint-tester prints its args" "[/agnhost entrypoint-tester override arguments]" "$OUT"
run "$LABKUBE" _image "$AG" /agnhost-2 entrypoint-tester
expect_eq "agnhost entrypoint-tester under agnhost-2" "[/agnhost-2 entrypoint-tester]" "$OUT"
run "$LABKUBE" _image "$AG" no-such-command
expect_eq "agnhost refuses an unknown subcommand (exit 1)" 1 "$RC"
expect_match "... as cobra says it" 'unknown command "no-such-command" for "app"' "$ERR"

img_start agpause "$AG"
sleep 0.3
img_stop TERM
expect_eq "agnhost's default command is pause, exiting 2 on SIGTERM as upstream" 2 "$IMG_RC"
expect_eq "agnhost pause prints Paused" "Paused" "$(cat "$LK_TMP/agpause.out")"

printf 'nameserver 10.96.0.10\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' >"$LK_TMP/resolv.conf"
IMG_SETUP="mount --bind $LK_TMP/resolv.conf /etc/resolv.conf"
img_start dnssuffix "$AG" dns-suffix
img_wait_exit 3
expect_eq "agnhost dns-suffix" "ns1.svc.cluster.local,svc.cluster.local,cluster.local" \
	"$(cat "$LK_TMP/dnssuffix.out")"
IMG_SETUP="mount --bind $LK_TMP/resolv.conf /etc/resolv.conf"
img_start dnsservers "$AG" dns-server-list
img_wait_exit 3
expect_eq "agnhost dns-server-list" "10.96.0.10" "$(cat "$LK_TMP/dnsservers.out")"

IMG_SETUP='export SERVE_PORT_9001=porter-9001 SERVE_PORT_9002=porter-9002'
img_start porter "$AG" porter
wait_port 9001 porter porter
expect_eq "agnhost porter serves SERVE_PORT_9001" "porter-9001" "$(nsc http://127.0.0.1:9001/)"
expect_eq "agnhost porter serves SERVE_PORT_9002" "porter-9002" "$(nsc http://127.0.0.1:9002/)"
img_stop TERM

img_start liveness "$AG" liveness
wait_port 8080 liveness liveness
expect_eq "agnhost liveness is healthy at first" "200 ok" \
	"$(nsc -s -w '%{http_code} ' -o /dev/null http://127.0.0.1:8080/healthz; nsc http://127.0.0.1:8080/healthz)"
expect_match "agnhost liveness /started" '^[0-9.]+(ms|s|µs)$' "$(nsc http://127.0.0.1:8080/started)"
img_stop TERM

echo "served by test-webserver" >"$LK_TMP/tw.txt"
img_start tw "$AG" test-webserver --port 8099
wait_port 8099 test-webserver tw
expect_eq "agnhost test-webserver serves files from /" "served by test-webserver" \
	"$(nsc "http://127.0.0.1:8099$LK_TMP/tw.txt")"
img_stop TERM

img_start netexec4 "$AG" netexec
wait_port 8080 "netexec for connect" netexec4
run ip netns exec "$LK_NS" "$LABKUBE" _image "$AG" connect --timeout=2s 127.0.0.1:8080
expect_eq "agnhost connect to an open port exits 0" 0 "$RC"
run ip netns exec "$LK_NS" "$LABKUBE" _image "$AG" connect --timeout=2s 127.0.0.1:1
expect_eq "agnhost connect to a closed port exits 1 ..." 1 "$RC"
expect_eq "... saying REFUSED" "REFUSED" "$ERR"
run ip netns exec "$LK_NS" "$LABKUBE" _image "$AG" connect --protocol=udp --timeout=2s 127.0.0.1:8081
expect_eq "agnhost connect over UDP to netexec exits 0" 0 "$RC"
img_stop TERM

run "$LABKUBE" _image "$AG" logs-generator --log-lines-total 3 --run-duration 300ms
expect_eq "agnhost logs-generator exits 0" 0 "$RC"
expect_eq "agnhost logs-generator writes 3 klog lines" 3 \
	"$(grep -cE '^I[0-9]{4} [0-9:.]+ +[0-9]+ logs_generator.go:[0-9]+\] [0-2] (GET|POST|PUT) /api/v1/namespaces/[a-z-]+/pods/[a-z0-9]+ [0-9]{3}$' <<<"$ERR")"

run "$LABKUBE" _image "$AG" mounttest --new_file_0644="$LK_TMP/mt" --file_perm="$LK_TMP/mt" --file_mode="$LK_TMP/mt"
expect_eq "agnhost mounttest writes, reads and describes a file" \
	"$(printf 'content of file "%s": mount-tester new file\n\nmode of file "%s": -rw-r--r--\nperms of file "%s": -rw-r--r--' "$LK_TMP/mt" "$LK_TMP/mt" "$LK_TMP/mt")" "$OUT"

lk_done
