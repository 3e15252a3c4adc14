#!/usr/bin/env bats
# 33-lb-tcp-limits: lb-tcp at the edges: few descriptors, a dead backend
# and no checker, a slow log reader, early signals, its own table taken,
# a table destroyed and made again.

load helpers/lib
load helpers/tcp
bats_require_minimum_version 1.5.0

fetch() { timeout 10 tcli "$LB" < /dev/null; }
fetch_is() { [ "$(fetch)" = "$1" ]; }

@test "lb-tcp: 400 clients at once under ulimit -n 256: none fails, they wait" {
	start_backend web http
	LBLOG="$BATS_TEST_TMPDIR/lb"
	bg prlimit --nofile=256:256 lb-tcp -1 -q -w 2 -l 127.0.0.1:0 "${BE[web]}" \
	    > "$LBLOG" 2> "$LBLOG.err"
	LBPID=$BG_PID
	wait_for 5 nlines_ge "$LBLOG" 2
	LB=$(head -1 "$LBLOG")
	run -0 timeout 120 flood.py -c 400 -n 3 "$LB"
	echo "$output"
	[ "$output" = "ok 1200 failed 0" ]
	kill -0 "$LBPID"
	stop_lb
}

@test "lb-tcp: with no descriptors left for pipes, bulk is copied and arrives whole" {
	start_backend echo echo
	LBLOG="$BATS_TEST_TMPDIR/lb"
	bg prlimit --nofile=64:64 lb-tcp -1 -v -q -w 1 -l 127.0.0.1:0 \
	    "${BE[echo]}" > "$LBLOG" 2> "$LBLOG.err"
	LBPID=$BG_PID
	wait_for 5 nlines_ge "$LBLOG" 2
	LB=$(head -1 "$LBLOG")
	# one connection in, then idle ones until lb-tcp has no descriptor
	# to spare; then 4 MiB each way through the first
	run -0 timeout 60 python3 -c '
import hashlib, os, socket, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
addr = (host, int(port))
bulk = socket.create_connection(addr)
bulk.sendall(b"x"); assert bulk.recv(1) == b"x"
idle = [socket.create_connection(addr) for _ in range(40)]
end = time.time() + 20
while b"out of descriptors" not in open(sys.argv[2], "rb").read():
    assert time.time() < end, "never ran out of descriptors"
    time.sleep(0.05)
data = os.urandom(4 << 20)
def send():
    bulk.sendall(data); bulk.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
got = bytearray()
while True:
    b = bulk.recv(1 << 16)
    if not b: break
    got += b
print(len(got), hashlib.sha256(got).digest() == hashlib.sha256(data).digest())
' "$LB" "$LBLOG.err"
	echo "$output"
	[ "$output" = "4194304 True" ]
	grep -q 'out of descriptors' "$LBLOG.err"
	stop_lb
}

@test "lb-tcp: a dead backend and no checker: skipped after 3 failures, not retried forever" {
	start_backend s1; start_backend s2
	lb-ctl -t "$T" add "${BE[s1]}" name=s1
	lb-ctl -t "$T" add "${BE[s2]}" name=s2
	start_lb -w 1 -t "$T" -l 127.0.0.1:0
	kill "${BEPID[s2]}"; wait "${BEPID[s2]}" || true
	run -0 --separate-stderr tcli -n 60 "$LB"
	[ "$stderr" = "ok 60 failed 0" ]
	# three failed connects, then it is left alone for 10s
	[ "$(stat_col "$T" s2 fail)" -eq 3 ]
	# health stays the checker's to write
	[ "$(stat_col "$T" s2 health)" = unknown ]
	stop_lb
	# -x 0: every other connection tries it, as before
	start_lb -w 1 -x 0 -t "$T" -l 127.0.0.1:0
	run -0 --separate-stderr tcli -n 60 "$LB"
	[ "$(stat_col "$T" s2 fail)" -ge 30 ]
	# a short skip ends, and one more failure skips it again at once
	stop_lb
	start_lb -w 1 -x 2/300ms -t "$T" -l 127.0.0.1:0
	before=$(stat_col "$T" s2 fail)
	run -0 --separate-stderr tcli -n 20 "$LB"
	[ "$(stat_col "$T" s2 fail)" -eq $((before + 2)) ]
	later() { run -0 --separate-stderr tcli -n 4 "$LB"; [ "$(stat_col "$T" s2 fail)" -gt $((before + 2)) ]; }
	wait_for 5 later
	[ "$(stat_col "$T" s2 fail)" -eq $((before + 3)) ]
	run -2 --separate-stderr lb-tcp -x 3 -l 127.0.0.1:0 "${BE[s1]}"
	[[ "$stderr" == "lb-tcp: bad -x '3': "* ]]
}

@test "lb-tcp: a log reader that stops reading does not stall connections" {
	start_backend s1
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	# reads the address and the table line, then never again
	bg bash -c '{ read -r a; read -r t; echo "$a" > "$1.addr"; exec sleep 300; } < "$1"' \
	    _ "$BATS_TEST_TMPDIR/fifo"
	LBLOG="$BATS_TEST_TMPDIR/lb"
	bg lb-tcp -1 -w 2 -l 127.0.0.1:0 "${BE[s1]}" > "$BATS_TEST_TMPDIR/fifo" \
	    2> "$LBLOG.err"
	LBPID=$BG_PID
	wait_for 5 test -s "$BATS_TEST_TMPDIR/fifo.addr"
	LB=$(cat "$BATS_TEST_TMPDIR/fifo.addr")
	# far more log than the pipe and both buffers hold
	run -0 --separate-stderr timeout 60 tcli -n 3000 "$LB"
	[ "$stderr" = "ok 3000 failed 0" ]
	wait_for 5 grep -q 'access log: [0-9]* lines dropped' "$LBLOG.err"
	stop_lb
}

