#!/usr/bin/env bats
# 14-lb-stat-http: -p, and -l serving it at /metrics to scrapers and to worse.

load helpers/lib

# serve: lb-stat -l on a free port; A is its host:port, PORT the port.
serve() {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lb-ctl -t "$T" add 127.0.0.1:2 name=b
	bg lb-stat -t "$T" -p -l 127.0.0.1:0 -1 > "$BATS_TEST_TMPDIR/addr" \
	    2> "$BATS_TEST_TMPDIR/err"
	SRV=$BG_PID
	wait_for 5 test -s "$BATS_TEST_TMPDIR/addr"
	A=$(cat "$BATS_TEST_TMPDIR/addr")
	PORT=${A##*:}
}

# raw BYTES: send BYTES on a new connection, print the first line back.
raw() {
	timeout 5 bash -c 'exec 5<>/dev/tcp/127.0.0.1/$1; printf "%b" "$2" >&5;
	    head -1 <&5 | tr -d "\r"' raw "$PORT" "$1"
}

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

@test "lb-stat -p: promtool and the strict checker both accept it" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lbt bump "$T" a 2xx 3
	lbt check "$T" a 7 L7OK
	run -0 bash -c "lb-stat -t '$T' -p | promcheck.py"
	run -0 bash -c "lb-stat -t '$T' -p | promtool check metrics"
}

@test "lb-stat -p: 1,000 backends make a small enough page" {
	lb-ctl -t "$T" create -n 1000
	for i in $(seq 1000); do
		echo "10.0.$((i / 250)).$((i % 250 + 1)):8080 name=app-$i"
	done | lb-ctl -t "$T" sync
	lb-stat -t "$T" -p > "$BATS_TEST_TMPDIR/p"
	run -0 promcheck.py < "$BATS_TEST_TMPDIR/p"
	run -0 promtool check metrics < "$BATS_TEST_TMPDIR/p"
	bytes=$(wc -c < "$BATS_TEST_TMPDIR/p")
	echo "# 1000 backends: $bytes bytes" >&3
	[ "$(grep -c '^lb_backend_weight{' "$BATS_TEST_TMPDIR/p")" -eq 1000 ]
	[ "$bytes" -lt 1600000 ]
}

@test "lb-stat -l: /metrics answers curl, with the table's numbers" {
	serve
	lbt bump "$T" a total 42
	run -0 curl -sf "http://$A/metrics"
	[[ "$output" == *"lb_backend_total{table=\"$T\",backend=\"a\"} 42"* ]]
	curl -sf "http://$A/metrics" | promcheck.py
	curl -sf "http://$A/metrics" | promtool check metrics
	run -0 curl -sfI "http://$A/metrics"
	[[ "$output" == *"Content-Type: text/plain; version=0.0.4"* ]]
	[[ "$output" == *"Content-Length: "* ]]
}

@test "lb-stat -l: concurrent scrapes all get the whole page" {
	serve
	pids=()
	for i in $(seq 12); do
		curl -sf -o "$BATS_TEST_TMPDIR/s$i" "http://$A/metrics" 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	want=$(curl -sf "http://$A/metrics" | wc -c)
	for i in $(seq 12); do
		[ "$(wc -c < "$BATS_TEST_TMPDIR/s$i")" -eq "$want" ]
		promcheck.py < "$BATS_TEST_TMPDIR/s$i"
	done
	kill -0 "$SRV"
}

@test "lb-stat -l: scrapes while counters move under traffic" {
	serve
	( for i in $(seq 200); do lbt bump "$T" a total 1; done ) 3>&- &
	mover=$!
	for i in $(seq 20); do
		curl -sf "http://$A/metrics" | promcheck.py
	done
	wait "$mover"
	run -0 curl -sf "http://$A/metrics"
	[[ "$output" == *"backend=\"a\"} 200"* ]]
}

