#!/usr/bin/env bats
# 35-lb-http: the Layer 7 balancer: balancing, routing, the log, keep-alive
# and pooling, HTTP/1.0, bodies, headers, websockets, retries and errors.

load helpers/lib
load helpers/http
bats_require_minimum_version 1.5.0

@test "lb-http: round robin over backends named on the command line, its own table, a line per request" {
	start_hsrv one; start_hsrv two
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}" "${HS[two]}"
	[ "$LHTABLE" = "http-127.0.0.1-${LH##*:}" ]
	got=""
	for i in 1 2 3 4; do got="$got $(get /)"; done
	[ "$got" = " one two one two" ]
	wait_for 5 lh_has 4
	# the header names the fields
	grep -q $'^# time\tclient\tmethod\thost\tpath\tstatus\tbytes_in\tbytes_out\troute\tbackend\tttfb_ms\tms\tend$' "$LHLOG"
	run -0 lhlog
	[ "$(printf '%s\n' "${lines[0]}" | awk -F'\t' '{print NF, $3, $4, $5, $6, $9, $10, $13}')" = "13 GET $LH / 200 - ${HS[one]} keep-alive" ]
	run -0 lb-stat -t "$LHTABLE" -H
	[ "${#lines[@]}" -eq 2 ]
	stop_lbh
	[ ! -e "/dev/shm/lb.$LHTABLE" ]
}

@test "lb-http: -j logs JSON lines, -q nothing" {
	start_hsrv one
	start_lbh -j -w 1 -l 127.0.0.1:0 "${HS[one]}"
	[ "$(get '/a%20b?q="x"')" = one ]
	wait_for 5 lh_has 1
	run -0 python3 -c 'import json,sys; d = json.loads(sys.stdin.readline()); print(d["method"], d["path"], d["status"], d["backend"], d["route"], d["end"], type(d["ms"]).__name__)' < <(lhlog)
	# no rule: the route is missing, null as in every program's JSON
	[ "$output" = "GET /a%20b?q=\"x\" 200 ${HS[one]} None keep-alive int" ]
	stop_lbh
	start_lbh -q -w 1 -l 127.0.0.1:0 "${HS[one]}"
	[ "$(get /)" = one ]
	stop_lbh
	[ "$(lhlog | wc -l)" -eq 0 ]
}

@test "lb-http: routes by host and path to tables, on segment boundaries, the most specific first" {
	start_hsrv auth; start_hsrv settings; start_hsrv www; start_hsrv api; start_hsrv dflt
	lb-ctl -t "$T.auth" add "${HS[auth]}" name=auth
	lb-ctl -t "$T.set" add "${HS[settings]}" name=settings
	lb-ctl -t "$T.www" add "${HS[www]}" name=www
	lb-ctl -t "$T.api" add "${HS[api]}" name=api
	start_lbh -w 1 -r "/auth=$T.auth" -r "/settings/=$T.set" \
	    -r "www.example.com=$T.www" -r "*.example.com/api=$T.api" \
	    -l 127.0.0.1:0 "${HS[dflt]}"
	[ "$(get /auth)" = auth ]
	[ "$(get /auth/login?x=1)" = auth ]
	[ "$(get /authors)" = dflt ]
	[ "$(get /settings)" = settings ]
	[ "$(get /settings/a/b)" = settings ]
	[ "$(get /)" = dflt ]
	# the host: exact, case and port ignored; a wildcard covers names under it
	[ "$(get / -H 'Host: WWW.Example.com:8080')" = www ]
	[ "$(get /api/v1 -H 'Host: eu.example.com')" = api ]
	[ "$(get /api/v1 -H 'Host: example.com')" = dflt ]
	# the longest host wins over any path
	[ "$(get /auth -H 'Host: www.example.com')" = www ]
	# what each request took is in the log
	wait_for 5 lh_has 10
	[ "$(lhlog | awk -F'\t' '$5 == "/auth/login?x=1" {print $9}')" = /auth ]
	[ "$(lhlog | awk -F'\t' '$5 == "/api/v1" && $6 == 200 {print $9; exit}')" = "*.example.com/api" ]
	for t in auth set www api; do lb-ctl -t "$T.$t" destroy; done
}

