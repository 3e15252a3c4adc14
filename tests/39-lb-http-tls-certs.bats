#!/usr/bin/env bats
# 39-lb-http-tls-certs: lb-http's certificates and keys: what is refused at
# start, the warning before expiry, -1's lines, a directory of them,
# reloads on HUP (under traffic, and of files that do not load), OCSP
# stapling, and -u, after which the keys cannot be read again.

load helpers/lib
load helpers/http
load helpers/tls
bats_require_minimum_version 1.5.0

setup_file() { tls_pki; }

# said N PATTERN: stderr of lb-http has N lines that match PATTERN (for
# wait_for: counted afresh on each try)
said() { [ "$(grep -c -- "$2" "$LHLOG.err")" = "$1" ]; }

# refused CODE WORDS ARGS...: lb-http ARGS exits CODE with one line on
# stderr, "lb-http: " then WORDS
refused() {
	local code=$1 words=$2
	shift 2
	run "-$code" --separate-stderr timeout 10 lb-http "$@" < /dev/null
	echo "$stderr"
	[ "${#stderr_lines[@]}" = 1 ]
	[ "$stderr" = "lb-http: $words" ]
	[ -z "$output" ]
}

@test "lb-http: at start an expired certificate, a key that does not match, a key others can read, bad PEM are refused: one line naming the file, exit 1" {
	start_hsrv one
	B=${HS[one]}
	refused 1 "$PKI/expired.pem: the certificate expired" \
	    -L 127.0.0.1:0 -c "$PKI/expired.pem" "$B"
	refused 1 "$PKI/wrong.key: the key does not match the certificate of $PKI/rsa.crt" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.crt,$PKI/wrong.key" "$B"
	cat "$PKI/rsa.crt" "$PKI/ec.key" > "$BATS_TEST_TMPDIR/mixed.pem"
	chmod 600 "$BATS_TEST_TMPDIR/mixed.pem"
	refused 1 "$BATS_TEST_TMPDIR/mixed.pem: the key does not match the certificate" \
	    -L 127.0.0.1:0 -c "$BATS_TEST_TMPDIR/mixed.pem" "$B"
	cp "$PKI/ec.pem" "$BATS_TEST_TMPDIR/open.pem"
	chmod 644 "$BATS_TEST_TMPDIR/open.pem"
	refused 1 "$BATS_TEST_TMPDIR/open.pem: a private key that others may read (mode 0644): chmod o-rw it" \
	    -L 127.0.0.1:0 -c "$BATS_TEST_TMPDIR/open.pem" "$B"
	# only the key's file: a certificate may be read by anyone
	refused 1 "$BATS_TEST_TMPDIR/open.pem: a private key that others may read (mode 0644): chmod o-rw it" \
	    -L 127.0.0.1:0 -c "$PKI/ec.crt,$BATS_TEST_TMPDIR/open.pem" "$B"
	refused 1 "$PKI/bad.pem: no certificate in it (PEM)" \
	    -L 127.0.0.1:0 -c "$PKI/bad.pem" "$B"
	refused 1 "$PKI/rsa.crt: no private key in it" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.crt" "$B"
	refused 1 "$PKI/bad.pem: no private key in it" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.crt,$PKI/bad.pem" "$B"
	refused 1 "$PKI/none.pem: No such file or directory" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -c "$PKI/none.pem" "$B"
	# an encrypted key: refused, no passphrase asked of anyone
	openssl pkcs8 -topk8 -in "$PKI/ec.key" -v2 aes256 -passout pass:x \
	    -out "$BATS_TEST_TMPDIR/enc.key"
	chmod 600 "$BATS_TEST_TMPDIR/enc.key"
	refused 1 "$BATS_TEST_TMPDIR/enc.key: the private key is encrypted: give it decrypted, mode 0600" \
	    -L 127.0.0.1:0 -c "$PKI/ec.crt,$BATS_TEST_TMPDIR/enc.key" "$B"
	# nothing was left listening, no table behind
	run -0 ls /dev/shm
	[[ "$output" != *"http-127.0.0.1-"*"$$"* ]]
}

