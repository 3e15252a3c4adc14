#!/usr/bin/env bats
# 39-lb-http-tls: lb-http's TLS listeners (-L) with real clients, openssl
# s_client, curl and python's ssl: versions and ciphers, certificates by
# SNI, ALPN, resumption, client certificates, the log, and what is not
# TLS on a TLS port.  Certificates: 39-lb-http-tls-certs; HTTPS to the
# backends: 39-lb-http-tls-backend.

load helpers/lib
load helpers/http
load helpers/tls
bats_require_minimum_version 1.5.0

setup_file() { tls_pki; }

# tls_lbh ARGS...: lb-http on a TLS listener of port 0, the RSA
# certificate the default and the ECDSA one for ec.test, to hsrv one
tls_lbh() {
	start_hsrv one
	start_lbh -w 1 -L 127.0.0.1:0 -c "$PKI/rsa.pem" -c "$PKI/ec.pem" \
	    "$@" "${HS[one]}"
}

@test "lb-http -L: curl over HTTPS with --cacert and --resolve; the backend hears X-Forwarded-Proto: https" {
	start_hsrv one
	start_lbh -w 1 -L 127.0.0.1:0 -l 127.0.0.1:0 -c "$PKI/rsa.pem" "${HS[one]}"
	# -1: the TLS listener, the plain one, a line per certificate, the table
	tls_addr=$(sed -n 1p "$LHLOG")
	plain=$(sed -n 2p "$LHLOG")
	[[ "$(sed -n 3p "$LHLOG")" == cert$'\t'"$PKI/rsa.pem"$'\t'rsa.test,www.rsa.test$'\t'* ]]
	run -0 https /echo
	[[ "$output" == *$'\nX-Forwarded-Proto: https\r\n'* ]]
	[[ "$output" == *$'\nX-Forwarded-Host: rsa.test:'"${LH##*:}"$'\r\n'* ]]
	HTTPS_NAME=www.rsa.test run -0 https /
	[ "$output" = one ]
	# curl does not take the certificate without the test CA
	run -60 curl -sS -m 10 --resolve "rsa.test:${LH##*:}:127.0.0.1" "https://rsa.test:${LH##*:}/"
	# the plain listener beside it is told http
	run -0 curl -sS -m 10 "http://$plain/echo"
	[[ "$output" == *$'\nX-Forwarded-Proto: http\r\n'* ]]
	[ "$LH" = "$tls_addr" ]
}

@test "lb-http -L: TLS 1.0 and 1.1 are refused, 1.2 and 1.3 taken; -C min=1.3 refuses 1.2" {
	tls_lbh
	# SECLEVEL=0: OpenSSL 3's client would not even offer 1.0 and 1.1
	for v in -tls1 -tls1_1; do
		run s_client "$LH" "$v" -cipher 'DEFAULT:@SECLEVEL=0'
		[[ "$output" == *"alert protocol version"* ]]
		[[ "$output" == *"New, (NONE), Cipher is (NONE)"* ]]
	done
	run -0 s_client "$LH" -tls1_2
	[[ "$output" == *"New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256"* ]]
	run -0 s_client "$LH" -tls1_3
	[[ "$output" == *"New, TLSv1.3, Cipher is TLS_AES_"* ]]
	[[ "$output" == *"Verify return code: 0 (ok)"* ]]
	stop_lbh
	tls_lbh -C min=1.3
	run s_client "$LH" -tls1_2
	[[ "$output" == *"alert protocol version"* ]]
	hs_ok "$LH" -tls1_3
}

@test "lb-http -L: weak ciphers are refused (CBC, RSA key exchange, NULL, anonymous); -C ciphers= and suites= choose" {
	tls_lbh
	# (Debian's OpenSSL has no RC4, DES, 3DES or EXPORT left to offer)
	for c in ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA384 AES128-GCM-SHA256 \
	    AES256-SHA 'NULL-SHA256:@SECLEVEL=0' 'ECDHE-RSA-NULL-SHA:@SECLEVEL=0' \
	    'ADH-AES128-GCM-SHA256:@SECLEVEL=0'; do
		run s_client "$LH" -tls1_2 -cipher "$c"
		echo "$c: $(grep -m1 'Cipher is' <<< "$output")"
		[[ "$output" != *"no cipher match"* ]]
		[[ "$output" == *"handshake failure"* ]]
		[[ "$output" == *"New, (NONE), Cipher is (NONE)"* ]]
	done
	# the ECDSA certificate takes ECDHE-ECDSA, with ChaCha20 too
	run -0 s_client "$LH" -tls1_2 -servername ec.test -cipher ECDHE-ECDSA-CHACHA20-POLY1305
	[[ "$output" == *"Cipher is ECDHE-ECDSA-CHACHA20-POLY1305"* ]]
	stop_lbh
	tls_lbh -C ciphers=ECDHE-RSA-AES256-GCM-SHA384,suites=TLS_CHACHA20_POLY1305_SHA256
	run -0 s_client "$LH" -tls1_2
	[[ "$output" == *"Cipher is ECDHE-RSA-AES256-GCM-SHA384"* ]]
	run -0 s_client "$LH" -tls1_3
	[[ "$output" == *"Cipher is TLS_CHACHA20_POLY1305_SHA256"* ]]
	run s_client "$LH" -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
	[[ "$output" == *"New, (NONE), Cipher is (NONE)"* ]]
}

