#!/usr/bin/env bats
# 39-lb-http-tls-backend: HTTPS from lb-http to its backends (a rule's
# tls): verified against -A for the backend's name or address, or the
# rule's sni=, failing over from one that does not pass; noverify; the
# handshake's time; pooled, and resumed, against openssl s_server and nginx.

load helpers/lib
load helpers/http
load helpers/nginx
load helpers/tls
bats_require_minimum_version 1.5.0

setup_file() { tls_pki; }

declare -gA SS

# s_server NAME CERT [OPTIONS...]: openssl s_server -www with PKI/CERT.*
# on 127.0.0.1:0, its address in SS[NAME]
s_server() {
	local name=$1 cert=$2 f="$BATS_TEST_TMPDIR/ss.$1"
	shift 2
	bg openssl s_server -accept 127.0.0.1:0 -cert "$PKI/$cert.crt" \
	    -key "$PKI/$cert.key" -www "$@" < /dev/null > "$f" 2>&1
	wait_for 10 grep -q '^ACCEPT ' "$f"
	SS[$name]=$(awk '/^ACCEPT / {print $2; exit}' "$f")
}

# mute: a server that takes connections and never says a word; MUTE its
# address
mute() {
	bg python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print("127.0.0.1:%d" % s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
' > "$BATS_TEST_TMPDIR/mute"
	wait_for 10 test -s "$BATS_TEST_TMPDIR/mute"
	MUTE=$(cat "$BATS_TEST_TMPDIR/mute")
}

@test "lb-http tls: HTTPS to nginx, its certificate verified against -A for the name of sni=, which nginx is sent" {
	start_nginx_https "$PKI/be.crt" "$PKI/be.key"
	lb-ctl -t "$T" add "unix:$NG/https.sock" name=ng
	start_lbh -w 1 -A "$PKI/ca.crt" -r "/=$T,tls,sni=backend.test" -l 127.0.0.1:0
	run -0 get /tls
	[ "$output" = "backend.test TLSv1.3 ." ]
	# a name the certificate does not have: no backend passes
	stop_lbh
	start_lbh -w 1 -v -A "$PKI/ca.crt" -r "/=$T,tls,sni=other.test" -l 127.0.0.1:0
	run -0 curl -sS -m 10 -w '\n%{http_code}' "http://$LH/tls"
	[ "${lines[-1]}" = 503 ]
	[[ "$output" == *"no backend could be reached"* ]]
	grep -q '^lb-http: ng: TLS: hostname mismatch$' "$LHLOG.err"
	wait_for 5 grep -q $'\t503\t.*\tng\t.*\tconnect-fail$' "$LHLOG"
	# without -A, the system's trust store does not know the test CA
	stop_lbh
	start_lbh -w 1 -v -r "/=$T,tls,sni=backend.test" -l 127.0.0.1:0
	[ "$(code /tls)" = 503 ]
	grep -q '^lb-http: ng: TLS: unable to get local issuer certificate$' "$LHLOG.err"
}

@test "lb-http tls: a backend's address is checked as its certificate's IP or DNS name, and only a name is sent as SNI" {
	s_server ip be -servername localhost -servername_fatal \
	    -cert2 "$PKI/be.crt" -key2 "$PKI/be.key"
	port=${SS[ip]##*:}
	lb-ctl -t "$T" add "127.0.0.1:$port" name=byip
	lb-ctl -t "$T.name" add "localhost:$port" name=byname
	lb-ctl -t "$T.bad" add "127.0.0.1:$port" name=bad
	start_lbh -w 1 -v -A "$PKI/ca.crt" -r "/ip=$T,tls" -r "/name=$T.name,tls" \
	    -r "/bad=$T.bad,tls,sni=other.test" -l 127.0.0.1:0
	# s_server -www answers with a page about the session
	run -0 get /ip
	[[ "$output" == *"HTTP/1.0 200 ok"* || "$output" == *"Ciphers supported"* ]]
	run -0 get /name
	[[ "$output" == *"Ciphers supported"* ]]
	# another name: s_server's -servername_fatal refuses the SNI
	[ "$(code /bad)" = 503 ]
	grep -q '^lb-http: bad: TLS: ' "$LHLOG.err"
	lb-ctl -t "$T.name" destroy
	lb-ctl -t "$T.bad" destroy
}

@test "lb-http tls: a wrong name, an unknown CA, a self-signed certificate each fail over to the next backend, logged with -v" {
	s_server good be
	s_server wrongname other
	s_server unknownca unknown
	s_server selfsigned self
	for b in wrongname unknownca selfsigned good; do
		lb-ctl -t "$T" add "${SS[$b]}" name="$b"
	done
	start_lbh -w 1 -v -A "$PKI/ca.crt" -r "/=$T,tls" -l 127.0.0.1:0
	for i in 1 2 3 4; do
		run -0 get /
		[[ "$output" == *"Ciphers supported"* ]]
	done
	wait_for 5 lh_has 4
	[ "$(lhlog | awk -F'\t' '{print $6, $10}' | sort -u)" = "200 good" ]
	grep -q '^lb-http: wrongname: TLS: IP address mismatch$' "$LHLOG.err"
	grep -q '^lb-http: unknownca: TLS: unable to get local issuer certificate$' "$LHLOG.err"
	grep -q '^lb-http: selfsigned: TLS: self-signed certificate$' "$LHLOG.err"
	# counted as failed connects
	[ "$(stat_col "$T" wrongname fail)" -ge 1 ]
	[ "$(stat_col "$T" good fail)" = 0 ]
	# none left that passes: 503, as when no connect succeeds
	lb-ctl -t "$T" del good
	run -0 curl -sS -m 10 -w '\n%{http_code}' "http://$LH/"
	[ "${lines[-1]}" = 503 ]
}

@test "lb-http tls,noverify takes any certificate; a plain rule to the same table speaks plain HTTP" {
	s_server selfsigned self
	s_server unknownca unknown
	lb-ctl -t "$T" add "${SS[selfsigned]}" name=selfsigned
	lb-ctl -t "$T.u" add "${SS[unknownca]}" name=unknownca
	start_hsrv plain
	lb-ctl -t "$T.p" add "${HS[plain]}" name=plain
	start_lbh -w 1 -A "$PKI/ca.crt" -r "/s=$T,tls,noverify" -r "/u=$T.u,tls,noverify" \
	    -r "/p=$T.p" -r "/v=$T,tls" -l 127.0.0.1:0
	run -0 get /s
	[[ "$output" == *"Ciphers supported"* ]]
	run -0 get /u
	[[ "$output" == *"Ciphers supported"* ]]
	[ "$(get /p)" = plain ]
	# the same backend, verified: refused
	[ "$(code /v)" = 503 ]
	lb-ctl -t "$T.u" destroy
	lb-ctl -t "$T.p" destroy
}

@test "lb-http tls: a backend silent after its connect has the connect time for its handshake, then the next is tried" {
	mute
	s_server good be
	lb-ctl -t "$T" add "$MUTE" name=mute
	lb-ctl -t "$T" add "${SS[good]}" name=good
	start_lbh -w 1 -v -T connect=500ms -A "$PKI/ca.crt" -r "/=$T,tls" -l 127.0.0.1:0
	start=$(date +%s%N)
	run -0 get /
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[[ "$output" == *"Ciphers supported"* ]]
	grep -q '^lb-http: mute: TLS: the handshake timed out$' "$LHLOG.err"
	[ "$ms" -ge 450 ] && [ "$ms" -lt 3000 ]
	# alone, it is a 503 after that time, not a hang
	lb-ctl -t "$T" del good
	run -0 curl -sS -m 10 -o /dev/null -w '%{http_code} %{time_total}' "http://$LH/"
	[ "${output%% *}" = 503 ]
	kill -0 "$LHPID"
}

@test "lb-http tls: backend TLS connections are pooled: clients one after another share one nginx connection" {
	start_nginx_https "$PKI/be.crt" "$PKI/be.key"
	head -c 3145728 /dev/urandom > "$NG/www/blob"
	lb-ctl -t "$T" add "unix:$NG/https.sock" name=ng
	start_lbh -w 1 -A "$PKI/ca.crt" -r "/=$T,tls,sni=backend.test" -l 127.0.0.1:0
	first=$(get /conn | cut -d' ' -f1)
	for i in $(seq 20); do
		run -0 get /conn
		[ "${output%% *}" = "$first" ]
	done
	[ "${output##* }" = 21 ]
	# bodies over it: 3 MiB from nginx, TLS both ways
	start_hsrv none
	stop_lbh
	start_lbh -w 1 -A "$PKI/ca.crt" -r "/=$T,tls,sni=backend.test" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem"
	[ "$(https /www/blob | sha256sum)" = "$(sha256sum < "$NG/www/blob")" ]
	[ "$(https /www/blob | sha256sum)" = "$(sha256sum < "$NG/www/blob")" ]
	run -0 https /conn
	[ "${output##* }" = 3 ]
}

@test "lb-http tls: a route that verifies another name, or not at all, does not take another route's pooled connection" {
	start_nginx_https "$PKI/be.crt" "$PKI/be.key"
	lb-ctl -t "$T" add "unix:$NG/https.sock" name=ng
	start_lbh -w 1 -A "$PKI/ca.crt" -r "/a=$T,tls,sni=backend.test,strip" \
	    -r "/b=$T,tls,sni=localhost,strip" \
	    -r "/c=$T,tls,sni=backend.test,noverify,strip" -l 127.0.0.1:0
	a1=$(get /a/conn); a2=$(get /a/conn)
	# the same route: the same connection, its second request
	[ "${a2%% *}" = "${a1%% *}" ] && [ "${a2##* }" = 2 ]
	# another name, or no verification: a connection of its own
	b1=$(get /b/conn)
	[ "${b1%% *}" != "${a1%% *}" ] && [ "${b1##* }" = 1 ]
	[ "$(get /b/tls)" = "localhost TLSv1.3 ." ]
	c1=$(get /c/conn)
	[ "${c1%% *}" != "${a1%% *}" ] && [ "${c1%% *}" != "${b1%% *}" ]
	[ "${c1##* }" = 1 ]
	# and each sends its own name
	[[ "$(get /a/tls)" == "backend.test TLSv1.3 "* ]]
}

@test "lb-http tls: a new backend connection resumes the last session to that backend (s_server says Reused)" {
	s_server good be
	lb-ctl -t "$T" add "${SS[good]}" name=good
	start_lbh -w 1 -A "$PKI/ca.crt" -r "/=$T,tls" -l 127.0.0.1:0
	# s_server -www closes after each answer: each request a new connection
	run -0 get /
	[[ "$output" == *"New, TLSv1.3, Cipher is"* ]]
	for i in 1 2 3; do
		run -0 get /
		[[ "$output" == *"Reused, TLSv1.3, Cipher is"* ]]
	done
	# TLS 1.2 too, and from nginx's side
	stop_lbh
	start_nginx_https "$PKI/be.crt" "$PKI/be.key"
	lb-ctl -t "$T.ng" add "unix:$NG/https.sock" name=ng
	start_lbh -w 1 -z pool=0 -A "$PKI/ca.crt" -r "/=$T.ng,tls,sni=backend.test" -l 127.0.0.1:0
	[ "$(get /tls)" = "backend.test TLSv1.3 ." ]
	[ "$(get /tls)" = "backend.test TLSv1.3 r" ]
	lb-ctl -t "$T.ng" destroy
}

# tls_example TEXT: the example commands of lb-http(1) holding TEXT, made
# this test's own: the test's certificates, its table, port 0, no "&"
tls_example() {
	sed -n 's/^\$ //p' "$BATS_TEST_DIRNAME/../man/lb-http.1" | grep -F -- "$1" |
	    sed -e 's/\\e/\\/g' -e 's/:8443/127.0.0.1:0/g' -e 's/-l :8081/-l 127.0.0.1:0/' \
	    -e "s|www\.pem|$PKI/rsa.pem|g" -e "s|api\.crt,api\.key|$PKI/ec.crt,$PKI/ec.key|g" \
	    -e "s|/etc/lb/certs|$BATS_TEST_TMPDIR/certs|g" -e "s|internal-ca\.pem|$PKI/ca.crt|g" \
	    -e 's/web\.internal/backend.test/g' -e "s|lb\.out|$BATS_TEST_TMPDIR/lb.out|g" \
	    -e "s/-t web\b/-t $T/g" -e "s/=web,/=$T.tls,/g" -e 's/ &$//' -e 's/^lb-http //'
}

@test "lb-http(1): the TLS EXAMPLES run" {
	start_hsrv web
	lb-ctl -t "$T" add "${HS[web]}" name=web
	s_server good be
	lb-ctl -t "$T.tls" add "${SS[good]}" name=good
	mkdir "$BATS_TEST_TMPDIR/certs"
	cp -p "$PKI/rsa.pem" "$PKI/soon.pem" "$BATS_TEST_TMPDIR/certs"
	# two sites by SNI, the first the default
	eval "start_lbh -w 1 $(tls_example "-c api.crt,api.key")"
	[ "$(subject_of "$LH" -servername ec.test)" = ec.test ]
	[ "$(subject_of "$LH" -servername www.rsa.test)" = rsa.test ]
	stop_lbh
	# a directory, HTTP beside, as nobody
	eval "start_lbh -w 1 $(tls_example "-u nobody")"
	[ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$LHPID/status")" = "$(id -u nobody)" ]
	[ "$(subject_of "$LH" -servername soon.test)" = soon.test ]
	[ "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://$(sed -n 2p "$LHLOG")/")" = 200 ]
	stop_lbh
	# the certificates to renew: soon.pem alone
	eval "bg $(tls_example "-t web > lb.out" | sed 's/^/lb-http /')"
	wait_for 5 grep -q '^table ' "$BATS_TEST_TMPDIR/lb.out"
	run -0 eval "$(tls_example 'awk -F')"
	[[ "$output" == "renew $BATS_TEST_TMPDIR/certs/soon.pem 20"* ]]
	[ "${#lines[@]}" = 1 ]
	# HTTPS to the backends, verified for backend.test
	eval "start_lbh -w 1 $(tls_example "-A internal-ca.pem")"
	run -0 https /
	[[ "$output" == *"Ciphers supported"* ]]
	lb-ctl -t "$T.tls" destroy
}
