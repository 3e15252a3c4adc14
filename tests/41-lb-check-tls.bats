#!/usr/bin/env bats
# 41-lb-check-tls: lb-check's tls and http-over-tls checks verify as
# lb-http does: against -A (or the system's trust store), for the
# backend's name or address, or sni=; noverify takes any certificate.
# Backends: openssl s_server with the certificates of helpers/tls.

load helpers/lib
load helpers/tls
bats_require_minimum_version 1.5.0

setup_file() { tls_pki; }

# s_server NAME CERT [OPTIONS...]: openssl s_server -www with PKI/CERT.*,
# added to $T as NAME (by its address, or as ADDR_NAME says)
s_server() {
	local name=$1 cert=$2 f="$BATS_TEST_TMPDIR/ss.$1" a
	shift 2
	bg openssl s_server -accept 127.0.0.1:0 -cert "$PKI/$cert.crt" \
	    -key "$PKI/$cert.key" -www "$@" < /dev/null > "$f" 2>&1
	wait_for 10 grep -q '^ACCEPT ' "$f"
	a=$(awk '/^ACCEPT / {print $2; exit}' "$f")
	lb-ctl -t "$T" add "${AS:-127.0.0.1}:${a##*:}" name="$name"
}

# result NAME: "TO REASON" of NAME's line in the last run's output
result() {
	printf '%s\n' "$output" | awk -F'\t' -v b="$1" '$3 == b { print $6, $7 }'
}

@test "lb-check tls: verified against -A for the backend's address; a wrong name, an unknown CA, a self-signed one are down with why" {
	s_server good be
	s_server wrongname other
	s_server unknownca unknown
	s_server selfsigned self
	run -1 lb-check -1 -A "$PKI/ca.crt" -t "$T" tls
	[ "$(result good)" = "up tls: ok" ]
	[ "$(result wrongname)" = "down tls: IP address mismatch" ]
	[ "$(result unknownca)" = "down tls: unable to get local issuer certificate" ]
	[ "$(result selfsigned)" = "down tls: self-signed certificate" ]
	[ "$(stat_col "$T" wrongname check)" = L6RSP:IP-address-mismatch ]
	# the system's trust store, without -A: the test CA is unknown
	run -1 lb-check -1 -t "$T" tls
	[ "$(result good)" = "down tls: unable to get local issuer certificate" ]
	# noverify takes them all
	run -0 lb-check -1 -t "$T" tls noverify
	[ "$(printf '%s\n' "$output" | grep -c $'\tup\ttls: ok\t')" = 4 ]
}

@test "lb-check tls: a backend's name is sent as SNI and verified; sni= sends and verifies another" {
	# this one refuses any server name but localhost
	AS=localhost s_server byname be -servername localhost -servername_fatal \
	    -cert2 "$PKI/be.crt" -key2 "$PKI/be.key"
	run -0 lb-check -1 -A "$PKI/ca.crt" -t "$T" tls
	[ "$(result byname)" = "up tls: ok" ]
	run -1 lb-check -1 -A "$PKI/ca.crt" -t "$T" tls sni=backend.test
	[ "$(result byname)" = "down tls: tlsv1 unrecognized name" ]
	run -1 lb-check -1 -t "$T" tls sni=other.test noverify
	[ "$(result byname)" = "down tls: tlsv1 unrecognized name" ]
	# sni= is the name verified: backend.test is in the certificate,
	# other.test is not
	lb-ctl -t "$T" del byname
	s_server any be
	run -0 lb-check -1 -A "$PKI/ca.crt" -t "$T" tls sni=backend.test
	[ "$(result any)" = "up tls: ok" ]
	run -1 lb-check -1 -A "$PKI/ca.crt" -t "$T" tls sni=other.test
	[ "$(result any)" = "down tls: hostname mismatch" ]
}