@test "lb-http: TLS options that cannot work are bad usage, exit 2; files of -A and client-ca that cannot be read, exit 1" {
	start_hsrv one
	B=${HS[one]}
	refused 2 "a TLS listener (-L) needs a certificate: give -c cert[,key]" \
	    -L 127.0.0.1:0 "$B"
	refused 2 "-c gives certificates to TLS listeners: give -L too" \
	    -l 127.0.0.1:0 -c "$PKI/rsa.pem" "$B"
	refused 2 "-C sets up TLS listeners: give -L too" \
	    -l 127.0.0.1:0 -C min=1.3 "$B"
	for c in min=1.1 min=1.0 tickets=maybe rotate= sni=loose client=required ciphers= frob=1 min; do
		refused 2 "bad -C '$c': min=1.2|1.3, ciphers=LIST, suites=LIST, tickets=yes|no, rotate=DURATION, sni=strict, client-ca=FILE, client=optional" \
		    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -C "$c" "$B"
	done
	refused 2 "bad -C rotate '500ms': a duration from 1s to 30d, as 250ms, 1.5s or 2m" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -C rotate=500ms "$B"
	refused 2 "-C: bad cipher list 'RC4-MD5': no cipher match" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -C ciphers=RC4-MD5 "$B"
	refused 2 "-C: bad TLS 1.3 suites 'TLS_FROB': no cipher match" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -C suites=TLS_FROB "$B"
	refused 2 "-C client=optional: of which CA? give client-ca=FILE" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -C client=optional "$B"
	refused 2 "bad -T handshake '0': a duration from 1ms to 30d, as 250ms, 1.5s or 2m" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -T handshake=0 "$B"
	refused 2 "bad rule '/=$T,noverify': noverify and sni= are for HTTPS to the backends: add tls" \
	    -l 127.0.0.1:0 -r "/=$T,noverify"
	refused 2 "bad rule '/=$T,tls,sni=a b': sni= takes a host name (letters, digits, '.', '-')" \
	    -l 127.0.0.1:0 -r "/=$T,tls,sni=a b"
	refused 1 "-A $PKI/none.crt: No such file or directory" \
	    -l 127.0.0.1:0 -A "$PKI/none.crt" "$B"
	refused 1 "-A $PKI/bad.pem: no certificate or crl found" \
	    -l 127.0.0.1:0 -A "$PKI/bad.pem" "$B"
	refused 1 "$PKI/none.crt: No such file or directory" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -C "client-ca=$PKI/none.crt" "$B"
	refused 1 "-u: no user 'no-such-user'" \
	    -L 127.0.0.1:0 -c "$PKI/rsa.pem" -u no-such-user "$B"
}