@test "lb-http: strip takes the rule's prefix off the path; no route and no default is a 404" {
	start_hsrv api
	lb-ctl -t "$T.api" add "${HS[api]}" name=api
	start_lbh -w 1 -r "/api/=$T.api,strip" -l 127.0.0.1:0
	[ "$LHTABLE" = "-" ]
	run -0 get /api/echo?id=3
	[ "${lines[0]}" = $'GET /echo?id=3 HTTP/1.1\r' ]
	run -0 get /api
	[ "${lines[0]}" = "api" ]
	[ "$(code /other)" = 404 ]
	run -0 get /other
	[ "$output" = "lb-http: no route for this host and path" ]
	lb-ctl -t "$T.api" destroy
}

@test "lb-http: every table is live: lb-ctl changes where a route goes on the next request" {
	start_hsrv a; start_hsrv b
	lb-ctl -t "$T" add "${HS[a]}" name=a
	start_lbh -w 1 -r "/x=$T" -l 127.0.0.1:0
	[ "$(get /x)" = a ]
	lb-ctl -t "$T" add "${HS[b]}" name=b
	lb-ctl -t "$T" drain a
	[ "$(get /x)" = b ]
	[ "$(get /x)" = b ]
	lb-ctl -t "$T" maint b
	[ "$(code /x)" = 503 ]
	run -0 get /x
	[ "$output" = "lb-http: no backend for this request" ]
	# counted per backend: requests and responses by class
	[ "$(stat_col "$T" b requests)" = 2 ]
}

@test "lb-http: -R reads rules from a file, again on HUP, without dropping a connection" {
	start_hsrv a; start_hsrv b
	lb-ctl -t "$T.a" add "${HS[a]}" name=a
	lb-ctl -t "$T.b" add "${HS[b]}" name=b
	echo "/p=$T.a   # the first" > "$BATS_TEST_TMPDIR/rules"
	start_lbh -w 1 -R "$BATS_TEST_TMPDIR/rules" -l 127.0.0.1:0
	[ "$(get /p)" = a ]
	# a connection kept alive across the reload
	exec {fd}<>"/dev/tcp/127.0.0.1/${LH##*:}"
	printf 'GET /p HTTP/1.1\r\nHost: x\r\n\r\n' >&$fd
	read -r -t 5 status <&$fd
	[[ "$status" == "HTTP/1.1 200"* ]]
	echo "/p=$T.b" > "$BATS_TEST_TMPDIR/rules"
	kill -HUP "$LHPID"
	wait_for 5 bash -c "[ \"\$(curl -s 'http://$LH/p')\" = b ]"
	# a broken file leaves the rules as they were
	echo "/p=bad name!" > "$BATS_TEST_TMPDIR/rules"
	kill -HUP "$LHPID"
	wait_for 5 grep -q 'HUP: .*rules: line 1' "$LHLOG.err"
	[ "$(get /p)" = b ]
	# the connection from before still answers
	printf 'GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&$fd
	run -0 timeout 5 cat <&$fd
	[[ "$output" == *$'\r\n\r\nb'* ]]
	exec {fd}>&-
	lb-ctl -t "$T.a" destroy; lb-ctl -t "$T.b" destroy
}

@test "lb-http: keep-alive on both sides: 50 requests on one client connection, one backend connection" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	urls=()
	for i in $(seq 50); do urls+=("http://$LH/n$i"); done
	run -0 curl -s -m 20 "${urls[@]}"
	[ "${#lines[@]}" -eq 50 ]
	[ "$(conns_of one)" = 1 ]
	[ "$(requests_of one)" = 50 ]
}

@test "lb-http: backend connections are pooled across clients: 40 clients, one after another, one connection" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	for i in $(seq 40); do [ "$(get /c$i)" = one ]; done
	[ "$(conns_of one)" = 1 ]
	# and 20 at once need no more than were in flight at once
	pids=()
	for i in $(seq 20); do get /slow/200 > /dev/null & pids+=($!); done
	wait "${pids[@]}"
	[ "$(conns_of one)" -le 21 ]
	[ "$(requests_of one)" = 60 ]
}

# estab_to PORT N: N connections established to PORT on this machine
estab_to() { [ "$(ss -Htn state established "( dport = :$1 )" | wc -l)" = "$2" ]; }

@test "lb-http: the pool goes on after its idle connections expire" {
	start_hsrv one
	start_lbh -w 1 -T pool=300ms -l 127.0.0.1:0 "${HS[one]}"
	[ "$(get /a)" = one ]
	# the idle connection expires and is closed: none left open
	wait_for 5 estab_to "${HS[one]##*:}" 0
	# the next twenty, one after another, share one new connection
	for i in $(seq 20); do [ "$(get /b$i)" = one ]; done
	[ "$(conns_of one)" = 2 ]
	wait_for 5 estab_to "${HS[one]##*:}" 0
	[ "$(get /c)" = one ]
	[ "$(conns_of one)" = 3 ]
}