@test "lb-stat -l: another page is 404, another method 405" {
	serve
	[ "$(code "http://$A/")" = 404 ]
	[ "$(code "http://$A/metricsx")" = 404 ]
	[ "$(code "http://$A/metrics?name=x")" = 200 ]
	[ "$(code -X POST -d x "http://$A/metrics")" = 405 ]
	run -0 curl -si -X DELETE "http://$A/metrics"
	[[ "$output" == *"Allow: GET, HEAD"* ]]
	[[ "$output" == *"Connection: close"* ]]
}

@test "lb-stat -l: malformed requests get 400, 414, 431 or 505, and close" {
	serve
	[ "$(raw 'GET /metrics HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ]
	[ "$(raw 'GET /metrics HTTP/1.1\nHost: a\n\n')" = "HTTP/1.1 400 Bad Request" ]
	[ "$(raw 'GET /metrics HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ]
	[ "$(raw 'GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ]
	[ "$(raw 'GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n')" = "HTTP/1.1 505 HTTP Version Not Supported" ]
	[ "$(raw '\x00\x01\x02garbage\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ]
	long=$(printf '%09000d' 0)
	[ "$(code "http://$A/metrics?$long")" = 414 ]
	[ "$(code -H "X-Long: $long" "http://$A/metrics")" = 431 ]
	run -0 curl -si -H "X-Long: $long" "http://$A/metrics"
	[[ "$output" == *"Connection: close"* ]]
	[ "$(code "http://$A/metrics")" = 200 ]
	kill -0 "$SRV"
}

@test "lb-stat -l: two requests on one connection get two answers" {
	serve
	run -0 timeout 5 bash -c 'exec 5<>/dev/tcp/127.0.0.1/$1
	    printf "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" >&5
	    grep -ac "^HTTP/1.1 200 OK" <&5' x "$PORT"
	[ "$output" = 2 ]
}

@test "lb-stat -l: a client that never finishes is cut off; others are served meanwhile" {
	serve
	exec 4<>/dev/tcp/127.0.0.1/"$PORT"
	printf 'GET /metr' >&4
	[ "$(code "http://$A/metrics")" = 200 ]
	# Closed by the server within its 10 s: read sees the end.
	run -0 timeout 15 cat <&4
	exec 4<&-
	[ "$(code "http://$A/metrics")" = 200 ]
}

@test "lb-stat -l: a table gone is 503 until it is back; TERM exits 0" {
	serve
	lb-ctl -t "$T" destroy
	[ "$(code "http://$A/metrics")" = 503 ]
	run -0 curl -s "http://$A/metrics"
	[ "$output" = "lb-stat: table $T: no such table" ]
	lb-ctl -t "$T" add 127.0.0.1:3 name=z
	run -0 curl -sf "http://$A/metrics"
	[[ "$output" == *'backend="z"'* ]]
	kill -TERM "$SRV"
	wait "$SRV"
	grep -q "table $T: the table was removed" "$BATS_TEST_TMPDIR/err"
}

@test "lb-stat -l with no table: every table of the machine, as tables come and go" {
	cat > "$BATS_TEST_TMPDIR/all.sh" <<-'EOF'
	set -e
	lb-ctl -t web add 127.0.0.1:1 name=a
	lb-stat -l 127.0.0.1:0 -1 > "$1/addr" 2> "$1/err" &
	srv=$!
	trap 'kill $srv' EXIT
	i=0; until [ -s "$1/addr" ] || [ $i -ge 500 ]; do sleep 0.01; i=$((i+1)); done
	A=$(cat "$1/addr")
	curl -sf "http://$A/metrics" > "$1/one"
	lb-ctl -t api add 127.0.0.1:2 name=b
	curl -sf "http://$A/metrics" > "$1/two"
	lb-ctl -t web destroy
	curl -sf "http://$A/metrics" > "$1/three"
	EOF
	run -0 in_private_shm timeout 30 bash "$BATS_TEST_TMPDIR/all.sh" "$BATS_TEST_TMPDIR"
	cd "$BATS_TEST_TMPDIR"
	for f in one two three; do
		promcheck.py < "$f"
		promtool check metrics < "$f"
	done
	grep -q '^lb_backend_weight{table="web",backend="a"} 1$' one
	! grep -q 'table="api"' one
	grep -q '^lb_backend_weight{table="api",backend="b"} 1$' two
	grep -q '^lb_backend_weight{table="web",backend="a"} 1$' two
	[ "$(grep -c '^# TYPE lb_backend_weight gauge$' two)" -eq 1 ]
	grep -q '^lb_table_slots{table="api"} 256$' three
	! grep -q 'table="web"' three
	[ ! -s err ]
}

@test "lb-stat -l: a bad address is bad usage" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	run -2 --separate-stderr lb-stat -t "$T" -l nonsense
	[[ "$stderr" == "lb-stat: bad -l 'nonsense': "* ]]
	run -2 --separate-stderr lb-stat -t "$T" -l 127.0.0.1:0 -w 1
	[[ "$stderr" == "lb-stat: -l serves Prometheus metrics"* ]]
}

@test "lb-stat.1 example: -l :PORT listens on every address" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	bg lb-stat -t "$T" -l :0 -1 > "$BATS_TEST_TMPDIR/addr"
	wait_for 5 test -s "$BATS_TEST_TMPDIR/addr"
	port=$(sed 's/.*://' "$BATS_TEST_TMPDIR/addr")
	run -0 curl -sf "http://127.0.0.1:$port/metrics"
	[[ "$output" == *'lb_backend_weight{table="'"$T"'",backend="a"} 1'* ]]
}

# fds_below PID N: how many of the descriptors 0 to N-1 PID has open
fds_below() { ls "/proc/$1/fd" | awk -v n="$2" '$1 < n' | wc -l; }
full_at() { [ "$(fds_below "$1" "$2")" -eq "$2" ]; }
# backlog HOST:PORT: the connections waiting for an accept on a listener
backlog() { ss -Hltn "sport = :${1##*:}" | awk '{ print $2 }'; }
backlog_is() { [ "$(backlog "$1")" -eq "$2" ]; }

@test "lb-stat -l: out of descriptors, a client waiting in the backlog is served once they free up" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lim=24
	bg prlimit --nofile=$lim:$lim lb-stat -t "$T" -l 127.0.0.1:0 -1 \
	    > "$BATS_TEST_TMPDIR/addr" 2> "$BATS_TEST_TMPDIR/err"
	SRV=$BG_PID
	wait_for 5 test -s "$BATS_TEST_TMPDIR/addr"
	A=$(cat "$BATS_TEST_TMPDIR/addr")
	# idle connections, two more than it has descriptors for
	held=()
	for i in $(seq $((lim - $(fds_below "$SRV" "$lim") + 2))); do
		exec {fd}<>"/dev/tcp/127.0.0.1/${A##*:}"
		held+=("$fd")
	done
	wait_for 5 full_at "$SRV" "$lim"
	wait_for 5 grep -q 'accept: Too many open files' "$BATS_TEST_TMPDIR/err"
	# a scrape now waits in the backlog (without the held connections)
	queued=$(backlog "$A")
	(
		for fd in "${held[@]}"; do exec {fd}>&-; done
		exec curl -sf --max-time 5 -o "$BATS_TEST_TMPDIR/page" \
		    "http://$A/metrics"
	) 3>&- &
	scrape=$!
	wait_for 5 backlog_is "$A" $((queued + 1))
	# let the held ones go: no other client comes to wake the listener
	for fd in "${held[@]}"; do exec {fd}>&-; done
	wait "$scrape"
	grep -q '^lb_backend_weight{table="'"$T"'",backend="a"} 1$' \
	    "$BATS_TEST_TMPDIR/page"
	[ "$(grep -c 'accept: ' "$BATS_TEST_TMPDIR/err")" -eq 1 ]
	kill -0 "$SRV"
}
