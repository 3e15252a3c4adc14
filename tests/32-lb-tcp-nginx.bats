#!/usr/bin/env bats
# 32-lb-tcp-nginx: the PROXY protocol against nginx, a real implementation
# of it: nginx reads the header lb-tcp -P sends (v1 and v2), and lb-tcp -p
# reads the one nginx's stream module sends.

load helpers/lib
load helpers/tcp
bats_require_minimum_version 1.5.0

# free_port: a TCP port free a moment ago on 127.0.0.1.  nginx cannot
# listen on port 0, so its stream listener takes one of these; another
# program may take it in between: start_nginx tries again then.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx [UPSTREAM]: an nginx of this test's own under NG (its
# prefix, logs, pid), not a daemon.  Its http server listens on the unix
# socket NG/http.sock and expects a PROXY header (v1 or v2); it answers
# "client ADDR" with the address the header named and logs it in
# NG/access.log.  With UPSTREAM, a stream server on 127.0.0.1:NGPORT
# passes connections to UPSTREAM with a PROXY v1 header in front.
start_nginx() {
	local up=${1:-} try tmp m
	NG="$BATS_TEST_TMPDIR/nginx"
	mkdir -p "$NG/tmp"
	# temp paths of our own, for the modules this nginx has
	tmp="client_body_temp_path $NG/tmp/body; proxy_temp_path $NG/tmp/proxy;"
	for m in fastcgi scgi uwsgi; do
		nginx -V 2>&1 | grep -q "without-http_${m}_module" ||
		    tmp="$tmp ${m}_temp_path $NG/tmp/$m;"
	done
	for try in 1 2 3; do
		NGPORT=$(free_port)
		cat > "$NG/nginx.conf" <<-EOF
		user $(id -un) $(id -gn);
		worker_processes 1;
		error_log $NG/error.log info;
		events { worker_connections 64; }
		http {
			log_format pp '\$proxy_protocol_addr \$remote_addr "\$request" \$status';
			access_log $NG/access.log pp;
			$tmp
			server {
				listen unix:$NG/http.sock proxy_protocol;
				location / { return 200 "client \$proxy_protocol_addr\n"; }
			}
		}
		EOF
		[ -z "$up" ] || cat >> "$NG/nginx.conf" <<-EOF
		stream {
			server {
				listen 127.0.0.1:$NGPORT;
				proxy_pass $up;
				proxy_protocol on;
			}
		}
		EOF
		rm -f "$NG/http.sock"
		bg nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" \
		    -g "daemon off; pid $NG/nginx.pid;${up:+ load_module $(nginx_stream_module);}"
		NGPID=$BG_PID
		wait_for 10 nginx_settled
		kill -0 "$NGPID" 2>/dev/null && return 0
		wait "$NGPID" || true
		grep -q 'in use' "$NG/error.log" || break
	done
	cat "$NG/error.log"
	return 1
}

nginx_stream_module() {
	local f
	for f in /usr/lib/nginx/modules/ngx_stream_module.so \
	    /usr/share/nginx/modules/ngx_stream_module.so; do
		[ -e "$f" ] && { echo "$f"; return; }
	done
	echo ngx_stream_module.so
}

# nginx listens (its socket is there, and its port if it has one), or left
nginx_settled() {
	! kill -0 "$NGPID" 2>/dev/null && return 0
	[ -S "$NG/http.sock" ] || return 1
	grep -q '^stream' "$NG/nginx.conf" || return 0
	[ -n "$(ss -Hltn "sport = :$NGPORT")" ]
}

@test "lb-tcp -P v1 and v2: nginx learns the client's address from the header" {
	start_nginx
	for v in v1 v2; do
		start_lb -w 1 -P "$v" -l 127.0.0.1:0 "unix:$NG/http.sock"
		run -0 timeout 10 curl -sS --interface 127.0.0.2 "http://$LB/$v"
		[ "$output" = "client 127.0.0.2" ]
		wait_for 5 grep -q "/$v HTTP" "$NG/access.log"
		# as nginx logs it: the header's address, a unix socket's own
		[ "$(grep "/$v HTTP" "$NG/access.log")" = "127.0.0.2 unix: \"GET /$v HTTP/1.1\" 200" ]
	done
	# without a header nginx refuses the connection: the header is what
	# made it talk
	start_lb -w 1 -l 127.0.0.1:0 "unix:$NG/http.sock"
	run timeout 10 curl -sS --interface 127.0.0.2 "http://$LB/none"
	[ "$status" -ne 0 ]
	wait_for 5 grep -q 'broken header' "$NG/error.log"
}

@test "lb-tcp -p behind nginx stream's proxy_protocol, then -P v2 to nginx http" {
	# client 127.0.0.3 -> nginx stream (sends v1) -> lb-tcp -p -P v2 ->
	# nginx http (reads v2): the address survives both hops
	start_lb -w 1 -p -P v2 -l 127.0.0.1:0 "unix:$BATS_TEST_TMPDIR/nginx/http.sock"
	start_nginx "$LB"
	run -0 timeout 10 curl -sS --interface 127.0.0.3 "http://127.0.0.1:$NGPORT/hop"
	[ "$output" = "client 127.0.0.3" ]
	# lb-tcp read the address from nginx's header, not nginx's own
	wait_for 5 grep -q $'^[^\t]*\t127.0.0.3:' "$LBLOG"
	wait_for 5 grep -q '^127.0.0.3 unix: "GET /hop' "$NG/access.log"
	kill -0 "$LBPID"
}
