#!/usr/bin/env bats
# 38-lb-http-limits: slow and hostile clients, few descriptors, tables
# changed under traffic, a restart and TERM's grace.

load helpers/lib
load helpers/http
bats_require_minimum_version 1.5.0

@test "lb-http: a body that comes too slowly is a 408; the backend's request is dropped" {
	start_hsrv one
	start_lbh -w 1 -z rate=1000 -l 127.0.0.1:0 "${HS[one]}"
	# 20 bytes a second, where at least 1000 are asked
	run -0 timeout 30 python3 -c '
import socket, sys, time
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)))
s.sendall(b"POST /sum HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
s.settimeout(0.05)
got = b""
for i in range(600):
    try:
        s.send(b"x" * 2)
    except OSError:
        break
    try:
        b = s.recv(1000)
        if not b:
            break
        got += b
    except socket.timeout:
        pass
print(got.split(b"\r\n")[0].decode())
' "$LH"
	[ "$output" = "HTTP/1.1 408 Request Timeout" ]
	wait_for 5 grep -q $'\t408\t.*\ttimeout$' "$LHLOG"
}

@test "lb-http: an idle keep-alive connection is closed after -i; the next request opens another" {
	start_hsrv one
	start_lbh -w 1 -i 300ms -l 127.0.0.1:0 "${HS[one]}"
	t0=$(date +%s%N)
	run -0 hcli.py -t 5 "$LH" 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
	t1=$(date +%s%N)
	[[ "$output" == *one ]]
	# closed by lb-http (exit 0), well before hcli's own 5s
	[ $(( (t1 - t0) / 1000000 )) -lt 3000 ]
	[ "$(get /)" = one ]
}

@test "lb-http: 400 clients at once under ulimit -n 256 all get an answer" {
	start_hsrv one
	LHLOG="$BATS_TEST_TMPDIR/lh"
	bg prlimit --nofile=256:256 lb-http -1 -q -w 2 -l 127.0.0.1:0 "${HS[one]}" \
	    > "$LHLOG" 2> "$LHLOG.err"
	LHPID=$BG_PID
	wait_for 5 grep -q '^table ' "$LHLOG"
	LH=$(head -1 "$LHLOG")
	run -0 timeout 120 flood.py -c 400 -n 2 "$LH"
	[ "$output" = "ok 800 failed 0" ]
	stop_lbh
}

