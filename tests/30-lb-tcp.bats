#!/usr/bin/env bats
# 30-lb-tcp: the Layer 4 balancer, with tsrv backends and tcli clients.

load helpers/lib
load helpers/tcp
load helpers/http
bats_require_minimum_version 1.5.0

fetch() { timeout 10 tcli "$LB" < /dev/null; }

# predicates for wait_for, evaluated afresh on each try
fetch_is() { [ "$(fetch)" = "$1" ]; }
estab_is() { [ "$(ss -Htn state established "( dport = :$1 )" | wc -l)" = "$2" ]; }

@test "lb-tcp: round robin goes s1, s2, s3 in turn and logs each connection" {
	start_backend s1; start_backend s2; start_backend s3
	start_lb -w 1 -l 127.0.0.1:0 "${BE[s1]}" "${BE[s2]}" "${BE[s3]}"
	got=""
	for i in 1 2 3 4 5 6; do got="$got $(fetch)"; done
	[ "$got" = " s1 s2 s3 s1 s2 s3" ]
	wait_for 5 has_lines 6
	run -0 loglines
	[ "$(printf '%s\n' "${lines[@]}" | field 3 | head -3 | tr '\n' ' ')" = "${BE[s1]} ${BE[s2]} ${BE[s3]} " ]
	# time, client, backend, bytes_in, bytes_out, ms, end: 7 fields,
	# named by the header line after -1's two
	[ "$(sed -n 3p "$LBLOG")" = "# time	client	backend	bytes_in	bytes_out	ms	end" ]
	[ "$(printf '%s\n' "${lines[0]}" | awk -F'\t' '{print NF}')" = 7 ]
	[ "$(printf '%s\n' "${lines[0]}" | field 5)" = 3 ]
	[[ "$(printf '%s\n' "${lines[0]}" | field 7)" == *-close ]]
	# its own table, named after the listener, while it runs
	tbl="tcp-127.0.0.1-${LB##*:}"
	run -0 lb-stat -t "$tbl" -H
	[ "${#lines[@]}" -eq 3 ]
	stop_lb
	[ ! -e "/dev/shm/lb.$tbl" ]
}

@test "lb-tcp: -o chooses the log's fields, -H drops its header line" {
	start_backend s1
	start_lb -w 1 -H -o end,backend,bytes_out -l 127.0.0.1:0 "${BE[s1]}"
	[ "$(fetch)" = s1 ]
	wait_for 5 has_lines 1
	[ "$(sed -n 3p "$LBLOG")" != "# end	backend	bytes_out" ]
	run -0 loglines
	[[ "$output" =~ ^(client|server)-close$'\t'"${BE[s1]}"$'\t'3$ ]]
	stop_lb
	start_lb -w 1 -j -o backend,bytes_in,sni -l 127.0.0.1:0 "${BE[s1]}"
	[ "$(fetch)" = s1 ]
	wait_for 5 has_lines 1
	run -0 loglines
	[ "$output" = "{\"backend\":\"${BE[s1]}\",\"bytes_in\":0,\"sni\":null}" ]
	stop_lb
	run -2 --separate-stderr lb-tcp -o backend,up -l 127.0.0.1:0 "${BE[s1]}"
	[ "$stderr" = "lb-tcp: -o: unknown field 'up': the fields are time, client, backend, bytes_in, bytes_out, ms, end, sni" ]
	run -2 --separate-stderr lb-tcp -t a -t b -l 127.0.0.1:0
	[ "$stderr" = "lb-tcp: -t given twice: one table (-s routes to others)" ]
	run -2 --separate-stderr lb-tcp -g 1.5ms -l 127.0.0.1:0 "${BE[s1]}"
	[ "$stderr" = "lb-tcp: bad -g '1.5ms': a duration from 0ms to 30d, as 250ms, 1.5s or 2m" ]
}