@test "lb-tcp: two workers' lines into one pipe are never cut or mixed" {
	start_backend s1
	LBLOG="$BATS_TEST_TMPDIR/lb"
	# a pipe, not a file: cat reads it into the log
	bg lb-tcp -1 -w 2 -l 127.0.0.1:0 "${BE[s1]}" > >(exec cat > "$LBLOG")
	LBPID=$BG_PID
	wait_for 5 nlines_ge "$LBLOG" 2
	LB=$(head -1 "$LBLOG")
	tcli -n 1500 "$LB" > /dev/null 2>&1 &
	a=$!
	tcli -n 1500 "$LB" > /dev/null 2>&1
	wait "$a"
	wait_for 10 has_lines 3000
	run -0 bash -c "tail -n +4 '$LBLOG' | awk -F'\t' 'NF != 7 || \$7 !~ /-close\$/' | wc -l"
	[ "$output" = 0 ]
	stop_lb
}

# syscall_is PID NR: PID is blocked in system call NR
syscall_is() { [ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = "$2" ]; }

@test "lb-tcp: TERM and HUP while it starts are held until it runs" {
	start_backend s1
	sock="$BATS_TEST_TMPDIR/lb.sock"
	fifo="$BATS_TEST_TMPDIR/list"
	mkfifo "$fifo"
	# TERM while set-up waits for its -f file: it starts, then stops, 0
	bg lb-tcp -1 -w 1 -f "$fifo" -l "unix:$sock" > "$BATS_TEST_TMPDIR/out"
	pid=$BG_PID
	wait_for 5 syscall_is "$pid" 257		# openat
	kill -TERM "$pid"
	echo "${BE[s1]} name=one" > "$fifo"
	wait_for 15 gone "$pid"
	wait "$pid"
	table=$(sed -n 's/^table //p' "$BATS_TEST_TMPDIR/out")
	[ -n "$table" ]
	[ ! -e "/dev/shm/lb.$table" ]
	[ ! -e "$sock" ]
	# HUP then: acted on once it runs (the list is read again)
	bg lb-tcp -1 -w 1 -f "$fifo" -l "unix:$sock" > "$BATS_TEST_TMPDIR/out2"
	pid=$BG_PID
	wait_for 5 syscall_is "$pid" 257
	kill -HUP "$pid"
	echo "${BE[s1]} name=one" > "$fifo"
	# listening once the list is read; then HUP reads it again
	wait_for 5 test -S "$sock"
	echo "${BE[s1]} name=two" > "$fifo"
	LB="unix:$sock"
	table=$(sed -n 's/^table //p' "$BATS_TEST_TMPDIR/out2")
	wait_for 5 bash -c "lb-ctl -t '$table' dump | grep -q 'name=two'"
	[ "$(fetch)" = s1 ]
	kill -TERM "$pid"
	wait_for 15 gone "$pid"
	wait "$pid"
}

@test "lb-tcp: its own table is never one it did not make" {
	start_backend s1; start_backend s2
	sock="$BATS_TEST_TMPDIR/lb.sock"
	start_lb -w 1 -l "unix:$sock" "${BE[s1]}"
	own=$LBTABLE
	stop_lb
	[ ! -e "/dev/shm/lb.$own" ]
	# a table left by a process that died: removed, made afresh
	lb-ctl -t "$own" add "${BE[s2]}" name=intruder
	start_lb -w 1 -l "unix:$sock" "${BE[s1]}"
	[ "$LBTABLE" = "$own" ]
	run -0 lb-ctl -t "$own" dump
	[ "$output" = "${BE[s1]} weight=1 maxconn=0 state=enabled" ]
	stop_lb
	# a table some live process uses: never attached to, the next name
	lb-ctl -t "$own" add "${BE[s2]}" name=intruder
	coproc HOLD { exec lbt hold "$own" intruder 1 3>&-; }
	PIDS+=("$HOLD_PID")
	read -r -t 10 line <&"${HOLD[0]}"
	[ "$line" = held ]
	start_lb -w 1 -l "unix:$sock" "${BE[s1]}"
	[ "$LBTABLE" = "$own.2" ]
	LB="unix:$sock"
	for i in 1 2 3; do [ "$(fetch)" = s1 ]; done
	[ "$(stat_col "$own" intruder total)" = 1 ]
	stop_lb
	[ -e "/dev/shm/lb.$own" ]
	[ ! -e "/dev/shm/lb.$own.2" ]
	kill "$HOLD_PID"; wait "$HOLD_PID" || true
	lb-ctl -t "$own" destroy
}

@test "lb-tcp: a table destroyed and made again is followed" {
	start_backend s1; start_backend s2
	lb-ctl -t "$T" add "${BE[s1]}" name=one
	start_lb -w 2 -t "$T" -l 127.0.0.1:0
	[ "$(fetch)" = s1 ]
	# held open across the change: it ends where it began
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	read -r -t 5 line <&"$fd"
	lb-ctl -t "$T" destroy
	lb-ctl -t "$T" add "${BE[s2]}" name=two
	wait_for 5 fetch_is s2
	for i in 1 2 3 4; do [ "$(fetch)" = s2 ]; done
	# counted in the new table, and not in the old
	[ "$(stat_col "$T" two total)" -ge 4 ]
	exec {fd}>&-
	# destroyed and not made again: it goes on over what it had
	lb-ctl -t "$T" destroy
	wait_for 5 grep -q "table $T: removed" "$LBLOG.err"
	[ "$(fetch)" = s2 ]
	stop_lb
}
