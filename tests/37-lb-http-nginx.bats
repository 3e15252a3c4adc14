#!/usr/bin/env bats
# 37-lb-http-nginx: lb-http in front of nginx, a real backend: files,
# pooled connections, and the PROXY protocol both ways.

load helpers/lib
load helpers/tcp
load helpers/http
load helpers/nginx
bats_require_minimum_version 1.5.0

@test "lb-http over nginx: a file arrives whole; thirty clients' requests share one nginx connection" {
	start_nginx_http
	head -c 3145728 /dev/urandom > "$NG/www/blob"
	start_lbh -w 1 -l 127.0.0.1:0 "unix:$NG/http.sock"
	[ "$(get /www/blob | sha256sum)" = "$(sha256sum < "$NG/www/blob")" ]
	first=$(get /conn | cut -d' ' -f1)
	for i in $(seq 30); do
		run -0 get /conn
		[ "${output%% *}" = "$first" ]
	done
	# the last was that connection's 32nd request
	[ "${output##* }" = 32 ]
}

@test "lb-http -P v1 and v2: nginx learns each client from the header, on a connection of its own" {
	start_nginx_http
	for v in v1 v2; do
		start_lbh -w 1 -P "$v" -l 127.0.0.1:0 "unix:$NG/pp.sock"
		run -0 get /who --interface 127.0.0.2
		[ "$output" = "client 127.0.0.2 xff 127.0.0.2" ]
		run -0 get /who --interface 127.0.0.3
		[ "$output" = "client 127.0.0.3 xff 127.0.0.3" ]
		stop_lbh
	done
	# one client's keep-alive requests keep its own connection
	start_lbh -w 1 -P v2 -l 127.0.0.1:0 "unix:$NG/pp.sock"
	run -0 curl -sS -m 10 "http://$LH/conn" "http://$LH/conn"
	[ "${lines[0]%% *}" = "${lines[1]%% *}" ]
	[ "${lines[1]##* }" = 2 ]
}

@test "lb-http -p behind lb-tcp -P v2: the client behind it is the one forwarded" {
	start_nginx_http
	start_lbh -w 1 -p -l 127.0.0.1:0 "unix:$NG/http.sock"
	start_lb -w 1 -P v2 -l 127.0.0.1:0 "$LH"
	run -0 curl -sS -m 10 --interface 127.0.0.5 "http://$LB/who"
	[ "$output" = "client  xff 127.0.0.5" ]
	wait_for 5 lh_has 1
	[[ "$(lhlog | cut -f2)" == 127.0.0.5:* ]]
	# without a header: closed, and it goes on
	run hcli.py -t 2 "$LH" 'GET /who HTTP/1.1\r\nHost: a\r\n\r\n'
	[ -z "$output" ]
	run -0 curl -sS -m 10 --interface 127.0.0.5 "http://$LB/who"
	[ "$output" = "client  xff 127.0.0.5" ]
}
