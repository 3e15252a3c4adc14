#!/usr/bin/env bats
# 40-lb-check: health checks move backends between up and down.

load helpers/lib
load helpers/tcp

# backend NAME [TSRV-FLAGS...]: a tsrv on a free port, added to $T as NAME;
# its pid in PID_NAME, its address in ADDR_NAME.
backend() {
	local name=$1
	shift
	start_tsrv "$name" "$@" -l 127.0.0.1:0
	printf -v "PID_$name" %s "${BEPID[$name]}"
	printf -v "ADDR_$name" %s "${BE[$name]}"
	lb-ctl -t "$T" add "${BE[$name]}" name="$name"
}

# checker ARGS...: lb-check on $T in the background, its lines in $OUT.
checker() {
	OUT="$BATS_TEST_TMPDIR/out"
	bg lb-check -t "$T" "$@" > "$OUT"
	CHECKER=$BG_PID
}

# seen ERE: a line of the checker's output matches.
seen() { grep -qE "$1" "$OUT"; }

# more_than ERE N: more than N output lines match
more_than() { [ "$(grep -cE "$1" "$OUT")" -gt "$2" ]; }

# ms TIME: an ISO 8601 time of an output line in ms since the epoch.
ms() { date -d "$1" +%s%3N; }

# the time of the first line matching ERE, in ms
line_ms() { ms "$(grep -E "$1" "$OUT" | head -1 | cut -f1)"; }

health() { stat_col "$T" "$1" health; }
is_health() { [ "$(health "$1")" = "$2" ]; }