@test "lb-http: pipelined requests are answered in order" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	run -0 hcli.py "$LH" 'GET /slow/100 HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: b\r\n\r\nGET /status/201 HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n'
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/1.1 ')" = 3 ]
	[ "$(printf '%s\n' "$output" | grep '^HTTP/1.1 ' | cut -c10-12 | tr '\n' ' ')" = "200 200 201 " ]
	[[ "$output" == *"slow"*"Host: b"*"status 201"* ]]
}

@test "lb-http: HTTP/1.0 clients: closed unless keep-alive, chunked taken off, no 1xx" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	run -0 hcli.py "$LH" 'GET /chunked HTTP/1.0\r\n\r\n'
	[[ "${lines[0]}" == "HTTP/1.1 200"* ]]
	[[ "$output" == *"Connection: close"* ]]
	[[ "$output" != *"Transfer-Encoding"* ]]
	[[ "$output" == *$'\r\n\r\nhello world' ]]
	# keep-alive asked: kept, and said so
	run -3 hcli.py -t 1 "$LH" 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
	[[ "$output" == *"Connection: keep-alive"* ]]
	# the backend gets HTTP/1.1, with a Host
	run -0 hcli.py "$LH" 'GET /echo HTTP/1.0\r\n\r\n'
	[[ "$output" == *"GET /echo HTTP/1.1"*"Host: "* ]]
	# 100 Continue is for 1.1 clients only
	run -0 hcli.py "$LH" 'POST /continue HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc'
	[[ "$output" != *"100 Continue"* ]]
	[[ "$output" == *"got 3"* ]]
}

@test "lb-http: HEAD, 204 and 304 have no body; 1xx and Expect: 100-continue pass" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	run -0 hcli.py "$LH" 'HEAD /status/200 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/204 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
	[ "$(printf '%s\n' "$output" | grep '^HTTP/1.1 ' | cut -c10-12 | tr '\n' ' ')" = "200 204 304 200 " ]
	[[ "$output" == *$'\r\n\r\none' ]]
	[[ "$output" != *"status 200"* ]]
	run -0 curl -sS -m 10 -H 'Expect: 100-continue' --data-binary @/etc/services "http://$LH/continue"
	[ "$output" = "got $(wc -c < /etc/services)" ]
	run -0 hcli.py "$LH" 'PUT /continue HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n' 'ok'
	[[ "${lines[0]}" == "HTTP/1.1 100 Continue"* ]]
	[[ "$output" == *"got 2"* ]]
	# OPTIONS * goes as it is
	run -0 hcli.py "$LH" 'OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
	[[ "${lines[0]}" == "HTTP/1.1 200"* ]]
}

@test "lb-http: hop-by-hop fields go, X-Forwarded-* come; -X trusts a proxy in front; -F adds Forwarded" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	run -0 get /echo -H 'Connection: X-Secret, keep-alive' -H 'X-Secret: 1' \
	    -H 'Keep-Alive: 5' -H 'Proxy-Connection: keep-alive' -H 'TE: trailers' \
	    -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Forwarded-Proto: gopher' -H 'X-Kept: yes'
	[[ "$output" != *"X-Secret"* ]]
	[[ "$output" != *"Keep-Alive"* ]]
	[[ "$output" != *"Proxy-Connection"* ]]
	[[ "$output" != *"TE: "* ]]
	[[ "$output" != *"6.6.6.6"* ]]
	[[ "$output" != *"gopher"* ]]
	[[ "$output" == *"X-Kept: yes"* ]]
	[[ "$output" == *$'X-Forwarded-For: 127.0.0.1\r'* ]]
	[[ "$output" == *$'X-Forwarded-Proto: http\r'* ]]
	[[ "$output" == *$'X-Forwarded-Host: '"$LH"$'\r'* ]]
	stop_lbh
	start_lbh -w 1 -X 127.0.0.0/8 -F -l 127.0.0.1:0 "${HS[one]}"
	run -0 get /echo -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Forwarded-Proto: https' \
	    -H 'Forwarded: for=203.0.113.7'
	[[ "$output" == *$'X-Forwarded-For: 203.0.113.7, 127.0.0.1\r'* ]]
	[[ "$output" == *$'X-Forwarded-Proto: https\r'* ]]
	[[ "$output" == *'Forwarded: for=203.0.113.7, for=127.0.0.1;proto=http;host="'"$LH"'"'* ]]
}