@test "lb-http -L: SNI picks the certificate: exact, any case, a wildcard for one label, the first for no name or an unknown one" {
	start_hsrv one
	start_lbh -w 1 -L 127.0.0.1:0 -c "$PKI/rsa.pem" -c "$PKI/ec.crt,$PKI/ec.key" \
	    -c "$PKI/wild.pem" "${HS[one]}"
	[ "$(subject_of "$LH" -servername ec.test)" = ec.test ]
	[ "$(subject_of "$LH" -servername EC.Test)" = ec.test ]
	[ "$(subject_of "$LH" -servername www.rsa.test)" = rsa.test ]
	[ "$(subject_of "$LH" -servername x.wild.test)" = "*.wild.test" ]
	# one label: neither the bare name nor two labels
	[ "$(subject_of "$LH" -servername wild.test)" = rsa.test ]
	[ "$(subject_of "$LH" -servername a.b.wild.test)" = rsa.test ]
	[ "$(subject_of "$LH" -servername other.test)" = rsa.test ]
	[ "$(subject_of "$LH" -noservername)" = rsa.test ]
	# the key types: RSA-2048 and ECDSA P-256
	run -0 s_client "$LH" -servername ec.test
	[[ "$output" == *"Server public key is 256 bit"* ]]
	run -0 s_client "$LH" -servername rsa.test
	[[ "$output" == *"Server public key is 2048 bit"* ]]
	# curl through the wildcard
	HTTPS_NAME=api.wild.test run -0 https /
	[ "$output" = one ]
	wait_for 5 grep -q $'\tapi.wild.test$' "$LHLOG"
}

@test "lb-http -L: -C sni=strict fails the handshake of a name no certificate has, and of none" {
	tls_lbh -C sni=strict
	[ "$(subject_of "$LH" -servername ec.test)" = ec.test ]
	[ "$(subject_of "$LH" -servername rsa.test)" = rsa.test ]
	run s_client "$LH" -servername other.test
	[[ "$output" == *"unrecognized name"* ]]
	[[ "$output" == *"Cipher is (NONE)"* ]]
	run s_client "$LH" -noservername
	[[ "$output" == *"Cipher is (NONE)"* ]]
	HTTPS_NAME=ec.test run -0 https /
	[ "$output" = one ]
}

@test "lb-http -L: ALPN: h2,http/1.1 gets http/1.1; h2 alone gets none, and HTTP/1.1 goes on" {
	tls_lbh
	run -0 s_client "$LH" -alpn h2,http/1.1
	[[ "$output" == *"ALPN protocol: http/1.1"* ]]
	run -0 s_client "$LH" -alpn h2
	[[ "$output" == *"No ALPN negotiated"* ]]
	[[ "$output" != *"ALPN protocol: h2"* ]]
	[[ "$output" == *$'HTTP/1.1 200 '* ]]
	# curl offers h2 and http/1.1: it speaks 1.1
	run -0 https / --http2 -w ' %{http_version}'
	[ "$output" = $'one\n 1.1' ]
}

# resumed ADDR NAME OPTIONS...: a first handshake saves its session, then
# COUNT more (default 10) resume it: prints how many said "Reused"
resumed() {
	local a=$1 sess="$BATS_TEST_TMPDIR/sess" n=0 i
	shift
	s_client "$a" -sess_out "$sess" "$@" | grep -q '^New, TLSv1'
	for i in $(seq "${COUNT:-10}"); do
		s_client "$a" -sess_in "$sess" "$@" | grep -q '^Reused, TLSv1' &&
		    n=$((n + 1))
	done
	echo "$n"
}

