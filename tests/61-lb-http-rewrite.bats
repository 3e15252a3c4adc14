#!/usr/bin/env bats
# 61-lb-http-rewrite: rules that change what a backend gets (prefix=,
# host=) and rules that answer themselves (redirect=, return=), with no
# table behind them; their bad values, and -R's reload.

load helpers/lib
load helpers/http
bats_require_minimum_version 1.5.0

# start_ng [TABLE]: an nginx that says what it got: "URI host=HOST
# xfh=XFH", on a unix socket, in TABLE (default $T) as "ng".
start_ng() {
	NG="$BATS_TEST_TMPDIR/ng"
	mkdir -p "$NG/tmp"
	cat > "$NG/nginx.conf" <<-EOF
	worker_processes 1;
	error_log $NG/error.log;
	events { worker_connections 64; }
	http {
		access_log off;
		client_body_temp_path $NG/tmp/body; proxy_temp_path $NG/tmp/proxy;
		fastcgi_temp_path $NG/tmp/f; scgi_temp_path $NG/tmp/s; uwsgi_temp_path $NG/tmp/u;
		server {
			listen unix:$NG/sock;
			location / {
				return 200 "\$request_uri host=\$http_host xfh=\$http_x_forwarded_host\n";
			}
		}
	}
	EOF
	bg nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" -g "daemon off; pid $NG/pid;"
	wait_for 10 test -S "$NG/sock"
	lb-ctl -t "${1:-$T}" add "unix:$NG/sock" name=ng
}

# head_of PATH [CURL-ARGS...]: the response's head, CRs taken off, in HEAD;
# its body in BODY
head_of() {
	local p=$1
	shift
	BODY=$(curl -sS -m 10 -D "$BATS_TEST_TMPDIR/h" "$@" "http://$LH$p")
	HEAD=$(tr -d '\r' < "$BATS_TEST_TMPDIR/h")
}

# has LINE: HEAD holds that line
has() { printf '%s\n' "$HEAD" | grep -qxF "$1"; }

@test "lb-http prefix=: the rule's path is replaced, the query kept; / is strip" {
	start_ng
	start_lbh -w 1 -r "/api=$T,prefix=/v2" -r "/old/=$T,prefix=/new/" \
	    -r "/s=$T,prefix=/" -l 127.0.0.1:0
	[ "$(get /api/users?id=3)" = "/v2/users?id=3 host=$LH xfh=$LH" ]
	[ "$(get /api)" = "/v2 host=$LH xfh=$LH" ]
	[ "$(get /api?q=1)" = "/v2?q=1 host=$LH xfh=$LH" ]
	[ "$(get /old/a/b)" = "/new/a/b host=$LH xfh=$LH" ]
	[ "$(get /s/x)" = "/x host=$LH xfh=$LH" ]
	[ "$(get /s)" = "/ host=$LH xfh=$LH" ]
	# not on a segment boundary: not the rule's
	[ "$(code /apix)" = 404 ]
	# the log keeps the path the client sent
	wait_for 5 lh_has 7
	[ "$(lhlog | sed -n 1p | cut -f5)" = "/api/users?id=3" ]
}

@test "lb-http host=: the backend gets that Host; X-Forwarded-Host keeps the client's" {
	start_ng
	start_lbh -w 1 -r "/in=$T,host=internal.example:8080" \
	    -r "/both=$T,host=10.0.0.1,prefix=/x" -t "$T" -l 127.0.0.1:0
	[ "$(get /in/a -H 'Host: www.example.com')" = "/in/a host=internal.example:8080 xfh=www.example.com" ]
	[ "$(get /both/y)" = "/x/y host=10.0.0.1 xfh=$LH" ]
	# HTTP/1.0 without a Host gets ours
	run -0 bash -c "printf 'GET /in HTTP/1.0\r\n\r\n' | curl -sS -m 10 telnet://$LH | tail -1"
	[ "$output" = "/in host=internal.example:8080 xfh=" ]
	[ "$(get /)" = "/ host=$LH xfh=$LH" ]
}

