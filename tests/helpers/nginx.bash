# nginx.bash: an nginx of the test's own as an HTTP backend, not a daemon,
# on unix sockets (nginx cannot listen on port 0).  Load after lib.

# start_nginx_http: under NG (its prefix, logs, pid, files in NG/www):
# NG/http.sock plain and NG/pp.sock expecting a PROXY header (v1 or v2).
#   /who    "client PROXY-ADDR xff X-FORWARDED-FOR"
#   /conn   "CONNECTION-SERIAL REQUESTS-ON-IT"
#   /www/   files from NG/www
start_nginx_http() {
	local tmp m
	NG="$BATS_TEST_TMPDIR/nginx"
	mkdir -p "$NG/tmp" "$NG/www"
	tmp="client_body_temp_path $NG/tmp/body; proxy_temp_path $NG/tmp/proxy;"
	for m in fastcgi scgi uwsgi; do
		nginx -V 2>&1 | grep -q "without-http_${m}_module" ||
		    tmp="$tmp ${m}_temp_path $NG/tmp/$m;"
	done
	cat > "$NG/nginx.conf" <<-EOF
	user $(id -un) $(id -gn);
	worker_processes 1;
	error_log $NG/error.log info;
	events { worker_connections 256; }
	http {
		access_log $NG/access.log;
		keepalive_requests 100000;
		$tmp
		server {
			listen unix:$NG/http.sock;
			listen unix:$NG/pp.sock proxy_protocol;
			location = /who { return 200 "client \$proxy_protocol_addr xff \$http_x_forwarded_for\n"; }
			location = /conn { return 200 "\$connection \$connection_requests\n"; }
			location /www/ { root $NG; }
		}
		${NG_SERVERS:-}
	}
	EOF
	rm -f "$NG/http.sock" "$NG/pp.sock"
	bg nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" \
	    -g "daemon off; pid $NG/nginx.pid;"
	NGPID=$BG_PID
	wait_for 10 test -S "$NG/pp.sock"
}

# start_nginx_https CERT KEY: start_nginx_http, and NG/https.sock over TLS
# with that certificate, sessions kept (tickets and a cache):
#   /conn   "CONNECTION-SERIAL REQUESTS-ON-IT"
#   /tls    "SNI PROTOCOL REUSED" (REUSED: r for a resumed session, else .)
#   /www/   files from NG/www
start_nginx_https() {
	NG_SERVERS="server {
		listen unix:$BATS_TEST_TMPDIR/nginx/https.sock ssl;
		ssl_certificate $1;
		ssl_certificate_key $2;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache shared:lbtest:1m;
		location = /conn { return 200 \"\$connection \$connection_requests\\n\"; }
		location = /tls { return 200 \"\$ssl_server_name \$ssl_protocol \$ssl_session_reused\\n\"; }
		location /www/ { root $BATS_TEST_TMPDIR/nginx; }
	}" start_nginx_http
	wait_for 10 test -S "$NG/https.sock"
}