@test "lb-http -L: a session resumes with -sess_out/-sess_in, TLS 1.2 and 1.3, whichever worker takes it" {
	start_hsrv one
	start_lbh -w 2 -L 127.0.0.1:0 -c "$PKI/rsa.pem" "${HS[one]}"
	# each connection to one of two listeners (SO_REUSEPORT): ten are
	# all on the first worker once in 512 runs; the keys are everyone's
	[ "$(resumed "$LH" -tls1_3 -servername rsa.test)" = 10 ]
	[ "$(resumed "$LH" -tls1_2 -servername rsa.test)" = 10 ]
	[ "$(ls /proc/"$LHPID"/task | wc -l)" -ge 3 ]
	# a session of another process's keys does not resume here
	stop_lbh
	start_lbh -w 2 -L 127.0.0.1:0 -c "$PKI/rsa.pem" "${HS[one]}"
	run -0 s_client "$LH" -tls1_3 -sess_in "$BATS_TEST_TMPDIR/sess"
	[[ "$output" == *"New, TLSv1.3"* ]]
}

# tickets_of FILE: the ticket in the session openssl saved in FILE
tickets_of() {
	openssl sess_id -in "$1" -noout -text | sed -n '/TLS session ticket:/,/^$/p'
}

@test "lb-http -L: a resumed TLS 1.3 connection gets a new ticket, so a client that uses each ticket once resumes every time" {
	tls_lbh
	s_client "$LH" -tls1_3 -servername rsa.test -sess_out "$BATS_TEST_TMPDIR/s0" |
	    grep -q '^New, TLSv1.3'
	for i in 1 2 3; do
		run -0 s_client "$LH" -tls1_3 -servername rsa.test -msg \
		    -sess_in "$BATS_TEST_TMPDIR/s$((i - 1))" -sess_out "$BATS_TEST_TMPDIR/s$i"
		[[ "$output" == *"Reused, TLSv1.3"* ]]
		# after the handshake: as nginx and HAProxy do
		[[ "${output#*Reused, TLSv1.3}" == *"NewSessionTicket"* ]]
		[ "$(tickets_of "$BATS_TEST_TMPDIR/s$i")" != "$(tickets_of "$BATS_TEST_TMPDIR/s$((i - 1))")" ]
	done
}

# rotated N: lb-http -vv has said it rotated its ticket keys N times at least
rotated() { [ "$(grep -c '^lb-http: ticket keys rotated$' "$LHLOG.err")" -ge "$1" ]; }
rotations() { grep -c '^lb-http: ticket keys rotated$' "$LHLOG.err" || :; }

@test "lb-http -C rotate=: a ticket of the key before resumes and is renewed; one of two keys before makes a full handshake" {
	tls_lbh -vv -C rotate=2s
	s=$BATS_TEST_TMPDIR
	# a rotation may come between the wait and the handshake: then the
	# ticket is two keys old, and the round is made again
	for try in 1 2 3; do
		c0=$(rotations)
		s_client "$LH" -tls1_3 -servername rsa.test -sess_out "$s/old" |
		    grep -q '^New, TLSv1.3'
		wait_for 10 rotated $((c0 + 1))
		c1=$(rotations)
		run -0 s_client "$LH" -tls1_3 -servername rsa.test -msg \
		    -sess_in "$s/old" -sess_out "$s/renewed"
		[ "$(rotations)" = "$c1" ] && break
	done
	[ "$(rotations)" = "$c1" ]
	[[ "$output" == *"Reused, TLSv1.3"* ]]
	[[ "${output#*Reused, TLSv1.3}" == *"NewSessionTicket"* ]]
	[ "$(tickets_of "$s/renewed")" != "$(tickets_of "$s/old")" ]
	wait_for 10 rotated $((c1 + 2))
	run -0 s_client "$LH" -tls1_3 -servername rsa.test -sess_in "$s/old"
	[[ "$output" == *"New, TLSv1.3"* ]]
	kill -0 "$LHPID"
}