@test "lb-tcp: -j logs JSON lines, -q nothing" {
	start_backend s1
	start_lb -j -w 1 -l 127.0.0.1:0 "${BE[s1]}"
	[ "$(fetch)" = s1 ]
	wait_for 5 has_lines 1
	run -0 python3 -c 'import json,sys; d = json.loads(sys.stdin.readline()); print(d["backend"], d["bytes_out"], d["end"] in ("client-close", "server-close"))' < <(loglines)
	[ "$output" = "${BE[s1]} 3 True" ]
	stop_lb
	start_lb -q -w 1 -l 127.0.0.1:0 "${BE[s1]}"
	[ "$(fetch)" = s1 ]
	stop_lb
	[ "$(loglines | wc -l)" -eq 0 ]
}

@test "lb-tcp: least connections steers away from a backend holding long connections" {
	start_backend slow hold; start_backend fast
	lb-ctl -t "$T" add "${BE[slow]}" name=slow
	start_lb -a lc -w 1 -t "$T" -l 127.0.0.1:0
	port=${LB##*:}
	for i in 1 2 3; do
		exec {fd}<>"/dev/tcp/127.0.0.1/$port"
		read -r -t 5 line <&$fd
		[ "$line" = slow ]
		held+=($fd)
	done
	lb-ctl -t "$T" add "${BE[fast]}" name=fast
	for i in 1 2 3 4 5; do [ "$(fetch)" = fast ]; done
	[ "$(stat_col "$T" slow active)" = 3 ]
	for fd in "${held[@]}"; do exec {fd}>&-; done
	wait_for 5 col_is "$T" slow active 0
}

@test "lb-tcp: source hash keeps each client address on one backend" {
	start_backend s1; start_backend s2; start_backend s3
	for a in source maglev; do
		start_lb -a "$a" -w 1 -l 127.0.0.1:0 "${BE[s1]}" "${BE[s2]}" "${BE[s3]}"
		seen=""
		for c in 2 3 4 5 6 7 8 9; do
			first=$(timeout 5 tcli -s "127.0.0.$c" "$LB" < /dev/null)
			for i in 1 2 3 4; do
				[ "$(timeout 5 tcli -s "127.0.0.$c" "$LB" < /dev/null)" = "$first" ]
			done
			seen="$seen$first\n"
		done
		# eight clients do not all land on one backend
		[ "$(printf "$seen" | sort -u | wc -l)" -ge 2 ]
		stop_lb
	done
}

@test "lb-tcp: drain and maint from lb-ctl take effect on the next connection" {
	start_backend s1 hold; start_backend s2 hold
	lb-ctl -t "$T" add "${BE[s1]}" name=s1
	lb-ctl -t "$T" add "${BE[s2]}" name=s2
	start_lb -w 1 -t "$T" -l 127.0.0.1:0
	# a long connection on s1 survives its drain
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	read -r -t 5 line <&$fd
	[ "$line" = s1 ]
	lb-ctl -t "$T" drain s1
	for i in 1 2 3 4; do [ "$(timeout 5 tcli -T 5 "$LB" < /dev/null)" = s2 ]; done
	[ "$(stat_col "$T" s1 active)" = 1 ]
	lb-ctl -t "$T" enable s1
	lb-ctl -t "$T" maint s2
	for i in 1 2 3; do [ "$(fetch)" = s1 ]; done
	exec {fd}>&-
	lb-ctl -t "$T" maint s1
	run -0 fetch
	[ -z "$output" ]
	wait_for 5 grep -q 'no-backend$' "$LBLOG"
}

@test "lb-tcp: a killed backend costs no client a connection (retry)" {
	start_backend s1; start_backend s2; start_backend s3
	lb-ctl -t "$T" add "${BE[s1]}" name=s1
	lb-ctl -t "$T" add "${BE[s2]}" name=s2
	lb-ctl -t "$T" add "${BE[s3]}" name=s3
	start_lb -w 1 -t "$T" -l 127.0.0.1:0
	run -0 --separate-stderr tcli -n 12 "$LB"
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | tr '\n' ' ')" = "s1 s2 s3 " ]
	kill "${BEPID[s2]}"; wait "${BEPID[s2]}" || true
	run -0 --separate-stderr tcli -n 30 "$LB"
	[ "$stderr" = "ok 30 failed 0" ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | tr '\n' ' ')" = "s1 s3 " ]
	# the failures are counted, and the refused one is left for the next
	[ "$(stat_col "$T" s2 fail)" -ge 1 ]
	# every backend dead: the client is told by a close, and it is logged
	kill "${BEPID[s1]}" "${BEPID[s3]}"
	wait "${BEPID[s1]}" "${BEPID[s3]}" || true
	run -0 fetch
	[ -z "$output" ]
	wait_for 5 grep -q 'connect-fail$' "$LBLOG"
}