@test "lb-http: -e sets, adds and deletes request and response fields" {
	start_hsrv one
	start_lbh -w 1 -e 'req set X-Env: prod' -e 'req del User-Agent' \
	    -e 'req add X-Tag: a' -e 'resp set X-Backend: hidden' \
	    -e 'resp add Strict-Transport-Security: max-age=600' \
	    -l 127.0.0.1:0 "${HS[one]}"
	run -0 get /echo -H 'X-Env: dev' -D "$BATS_TEST_TMPDIR/h"
	[[ "$output" == *$'X-Env: prod\r'* ]]
	[[ "$output" != *"X-Env: dev"* ]]
	[[ "$output" != *"User-Agent"* ]]
	[[ "$output" == *$'X-Tag: a\r'* ]]
	grep -q $'^X-Backend: hidden\r$' "$BATS_TEST_TMPDIR/h"
	[ "$(grep -c '^X-Backend' "$BATS_TEST_TMPDIR/h")" = 1 ]
	grep -q $'^Strict-Transport-Security: max-age=600\r$' "$BATS_TEST_TMPDIR/h"
	run -2 --separate-stderr lb-http -e 'req frob X' -l 127.0.0.1:0 "${HS[one]}"
	[[ "$stderr" == "lb-http: bad edit 'req frob X': "* ]]
}

@test "lb-http: a websocket upgrade becomes a tunnel; CONNECT is refused" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	run -3 hcli.py -t 1 "$LH" 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' 'frame one' 'frame two'
	[[ "${lines[0]}" == "HTTP/1.1 101 Switching Protocols"* ]]
	[[ "$output" == *"Upgrade: websocket"* ]]
	[[ "$output" == *$'\r\n\r\nframe oneframe two' ]]
	wait_for 5 grep -q $'\ttunnel$' "$LHLOG"
	run -0 hcli.py "$LH" 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
	[[ "${lines[0]}" == "HTTP/1.1 405"* ]]
	[ "$(requests_of one)" = 1 ]
}

@test "lb-http: bodies: 1 MiB and 64 MiB responses and a 20 MiB upload arrive whole" {
	start_hsrv one
	start_lbh -w 1 -l 127.0.0.1:0 "${HS[one]}"
	want=$(python3 -c 'import hashlib,sys; n=1048576; p=b"0123456789abcdef"*4096; b=(p*(n//len(p)+1))[:n]; print(hashlib.sha256(b).hexdigest())')
	[ "$(get /big/1048576 | sha256sum | cut -d' ' -f1)" = "$want" ]
	[ "$(get /big/67108864 | wc -c)" = 67108864 ]
	head -c 20971520 /dev/urandom > "$BATS_TEST_TMPDIR/up"
	sum=$(sha256sum < "$BATS_TEST_TMPDIR/up" | cut -d' ' -f1)
	[ "$(get /sum --data-binary @"$BATS_TEST_TMPDIR/up")" = "20971520 $sum" ]
	# chunked up, as it came
	[ "$(get /sum -H 'Transfer-Encoding: chunked' --data-binary @"$BATS_TEST_TMPDIR/up")" = "20971520 $sum" ]
	wait_for 5 lh_has 4
	[ "$(lhlog | awk -F"\t" '$5 == "/big/67108864" {print ($8 > 67108864)}')" = 1 ]
}

@test "lb-http: a killed backend under load costs no client a request" {
	start_hsrv one; start_hsrv two; start_hsrv three
	lb-ctl -t "$T" add "${HS[one]}" name=one
	lb-ctl -t "$T" add "${HS[two]}" name=two
	lb-ctl -t "$T" add "${HS[three]}" name=three
	start_lbh -w 1 -t "$T" -l 127.0.0.1:0
	run -0 flood.py -c 10 -n 5 "$LH"
	kill "${HSPID[two]}"; wait "${HSPID[two]}" || true
	# its pooled connections close under us, its connects are refused
	run -0 flood.py -c 10 -n 10 "$LH"
	[ "$output" = "ok 100 failed 0" ]
	[ "$(stat_col "$T" two fail)" -ge 1 ]
}

