# tls.bash: a test CA and its certificates, made once per file with
# openssl, and the clients and servers of the TLS suites.  Load after lib:
#	load helpers/lib
#	load helpers/tls
# and call tls_pki in setup_file.

# tls_pki: under PKI (the file's tmpdir), every key mode 0600:
#   ca.crt ca.key        the test CA (ECDSA P-256); ca2.* another, unknown
#   rsa.*    RSA-2048 leaf: rsa.test, www.rsa.test
#   ec.*     ECDSA P-256 leaf: ec.test
#   swap.*   ECDSA P-256 leaf for rsa.test and www.rsa.test too (a renewal)
#   wild.*   *.wild.test
#   soon.*   soon.test, expires in 10 days
#   expired.* expired.test, lapsed in 2020
#   self.*   self.test, self-signed
#   be.*     the backends': backend.test, localhost, 127.0.0.1, ::1
#   other.*  a backend's with the wrong name: other.test
#   unknown.* backend.test and 127.0.0.1, signed by ca2
#   client.* a client certificate (clientAuth) of the CA; client2.* of ca2
#   wrong.key  a key that matches none of them
#   bad.pem    not PEM at all
# Each NAME has NAME.key, NAME.crt and NAME.pem (the certificate, then
# its key, as -c takes it in one file).
tls_pki() {
	PKI="$BATS_FILE_TMPDIR/pki"
	export PKI
	mkdir -p "$PKI"
	(
		set -e
		cd "$PKI"
		umask 077
		_ca ca "lb test CA"
		_ca ca2 "lb unknown CA"
		_leaf rsa ca rsa "DNS:rsa.test,DNS:www.rsa.test"
		_leaf ec ca ec "DNS:ec.test"
		_leaf swap ca ec "DNS:rsa.test,DNS:www.rsa.test"
		_leaf wild ca ec "DNS:*.wild.test"
		_leaf soon ca ec "DNS:soon.test" -days 10
		_leaf expired ca ec "DNS:expired.test" \
		    -startdate 20200101000000Z -enddate 20200201000000Z
		_leaf be ca ec "DNS:backend.test,DNS:localhost,IP:127.0.0.1,IP:::1"
		_leaf other ca ec "DNS:other.test"
		_leaf unknown ca2 ec "DNS:backend.test,IP:127.0.0.1"
		_leaf client ca ec "" -extensions client
		_leaf client2 ca2 ec "" -extensions client
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout self.key -out self.crt -subj /CN=self.test \
		    -addext subjectAltName=DNS:self.test -days 365 2>/dev/null
		cat self.crt self.key > self.pem
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out wrong.key 2>/dev/null
		echo "not a certificate" > bad.pem
		chmod 600 ./*.key ./*.pem
		chmod 644 ./*.crt
	) || return 1
}

# _ca NAME CN: a self-signed CA and the files openssl ca keeps
_ca() {
	mkdir -p "$1.db"
	: > "$1.db/index.txt"
	echo 1000 > "$1.db/serial"
	cat > "$1.cnf" <<-EOF
	[ca]
	default_ca = d
	[d]
	database = $PKI/$1.db/index.txt
	new_certs_dir = $PKI/$1.db
	serial = $PKI/$1.db/serial
	certificate = $PKI/$1.crt
	private_key = $PKI/$1.key
	default_md = sha256
	default_days = 365
	policy = p
	unique_subject = no
	email_in_dn = no
	[p]
	commonName = supplied
	[server]
	basicConstraints = CA:false
	keyUsage = digitalSignature, keyEncipherment
	extendedKeyUsage = serverAuth
	subjectAltName = \${ENV::SAN}
	[client]
	basicConstraints = CA:false
	keyUsage = digitalSignature
	extendedKeyUsage = clientAuth
	EOF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.crt" -subj "/CN=$2" -days 365 \
	    -addext basicConstraints=critical,CA:true \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# _leaf NAME CA rsa|ec SANS [openssl ca options]: NAME.{key,crt,pem}
_leaf() {
	local name=$1 ca=$2 kind=$3 san=$4 cn
	shift 4
	if [ "$kind" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		    -out "$name.key" 2>/dev/null
	else
		openssl genpkey -algorithm EC \
		    -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
	fi
	cn=${san%%,*}
	cn=${cn#*:}
	openssl req -new -key "$name.key" -subj "/CN=${cn:-$name}" \
	    -out "$name.csr" 2>/dev/null
	SAN=${san:-DNS:$name} openssl ca -batch -notext -config "$ca.cnf" \
	    -extensions server -in "$name.csr" -out "$name.crt" "$@" 2>/dev/null
	cat "$name.crt" "$name.key" > "$name.pem"
}

# s_client ADDR [OPTIONS...]: openssl s_client's whole output for a
# handshake and an HTTP/1.0 request, read to the server's close (so that
# a TLS 1.3 session ticket, sent after the handshake, has come)
s_client() {
	local a=$1
	shift
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client \
	    -connect "$a" -CAfile "$PKI/ca.crt" -ign_eof "$@" 2>&1
}

# subject_of ADDR [OPTIONS...]: the CN of the certificate served
subject_of() {
	s_client "$@" < /dev/null | sed -n 's/^subject=CN = //p'
}

# hs_ok ADDR [OPTIONS...]: the handshake succeeds (a cipher was agreed)
hs_ok() {
	timeout 10 openssl s_client -connect "$@" -CAfile "$PKI/ca.crt" \
	    < /dev/null 2>&1 | grep -q '^New, TLSv1\.[23], Cipher is '
}

# https PATH [CURL-ARGS...]: a request to LH over HTTPS as NAME (default
# rsa.test), the test CA trusted; the body on stdout
https() {
	local p=$1 n=${HTTPS_NAME:-rsa.test}
	shift
	curl -sS -m 10 --cacert "$PKI/ca.crt" \
	    --resolve "$n:${LH##*:}:${LHHOST:-127.0.0.1}" "$@" \
	    "https://$n:${LH##*:}$p"
}

# serial_of CERT: its serial number as tlsloop.py prints it (hex, lower
# case, no leading zeros)
serial_of() {
	openssl x509 -in "$1" -noout -serial | sed -e 's/^serial=//' -e 's/^0*//' |
	    tr A-F a-f
}