@test "lb-http: a certificate that expires within 30 days is said on stderr; -1 prints cert lines that awk reads" {
	start_hsrv one
	start_lbh -w 1 -L 127.0.0.1:0 -c "$PKI/rsa.pem" -c "$PKI/soon.crt,$PKI/soon.key" \
	    -c "$PKI/wild.pem" "${HS[one]}"
	[ "$(grep -c 'expires' "$LHLOG.err")" = 1 ]
	grep -qE "^lb-http: $PKI/soon.crt: the certificate expires in (9|10) days$" "$LHLOG.err"
	# cert FILE NAMES EXPIRY, tab-separated, after the listener
	run -0 awk -F'\t' '$1 == "cert" { print NF, $2, $3 }' "$LHLOG"
	[ "$output" = "4 $PKI/rsa.pem rsa.test,www.rsa.test
4 $PKI/soon.crt soon.test
4 $PKI/wild.pem *.wild.test" ]
	# the expiry as openssl says it, in ISO 8601 UTC
	want=$(date -u -d "$(openssl x509 -in "$PKI/soon.crt" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
	[ "$(awk -F'\t' '$2 ~ /soon/ { print $4 }' "$LHLOG")" = "$want" ]
	# the example of lb-http(1): those that lapse within 30 days
	run -0 awk -F'\t' -v soon="$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)" \
	    '$1 == "cert" && $4 < soon { print "renew", $2, $4 }' "$LHLOG"
	[ "$output" = "renew $PKI/soon.crt $want" ]
	run -0 https /
	[ "$output" = one ]
}

@test "lb-http -c DIR: every NAME.pem and NAME.crt with NAME.key, in name order; HUP reads the directory again" {
	d="$BATS_TEST_TMPDIR/certs"
	mkdir "$d"
	cp -p "$PKI/rsa.pem" "$d/a-rsa.pem"
	cp -p "$PKI/ec.crt" "$d/b-ec.crt"
	cp -p "$PKI/ec.key" "$d/b-ec.key"
	echo "not a certificate" > "$d/README"
	cp -p "$PKI/bad.pem" "$d/.hidden.pem"
	start_hsrv one
	start_lbh -w 1 -v -L 127.0.0.1:0 -c "$d" "${HS[one]}"
	[ "$(awk -F'\t' '$1 == "cert" { print $2 }' "$LHLOG" | tr '\n' ' ')" = "$d/a-rsa.pem $d/b-ec.crt " ]
	[ "$(subject_of "$LH" -servername ec.test)" = ec.test ]
	[ "$(subject_of "$LH" -servername x.wild.test)" = rsa.test ]
	# a new file is served after a HUP; one that does not load is said
	cp -p "$PKI/wild.pem" "$d/c-wild.pem"
	cp -p "$PKI/bad.pem" "$d/d-bad.pem"
	kill -HUP "$LHPID"
	wait_for 5 grep -q "^lb-http: $d/d-bad.pem: no certificate in it (PEM): not loaded$" "$LHLOG.err"
	[ "$(subject_of "$LH" -servername x.wild.test)" = "*.wild.test" ]
	[ "$(subject_of "$LH" -servername ec.test)" = ec.test ]
	# the first file stays the default; a removed one is no longer served
	rm "$d/b-ec.crt" "$d/b-ec.key" "$d/d-bad.pem"
	kill -HUP "$LHPID"
	wait_for 5 said 1 'certificates read again' 
	[ "$(subject_of "$LH" -servername ec.test)" = rsa.test ]
	# a directory with none in it is refused at start
	mkdir "$BATS_TEST_TMPDIR/empty"
	refused 1 "$BATS_TEST_TMPDIR/empty: no NAME.pem or NAME.crt in it" \
	    -L 127.0.0.1:0 -c "$BATS_TEST_TMPDIR/empty" "${HS[one]}"
	cp -p "$PKI/ec.crt" "$BATS_TEST_TMPDIR/empty/x.crt"
	refused 1 "$BATS_TEST_TMPDIR/empty/x.key: No such file or directory" \
	    -L 127.0.0.1:0 -c "$BATS_TEST_TMPDIR/empty" "${HS[one]}"
}

# served_is SERIAL: the certificate served for rsa.test has that serial
served_is() {
	[ "$(s_client "$LH" -servername rsa.test < /dev/null |
	    openssl x509 -noout -serial 2>/dev/null | sed -e 's/^serial=//' -e 's/^0*//' |
	    tr A-F a-f)" = "$1" ]
}

# done_ge N: tlsloop.py has made N requests at least
done_ge() { [ "$(cat "$BATS_TEST_TMPDIR/loop.count" 2>/dev/null || echo 0)" -ge "$1" ]; }

@test "lb-http: HUP swaps certificates under traffic, and not one request fails; a connection open across it goes on" {
	d="$BATS_TEST_TMPDIR/live"
	mkdir "$d"
	cp -p "$PKI/rsa.pem" "$d/site.pem"
	start_hsrv one
	start_lbh -w 2 -L 127.0.0.1:0 -c "$d/site.pem" "${HS[one]}"
	old=$(serial_of "$PKI/rsa.crt")
	new=$(serial_of "$PKI/swap.crt")
	served_is "$old"
	bg tlsloop.py -k -T "$PKI/ca.crt" -n rsa.test -s "$BATS_TEST_TMPDIR/stop" \
	    "$LH" "$BATS_TEST_TMPDIR/loop"
	loop=$BG_PID
	for i in 1 2 3 4; do
		# traffic before each swap, and during it
		wait_for 20 done_ge $((i * 20))
		# as a deploy does it: the new file renamed over the old one
		if [ $((i % 2)) = 1 ]; then f=swap want=$new; else f=rsa want=$old; fi
		cp -p "$PKI/$f.pem" "$d/.new.pem"
		mv "$d/.new.pem" "$d/site.pem"
		kill -HUP "$LHPID"
		wait_for 10 served_is "$want"
	done
	wait_for 20 done_ge 100
	touch "$BATS_TEST_TMPDIR/stop"
	wait_for 20 test -s "$BATS_TEST_TMPDIR/loop"
	wait "$loop"
	cat "$BATS_TEST_TMPDIR/loop"
	read -r _ ok _ fail _ serials < "$BATS_TEST_TMPDIR/loop"
	[ "$fail" = 0 ]
	[ "$ok" -ge 100 ]
	# the clients saw both, in turn
	[ "$serials" = "$old,$new" ]
	# the last swap stays
	served_is "$old"
	kill -0 "$LHPID"
}

@test "lb-http: HUP with a new file that does not load keeps the old pair, and says why in one line" {
	d="$BATS_TEST_TMPDIR/live"
	mkdir "$d"
	cp -p "$PKI/rsa.pem" "$d/site.pem"
	start_hsrv one
	start_lbh -w 1 -L 127.0.0.1:0 -c "$d/site.pem" -c "$PKI/ec.pem" "${HS[one]}"
	old=$(serial_of "$PKI/rsa.crt")
	n=0
	for bad in bad expired mixed open gone; do
		case $bad in
		mixed) cat "$PKI/swap.crt" "$PKI/rsa.key" > "$d/site.pem" ;;
		open) cp -p "$PKI/swap.pem" "$d/site.pem"; chmod 644 "$d/site.pem" ;;
		gone) rm "$d/site.pem" ;;
		*) cp -p "$PKI/$bad.pem" "$d/site.pem" ;;
		esac
		kill -HUP "$LHPID"
		n=$((n + 1))
		wait_for 5 said "$n" 'the old certificate stays in service' 
		served_is "$old"
		[ "$(subject_of "$LH" -servername ec.test)" = ec.test ]
	done
	run -0 grep -v ': the certificate expires in ' "$LHLOG.err"
	[ "$output" = "lb-http: $d/site.pem: no certificate in it (PEM): the old certificate stays in service
lb-http: $d/site.pem: the certificate expired: the old certificate stays in service
lb-http: $d/site.pem: the key does not match the certificate: the old certificate stays in service
lb-http: $d/site.pem: a private key that others may read (mode 0644): chmod o-rw it: the old certificate stays in service
lb-http: $d/site.pem: No such file or directory: the old certificate stays in service" ]
	# and a good one is taken
	cp -p "$PKI/swap.pem" "$d/site.pem"
	kill -HUP "$LHPID"
	wait_for 5 served_is "$(serial_of "$PKI/swap.crt")"
	[ "$(grep -c 'stays in service' "$LHLOG.err")" = 5 ]
}