@test "lb-http redirect=: to a fixed place, with its status, no body, on a connection that stays" {
	start_lbh -w 1 -r "/old=,redirect=301:/new?x=1" \
	    -r "/away=,redirect=https://example.com/landing" \
	    -r "/t307=,redirect=307:/a" -r "/t308=,redirect=308:/a" \
	    -r "/t303=,redirect=303:/a" -l 127.0.0.1:0
	[ "$LHTABLE" = - ]
	head_of /old/page
	[ "$(printf '%s\n' "$HEAD" | head -1)" = "HTTP/1.1 301 Moved Permanently" ]
	has "Location: /new?x=1"
	has "Content-Length: 0"
	[ -z "$BODY" ]
	head_of /away
	[ "$(printf '%s\n' "$HEAD" | head -1)" = "HTTP/1.1 302 Found" ]
	has "Location: https://example.com/landing"
	for s in 303 307 308; do
		head_of /t$s
		[[ "$(printf '%s\n' "$HEAD" | head -1)" == "HTTP/1.1 $s "* ]]
		has "Location: /a"
	done
	# HEAD: the same head
	run -0 curl -sS -m 10 -I "http://$LH/old"
	[[ "$output" == *$'Location: /new?x=1\r'* ]]
	# several on one connection, and a POST whose body came along
	run -0 curl -sS -m 10 -o /dev/null -w '%{http_code} %{num_connects}\n' \
	    "http://$LH/old" "http://$LH/away" -d 'a=1' "http://$LH/t307"
	[ "${lines[*]}" = "301 1 302 0 307 0" ]
	wait_for 5 lh_has 9
	[ "$(lhlog | tail -3 | cut -f6,9,10,13 | sort -u | wc -l)" -eq 3 ]
	[ "$(lhlog | tail -1 | cut -f6,9,10,13)" = "307	/t307	-	keep-alive" ]
}