@test "lb-tcp: a full backend queues the next connection, then serves or refuses it" {
	start_backend s1 hold
	lb-ctl -t "$T" add "${BE[s1]}" name=s1 maxconn=1
	start_lb -w 1 -Q 10s -t "$T" -l 127.0.0.1:0
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	read -r -t 5 line <&$fd
	[ "$line" = s1 ]
	# the second waits (tcli holds its write side open: hold mode
	# answers only once), served as soon as the first is gone
	bg bash -c "sleep 30 | tcli '$LB' > '$BATS_TEST_TMPDIR/b.out'" {fd}>&-
	# both clients are connected to lb-tcp; the second has no answer
	wait_for 5 estab_is "${LB##*:}" 2
	[ ! -s "$BATS_TEST_TMPDIR/b.out" ]
	# lb-stat shows it waiting, as the table's queued
	[ "$(table_queued "$T")" = 1 ]
	[[ "$(lb-stat -t "$T" -p)" == *"lb_table_queued{table=\"$T\"} 1"* ]]
	exec {fd}>&-
	wait_for 5 grep -q s1 "$BATS_TEST_TMPDIR/b.out"
	[ "$(stat_col "$T" s1 active)" = 1 ]
	[ "$(table_queued "$T")" = 0 ]
	stop_lb
	# a short queue timeout: refused after it; no queue at all: at once
	start_lb -w 1 -Q 200ms -t "$T" -l 127.0.0.1:0
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	read -r -t 5 line <&$fd
	run -0 fetch
	[ -z "$output" ]
	wait_for 5 grep -q 'queue-timeout$' "$LBLOG"
	stop_lb
	exec {fd}>&-
	start_lb -w 1 -n 0 -t "$T" -l 127.0.0.1:0
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	read -r -t 5 line <&$fd
	run -0 fetch
	wait_for 5 grep -q 'queue-full$' "$LBLOG"
	exec {fd}>&-
}

