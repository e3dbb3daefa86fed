#!/usr/bin/env bash
# t305: `kubectl logs -f` across the log rotation. The shim rotates a
# container's log once it passes 10 MiB (<id>.log -> <id>.log.1). A pod
# (restartPolicy Never) waits for a file in its emptyDir, then writes 100000
# numbered lines of ~110 bytes (~16 MiB in the CRI format: one rotation) and
# exits. A follower started before the first line sees every line once, in
# order, no gap and no duplicate, and ends when the container does; the
# rotation did happen mid-stream; a plain `kubectl logs` afterwards shows
# them all too.
. "$(dirname "$0")/lib.sh"
lk_plan 14
if lk_fake; then
	for i in $(seq 14); do skip "logs rotation ($i)" "the fake server runs no pods"; done
	exit 0
fi
lk_start
DATA=$LK_TMP/data
N=100000

M=$(lk_manifest writer.yaml <<EOF
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  restartPolicy: Never
  volumes: [{name: trigger, emptyDir: {}}]
  containers:
  - name: c
    image: busybox
    volumeMounts: [{name: trigger, mountPath: /trigger}]
    command:
    - sh
    - -c
    - |
      echo waiting
      while [ ! -e /trigger/go ]; do sleep 0.1; done
      pad=\$(printf '%0100d' 0)
      i=0
      while [ \$i -lt $N ]; do printf 'line %06d %s\n' \$i \$pad; i=\$((i + 1)); done
      echo done \$i
EOF
)
expect_ok "create pod writer" kc apply -f "$M"
logged() { kc logs writer 2>/dev/null | grep -Fxq -- "$1"; }
wait_ok "writer runs and waits" 40 logged waiting
UID_=$(kc get pod writer -o jsonpath='{.metadata.uid}')
CID=$(kc get pod writer -o jsonpath='{.status.containerStatuses[0].containerID}')
CID=${CID#labkube://}
LOG=$DATA/pods/$UID_/c/$CID.log

LK_BGTIMEOUT=180 kbg "$LK_TMP/follow.out" "$LK_DEFAULT_V" logs -f writer
FPID=$LK_BGPID
wait_ok "the follower is attached (it shows the first line)" 20 lk_file_has "$LK_TMP/follow.out" '^waiting$'
expect_ok "start the writer" touch "$DATA/pods/$UID_/volumes/trigger/go"
done_() { ! kill -0 "$FPID" 2>/dev/null; }
wait_ok "the follower ends when the container does" 150 done_
wait "$FPID"
expect_eq "the follower exits with code 0" 0 "$?"

expect_ok "the log was rotated (<id>.log.1 exists)" test -s "$LOG.1"
run bash -c "head -n 1 '$LOG' | sed -E 's/^[^ ]+ [^ ]+ [FP] //' | cut -d' ' -f1,2"
expect_match "the rotation came mid-stream (the current log starts at a numbered line)" \
	'^line [0-9]{6}$' "$OUT"
check_lines() { # FILE: waiting, line 000000..N-1 in order, done N; prints what differs
	awk -v n="$N" '
		NR == 1 { if ($0 != "waiting") print "line 1: " $0; next }
		NR == n + 2 { if ($0 != "done " n) print "last: " $0; next }
		{
			want = sprintf("line %06d", NR - 2)
			if (substr($0, 1, 11) != want || length($0) != 112) { print "at " NR ": want " want ", got " substr($0, 1, 40); bad++ }
			if (bad >= 5) exit
		}
		END { if (NR != n + 2) print "lines: " NR " (want " n + 2 ")" }' "$1"
}
expect_eq "follow: every line once, in order, none missing" "" "$(check_lines "$LK_TMP/follow.out")"
run kc get pod writer -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'
expect_eq "the writer exited 0" 0 "$OUT"
LK_KTIMEOUT=90 kc logs writer >"$LK_TMP/plain.out" 2>"$LK_TMP/plain.err"
expect_eq "plain logs after: exit 0, no error" "0 " "$? $(head -c 300 "$LK_TMP/plain.err")"
expect_eq "plain logs after: the same lines" "" "$(check_lines "$LK_TMP/plain.out")"
run kc logs writer --tail=1
expect_eq "--tail=1 after the rotation" "done $N" "$OUT"
lk_server_stop
expect_eq "the server stops with code 0" 0 "$LK_STOP_RC"
lk_done