@test "lb-check: the shared check logic passes its unit test" {
	run -0 check_test
	[[ "${lines[-1]}" =~ ^check_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}

@test "lb-check: a killed backend is down within interval x fall + timeout, a revived one up within interval x rise" {
	backend b1
	# interval 300ms, fall 2, rise 2, timeout 200ms
	checker -i 300ms -F 300ms -f 2 -r 2 -T 200ms
	wait_for 5 seen $'\tb1\t.*\tunknown\tup\t'
	kill "$PID_b1"
	wait "$PID_b1" || true
	t0=$(date +%s%3N)
	wait_for 5 seen $'\tb1\t.*\tup\tdown\tconnect: refused\t'
	t1=$(line_ms $'\tup\tdown\t')
	echo "down after $((t1 - t0)) ms"
	# 300 x 2 + 200, and some room for a busy machine
	[ $((t1 - t0)) -le $((800 + 400)) ]
	is_health b1 down
	bg tsrv -n b1 -l "$ADDR_b1"
	t0=$(date +%s%3N)
	wait_for 5 seen $'\tb1\t.*\tdown\tup\tconnect: ok\t'
	t1=$(line_ms $'\tdown\tup\t')
	echo "up after $((t1 - t0)) ms"
	[ $((t1 - t0)) -le $((600 + 400)) ]
	is_health b1 up
	[ "$(stat_col "$T" b1 check)" = L4OK ]
	kill -0 "$CHECKER"
}

@test "lb-check: -1 checks each backend once, exit 0 when all are up, 1 when any is down" {
	backend a
	backend b
	run -0 --separate-stderr lb-check -1 -t "$T"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "# time	table	backend	addr	from	to	reason	check_ms" ]
	[[ "$output" == *$'\ta\t'"$ADDR_a"$'\tunknown\tup\tconnect: ok\t'* ]]
	is_health a up
	kill "$PID_b"
	wait "$PID_b" || true
	run -1 --separate-stderr lb-check -1 -t "$T"
	[ "$(printf '%s\n' "$output" | awk -F'\t' '$3 == "b" { print $5, $6 }')" = "up down" ]
	is_health b down
	[ "$(stat_col "$T" b check)" = L4CON:refused ]
	# an empty table has nothing down: the header alone, or nothing
	lb-ctl -t "$T" del a b
	run -0 lb-check -1 -t "$T"
	[ "$output" = "# time	table	backend	addr	from	to	reason	check_ms" ]
	run -0 lb-check -1 -H -t "$T"
	[ -z "$output" ]
}

@test "lb-check: -o chooses and orders the fields, -H drops the header, -j keeps the words" {
	backend o1
	run -0 --separate-stderr lb-check -1 -t "$T" -o to,backend,check_ms
	[ "${lines[0]}" = "# to	backend	check_ms" ]
	[[ "${lines[1]}" =~ ^up$'\t'o1$'\t'[0-9]+$ ]]
	run -0 --separate-stderr lb-check -1 -H -t "$T" -o backend,reason
	[ "$output" = "o1	connect: ok" ]
	run -0 --separate-stderr lb-check -1 -j -t "$T" -o backend,from,reason
	[ "$output" = '{"backend":"o1","from":"up","reason":"connect: ok"}' ]
	kill "$PID_o1"
	wait "$PID_o1" || true
	run -1 --separate-stderr lb-check -1 -j -t "$T" -o reason,check_ms
	[[ "$output" =~ ^'{"reason":"connect: refused","check_ms":'[0-9]+'}'$ ]]
}

@test "lb-check: http matches the status and the body" {
	backend ok -m http -b "all systems ready"
	backend err -m http -s 503
	backend miss -m http -s 404
	run -1 --separate-stderr lb-check -1 -t "$T" http /healthz
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/r"
	[ "$(awk -F'\t' '$3 == "ok" { print $6, $7 }' "$BATS_TEST_TMPDIR/r")" = "up http: 200" ]
	[ "$(awk -F'\t' '$3 == "err" { print $6, $7 }' "$BATS_TEST_TMPDIR/r")" = "down http: 503" ]
	[ "$(stat_col "$T" err check)" = L7STS:503 ]
	# a range of codes, and a list
	run -1 lb-check -1 -t "$T" http status=500-599
	[ "$(printf '%s\n' "$output" | awk -F'\t' '$6 == "up" { print $3 }')" = err ]
	run -0 lb-check -1 -t "$T" http / status=200,404,500-503
	# the body
	lb-ctl -t "$T" del err miss
	run -0 lb-check -1 -t "$T" http /x method=HEAD host=example.test
	run -0 lb-check -1 -t "$T" http /x body=ready
	run -1 lb-check -1 -t "$T" http /x body=notthere
	[[ "$output" == *$'\tup\tdown\thttp: body does not match\t'* ]]
	[ "$(stat_col "$T" ok check)" = L7RSP:body ]
}

@test "lb-check: an http request or body= that cannot fit is refused at start" {
	backend big -m http
	long=$(printf 'a%.0s' {1..17000})
	# each of them used to reconnect every 40ms forever, and never end
	run -2 --separate-stderr timeout 5 lb-check -1 -t "$T" http "/$long"
	[ "$stderr" = "lb-check: bad path '/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (17001 bytes): path and method take at most 16180 bytes together, for the request to fit in 16384 with the longest address as its Host" ]
	run -2 --separate-stderr timeout 5 lb-check -1 -t "$T" http / "host=$long"
	[ "$stderr" = "lb-check: bad host '${long:0:32}...' (17000 bytes): path, method and host take at most 16307 bytes together, for the request to fit in 16384" ]
	run -2 --separate-stderr timeout 5 lb-check -1 -t "$T" http / "method=$long"
	[[ "$stderr" == "lb-check: bad method '${long:0:32}...' (17000 bytes): path and method take"* ]]
	# the longest that fits is sent whole and answered
	path=/${long:0:16176}
	run -0 timeout 10 lb-check -1 -t "$T" http "$path"
	[[ "$output" == *$'\tup\thttp: 200\t'* ]]
	run -2 timeout 5 lb-check -1 -t "$T" http "${path}a"
	run -2 timeout 5 lb-check -1 -t "$T" http "${path:0:16000}" "host=${long:0:308}"
	# a body= longer than the part of a response a probe reads never matches
	body=$(printf 'b%.0s' {1..16371})
	run -2 --separate-stderr lb-check -1 -t "$T" http / "body=$body"
	[ "$stderr" = "lb-check: bad body '${body:0:32}...' (16371 bytes): at most 16370 bytes, since a probe reads 16384 bytes of a response, head included" ]
	run -1 timeout 10 lb-check -1 -t "$T" http / "body=${body:1}"
	[[ "$output" == *$'\thttp: body does not match\t'* ]]
}

@test "lb-check: garbage, silence and a reset are each down with a reason, and the checker goes on" {
	backend good -m http
	backend junk -m garbage
	backend mute -m silent
	backend rst -m reset
	checker -i 400ms -T 300ms -f 1 -v http
	wait_for 5 seen $'\tjunk\t.*\tdown\thttp: garbage\t'
	wait_for 5 seen $'\tmute\t.*\tdown\thttp: timeout after 300ms\t'
	wait_for 5 seen $'\trst\t.*\tdown\thttp: (reset|closed)\t'
	# -v: every result, not only changes
	wait_for 5 seen $'\tgood\t.*\tup\tup\thttp: 200\t'
	kill -0 "$CHECKER"
	is_health good up
	is_health mute down
	[ "$(stat_col "$T" mute check)" = L7TOUT ]
}

# s_server NAME: openssl s_server with a fresh certificate for backend.test
s_server() {
	start_tls "$1" backend.test
	lb-ctl -t "$T" add "${BE[$1]}" name="$1"
}

@test "lb-check: tls does a full handshake with openssl s_server; its own certificate passes with noverify" {
	s_server secure
	backend plain
	run -1 --separate-stderr lb-check -1 -t "$T" tls sni=backend.test noverify
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/r"
	[ "$(awk -F'\t' '$3 == "secure" { print $6, $7 }' "$BATS_TEST_TMPDIR/r")" = "up tls: ok" ]
	[ "$(awk -F'\t' '$3 == "plain" { print $6 }' "$BATS_TEST_TMPDIR/r")" = down ]
	[ "$(stat_col "$T" secure check)" = L6OK ]
	# a self-signed certificate does not pass verification, the default
	lb-ctl -t "$T" del plain
	run -1 lb-check -1 -t "$T" tls sni=backend.test
	[[ "$output" == *$'\tup\tdown\ttls: '*certificate* ]]
	# verify=no, as before noverify, still takes it; http over tls
	run -0 lb-check -1 -t "$T" tls sni=backend.test verify=no
	run -0 lb-check -1 -t "$T" http / tls=yes verify=no
	[[ "$output" == *$'\tup\thttp: 200\t'* ]]
}

# agent WORDS: an exec check whose first line is WORDS, exit 0
agent() {
	run --separate-stderr lb-check -1 -t "$T" exec sh -c "echo '$1'"
}

@test "lb-check: exec runs a command per backend, with agent words" {
	backend e1
	run -0 lb-check -1 -t "$T" exec sh -c \
	    'echo "$LB_TABLE $LB_BACKEND $LB_ADDR $LB_HOST:$LB_PORT" > "$0"' \
	    "$BATS_TEST_TMPDIR/env"
	[ "$(cat "$BATS_TEST_TMPDIR/env")" = "$T e1 $ADDR_e1 $ADDR_e1" ]
	[[ "$output" == *$'\tup\texec: ok\t'* ]]
	agent drain
	[ "$status" -eq 0 ]
	is_health e1 drain
	[ "$(stat_col "$T" e1 check)" = EXOK:drain ]
	agent up
	[ "$status" -eq 0 ]
	is_health e1 up
	agent "up 50%"
	[ "$status" -eq 0 ]
	[ "$(stat_col "$T" e1 share)" = 50 ]
	[ "$(stat_col "$T" e1 weight)" = 1 ]
	agent down
	[ "$status" -eq 1 ]
	[[ "$output" == *$'\tup\tdown\texec: down\t'* ]]
	agent maint
	[ "$status" -eq 1 ]
	is_health e1 down
	[ "$(stat_col "$T" e1 admin)" = enabled ]
	agent 100%
	[ "$status" -eq 0 ]
	[ "$(stat_col "$T" e1 share)" = 100 ]
	# exit codes: anything but 0 is down
	run -1 lb-check -1 -t "$T" exec sh -c 'exit 3'
	[[ "$output" == *$'\tdown\texec: exit 3\t'* ]]
	[ "$(stat_col "$T" e1 check)" = EXFAIL:3 ]
}

@test "lb-check: an exec check that outlives the timeout is killed with its group" {
	backend e1
	run -1 lb-check -1 -t "$T" -i 1s -T 300ms exec sh -c \
	    'sleep 30 & echo $! > "$0"; echo $$ >> "$0"; wait' \
	    "$BATS_TEST_TMPDIR/pids"
	[[ "$output" == *$'\tdown\texec: killed after 300ms\t'* ]]
	[ "$(stat_col "$T" e1 check)" = EXTOUT ]
	[ "$(wc -l < "$BATS_TEST_TMPDIR/pids")" -eq 2 ]
	# killed, not left to run: gone once init has reaped them
	for p in $(cat "$BATS_TEST_TMPDIR/pids"); do
		wait_for 2 gone "$p"
	done
}

# gone PID: no such process, or only its zombie
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.Z' "/proc/$1/status"; }

# fds PID and kids PID: descriptors and children of a process
fds() { ls "/proc/$1/fd" | wc -l; }
kids() { cat /proc/"$1"/task/*/children | wc -w; }
fds_are() { [ "$(fds "$1")" -eq "$2" ]; }
quiet_at() { [ "$(kids "$1")" -eq 0 ] && [ "$(fds "$1")" -eq "$2" ]; }
idle_fds() { [ "$(kids "$1")" -eq 0 ] && IDLE_FDS=$(fds "$1") && [ "$(kids "$1")" -eq 0 ]; }

@test "lb-check: a thousand exec runs leave no zombie and no descriptor behind" {
	for i in $(seq 10); do
		lb-ctl -t "$T" add "127.0.0.1:$((40000 + i))" name="e$i"
	done
	checker -i 20ms -T 20ms -v exec true
	wait_for 5 seen 'EXOK|exec: ok'
	# descriptors at a moment when no check runs
	wait_for 10 idle_fds "$CHECKER"
	base=$IDLE_FDS
	wait_for 60 more_than . 1000
	# no children at all (a zombie is one) and the descriptors of the start
	wait_for 10 quiet_at "$CHECKER" "$base"
	kill -0 "$CHECKER"
}

@test "lb-check: -p marks a backend down after N connect failures of the proxies, then brings it back" {
	backend p1
	checker -i 500ms -F 200ms -r 2 -p 3 -v
	wait_for 5 seen $'\tp1\t.*\tunknown\tup\t'
	lbt bump "$T" p1 consec 2
	lbt bump "$T" p1 consec 1
	wait_for 3 seen $'\tp1\t.*\tup\tdown\tpassive: 3 connect failures\t'
	# probed fast: up again within fast interval x rise and a bit
	wait_for 3 seen $'\tp1\t.*\tdown\tup\tconnect: ok\t'
	is_health p1 up
	# old failures do not count twice: a round later, still one mark
	lbt bump "$T" p1 consec 1
	n=$(wc -l < "$OUT")
	wait_for 3 more_than . $((n + 1))
	[ "$(grep -c passive "$OUT")" -eq 1 ]
	is_health p1 up
}

@test "lb-check: transition lines are read by awk as they come" {
	backend w1
	backend w2
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	cd "$BATS_TEST_TMPDIR"
	# each end in a process of its own, so that both are stopped by pid
	bg sh -c "exec lb-check -H -t '$T' -i 200ms -f 1 > fifo"
	# Debian's awk is mawk, which reads in blocks unless -W interactive
	bg sh -c "exec awk -W interactive -F'\t' '\$5 != \$6 { print \$3, \$6; fflush() }' \
	    < fifo > awk"
	wait_for 5 grep -qx "w2 up" "$BATS_TEST_TMPDIR/awk"
	kill "$PID_w2"
	wait_for 5 grep -qx "w2 down" "$BATS_TEST_TMPDIR/awk"
	[ "$(sort "$BATS_TEST_TMPDIR/awk")" = "$(printf 'w1 up\nw2 down\nw2 up')" ]
}

@test "lb-check: when its log reader goes away it says so once and goes on" {
	backend g1
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	cd "$BATS_TEST_TMPDIR"
	bg sh -c "exec lb-check -t '$T' -i 200ms -f 1 -r 1 > fifo 2> err"
	CHECKER=$BG_PID
	# the reader takes the header and the first line, and leaves
	bg sh -c 'exec head -n 2 < fifo > first'
	wait_for 5 grep -q $'\tg1\t.*\tunknown\tup\t' first
	wait_for 5 gone "$BG_PID"
	# the next line finds nobody
	kill "$PID_g1"
	wait "$PID_g1" || true
	wait_for 5 is_health g1 down
	wait_for 5 test -s err
	# and health still follows the backend
	bg tsrv -n g1 -l "$ADDR_g1"
	wait_for 5 is_health g1 up
	kill "$BG_PID"
	wait_for 5 is_health g1 down
	kill -0 "$CHECKER"
	[ "$(cat err)" = "lb-check: stdout: Broken pipe: no more lines are written; the checks go on" ]
	kill -TERM "$CHECKER"
	wait "$CHECKER"
}

@test "lb-check: -j writes one JSON object a line" {
	backend j1
	run -0 lb-check -1 -j -t "$T"
	printf '%s\n' "$output" | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    assert o["backend"] == "j1" and o["to"] == "up" and o["from"] == "unknown", o
    assert isinstance(o["check_ms"], int) and o["reason"] == "connect: ok", o
'
}

@test "lb-check: a second checker of a table is refused with the first one's pid" {
	backend s1
	checker -i 1s
	wait_for 5 seen $'\ts1\t'
	run -1 --separate-stderr lb-check -t "$T"
	[ "$stderr" = "lb-check: table $T: already checked by lb-check pid $CHECKER" ]
	run -1 --separate-stderr lb-check -1 -t "$T"
	[[ "$stderr" == *"pid $CHECKER" ]]
	kill "$CHECKER"
	wait "$CHECKER"
	# health stays in the table; a new checker may start
	is_health s1 up
	run -0 lb-check -1 -t "$T"
	[[ "$output" == *$'\tup\tup\t'* ]]
}

@test "lb-check: backends added and deleted with lb-ctl are followed without a restart" {
	backend n1
	checker -i 200ms -v
	wait_for 5 seen $'\tn1\t.*\tup\t'
	backend n2
	wait_for 5 seen $'\tn2\t.*\tunknown\tup\t'
	lb-ctl -t "$T" del n1
	n1=$(grep -c $'\tn1\t' "$OUT")
	n2=$(grep -c $'\tn2\t' "$OUT")
	# three more rounds of n2, and at most the one n1 had in flight
	wait_for 5 more_than $'\tn2\t' $((n2 + 2))
	[ "$(grep -c $'\tn1\t' "$OUT")" -le $((n1 + 1)) ]
}

@test "lb-check: TERM ends the round in flight and exits 0" {
	backend t1
	checker -i 2s -T 1s exec sh -c 'touch "$0"; sleep 0.3' \
	    "$BATS_TEST_TMPDIR/started"
	wait_for 5 test -e "$BATS_TEST_TMPDIR/started"
	kill -TERM "$CHECKER"
	rc=0
	wait "$CHECKER" || rc=$?
	[ "$rc" -eq 0 ]
	# the check in flight was finished and written
	seen $'\tt1\t.*\tunknown\tup\texec: ok\t'
	is_health t1 up
}

@test "lb-check: bad input is one line on stderr and exit 2 or 1" {
	lb-ctl -t "$T" create
	run -2 --separate-stderr lb-check -t "$T" ping
	[ "$stderr" = "lb-check: unknown check 'ping': tcp, http, tls or exec" ]
	run -2 --separate-stderr lb-check -t "$T" http status=600-100
	[ "$stderr" = "lb-check: bad status range '600-100': N or N-M, 100 to 599, comma separated" ]
	run -2 --separate-stderr lb-check -t "$T" http status=2xx
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -2 --separate-stderr lb-check -t "$T" exec /no/such/program
	[ "$stderr" = "lb-check: exec: '/no/such/program': no such program" ]
	run -2 --separate-stderr lb-check -t "$T" exec no-such-program-here
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -2 --separate-stderr lb-check -t "$T" -i 0
	[ "$stderr" = "lb-check: bad interval '0' (-i): a duration from 1ms to 30d, as 250ms, 1.5s or 2m" ]
	run -2 --separate-stderr lb-check -t "$T" -i 1s -T 2s
	[ "$stderr" = "lb-check: bad timeout '2s' (-T): longer than the interval 1s" ]
	# a decimal is what it says: 0.5 is half a second, and fits in 1s
	run -2 --separate-stderr lb-check -t "$T" -i 0.5 -T 1s
	[ "$stderr" = "lb-check: bad timeout '1s' (-T): longer than the interval 0.5" ]
	run -2 --separate-stderr lb-check -t "$T" -i 1.5ms
	[[ "$stderr" == "lb-check: bad interval '1.5ms' (-i): a duration from 1ms"* ]]
	run -2 --separate-stderr lb-check -t "$T" -t "$T"
	[ "$stderr" = "lb-check: -t given twice: one table" ]
	run -2 --separate-stderr lb-check -t "$T" -o backend,old
	[ "$stderr" = "lb-check: -o: unknown field 'old': the fields are time, table, backend, addr, from, to, reason, check_ms" ]
	# control bytes of an argument never reach the terminal raw
	run -2 --separate-stderr lb-check -t "$T" $'ping\e]0;x\a\nNEXT'
	[ "$stderr" = "lb-check: unknown check 'ping\x1b]0;x\x07\x0aNEXT': tcp, http, tls or exec" ]
	run -2 --separate-stderr lb-check -t "$T" -r 0
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -2 --separate-stderr lb-check -t "$T" http nopath
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -2 --separate-stderr lb-check -t "$T" tls verify=maybe
	[ "$stderr" = "lb-check: bad verify 'maybe': yes or no" ]
	run -1 --separate-stderr lb-check -t "$T.missing"
	[ "$stderr" = "lb-check: table $T.missing: no such table" ]
	[ -z "$output" ]
}

@test "lb-check: the EXAMPLES of lb-check(1) run" {
	backend web1 -m http -b ok
	cd "$BATS_TEST_TMPDIR"
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/lb-check.1" | sed 's/.\x08//g' |
	    awk '/^EXAMPLES/ { on = 1 } /^SEE ALSO/ { on = 0 } on' |
	    sed -n 's/^ *\$ //p' | sed "s/-t web /-t $T /" > examples
	[ "$(wc -l < examples)" -eq 6 ]
	while IFS= read -r cmd; do
		echo "$cmd"
		rc=0
		# -1 ends by itself (room for a sanitizer build); the rest
		# run until stopped, so a second of them is enough
		case $cmd in *" -1 "*) lim=10 ;; *) lim=1 ;; esac
		timeout "$lim" sh -c "$cmd" > out 2> err || rc=$?
		[ ! -s err ] || { cat err; false; }
		case $cmd in
		*" -1 "*) [ "$rc" -eq 0 ]
			grep -q $'\tweb1\t.*\tup\thttp: 200\t' out ;;
		*) [ "$rc" -eq 124 ] ;;	# still running when stopped
		esac
	done < examples
}

@test "lb-check: -c bounds how many exec checks run at once" {
	for i in 1 2 3 4 5 6; do
		lb-ctl -t "$T" add "127.0.0.1:$((40000 + i))" name="c$i"
	done
	mkdir "$BATS_TEST_TMPDIR/run"
	run -0 lb-check -1 -c 2 -t "$T" exec sh -c \
	    'touch "$0/$LB_BACKEND"; ls "$0" | wc -l >> "$0.n"; sleep 0.2; rm "$0/$LB_BACKEND"' \
	    "$BATS_TEST_TMPDIR/run"
	[ "${#lines[@]}" -eq 7 ]
	[ "$(wc -l < "$BATS_TEST_TMPDIR/run.n")" -eq 6 ]
	[ "$(sort -n "$BATS_TEST_TMPDIR/run.n" | tail -1)" -le 2 ]
	[ "$(sort -n "$BATS_TEST_TMPDIR/run.n" | tail -1)" -eq 2 ]
}

@test "lb-check: backends on IPv6 and on unix sockets are probed too" {
	bg tsrv -1 -m http -l "unix:$BATS_TEST_TMPDIR/s.sock" > "$BATS_TEST_TMPDIR/u"
	wait_for 5 test -s "$BATS_TEST_TMPDIR/u"
	lb-ctl -t "$T" add "unix:$BATS_TEST_TMPDIR/s.sock" name=u1
	bg tsrv -1 -m http -l '[::1]:0' > "$BATS_TEST_TMPDIR/v6"
	wait_for 5 test -s "$BATS_TEST_TMPDIR/v6"
	lb-ctl -t "$T" add "$(cat "$BATS_TEST_TMPDIR/v6")" name=v6
	run -0 lb-check -1 -t "$T" http /
	[ "$(printf '%s\n' "$output" | awk -F'\t' '$6 == "up" && $7 == "http: 200"' | wc -l)" -eq 2 ]
	run -0 lb-check -1 -t "$T" exec sh -c 'echo "$LB_HOST|$LB_PORT" >> "$0"' "$BATS_TEST_TMPDIR/env"
	grep -qx '::1|[0-9]*' "$BATS_TEST_TMPDIR/env"
	grep -qx '|' "$BATS_TEST_TMPDIR/env"
}

@test "lb-check: -p acts on the connect failures lb-tcp counts" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=gone
	lbt health "$T" gone up
	# active probes would need 100 failures: only passive health acts
	checker -i 1m -f 100 -p 3
	bg lb-tcp -1 -t "$T" -l 127.0.0.1:0 > "$BATS_TEST_TMPDIR/lb"
	wait_for 5 test -s "$BATS_TEST_TMPDIR/lb"
	for i in 1 2 3; do
		timeout 5 tcli "$(head -1 "$BATS_TEST_TMPDIR/lb")" < /dev/null || true
	done
	wait_for 5 seen $'\tgone\t.*\tup\tdown\tpassive: [0-9]+ connect failures\t'
	is_health gone down
}

@test "lb-check: HUP changes nothing; a destroyed table ends it with exit 1" {
	backend b1
	checker -i 200ms
	wait_for 5 seen $'\tb1\t.*\tunknown\tup\t'
	kill -HUP "$CHECKER"
	# still probing after the HUP: it sees the backend go
	kill "$PID_b1"
	wait_for 5 seen $'\tb1\t.*\tup\tdown\t'
	kill -0 "$CHECKER"
	lb-ctl -t "$T" destroy
	wait_for 10 gone "$CHECKER"
	rc=0
	wait "$CHECKER" || rc=$?
	[ "$rc" -eq 1 ]
}

@test "lb-check: a backend keeps one socket from probe to probe, closed when it leaves the table" {
	backend k1 -m http
	backend k2 -m http
	backend k3 -m http
	checker -i 50ms -T 50ms -f 1 -v http
	for b in k1 k2 k3; do
		wait_for 5 seen $'\t'"$b"$'\t.*\tup\tup\thttp: 200\t'
	done
	base=$(fds "$CHECKER")
	n=$(grep -c . "$OUT")
	wait_for 10 more_than . $((n + 60))
	# probes went on in that time, each on the backend's kept socket
	[ "$(fds "$CHECKER")" -eq "$base" ]
	# an http probe of a dead backend says the connect was refused
	kill "$PID_k1"
	wait "$PID_k1" || true
	wait_for 5 seen $'\tk1\t.*\tup\tdown\tconnect: refused\t'
	# k2 and k3 leave the table: their sockets are closed
	lb-ctl -t "$T" del k2 k3
	wait_for 5 fds_are "$CHECKER" $((base - 2))
	kill -0 "$CHECKER"
}