@test "lb-http: 502 for a bad response, 504 for a slow one, and the connection is not reused" {
	start_hsrv one
	start_lbh -w 1 -T server=500ms -l 127.0.0.1:0 "${HS[one]}"
	for k in clte twocl badcl te10 badchunk lf status fold space garbage; do
		c=$(code /bad/$k || true)
		echo "$k $c"
		[ "$c" = 502 ] || [ "$k" = badchunk ]
	done
	[ "$(code /slow/2000)" = 504 ]
	run -0 get /slow/2000
	[ "$output" = "lb-http: the backend did not answer in time" ]
	# every bad one closed its connection: each took a new one
	n=$(conns_of one)
	[ "$(get /)" = one ]
	[ "$(conns_of one)" = $((n + 1)) ]
	wait_for 5 grep -q $'\tbad-response$' "$LHLOG"
	grep -q $'\t504\t.*\tserver-timeout$' "$LHLOG"
}

@test "lb-http: maxconn counts requests in flight; the rest wait, then 503; a flood gets 200 or 503" {
	start_hsrv one
	lb-ctl -t "$T" add "${HS[one]}" name=one maxconn=2
	start_lbh -w 1 -Q 300ms -t "$T" -l 127.0.0.1:0
	pids=()
	for i in 1 2 3 4 5 6; do
		code /slow/1000 > "$BATS_TEST_TMPDIR/c$i" & pids+=($!)
	done
	# the four beyond maxconn wait, and lb-stat shows them queued
	wait_for 5 queued_is "$T" 4
	wait "${pids[@]}"
	[ "$(cat "$BATS_TEST_TMPDIR"/c* | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" = "200:2 503:4 " ]
	[ "$(table_queued "$T")" = 0 ]
	stop_lbh
	lb-ctl -t "$T" set one maxconn=20
	start_lbh -w 2 -Q 2s -t "$T" -l 127.0.0.1:0
	# every client gets an answer (a 200, or a 503), none a reset
	run -0 flood.py -c 200 -n 2 "$LH"
	[ "$output" = "ok 400 failed 0" ]
	[ "$(code /)" = 200 ]
	kill -0 "$LHPID"
}

# man_example TEXT: the example commands of lb-http(1) holding TEXT, made
# this test's own: its backends and tables, port 0, no "&".
man_example() {
	sed -n 's/^\$ //p' "$BATS_TEST_DIRNAME/../man/lb-http.1" | grep -F -- "$1" |
	    sed -e 's/\\e/\\/g' -e "s/127.0.0.1:9001/${HS[a]}/g" \
	    -e "s/127.0.0.1:9002/${HS[b]}/g" -e "s/-l :8080/-l 127.0.0.1:0/" \
	    -e "s/=auth\b/=$T.auth/g" -e "s/-t auth\b/-t $T.auth/g" \
	    -e "s/=settings\b/=$T.settings/g" -e "s/-t settings\b/-t $T.settings/g" \
	    -e "s/=api,/=$T.api,/g" -e "s/=www'/=$T.www'/g" -e "s/-t web\b/-t $T/g" \
	    -e 's/ & pid=\$!$//' -e 's/ &$//' -e 's/^lb-http //'
}

@test "lb-http(1): the EXAMPLES run" {
	start_hsrv a; start_hsrv b
	cd "$BATS_TEST_TMPDIR"
	start_lbh -w 1 $(man_example "lb-http -l :8080")
	[ "$(get /)" = a ]
	[ "$(get /)" = b ]
	stop_lbh
	eval "$(man_example "lb-ctl -t auth add")"
	eval "$(man_example "lb-ctl -t settings add")"
	eval "start_lbh -w 1 $(man_example "-r /auth=auth")"
	[ "$(get /auth)" = a ]
	[ "$(get /settings)" = b ]
	stop_lbh
	lb-ctl -t "$T.api" add "${HS[a]}"
	lb-ctl -t "$T.www" add "${HS[b]}"
	eval "start_lbh -w 1 $(man_example "strip")"
	run -0 get /api/echo
	[ "${lines[0]}" = $'GET /echo HTTP/1.1\r' ]
	[ "$(get / -H 'Host: www.example.com')" = b ]
	stop_lbh
	lb-ctl -t "$T" add "${HS[b]}"
	eval "$(man_example "printf")"
	eval "start_lbh -w 1 $(man_example "-R rules")"
	[ "$(get /auth)" = a ]
	[ "$(get /)" = b ]
	pid=$LHPID
	eval "$(man_example 'kill -HUP')"
	[ "$(get /settings)" = b ]
	stop_lbh
	eval "start_lbh -w 1 $(man_example "-X 10.0.0.0/8")"
	run -0 curl -sS -m 10 -D - "http://$LH/"
	[[ "$output" == *$'Strict-Transport-Security: max-age=63072000\r'* ]]
	stop_lbh
	for t in auth settings api www; do lb-ctl -t "$T.$t" destroy; done
}