@test "lb-http: with no descriptors left for pipes, 4 MiB each way is copied and arrives whole" {
	start_hsrv one
	LHLOG="$BATS_TEST_TMPDIR/lh"
	bg prlimit --nofile=64:64 lb-http -1 -v -q -w 1 -l 127.0.0.1:0 "${HS[one]}" \
	    > "$LHLOG" 2> "$LHLOG.err"
	LHPID=$BG_PID
	wait_for 5 grep -q '^table ' "$LHLOG"
	LH=$(head -1 "$LHLOG")
	# a keep-alive connection with a request done, idle ones until
	# lb-http has no descriptor to spare, then a 4 MiB POST echoed back
	run -0 timeout 60 python3 -c '
import hashlib, os, socket, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
addr = (host, int(port))
c = socket.create_connection(addr)
def answer(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = c.recv(65536); assert b, "closed"; buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
         if l.lower().startswith(b"content-length:")][0]
    while len(body) < n:
        b = c.recv(1 << 16); assert b, "closed"; body += b
    return head.split(b"\r\n")[0], body
c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"); answer(c)
idle = [socket.create_connection(addr) for _ in range(40)]
end = time.time() + 20
while b"out of descriptors" not in open(sys.argv[2], "rb").read():
    assert time.time() < end, "never ran out of descriptors"
    time.sleep(0.05)
data = os.urandom(4 << 20)
c.sendall(b"POST /sum HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
st, body = answer(c)
print(st.split()[1].decode(), body.decode().strip() == "%d %s" % (len(data), hashlib.sha256(data).hexdigest()))
c.sendall(b"GET /big/4194304 HTTP/1.1\r\nHost: a\r\n\r\n")
st, body = answer(c)
print(st.split()[1].decode(), len(body))
' "$LH" "$LHLOG.err"
	echo "$output"
	[ "$output" = "200 True
200 4194304" ]
	stop_lbh
}

@test "lb-http: lb-ctl adds, drains and removes backends while requests flow: none fails" {
	start_hsrv a; start_hsrv b; start_hsrv c
	lb-ctl -t "$T" add "${HS[a]}" name=a
	lb-ctl -t "$T" add "${HS[b]}" name=b
	start_lbh -w 2 -q -t "$T" -l 127.0.0.1:0
	stopf="$BATS_TEST_TMPDIR/stop"
	bg flood.py -c 8 -n 0 -u "$stopf" "$LH" > "$BATS_TEST_TMPDIR/out"
	fl=$BG_PID
	lb-ctl -t "$T" add "${HS[c]}" name=c
	wait_for 10 bash -c "[ \"\$(awk '{print \$2}' '${HSC[c]}')\" -ge 20 ]"
	lb-ctl -t "$T" drain a
	lb-ctl -t "$T" set b weight=5
	lb-ctl -t "$T" del a
	n=$(requests_of c)
	wait_for 10 bash -c "[ \"\$(awk '{print \$2}' '${HSC[c]}')\" -ge $((n + 20)) ]"
	touch "$stopf"
	wait "$fl"
	[[ "$(cat "$BATS_TEST_TMPDIR/out")" == *" failed 0" ]]
}

@test "lb-http: a second instance on the same port, then TERM to the first: no client fails" {
	start_hsrv one
	start_lbh -w 1 -q -l 127.0.0.1:0 "${HS[one]}"
	first=$LHPID
	stopf="$BATS_TEST_TMPDIR/stop"
	bg flood.py -c 4 -n 0 -u "$stopf" "$LH" > "$BATS_TEST_TMPDIR/out"
	fl=$BG_PID
	wait_for 10 bash -c "[ \"\$(awk '{print \$2}' '${HSC[one]}')\" -ge 50 ]"
	start_lbh -w 1 -q -l "$LH" "${HS[one]}"
	[ "$LHTABLE" = "http-127.0.0.1-${LH##*:}.2" ]
	kill -TERM "$first"
	wait_for 15 gone "$first"
	wait "$first"
	n=$(requests_of one)
	wait_for 10 bash -c "[ \"\$(awk '{print \$2}' '${HSC[one]}')\" -ge $((n + 50)) ]"
	touch "$stopf"
	wait "$fl"
	[[ "$(cat "$BATS_TEST_TMPDIR/out")" == *" failed 0" ]]
}

@test "lb-http: TERM lets a request in flight finish, takes no new one, and exits 0" {
	start_hsrv one
	start_lbh -w 1 -g 10s -l 127.0.0.1:0 "${HS[one]}"
	get /slow/1500 > "$BATS_TEST_TMPDIR/slow" &
	sl=$!
	wait_for 5 bash -c "[ \"\$(awk '{print \$2}' '${HSC[one]}')\" -ge 1 ]"
	kill -TERM "$LHPID"
	wait_for 5 bash -c "! curl -s -m 1 http://$LH/ > /dev/null"
	wait "$sl"
	[ "$(cat "$BATS_TEST_TMPDIR/slow")" = slow ]
	wait_for 15 gone "$LHPID"
	wait "$LHPID"
	grep -q $'\t200\t.*\tclose$' "$LHLOG"
}

@test "lb-http: bad usage is one line on stderr and exit 2; run-time failures exit 1" {
	bad() {
		local rc=$1 want=$2
		shift 2
		run -"$rc" --separate-stderr timeout 10 lb-http "$@"
		echo "$stderr"
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "lb-http: "*"$want"* ]]
	}
	start_hsrv one
	bad 2 "no listener" "${HS[one]}"
	bad 2 "no backends" -l 127.0.0.1:0
	bad 2 "'nonsense'" -l nonsense "${HS[one]}"
	bad 2 "bad rule" -r 'nothing' -l 127.0.0.1:0
	bad 2 "bad rule" -r 'a b/x=t' -l 127.0.0.1:0
	bad 2 "bad -T 'forever'" -T forever=1s -l 127.0.0.1:0 "${HS[one]}"
	bad 2 "bad head size" -z head=1 -l 127.0.0.1:0 "${HS[one]}"
	bad 2 "bad trusted address" -X 300.1.1.1 -l 127.0.0.1:0 "${HS[one]}"
	bad 2 "bad workers" -w 0 -l 127.0.0.1:0 "${HS[one]}"
	bad 1 "in use" -l "${HS[one]}" "${HS[one]}"
	bad 1 "nosuch.invalid" -l 127.0.0.1:0 nosuch.invalid:80
	echo "/x=bad!name" > "$BATS_TEST_TMPDIR/rules"
	bad 1 "rules: line 1" -R "$BATS_TEST_TMPDIR/rules" -l 127.0.0.1:0
	# a control byte in a value never reaches the terminal raw
	run -2 --separate-stderr lb-http -w $'\e[31m' -l 127.0.0.1:0 "${HS[one]}"
	[[ "$stderr" == *'\x1b[31m'* ]]
}