@test "lb-http -C tickets=no: no tickets, yet TLS 1.2 resumes from the session cache, and TLS 1.3 too" {
	tls_lbh -C tickets=no
	run -0 s_client "$LH" -tls1_2 -servername rsa.test
	[[ "$output" != *"TLS session ticket lifetime hint"* ]]
	[ "$(resumed "$LH" -tls1_2 -servername rsa.test)" = 10 ]
	[ "$(resumed "$LH" -tls1_3 -servername rsa.test)" = 10 ]
	# a client that hangs up without a close_notify keeps its session
	run -0 python3 - "$LH" "$PKI/ca.crt" <<-'EOF'
	import socket, ssl, sys
	h, p = sys.argv[1].rsplit(":", 1)
	ctx = ssl.create_default_context(cafile=sys.argv[2])
	ctx.maximum_version = ssl.TLSVersion.TLSv1_2
	ctx.options |= ssl.OP_NO_TICKET
	def once(sess):
	    s = ctx.wrap_socket(socket.create_connection((h, int(p))),
	        server_hostname="rsa.test", session=sess)
	    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	    while not s.recv(4096).endswith(b"one\n"):
	        pass
	    return s
	s = once(None)
	sess = s.session
	s.close()
	print("reused" if once(sess).session_reused else "new")
	EOF
	[ "$output" = reused ]
}

@test "lb-http -L: the log has the TLS version, cipher and server name, in TSV and -j; none on a plain listener" {
	start_hsrv one
	start_lbh -w 1 -L 127.0.0.1:0 -l 127.0.0.1:0 -c "$PKI/rsa.pem" "${HS[one]}"
	plain=$(sed -n 2p "$LHLOG")
	grep -q $'^# time\tclient\tmethod\thost\tpath\tstatus\tbytes_in\tbytes_out\troute\tbackend\tttfb_ms\tms\tend\ttls\tcipher\tsni$' "$LHLOG"
	https /a > /dev/null
	curl -sS -m 10 --cacert "$PKI/ca.crt" --tls-max 1.2 \
	    --resolve "rsa.test:${LH##*:}:127.0.0.1" "https://rsa.test:${LH##*:}/b" > /dev/null
	curl -sS -m 10 -k "https://$LH/c" > /dev/null
	curl -sS -m 10 "http://$plain/d" > /dev/null
	wait_for 5 lh_has 4
	run -0 lhlog
	[ "$(awk -F'\t' '{print $5, $14, $15, $16}' <<< "$output")" = "/a TLSv1.3 TLS_AES_256_GCM_SHA384 rsa.test
/b TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 rsa.test
/c TLSv1.3 TLS_AES_256_GCM_SHA384 -
/d - - -" ]
	stop_lbh
	start_lbh -j -w 1 -L 127.0.0.1:0 -c "$PKI/rsa.pem" "${HS[one]}"
	https /j > /dev/null
	wait_for 5 lh_has 1
	run -0 python3 -c 'import json,sys; d = json.loads(sys.stdin.readline()); print(d["path"], d["tls"], d["cipher"], d["sni"])' < <(lhlog)
	[ "$output" = "/j TLSv1.3 TLS_AES_256_GCM_SHA384 rsa.test" ]
	# -o chooses them as any other field
	stop_lbh
	start_lbh -w 1 -o path,sni,tls -L 127.0.0.1:0 -c "$PKI/rsa.pem" "${HS[one]}"
	https /o > /dev/null
	wait_for 5 lh_has 1
	[ "$(lhlog)" = $'/o\trsa.test\tTLSv1.3' ]
}

@test "lb-http -L: plain HTTP on a TLS port gets a 400 that says so, and the service goes on" {
	tls_lbh -v
	run -0 hcli.py -t 5 "$LH" 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
	[[ "${lines[0]}" == "HTTP/1.1 400 Bad Request"* ]]
	[[ "$output" == *"Connection: close"* ]]
	[[ "$output" == *"this port speaks TLS: use https://" ]]
	run -0 curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://$LH/"
	[ "$output" = 400 ]
	[ "$(requests_of one)" = 0 ]
	grep -q '^lb-http: plain HTTP on a TLS port: told so$' "$LHLOG.err"
	run -0 https /
	[ "$output" = one ]
}

@test "lb-http -L: random bytes are closed at once, a silent client after -T handshake; the service goes on" {
	tls_lbh -v -T handshake=1s
	# no record type, nor a method's first letter (that is plain HTTP)
	{ printf '\0'; head -c 511 /dev/urandom; } > "$BATS_TEST_TMPDIR/noise"
	# closed, not left to wait for the handshake's time
	run -0 timeout 3 python3 -c '
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=2.5)
s.sendall(open(sys.argv[2], "rb").read())
try:
    while s.recv(4096):
        pass
except ConnectionResetError:
    pass
' "$LH" "$BATS_TEST_TMPDIR/noise"
	wait_for 5 grep -q '^lb-http: TLS handshake: ' "$LHLOG.err"
	# a TLS record that never ends, and a client that says nothing
	start=$(date +%s%N)
	run -4 hcli.py -t 5 "$LH" '\x16\x03\x01\x02\x00\x01'
	run -4 hcli.py -t 5 "$LH"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$ms" -ge 1900 ] && [ "$ms" -lt 4500 ]
	run -0 https /
	[ "$output" = one ]
	kill -0 "$LHPID"
}

