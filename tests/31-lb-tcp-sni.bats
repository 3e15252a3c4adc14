#!/usr/bin/env bats
# 31-lb-tcp-sni: TLS passthrough by server name (-s), with openssl s_server
# backends, each with a certificate of its own, and openssl s_client, curl
# and a python client that sends its ClientHello in pieces.

load helpers/lib
load helpers/tcp
bats_require_minimum_version 1.5.0

# cn [NAME]: the CN of the certificate the backend lb-tcp chose showed,
# asking for NAME (none without)
cn() {
	local sni=(-noservername)
	[ $# -eq 0 ] || sni=(-servername "$1")
	timeout 10 openssl s_client -connect "$LB" "${sni[@]}" < /dev/null 2>/dev/null |
	    sed -n 's/^subject=CN = //p'
}

nbad_is() { [ "$(grep -c $'\tbad-hello\t' "$LBLOG")" = "$1" ]; }

# a table of the test's own, as a file: nothing to destroy afterwards
tbl() { echo "$BATS_TEST_TMPDIR/$1.tbl"; }

@test "lb-tcp -s: exact name, wildcard, first match wins, no SNI and unknown names to the default" {
	start_tls dflt; start_tls beta; start_tls gamma
	lb-ctl -t "$(tbl beta)" add "${BE[beta]}" name=beta
	lb-ctl -t "$(tbl gamma)" add "${BE[gamma]}" name=gamma
	start_lb -w 1 -s x.beta.test="$(tbl gamma)" -s "*.beta.test=$(tbl beta)" \
	    -s gamma.test="$(tbl gamma)" -l 127.0.0.1:0 "${BE[dflt]}"
	[ "$(cn gamma.test)" = gamma ]
	[ "$(cn GAMMA.Test)" = gamma ]
	[ "$(cn y.beta.test)" = beta ]
	# the name listed first wins over the pattern that covers it too
	[ "$(cn x.beta.test)" = gamma ]
	# one label only: neither the bare suffix nor two labels match
	[ "$(cn beta.test)" = dflt ]
	[ "$(cn a.b.beta.test)" = dflt ]
	[ "$(cn other.test)" = dflt ]
	[ "$(cn)" = dflt ]
	# curl, a real client, through the wildcard
	port=${LB##*:}
	run -0 timeout 10 curl -sSk -o /dev/null -w '%{http_code}' -v \
	    --resolve "www.beta.test:$port:127.0.0.1" "https://www.beta.test:$port/"
	[[ "$output" == *"subject: CN=beta"* ]]
	[[ "$output" == *200 ]]
	# the log: the backend of the route's table, and the name asked
	wait_for 5 has_lines 9
	bysni() { loglines | awk -F'\t' -v n="$1" '$8 == n {print NF, $3, $7}'; }
	[ "$(bysni gamma.test)" = "8 gamma client-close" ] || [ "$(bysni gamma.test)" = "8 gamma server-close" ]
	[ "$(bysni - | cut -d' ' -f2)" = "${BE[dflt]}" ]
	[[ "$(bysni www.beta.test)" == "8 beta "*-close ]]
	# counted in the route's table: gamma took three connections
	[ "$(stat_col "$(tbl gamma)" gamma total)" = 3 ]
	[ "$(stat_col "$(tbl beta)" beta total)" = 2 ]
	stop_lb
	# the route's tables stay behind
	[ -s "$(tbl beta)" ]
}

@test "lb-tcp -s: a ClientHello split over several segments is waited for" {
	start_tls dflt; start_tls beta
	lb-ctl -t "$(tbl beta)" add "${BE[beta]}" name=beta
	start_lb -w 1 -c 5s -s "*.beta.test=$(tbl beta)" -l 127.0.0.1:0 "${BE[dflt]}"
	# the handshake verifies against beta's certificate alone: only
	# beta can answer it
	run -0 timeout 20 python3 - "$LB" x.beta.test "$BATS_TEST_TMPDIR/beta.crt" <<'EOF'
import socket, ssl, sys, time
addr, name, ca = sys.argv[1:4]
host, port = addr.rsplit(":", 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(ca)
inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inb, outb, server_hostname=name)
s = socket.create_connection((host, int(port)), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outb.read()
# the record header alone, then the rest in two halves, apart
cut = [0, 3, len(hello) // 2, len(hello)]
for a, b in zip(cut, cut[1:]):
    s.sendall(hello[a:b])
    time.sleep(0.3)
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        s.sendall(outb.read())
        d = s.recv(65536)
        if not d:
            sys.exit("closed during the handshake")
        inb.write(d)
s.sendall(outb.read())
print("verified", tls.version())
EOF
	[[ "$output" == "verified TLS"* ]]
	wait_for 5 has_lines 1
	[ "$(loglines | awk -F'\t' '{print $3, $8}')" = "beta x.beta.test" ]
}

@test "lb-tcp -s: garbage is closed and logged as bad-hello, and the next client is served" {
	start_tls dflt; start_tls beta
	lb-ctl -t "$(tbl beta)" add "${BE[beta]}" name=beta
	start_lb -w 1 -c 30s -s "*.beta.test=$(tbl beta)" -l 127.0.0.1:0 "${BE[dflt]}"
	# unread bytes make the close a reset: exit 3 or 0
	run bash -c "printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 tcli '$LB' 2>/dev/null"
	[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
	[ -z "$output" ]
	wait_for 5 grep -q $'\tbad-hello\t-$' "$LBLOG"
	[ "$(cn x.beta.test)" = beta ]
	# a hello that grows past 16 KiB: lb-tcp waits while it may still be
	# one, then closes it without waiting for the timeout (-c 30s)
	run -0 timeout 20 python3 - "$LB" <<'EOF'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
body = b"\x03\x03" + b"r" * 32 + b"\x00" + (0x7000).to_bytes(2, "big")
hs = b"\x01" + (0x8000).to_bytes(3, "big") + body
rec = b"\x16\x03\x01\x40\x00" + hs + b"\x13\x01" * ((16384 - len(hs)) // 2)
data = rec + b"\x16\x03\x01\x40\x00" + b"\x13\x01" * 4096
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(data[:10000])
s.settimeout(0.5)
try:
    s.recv(1)
    sys.exit("closed before 16 KiB")
except socket.timeout:
    pass
s.settimeout(10)
try:
    s.sendall(data[10000:])
    r = s.recv(1)
except ConnectionResetError:
    r = b""
print("closed" if r == b"" else "answered")
EOF
	[ "$output" = closed ]
	wait_for 5 nbad_is 2
	[ "$(cn)" = dflt ]
	kill -0 "$LBPID"
}

@test "lb-tcp -s: a client silent for the connect timeout is closed as timeout" {
	start_tls dflt
	start_lb -w 1 -c 300ms -j -s "*.beta.test=$(tbl beta)" -l 127.0.0.1:0 "${BE[dflt]}"
	exec {fd}<>"/dev/tcp/127.0.0.1/${LB##*:}"
	wait_for 5 has_lines 1
	exec {fd}>&-
	run -0 python3 -c 'import json,sys; d = json.loads(sys.stdin.readline()); print(d["backend"], d["end"], repr(d["sni"]))' < <(loglines)
	# no backend and no name: null, as every missing value in JSON
	[ "$output" = "None timeout None" ]
	# JSON lines carry the name too
	[ "$(cn x.other.test)" = dflt ]
	wait_for 5 has_lines 2
	run -0 python3 -c 'import json,sys; sys.stdin.readline(); d = json.loads(sys.stdin.readline()); print(d["sni"])' < <(loglines)
	[ "$output" = x.other.test ]
}

@test "lb-tcp -s: behind -p, the PROXY header first, then the ClientHello" {
	start_tls dflt; start_tls beta
	lb-ctl -t "$(tbl beta)" add "${BE[beta]}" name=beta
	start_lb -w 1 -p -s "*.beta.test=$(tbl beta)" -l 127.0.0.1:0 "${BE[dflt]}"
	inner=$LB; innerlog=$LBLOG
	start_lb -w 1 -P v2 -l 127.0.0.1:0 "$inner"
	[ "$(cn x.beta.test)" = beta ]
	[ "$(cn)" = dflt ]
	wait_for 5 nlines_ge "$innerlog" 4
	[ "$(awk -F'\t' '$8 == "x.beta.test" {print $3}' "$innerlog")" = beta ]
}

@test "lb-tcp -s: routes with no default close the rest as no-backend" {
	start_tls beta
	lb-ctl -t "$(tbl beta)" add "${BE[beta]}" name=beta
	start_lb -w 1 -s "*.beta.test=$(tbl beta)" -l 127.0.0.1:0
	[ "$(cn x.beta.test)" = beta ]
	[ -z "$(cn other.test)" ]
	wait_for 5 grep -q $'\tno-backend\tother.test$' "$LBLOG"
}

@test "lb-tcp -s: bad routes are one line on stderr, exit 2" {
	for a in nonsense 'a b=t' '*.=t' 'x*.a=t' 'a.test=' 'a.test=bad name'; do
		run -2 --separate-stderr timeout 10 lb-tcp -s "$a" -l 127.0.0.1:0 127.0.0.1:1
		echo "$a: $stderr"
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "lb-tcp: "* ]]
	done
	run -2 --separate-stderr timeout 10 lb-tcp -s a.test=t -s A.test=u -l 127.0.0.1:0 127.0.0.1:1
	[ "$stderr" = "lb-tcp: route pattern 'A.test' named twice" ]
}

# man_example TEXT: the example command of lb-tcp(1) holding TEXT, with
# this test's backends and table, on port 0
man_example() {
	sed -n 's/^\$ //p' "$BATS_TEST_DIRNAME/../man/lb-tcp.1" | grep -F -- "$1" |
	    sed -e "s/127.0.0.1:9001/${BE[dflt]}/" -e "s/127.0.0.1:9002/${BE[beta]}/" \
	    -e "s|-t api|-t $(tbl api)|" -e "s|=api|=$(tbl api)|g" \
	    -e "s/-l :8443/-w 1 -l 127.0.0.1:0/" -e 's/^lb-tcp //'
}

@test "lb-tcp(1): the SNI example runs" {
	start_tls dflt; start_tls beta
	run -0 man_example "lb-ctl -t api add"
	[ -n "$output" ]
	eval "$output"
	run -0 man_example "lb-tcp -s api.example.com"
	[ -n "$output" ]
	eval "start_lb $output"
	[ "$(cn api.example.com)" = beta ]
	[ "$(cn v2.api.example.com)" = beta ]
	[ "$(cn www.example.com)" = dflt ]
	[ "$(cn)" = dflt ]
}
