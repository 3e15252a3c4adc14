#!/usr/bin/env bats
# 36-lb-http-framing: requests that could smuggle another are refused with
# the status RFC 9112 names, the connection is closed, and the backend
# sees nothing; responses that break the same rules are a 502.

#
# The same cases run over TLS, from 36-lb-http-framing-tls.bats, a link
# to this file: run by that name, the listener is -L and hcli.py speaks
# TLS (HCLI_TLS), so that TLS termination parses exactly as plain HTTP.

load helpers/lib
load helpers/http
load helpers/tls
bats_require_minimum_version 1.5.0

if [[ $BATS_TEST_FILENAME == *-tls.bats ]]; then
	BATS_TEST_NAME_PREFIX="over TLS: "
	setup_file() { tls_pki; }
	listen() { echo -L "$1" -c "$PKI/rsa.pem"; }
else
	listen() { echo -l "$1"; }
fi

setup() {
	lb_setup
	[[ $BATS_TEST_FILENAME != *-tls.bats ]] || export HCLI_TLS="$PKI/ca.crt"
	start_hsrv one
	# shellcheck disable=SC2046
	start_lbh -w 1 -T head=2s $(listen "${LISTEN:-127.0.0.1:0}") "${HS[one]}"
}

# refused STATUS RAW...: lb-http answers RAW with STATUS, then closes, and
# the backend has had no request
refused() {
	local want=$1
	shift
	run -0 hcli.py -t 5 "$LH" "$@"
	echo "$output" | head -3
	[[ "${lines[0]}" == "HTTP/1.1 $want "* ]]
	[[ "$output" == *"Connection: close"* ]]
	# refused for what it is, not for being plain HTTP on a TLS port
	[[ "$output" != *"this port speaks TLS"* ]]
	[ "$(requests_of one)" = 0 ]
}

H='Host: a\r\n'

@test "framing: Content-Length and Transfer-Encoding together: 400" {
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"
}

@test "framing: several or malformed Content-Lengths: 400" {
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc"
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc"
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc"
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length: 3 3\r\n\r\nabc"
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n"
}

@test "framing: a Transfer-Encoding that does not end in one chunked, or on HTTP/1.0: 400; an unknown coding: 501" {
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"
	refused 400 "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	# a coding none knows is not implemented (RFC 9112 6.1): 501
	refused 501 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
	refused 501 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: br, chunked\r\n\r\n0\r\n\r\n"
}

@test "framing: bad chunk sizes or lines: 400" {
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nz\r\nabc\r\n0\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"
	refused 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1000000000000000\r\n"
}

@test "framing: whitespace before a colon, obs-fold, bare CR or LF, NUL and controls: 400" {
	refused 400 "GET / HTTP/1.1\r\n${H}Content-Length : 0\r\n\r\n"
	refused 400 "GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n"
	refused 400 "GET / HTTP/1.1\r\n ${H}\r\n"
	refused 400 "GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n"
	refused 400 "GET / HTTP/1.1\n${H}\r\n"
	refused 400 "GET / HTTP/1.1\r\nHost: a\n\r\n"
	refused 400 "GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n"
	refused 400 "GET / HTTP/1.1\r\n${H}X: a\x01b\r\n\r\n"
	refused 400 "GET /a\x7fb HTTP/1.1\r\n${H}\r\n"
	refused 400 "GET  / HTTP/1.1\r\n${H}\r\n"
	refused 400 "G@T / HTTP/1.1\r\n${H}\r\n"
}

@test "framing: a missing or repeated Host, an absolute-form target that is not the Host: 400" {
	refused 400 "GET / HTTP/1.1\r\n\r\n"
	refused 400 "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
	refused 400 "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"
	refused 400 "GET http://b.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"
	refused 400 "GET http://user@a/ HTTP/1.1\r\n${H}\r\n"
	# the absolute-form that agrees goes as an origin-form
	run -0 hcli.py "$LH" "GET http://a/echo HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
	[[ "$output" == *$'\r\n\r\nGET /echo HTTP/1.1\r\n'* ]]
}

@test "framing: limits: 414 for a long target, 431 for a long head or too many fields, 505, 501, 417" {
	long=$(head -c 9000 /dev/zero | tr '\0' a)
	refused 414 "GET /$long HTTP/1.1\r\n${H}\r\n"
	big=$(head -c 17000 /dev/zero | tr '\0' b)
	refused 431 "GET / HTTP/1.1\r\n${H}X: $big\r\n\r\n"
	many=""
	for i in $(seq 120); do many="${many}X-$i: $i\r\n"; done
	refused 431 "GET / HTTP/1.1\r\n${H}$many\r\n"
	refused 505 "GET / HTTP/2.0\r\n${H}\r\n"
	refused 400 "GET / HTTP/1.10\r\n${H}\r\n"
	refused 417 "GET / HTTP/1.1\r\n${H}Expect: sometime\r\n\r\n"
	refused 405 "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"
}

@test "framing: a path with . or .. segments, plain or %2e, is a 400; dots inside names pass" {
	refused 400 "GET /app/../admin HTTP/1.1\r\n${H}\r\n"
	refused 400 "GET /app/%2e%2E/admin HTTP/1.1\r\n${H}\r\n"
	refused 400 "GET /app/.%2e HTTP/1.1\r\n${H}\r\n"
	refused 400 "GET /./x?q=1 HTTP/1.1\r\n${H}\r\n"
	refused 400 "GET http://a/b/.. HTTP/1.1\r\n${H}\r\n"
	# not segments: names with dots, and dots in the query
	run -0 hcli.py -t 5 "$LH" "GET /a/.well-known/x...y?p=/../ HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
	[[ "${lines[0]}" == "HTTP/1.1 200 "* ]]
	[ "$(requests_of one)" = 1 ]
}

@test "framing: a head that is too slow to come is a 408; an idle connection closes quietly" {
	# a byte every 0.5s: the head's 2s run out
	run -0 timeout 20 hcli.py -s -t 10 -b 0.5 "$LH" 'GET / HTTP/1.1\r\nHost: a\r\nX: '
	[ "${lines[0]}" = "HTTP/1.1 408 Request Timeout" ]
	[ "$(requests_of one)" = 0 ]
	# a connection that never sends a byte: closed, and no 408 is sent
	stop_lbh
	# shellcheck disable=SC2046
	start_lbh -w 1 -T head=500ms $(listen 127.0.0.1:0) "${HS[one]}"
	run -0 hcli.py -t 5 "$LH"
	[ -z "$output" ]
}

@test "framing: a backend's response that breaks the rules is a 502, and its connection is closed" {
	for k in clte twocl badcl te10 lf status fold space; do
		run -0 hcli.py "$LH" "GET /bad/$k HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
		echo "$k: ${lines[0]}"
		[[ "${lines[0]}" == "HTTP/1.1 502 "* ]]
	done
	n=$(conns_of one)
	run -0 hcli.py "$LH" "GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
	[[ "$output" == *one ]]
	# each bad one was closed: this one needed a new connection
	[ "$(conns_of one)" = $((n + 1)) ]
}

@test "framing: the connection is closed after a refused request, even with more behind it" {
	run -0 hcli.py -t 5 "$LH" "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n"
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/1.1 ')" = 1 ]
	[ "$(requests_of one)" = 0 ]
	wait_for 5 grep -qE $'\t400\t.*\tbad-request(\t|$)' "$LHLOG"
}