@test "lb-check http ... tls: the status over HTTPS, verified the same way; tls and noverify as words or as tls=yes, verify=no" {
	s_server good be
	run -0 lb-check -1 -A "$PKI/ca.crt" -t "$T" http / tls
	[ "$(result good)" = "up http: 200" ]
	run -0 lb-check -1 -A "$PKI/ca.crt" -t "$T" http / tls=yes
	[ "$(result good)" = "up http: 200" ]
	run -1 lb-check -1 -A "$PKI/ca.crt" -t "$T" http / tls sni=other.test
	[ "$(result good)" = "down tls: hostname mismatch" ]
	run -1 lb-check -1 -t "$T" http / tls
	[ "$(result good)" = "down tls: unable to get local issuer certificate" ]
	run -0 lb-check -1 -t "$T" http / tls noverify
	[ "$(result good)" = "up http: 200" ]
	run -0 lb-check -1 -t "$T" http / tls=yes verify=no
	[ "$(result good)" = "up http: 200" ]
	# the body of s_server -www's page
	run -0 lb-check -1 -A "$PKI/ca.crt" -t "$T" http / tls body=TLSv1.3
	[ "$(result good)" = "up http: 200" ]
}

@test "lb-check tls: bad options are one line and exit 2; an -A file that cannot be read, exit 1" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=x
	run -2 --separate-stderr lb-check -1 -t "$T" tls frob
	[ "$stderr" = "lb-check: bad tls option 'frob': sni=name or noverify" ]
	run -2 --separate-stderr lb-check -1 -t "$T" tls tls
	[ "$stderr" = "lb-check: bad tls option 'tls': sni=name or noverify" ]
	run -2 --separate-stderr lb-check -1 -t "$T" http / frob
	[ "$stderr" = "lb-check: bad http option 'frob': key=value, tls or noverify" ]
	run -2 --separate-stderr lb-check -1 -t "$T" tls sni=
	[ "$stderr" = "lb-check: bad sni '': empty" ]
	run -2 --separate-stderr lb-check -1 -A "$PKI/ca.crt" -t "$T" http /
	[ "$stderr" = "lb-check: -A gives the CA of TLS checks: give a tls check, or http with tls" ]
	run -2 --separate-stderr lb-check -1 -A "$PKI/ca.crt" -t "$T" tls noverify
	[ "$stderr" = "lb-check: -A and noverify: a CA to verify against, and no verification" ]
	run -1 --separate-stderr lb-check -1 -A "$PKI/none.crt" -t "$T" tls
	[ "$stderr" = "lb-check: -A $PKI/none.crt: No such file or directory" ]
	run -1 --separate-stderr lb-check -1 -A "$PKI/bad.pem" -t "$T" tls
	[ "$stderr" = "lb-check: -A $PKI/bad.pem: no certificate or crl found" ]
}

@test "lb-check and lb-http agree: the backend lb-check finds down for its certificate is the one lb-http will not use" {
	s_server good be
	s_server wrongname other
	run -1 lb-check -1 -A "$PKI/ca.crt" -t "$T" http / tls
	[ "$(result good)" = "up http: 200" ]
	[ "$(result wrongname)" = "down tls: IP address mismatch" ]
	bg lb-http -1 -v -w 1 -A "$PKI/ca.crt" -r "/=$T,tls" -l 127.0.0.1:0 \
	    > "$BATS_TEST_TMPDIR/lh" 2> "$BATS_TEST_TMPDIR/lh.err"
	wait_for 5 grep -q '^table ' "$BATS_TEST_TMPDIR/lh"
	lh=$(head -1 "$BATS_TEST_TMPDIR/lh")
	# lb-check wrote the health: lb-http does not even try the down one
	for i in 1 2 3 4; do
		run -0 curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://$lh/"
		[ "$output" = 200 ]
	done
	! grep -q 'wrongname: TLS' "$BATS_TEST_TMPDIR/lh.err"
	# as unknown, it would try it, and fail over for the same reason
	lb-ctl -t "$T" del wrongname
	AS=127.0.0.1 s_server wrongname2 other
	for i in 1 2 3 4; do
		run -0 curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://$lh/"
		[ "$output" = 200 ]
	done
	grep -q '^lb-http: wrongname2: TLS: IP address mismatch$' "$BATS_TEST_TMPDIR/lh.err"
}