@test "lb-http redirect=https://: plain HTTP to HTTPS, the request's host and path kept; HTTPS goes to the table" {
	d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$d/lb.key" -out "$d/lb.crt" -subj "/CN=localhost" \
	    -addext subjectAltName=DNS:localhost -days 1 -nodes 2>/dev/null
	chmod 600 "$d/lb.key"
	start_hsrv web
	lb-ctl -t "$T" add "${HS[web]}" name=web
	echo "/=$T,redirect=308:https://" > "$d/rules"
	start_lbh -w 1 -R "$d/rules" -c "$d/lb.crt,$d/lb.key" -l 127.0.0.1:0 -L 127.0.0.1:0
	tls=$(sed -n 2p "$LHLOG")
	head_of "/a/b?c=d" -H "Host: shop.example:8080"
	[ "$(printf '%s\n' "$HEAD" | head -1)" = "HTTP/1.1 308 Permanent Redirect" ]
	has "Location: https://shop.example/a/b?c=d"
	head_of "/"
	has "Location: https://127.0.0.1/"
	# over TLS the same rule takes its table
	[ "$(curl -sS -m 10 -k "https://$tls/x")" = web ]
	# with the TLS port: a client that follows lands on the backend
	echo "/=$T,redirect=301:https://:${tls##*:}" > "$d/rules"
	kill -HUP "$LHPID"
	wait_for 5 bash -c "curl -s -D - 'http://$LH/' | grep -q ':${tls##*:}/'"
	run -0 curl -sS -m 10 -k -L -w ' %{num_redirects} %{url_effective}' "http://$LH/p?q=1"
	[ "$output" = "web"$'\n'" 1 https://127.0.0.1:${tls##*:}/p?q=1" ]
	# to another host, the path kept; a rule without a table on TLS: as no rule
	echo "/=,redirect=301:https://www.example.com" > "$d/rules"
	kill -HUP "$LHPID"
	wait_for 5 bash -c "curl -s -D - 'http://$LH/z' | grep -q www.example.com"
	head_of "/z?k=v"
	has "Location: https://www.example.com/z?k=v"
	[ "$(curl -sS -m 10 -k -o /dev/null -w '%{http_code}' "https://$tls/z" -H 'Host: www.example.com')" = 404 ]
	[ "$(curl -sS -m 10 -k -o /dev/null -w '%{http_code}' "https://$tls/z")" = 301 ]
}

@test "lb-http redirect=: HTTP/1.0 without a Host is sent to the address it came to; Connection as the client asked" {
	start_lbh -w 1 -r "/=,redirect=https://" -r "/x=,redirect=/y" -l 127.0.0.1:0
	run -0 bash -c "printf 'GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /q HTTP/1.0\r\n\r\n' | curl -sS -m 10 telnet://$LH | tr -d '\r'"
	[ "${lines[0]}" = "HTTP/1.1 302 Found" ]
	[[ "$output" == *$'Location: /y\nContent-Length: 0\nConnection: keep-alive\n'* ]]
	[[ "$output" == *$'Location: https://127.0.0.1/q\nContent-Length: 0\nConnection: close' ]]
	# to itself (http:// on plain HTTP): not answered, as no rule
	start_lbh -w 1 -r "/=,redirect=http://" -l 127.0.0.1:0
	[ "$(code /q)" = 404 ]
	head_of /x -H 'Connection: close'
	has "Connection: close"
}

@test "lb-http return=: a fixed answer with no table: status, type, length, body; HEAD without it; kept alive" {
	d=$BATS_TEST_TMPDIR
	printf '<h1>Down for maintenance</h1>\n' > "$d/maint.html"
	start_lbh -w 1 -r "/healthz=,return=200:ok" -r "/maint=,return=503,file=$d/maint.html" \
	    -r "/gone=,return=410:gone%2C%20for%20good" -r "/nothing=,return=204" \
	    -r "/json=,return=200:%7B%22up%22:true%7D,type=application/json" \
	    -r "/plain=,return=503" -e 'resp set Cache-Control: no-store' -l 127.0.0.1:0
	head_of /healthz
	[ "$BODY" = ok ]
	[ "$(printf '%s\n' "$HEAD" | head -1)" = "HTTP/1.1 200 OK" ]
	has "Content-Type: text/plain; charset=utf-8"
	has "Content-Length: 3"
	has "Cache-Control: no-store"
	run -0 curl -sS -m 10 -I "http://$LH/healthz"
	[[ "$output" == *$'Content-Length: 3\r'* ]]
	run -0 bash -c "printf 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | curl -sS -m 10 telnet://$LH | tr -d '\r'"
	[ "$(printf '%s\n' "$output" | grep -c '^HTTP/1.1 200 OK$')" -eq 2 ]
	# the HEAD's head, then at once the GET's: one body in all
	[ "$(printf '%s\n' "$output" | grep -c '^ok$')" -eq 1 ]
	[ "${lines[-1]}" = ok ]
	head_of /maint
	[ "$(printf '%s\n' "$HEAD" | head -1)" = "HTTP/1.1 503 Service Unavailable" ]
	has "Content-Type: text/html; charset=utf-8"
	has "Content-Length: 30"
	[ "$BODY" = "<h1>Down for maintenance</h1>" ]
	head_of /gone; [ "$BODY" = "gone, for good" ]
	head_of /nothing
	[ "$(printf '%s\n' "$HEAD" | head -1)" = "HTTP/1.1 204 No Content" ]
	! printf '%s\n' "$HEAD" | grep -qi '^content-length'
	[ -z "$BODY" ]
	head_of /json; [ "$BODY" = '{"up":true}' ]; has "Content-Type: application/json"
	head_of /plain; [ "$BODY" = "Service Unavailable" ]
	# 50 on one connection: one connect
	run -0 curl -sS -m 10 -w ' %{num_connects}\n' $(for i in $(seq 50); do echo "http://$LH/healthz"; done)
	[ "$(printf '%s\n' "$output" | grep -c '^ 0$')" -eq 49 ]
	[ "$(printf '%s\n' "$output" | grep -c '^ 1$')" -eq 1 ]
	wait_for 5 lh_has 58
	[ "$(lhlog | sed -n 1p | cut -f6,9,10,13)" = "200	/healthz	-	keep-alive" ]
}

@test "lb-http return=: a /healthz of the balancer answers while every backend is down" {
	start_hsrv web
	lb-ctl -t "$T" add "${HS[web]}" name=web
	start_lbh -w 1 -r "/healthz=,return=200:ok" -t "$T" -l 127.0.0.1:0
	[ "$(get /)" = web ]
	lb-ctl -t "$T" maint web
	[ "$(code /)" = 503 ]
	[ "$(get /healthz)" = ok ]
	[ "$(get /healthz/deep?x)" = ok ]
}

@test "lb-http: a bad rule option is one line naming the value, exit 2; the rules so far are kept on HUP" {
	d=$BATS_TEST_TMPDIR
	for bad in "/x=$T,prefix=v2" "/x=$T,prefix=/a?b" "/x=$T,host=a/b" "/x=$T,host=:80" \
	    "/x=$T,host=a:0" "/x=,redirect=999:/x" "/x=,redirect=ftp://x" \
	    "/x=,redirect=301:" "/x=,redirect=https://a b" "/x=,return=99" "/x=,return=304" \
	    "/x=,return=200:%zz" "/x=,return=2000" "/x=,return=204:body" \
	    "/x=,return=200,file=$d/none" "/x=$T,strip,prefix=/y" "/x=" \
	    "/x=$T,file=$d/f" "/x=,redirect=/a,return=200" "/x=,redirect=/a,file=$d/f" \
	    "/x=,prefix=/a,return=200" "/x=$T,type=html" "/x=$T,nope"; do
		run -2 --separate-stderr lb-http -r "$bad" -l 127.0.0.1:0
		[ "${#lines[@]}" -eq 0 ]
		[[ "$stderr" == "lb-http: bad rule '$bad': "* ]] || { echo "$bad: $stderr"; false; }
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	done
	run -2 --separate-stderr lb-http -r "/x=,redirect=999:/x" -l 127.0.0.1:0
	[ "$stderr" = "lb-http: bad rule '/x=,redirect=999:/x': bad redirect '999:/x': the status is 301, 302, 303, 307 or 308" ]
	run -2 --separate-stderr lb-http -r "/x=" -l 127.0.0.1:0
	[ "$stderr" = "lb-http: bad rule '/x=': a rule without a table answers itself: give redirect= or return=" ]
	# HUP: a bad value leaves the rules as they were; a file= is read again
	echo one > "$d/body"
	echo "/h=,return=200,file=$d/body,type=text/plain" > "$d/rules"
	start_lbh -w 1 -R "$d/rules" -l 127.0.0.1:0
	[ "$(get /h)" = one ]
	echo "/h=,return=200:x,redirect=/y" > "$d/rules"
	kill -HUP "$LHPID"
	wait_for 5 grep -q "HUP: $d/rules: line 1: bad rule .*the rules are left as they were" "$LHLOG.err"
	[ "$(get /h)" = one ]
	echo two > "$d/body"
	echo "/h=,return=200,file=$d/body,type=text/plain" > "$d/rules"
	kill -HUP "$LHPID"
	wait_for 5 bash -c "[ \"\$(curl -s http://$LH/h)\" = two ]"
	rm "$d/body"
	kill -HUP "$LHPID"
	wait_for 5 grep -q "file '$d/body': No such file" "$LHLOG.err"
	[ "$(get /h)" = two ]
}

@test "lb-http: CR or LF in a rule's Location, type, host or prefix is refused in one line; a request's never reach a head" {
	for bad in $'/x=,redirect=/a\r\nSet-Cookie: x=1' $'/x=,redirect=301:https://\nb' \
	    $'/x=,redirect=https://a\r/b' $'/x=,return=200,type=text/html\r\nX: y' \
	    $'/x=,return=200,type=text/html\rX: y' $'/x=,return=200,type=a/b\tc' \
	    $'/x=t,host=a\r\nb' $'/x=t,prefix=/a\nb' $'/x\r\n=t'; do
		run -2 --separate-stderr timeout 10 lb-http -r "$bad" -l 127.0.0.1:0
		[ "${#lines[@]}" -eq 0 ]
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || { echo "$stderr"; false; }
		[[ "$stderr" == "lb-http: bad rule '"*'\x0'[ad]* ]] || [[ "$stderr" == *'\x09'* ]]
	done
	# -R: a CR at the end of a line (a file from Windows) is a blank there
	printf '/f=,redirect=/fixed\r\n' > "$BATS_TEST_TMPDIR/rules"
	# what a request brings: bytes that would break a head are a 400,
	# the rest goes into a Location as it came, escaped as it came
	start_lbh -w 1 -r "/r=,redirect=https://" -R "$BATS_TEST_TMPDIR/rules" -l 127.0.0.1:0
	for req in $'GET /r/a\rb HTTP/1.1\r\nHost: x\r\n\r\n' \
	    $'GET /r/a\nb HTTP/1.1\r\nHost: x\r\n\r\n' \
	    $'GET /r/a\x80 HTTP/1.1\r\nHost: x\r\n\r\n' \
	    $'GET /r/a HTTP/1.1\r\nHost: x\ry\r\n\r\n' \
	    $'GET /r/a HTTP/1.1\r\nHost: x y\r\n\r\n' \
	    $'GET /r/a HTTP/1.1\r\nHost: x/y\r\n\r\n'; do
		run -0 bash -c 'printf "%s" "$1" | curl -sS -m 10 telnet://$2 | head -1' _ "$req" "$LH"
		[ "$output" = $'HTTP/1.1 400 Bad Request\r' ] || { echo "$req: $output"; false; }
	done
	run -0 bash -c 'printf "GET /r/a%%0d%%0aSet-Cookie:x=1?q=%%0a HTTP/1.1\r\nHost: h%%0d%%0a\r\nConnection: close\r\n\r\n" | curl -sS -m 10 telnet://$1' _ "$LH"
	[[ "$output" == *$'\r\nLocation: https://h%0d%0a/r/a%0d%0aSet-Cookie:x=1?q=%0a\r\n'* ]]
	[[ "$output" != *$'\nSet-Cookie'* ]]
	# the head's four lines and the empty one: no line more
	[ "$(printf '%s\n' "$output" | grep -c $'\r$')" -eq 5 ]
	# a fixed target is the rule's, whatever the request holds
	run -0 bash -c 'printf "GET /f/%%0d%%0a HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n" | curl -sS -m 10 telnet://$1' _ "$LH"
	[[ "$output" == *$'\r\nLocation: /fixed\r\n'* ]]
	kill -0 "$LHPID"
	# the absolute form: its path and query; OPTIONS *: the root
	start_lbh -w 1 -r "/=,redirect=https://" -l 127.0.0.1:0
	for req in "GET http://a.example/p?q HTTP/1.1|https://a.example/p?q" \
	    "GET http://a.example?q HTTP/1.1|https://a.example/?q" \
	    "OPTIONS * HTTP/1.1|https://a.example/"; do
		run -0 bash -c 'printf "%s\r\nHost: a.example\r\nConnection: close\r\n\r\n" "$1" | curl -sS -m 10 telnet://$2' _ "${req%|*}" "$LH"
		[[ "$output" == *$'\r\nLocation: '"${req#*|}"$'\r\n'* ]] || { echo "$req: $output"; false; }
	done
	kill -0 "$LHPID"
}

@test "lb-http: a rule splits at the '=' before its table: a path may hold one, options too" {
	start_ng
	start_lbh -w 1 -r "/a=b=$T,host=h.internal" -l 127.0.0.1:0
	[ "$(get /a=b/c)" = "/a=b/c host=h.internal xfh=$LH" ]
	[ "$(code /a)" = 404 ]
	[ ! -e /dev/shm/lb.h.internal ]
}

# man_example TEXT: the example commands of lb-http(1) holding TEXT, made
# this test's own: its backends, tables and files, port 0, no "&".
man_example() {
	local d=$BATS_TEST_TMPDIR
	sed -n 's/^\$ //p' "$BATS_TEST_DIRNAME/../man/lb-http.1" | grep -F -- "$1" |
	    sed -e 's/\\e/\\/g' -e 's/-l :8080/-l 127.0.0.1:0/' \
	    -e 's/-l :80 /-l 127.0.0.1:0 /' -e 's/-L :443/-L 127.0.0.1:0/' \
	    -e "s/=api,/=$T.api,/g" -e "s|/=web,|/=$T,|g" -e "s/-t web\b/-t $T/g" \
	    -e "s|/var/www/|$d/|g" -e "s|/etc/lb/|$d/|g" -e "s| site.pem| $d/site.pem|" \
	    -e "s| web.list| $d/web.list|" -e 's/ &$//' -e 's/^lb-http //'
}

@test "lb-http(1): the EXAMPLES of rewrites, answers, sticky sessions and hash keys run" {
	d=$BATS_TEST_TMPDIR
	cd "$d"
	start_ng "$T.api"
	eval "start_lbh -w 1 $(man_example "prefix=/v2")"
	[ "$(get /api/users?id=3)" = "/v2/users?id=3 host=api.internal xfh=$LH" ]
	stop_lbh
	# HTTPS and its redirect, a health check
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$d/k" -out "$d/c" -subj "/CN=localhost" -days 1 -nodes 2>/dev/null
	cat "$d/c" "$d/k" > "$d/site.pem"; chmod 600 "$d/site.pem"
	start_hsrv a; start_hsrv b
	lb-ctl -t "$T" add "${HS[a]}" name=a
	eval "start_lbh -w 1 $(man_example "redirect=301:https://")"
	tls=$(sed -n 2p "$LHLOG")
	head_of /shop?x=1
	has "HTTP/1.1 301 Moved Permanently"
	has "Location: https://127.0.0.1/shop?x=1"
	[ "$(get /healthz)" = ok ]
	[ "$(curl -sS -m 10 -k "https://$tls/shop")" = a ]
	stop_lbh
	# maintenance of one site
	echo '<p>back soon</p>' > "$d/maint.html"
	eval "start_lbh -w 1 $(man_example "maint.html")"
	[ "$(code / -H 'Host: www.example.com')" = 503 ]
	[ "$(get / -H 'Host: www.example.com')" = "<p>back soon</p>" ]
	[ "$(get / -H 'Host: other.example.com')" = a ]
	stop_lbh
	# sticky sessions over two "hosts": a key file, a list, two processes
	lb-ctl -t "$T" del a
	printf '%s name=a\n%s name=b\n' "${HS[a]}" "${HS[b]}" > "$d/web.list"
	eval "$(man_example "openssl rand")"
	[ "$(stat -c %a "$d/cookie.key")" = 600 ]
	eval "$(man_example "lb-ctl -t web sync")"
	eval "start_lbh -w 1 $(man_example "-k SRV")"
	first=$LH
	eval "start_lbh -w 1 $(man_example "-k SRV")"
	curl -sS -m 10 -c "$d/jar" "http://$first/" > "$d/pinned"
	for i in 1 2 3 4 5; do
		[ "$(curl -sS -m 10 -b "$d/jar" "http://$LH/")" = "$(cat "$d/pinned")" ]
		[ "$(curl -sS -m 10 -b "$d/jar" "http://$first/")" = "$(cat "$d/pinned")" ]
	done
	# users by a field, two processes agreeing
	eval "start_lbh -w 1 $(man_example "maglev,hdr=X-User")"
	one=$LH
	eval "start_lbh -w 1 $(man_example "maglev,hdr=X-User")"
	for u in 1 2 3 4 5 6 7 8; do
		[ "$(get / -H "X-User: u$u")" = "$(LH=$one get / -H "X-User: u$u")" ]
	done
	lb-ctl -t "$T.api" destroy
}