@test "lb-http: CERT.ocsp beside a certificate is stapled to a client that asks" {
	d="$BATS_TEST_TMPDIR/ocsp"
	mkdir "$d"
	cp -p "$PKI/rsa.pem" "$d/site.pem"
	openssl ocsp -issuer "$PKI/ca.crt" -cert "$PKI/rsa.crt" -no_nonce \
	    -reqout "$d/req.der" 2>/dev/null
	openssl ocsp -index "$PKI/ca.db/index.txt" -rsigner "$PKI/ca.crt" \
	    -rkey "$PKI/ca.key" -CA "$PKI/ca.crt" -reqin "$d/req.der" \
	    -respout "$d/site.pem.ocsp" 2>/dev/null
	start_hsrv one
	start_lbh -w 1 -L 127.0.0.1:0 -c "$d/site.pem" -c "$PKI/ec.pem" "${HS[one]}"
	run -0 s_client "$LH" -status -servername rsa.test
	[[ "$output" == *"OCSP Response Status: successful"* ]]
	[[ "$output" == *"Cert Status: good"* ]]
	# a certificate without one staples nothing
	run -0 s_client "$LH" -status -servername ec.test
	[[ "$output" == *"OCSP response: no response sent"* ]]
}

@test "lb-http -u nobody: the process becomes nobody after loading its keys, cannot read them again, and HUP keeps them saying why" {
	# a directory nobody may enter: the key's own mode is what keeps it out
	d=$(mktemp -d /tmp/lb-tls.XXXXXX)
	chmod 755 "$d"
	cp -p "$PKI/rsa.pem" "$d/site.pem"
	start_hsrv one
	start_lbh -w 1 -v -u nobody -L 127.0.0.1:0 -c "$d/site.pem" "${HS[one]}"
	run -0 awk '$1 == "Uid:" || $1 == "Gid:" { print $1, $2, $3, $4, $5 }' "/proc/$LHPID/status"
	nobody=$(id -u nobody)
	nogroup=$(id -g nobody)
	[ "$output" = "Uid: $nobody $nobody $nobody $nobody
Gid: $nogroup $nogroup $nogroup $nogroup" ]
	[ "$(awk '$1 == "Groups:" { print $2 }' "/proc/$LHPID/status")" = "$nogroup" ]
	grep -q "^lb-http: now user nobody ($nobody)$" "$LHLOG.err"
	run -0 https /
	[ "$output" = one ]
	# HUP: the key cannot be read by the user it is now; the old pair stays
	cp -p "$PKI/swap.pem" "$d/site.pem"
	kill -HUP "$LHPID"
	wait_for 5 grep -q "^lb-http: $d/site.pem: Permission denied (to user nobody): the old certificate stays in service$" "$LHLOG.err"
	served_is "$(serial_of "$PKI/rsa.crt")"
	run -0 https /
	[ "$output" = one ]
	rm -r "$d"
	# its own table is root's: it says it cannot remove it
	tbl=$LHTABLE
	stop_lbh
	grep -q "^lb-http: table $tbl: not removed: Permission denied (lb-ctl -t $tbl destroy removes it)$" "$LHLOG.err"
	lb-ctl -t "$tbl" destroy
}