@test "lb-http -L: over TLS a keep-alive connection carries several requests, and bodies of 1 MiB go both ways whole" {
	tls_lbh
	run -0 https /a "https://rsa.test:${LH##*:}/b" "https://rsa.test:${LH##*:}/c"
	[ "$output" = $'one\none\none' ]
	wait_for 5 lh_has 3
	# one client connection, one port
	[ "$(lhlog | awk -F'\t' '{print $2}' | sort -u | wc -l)" = 1 ]
	[ "$(lhlog | awk -F'\t' '{print $13}' | sort -u)" = keep-alive ]
	want=$(python3 -c 'import hashlib,sys; n=1048576; p=b"0123456789abcdef"*4096; b=(p*(n//len(p)+1))[:n]; print(hashlib.sha256(b).hexdigest())')
	[ "$(https /big/1048576 | sha256sum | cut -d' ' -f1)" = "$want" ]
	[ "$(https /big/16777216 | wc -c)" = 16777216 ]
	head -c 1048576 /dev/urandom > "$BATS_TEST_TMPDIR/up"
	run -0 https /sum --data-binary "@$BATS_TEST_TMPDIR/up" -H 'Content-Type: application/octet-stream'
	[ "$output" = "1048576 $(sha256sum < "$BATS_TEST_TMPDIR/up" | cut -d' ' -f1)" ]
	# chunked both ways
	run -0 https /sum -T "$BATS_TEST_TMPDIR/up" -H 'Transfer-Encoding: chunked'
	[ "$output" = "1048576 $(sha256sum < "$BATS_TEST_TMPDIR/up" | cut -d' ' -f1)" ]
}

@test "lb-http -L: a websocket over TLS is tunnelled through it" {
	tls_lbh
	run -3 hcli.py -T "$PKI/ca.crt" -n rsa.test -t 1 "$LH" \
	    'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' 'frame one' 'frame two'
	[[ "${lines[0]}" == "HTTP/1.1 101 Switching Protocols"* ]]
	[[ "$output" == *$'\r\n\r\nframe oneframe two' ]]
	wait_for 5 grep -q $'\ttunnel\tTLSv1.3\t' "$LHLOG"
}

@test "lb-http -C client-ca=: a client certificate of that CA is required; client=optional takes clients without one" {
	tls_lbh -C "client-ca=$PKI/ca.crt"
	# none, or one of another CA: no handshake (1.2: at once; 1.3: the alert
	# comes after the client's Finished, before the answer)
	run s_client "$LH" -tls1_2
	[[ "$output" == *"alert"* ]]
	[[ "$output" != *"HTTP/1.1 200"* ]]
	run s_client "$LH" -tls1_3
	[[ "$output" == *"alert"* ]]
	[[ "$output" != *"HTTP/1.1 200"* ]]
	run s_client "$LH" -cert "$PKI/client2.crt" -key "$PKI/client2.key"
	[[ "$output" == *"alert"* ]]
	[[ "$output" != *"HTTP/1.1 200"* ]]
	run -0 curl -sS -m 10 --cacert "$PKI/ca.crt" --resolve "rsa.test:${LH##*:}:127.0.0.1" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" "https://rsa.test:${LH##*:}/"
	[ "$output" = one ]
	run -0 s_client "$LH" -cert "$PKI/client.crt" -key "$PKI/client.key"
	[[ "$output" == *"Acceptable client certificate CA names"*"CN = lb test CA"* ]]
	[ "$(requests_of one)" = 2 ]
	stop_lbh
	tls_lbh -C "client-ca=$PKI/ca.crt,client=optional"
	run -0 https /
	[ "$output" = one ]
	run -0 curl -sS -m 10 --cacert "$PKI/ca.crt" --resolve "rsa.test:${LH##*:}:127.0.0.1" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" "https://rsa.test:${LH##*:}/"
	[ "$output" = one ]
	# optional is not any: one of another CA is still refused
	run s_client "$LH" -cert "$PKI/client2.crt" -key "$PKI/client2.key"
	[[ "$output" != *"HTTP/1.1 200"* ]]
}