@test "lb-tcp: half-close is carried both ways, and a reset as a reset" {
	start_backend sink sink; start_backend echo echo
	start_lb -w 1 -l 127.0.0.1:0 "${BE[sink]}"
	# the sink answers only after our EOF reached it
	run -0 bash -c "printf hello | timeout 5 tcli '$LB'"
	[ "$output" = "5 $(printf hello | sha256sum | cut -d' ' -f1)" ]
	stop_lb
	start_lb -w 1 -l 127.0.0.1:0 "${BE[echo]}"
	run -0 bash -c "printf 'one\ntwo\n' | timeout 5 tcli '$LB'"
	[ "$output" = "$(printf 'one\ntwo')" ]
	wait_for 5 grep -q 'client-close$' "$LBLOG"
	stop_lb
	# a backend that reads a line, then resets: the client sees a reset
	bg python3 -c '
import socket, struct
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print("127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
' > "$BATS_TEST_TMPDIR/rst"
	wait_for 5 test -s "$BATS_TEST_TMPDIR/rst"
	start_lb -w 1 -l 127.0.0.1:0 "$(cat "$BATS_TEST_TMPDIR/rst")"
	run -3 bash -c "echo x | timeout 5 tcli '$LB'"
	wait_for 5 grep -q 'server-reset$' "$LBLOG"
}

@test "lb-tcp: -P sends a PROXY header, -p reads one (v1 and v2, chained)" {
	start_backend echo echo
	# lb2 reads v2 from lb1 and tells the echo server in v1
	start_lb -w 1 -p -P v1 -l 127.0.0.1:0 "${BE[echo]}"
	lb2=$LB; log2=$LBLOG
	start_lb -w 1 -P v2 -l 127.0.0.1:0 "$lb2"
	run -0 bash -c "echo payload | timeout 5 tcli -s 127.0.0.3 '$LB'"
	# the client's address and the one it reached, through both
	[[ "${lines[0]}" =~ ^PROXY\ TCP4\ 127\.0\.0\.3\ 127\.0\.0\.1\ [0-9]+\ ${LB##*:}$'\r'$ ]]
	[ "${lines[1]}" = payload ]
	wait_for 5 grep -q '127.0.0.3' "$log2"
	# garbage instead of a header: closed, logged, and it goes on
	# (unread bytes make the close a reset: exit 3 or 0)
	run bash -c "echo GET / HTTP/1.0 | timeout 5 tcli '$lb2' 2>/dev/null"
	[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
	[ -z "$output" ]
	wait_for 5 grep -q 'bad-proxy$' "$log2"
	run -0 bash -c "echo again | timeout 5 tcli '$LB'"
	[ "${lines[1]}" = again ]
}

@test "lb-tcp: 100 MiB each way arrive whole (sha256)" {
	start_backend sink sink; start_backend echo echo
	f="$BATS_TEST_TMPDIR/big"
	head -c 104857600 /dev/urandom > "$f"
	sum=$(sha256sum < "$f" | cut -d' ' -f1)
	start_lb -w 1 -l 127.0.0.1:0 "${BE[sink]}"
	run -0 timeout 60 tcli "$LB" < "$f"
	[ "$output" = "104857600 $sum" ]
	stop_lb
	start_lb -w 1 -l 127.0.0.1:0 "${BE[echo]}"
	run -0 bash -c "timeout 60 tcli '$LB' < '$f' | sha256sum | cut -d' ' -f1"
	[ "$output" = "$sum" ]
	wait_for 5 has_lines 1
	[ "$(loglines | field 4)" = 104857600 ]
	[ "$(loglines | field 5)" = 104857600 ]
}

@test "lb-tcp: IPv6 and unix sockets, as listeners and as backends" {
	start_backend v6 name "[::1]:0"
	start_backend ux name "unix:$BATS_TEST_TMPDIR/be.sock"
	start_lb -w 2 -l "[::1]:0" "${BE[v6]}"
	[[ "$LB" == "[::1]:"* ]]
	[ "$(fetch)" = v6 ]
	wait_for 5 has_lines 1
	[[ "$(loglines | field 2)" == "[::1]:"* ]]
	stop_lb
	start_lb -w 2 -l "unix:$BATS_TEST_TMPDIR/lb.sock" "unix:$BATS_TEST_TMPDIR/be.sock"
	[ "$LB" = "unix:$BATS_TEST_TMPDIR/lb.sock" ]
	for i in 1 2 3; do [ "$(fetch)" = ux ]; done
	stop_lb
	[ ! -e "$BATS_TEST_TMPDIR/lb.sock" ]
}

@test "lb-tcp: a second instance on the same port, then TERM to the first: no refusal" {
	start_backend s1; start_backend s2
	start_lb -l 127.0.0.1:0 "${BE[s1]}" "${BE[s2]}"
	first=$LBPID
	stopf="$BATS_TEST_TMPDIR/stop"
	loop="$BATS_TEST_TMPDIR/loop"
	bg tcli -n 100000 -u "$stopf" "$LB" > "$loop" 2> "$loop.err"
	cli=$BG_PID
	wait_for 10 nlines_ge "$loop" 100
	start_lb -l "$LB" "${BE[s1]}" "${BE[s2]}"
	kill -TERM "$first"
	run -0 timeout 15 bash -c "while kill -0 $first 2>/dev/null; do sleep 0.02; done"
	wait "$first"
	n=$(wc -l < "$loop")
	wait_for 10 nlines_ge "$loop" $((n + 200))
	touch "$stopf"
	wait "$cli" || true
	cat "$loop.err"
	[[ "$(cat "$loop.err")" == *" failed 0" ]]
	# the second made a table of its own beside the first's, never
	# sharing it; the first's went with the first
	[ "$LBTABLE" = "tcp-127.0.0.1-${LB##*:}.2" ]
	[ -e "/dev/shm/lb.$LBTABLE" ]
	[ ! -e "/dev/shm/lb.tcp-127.0.0.1-${LB##*:}" ]
	run -0 fetch
	[[ "$output" == s[12] ]]
}

@test "lb-tcp: TERM lets open connections finish, up to the grace period" {
	start_backend s1 hold
	start_lb -w 1 -g 10s -l 127.0.0.1:0 "${BE[s1]}"
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	read -r -t 5 line <&$fd
	kill -TERM "$LBPID" 2>/dev/null || true
	# no new connections once it stopped accepting
	wait_for 5 bash -c "! tcli '$LB' < /dev/null 2>/dev/null"
	kill -0 "$LBPID"
	exec {fd}>&-
	stop_lb
	start_lb -w 1 -g 300ms -l 127.0.0.1:0 "${BE[s1]}"
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	read -r -t 5 line <&$fd
	stop_lb
	grep -q 'stopped$' "$LBLOG"
	exec {fd}>&-
}

@test "lb-tcp: HUP re-reads the backend list file" {
	start_backend s1; start_backend s2
	echo "${BE[s1]} name=one" > "$BATS_TEST_TMPDIR/list"
	start_lb -w 1 -f "$BATS_TEST_TMPDIR/list" -l 127.0.0.1:0
	[ "$(fetch)" = s1 ]
	echo "${BE[s2]} name=two" > "$BATS_TEST_TMPDIR/list"
	kill -HUP "$LBPID"
	wait_for 5 fetch_is s2
	[ "$(fetch)" = s2 ]
	# a broken list leaves the table as it was
	echo "nonsense here" > "$BATS_TEST_TMPDIR/list"
	kill -HUP "$LBPID"
	wait_for 5 grep -q HUP "$LBLOG.err"
	[ "$(fetch)" = s2 ]
	# and so does an emptied one: an inventory that was down, say
	echo "# nothing" > "$BATS_TEST_TMPDIR/list"
	kill -HUP "$LBPID"
	wait_for 5 grep -q 'HUP: .*list: the list is empty: the table is left as it was' "$LBLOG.err"
	[ "$(fetch)" = s2 ]
	run -0 lb-ctl -t "$LBTABLE" dump
	[ "${#lines[@]}" -eq 1 ]
}

@test "lb-tcp: -t adds missing backends and leaves the table behind" {
	start_backend s1; start_backend s2
	lb-ctl -t "$T" add "${BE[s1]}" name=s1 weight=3
	start_lb -w 1 -t "$T" -l 127.0.0.1:0 "${BE[s2]}"
	run -0 lb-ctl -t "$T" dump
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" == *"name=s1 weight=3"* ]]
	stop_lb
	run -0 lb-ctl -t "$T" dump
	[ "${#lines[@]}" -eq 2 ]
}

# one line on stderr naming the value, and the exit status
bad() {
	local rc=$1 want=$2
	shift 2
	run -"$rc" --separate-stderr timeout 10 lb-tcp "$@"
	echo "$stderr"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "lb-tcp: "*"$want"* ]]
}

@test "lb-tcp: bad input is one line on stderr, exit 2 (usage) or 1" {
	start_backend s1
	bad 2 "'nonsense'" -l nonsense "${BE[s1]}"
	bad 2 "'foo'" -a foo -l 127.0.0.1:0 "${BE[s1]}"
	bad 2 "no backends" -l 127.0.0.1:0
	bad 2 "'300x'" -c 300x -l 127.0.0.1:0 "${BE[s1]}"
	bad 1 "nosuch.invalid" -l 127.0.0.1:0 nosuch.invalid:80
	bad 1 "in use" -l "${BE[s1]}" "${BE[s1]}"
	: > "$BATS_TEST_TMPDIR/empty"
	bad 1 "no backends" -f "$BATS_TEST_TMPDIR/empty" -l 127.0.0.1:0
	head -c 8192 /dev/zero > "$BATS_TEST_TMPDIR/other"
	bad 1 "not an lb table" -t "$BATS_TEST_TMPDIR/other" -l 127.0.0.1:0 "${BE[s1]}"
	bad 2 "'v3'" -P v3 -l 127.0.0.1:0 "${BE[s1]}"
}

@test "lb-tcp: out of descriptors it pauses accepting, then serves" {
	start_backend s1 hold
	start_lb -v -w 1 -l 127.0.0.1:0 "${BE[s1]}"
	held=()
	for i in 1 2 3 4 5 6; do
		exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
		read -r -t 5 line <&"$fd"
		[ "$line" = s1 ]
		held+=($fd)
	done
	# fewer descriptors than it holds now: the next accept fails
	prlimit --pid "$LBPID" --nofile=16:
	exec {late}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	wait_for 5 grep -q 'accept: .*: pausing' "$LBLOG.err"
	# a second out of descriptors, measured: a spin would burn it all
	t0=$(awk '{print $14 + $15}' "/proc/$LBPID/stat")
	sleep 1
	t1=$(awk '{print $14 + $15}' "/proc/$LBPID/stat")
	echo "CPU ticks while out of descriptors: $((t1 - t0))"
	[ $((t1 - t0)) -lt 20 ]
	# room again: the waiting client is taken by the retry timer (no
	# new connection arrives to wake it) and served
	prlimit --pid "$LBPID" --nofile=1024:
	read -r -t 5 line <&"$late"
	[ "$line" = s1 ]
	for fd in "${held[@]}" "$late"; do exec {fd}>&-; done
	[ "$(fetch)" = s1 ]
}

@test "lb-tcp: its own table is named after the bound listener, as lb-tcp(1) says, and -1 tells it" {
	start_backend s1
	# -l :0: the port the kernel gave, no address
	start_lb -w 1 -l :0 "${BE[s1]}"
	[ "$LBTABLE" = "tcp-${LB##*:}" ]
	[ -e "/dev/shm/lb.$LBTABLE" ]
	[ "$(fetch)" = s1 ]
	stop_lb
	# IPv6: no brackets, each ':' a '_'
	start_lb -w 1 -l '[::1]:0' "${BE[s1]}"
	[ "$LBTABLE" = "tcp-__1-${LB##*:}" ]
	[ "$(stat_col "$LBTABLE" "${BE[s1]}" weight)" = 1 ]
	stop_lb
	start_lb -w 1 -l '[::]:0' "${BE[s1]}"
	[ "$LBTABLE" = "tcp-__-${LB##*:}" ]
	stop_lb
	# unix: the path, each '/' a '_'
	sock=$BATS_TEST_TMPDIR/lb.sock
	start_lb -w 1 -l "unix:$sock" "${BE[s1]}"
	[ "$LB" = "unix:$sock" ]
	[ "$LBTABLE" = "tcp-unix-$(printf '%s' "$sock" | tr -c 'A-Za-z0-9._-' '_')" ]
	[ -e "/dev/shm/lb.$LBTABLE" ]
	stop_lb
	[ ! -e "/dev/shm/lb.$LBTABLE" ]
}

# man_example TEXT: the example commands of lb-tcp(1) holding TEXT, made
# this test's own: its backends, its table, port 0, no "&".
man_example() {
	sed -n 's/^\$ //p' "$BATS_TEST_DIRNAME/../man/lb-tcp.1" | grep -F -- "$1" |
	    sed -e "s/127.0.0.1:9001/${BE[s1]}/" -e "s/127.0.0.1:9002/${BE[s2]}/" \
	    -e "s/-t web/-t $T/" -e "s/-l :8080/-l ${LISTEN:-127.0.0.1:0}/" \
	    -e "s/-l 127.0.0.1:8080/-l 127.0.0.1:0/" -e 's/ &.*$//' \
	    -e 's/^lb-tcp //'
}

@test "lb-tcp(1): the EXAMPLES run" {
	start_backend s1; start_backend s2
	run -0 man_example "lb-tcp -l :8080 127.0.0.1:9001 127.0.0.1:9002"
	[ -n "$output" ]
	start_lb -w 1 $output
	[ "$(fetch)" = s1 ]
	[ "$(fetch)" = s2 ]
	stop_lb
	# least connections over a table of lb-ctl's, a backend added live
	eval "$(man_example "lb-ctl -t web add 127.0.0.1:9001")"
	start_lb $(man_example "lb-tcp -a lc -t web")
	[ "$(fetch)" = s1 ]
	eval "$(man_example "lb-ctl -t web add 127.0.0.1:9002")"
	[ "$(fetch)" = s2 ] || [ "$(fetch)" = s2 ]
	stop_lb
	# the restart
	run -0 man_example "lb-tcp -l :8080 127.0.0.1:9001 & old="
	start_lb $output
	old=$LBPID
	LISTEN=$LB
	run -0 man_example "lb-tcp -l :8080 127.0.0.1:9001 & new="
	start_lb $output
	[ "$LB" = "$LISTEN" ]
	run -0 man_example 'kill -TERM $old'
	eval "$output"
	run -0 timeout 15 bash -c "while kill -0 $old 2>/dev/null; do sleep 0.02; done"
	[ "$(fetch)" = s1 ]
}

@test "lb-tcp: connections of a process that died are taken off the counts" {
	start_backend s1
	lb-ctl -t "$T" add "${BE[s1]}" name=s1
	start_lb -w 1 -a lc -t "$T" -l 127.0.0.1:0
	coproc HOLD { exec lbt hold "$T" s1 4 3>&-; }
	hold=$HOLD_PID
	PIDS+=("$hold")
	read -r -t 10 line <&"${HOLD[0]}"
	[ "$line" = held ]
	[ "$(lbt raw "$T" s1)" = 4 ]
	kill -9 "$hold"
	wait "$hold" || true
	# no writer runs: lb-tcp itself takes them back within seconds
	raw_is() { [ "$(lbt raw "$T" s1)" = "$1" ]; }
	wait_for 5 raw_is 0
	[ "$(fetch)" = s1 ]
	stop_lb
}

@test "lb-tcp: a response written in two pieces is not held back by Nagle on the client's side" {
	start_hsrv one
	start_lb -w 1 -l 127.0.0.1:0 "${HS[one]}"
	urls=()
	for i in $(seq 40); do urls+=(-o /dev/null "http://$LB/twowrites"); done
	# one keep-alive connection: with Nagle, each body waits for the
	# client's delayed ACK of its head (40 ms): 1.6 s at the least
	run -0 curl -s -m 20 -w '%{time_total}\n' "${urls[@]}"
	[ "${#lines[@]}" -eq 40 ]
	total=$(printf '%s\n' "${lines[@]}" | awk '{ t += $1 } END { printf "%d", t * 1000 }')
	echo "40 responses in $total ms"
	[ "$total" -lt 1200 ]
	[ "$(conns_of one)" = 1 ]
}
