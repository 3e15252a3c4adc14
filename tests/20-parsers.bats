#!/usr/bin/env bats
# 20-parsers: the parsers alone: PROXY protocol, ClientHello, -o fields,
# durations and addresses.

load helpers/lib
bats_require_minimum_version 1.5.0

@test "proxyproto: v1/v2 parse, every truncation, garbage, write and read back" {
	run -0 timeout 60 proxyproto_test
	[[ "${lines[-1]}" =~ ^proxyproto_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}

@test "sni: built ClientHellos, split records, truncations, garbage, matcher" {
	run -0 timeout 60 sni_test
	[[ "${lines[-1]}" =~ ^sni_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}

# capture FILE OPENSSL_ARGS...: the first flight of openssl s_client,
# saved by sni_test -c on a port of its own.
capture() {
	local f=$1 port
	shift
	bg sh -c "exec sni_test -c '$f' > '$f.port'"
	wait_for 5 test -s "$f.port"
	port=$(cat "$f.port")
	timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" \
	    </dev/null >/dev/null 2>&1 || true
	wait "$BG_PID"
	test -s "$f"
}

@test "sni: real ClientHellos from openssl s_client" {
	local d=$BATS_TEST_TMPDIR
	capture "$d/tls13" -servername www.example.com -tls1_3
	run -0 sni_test -f "$d/tls13" www.example.com
	[[ "${lines[-1]}" =~ name\ \"www.example.com\"$ ]]
	capture "$d/tls12" -servername api.Example.org -tls1_2
	run -0 sni_test -f "$d/tls12" api.Example.org
	capture "$d/none" -noservername
	run -0 sni_test -f "$d/none" -
	[[ "${lines[-1]}" =~ ^.*:\ 0\ of\ [0-9]+\ bytes ]]
	# The check can fail: the wrong name is told.
	run -1 sni_test -f "$d/tls13" www.example.org
}

@test "cols: -o selections, TSV and JSON rows and their escaping, json_str" {
	run -0 timeout 60 cols_test
	[[ "${lines[-1]}" =~ ^cols_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}

@test "args: durations with decimals to the millisecond; old address forms refused" {
	run -0 timeout 60 args_test
	[[ "${lines[-1]}" =~ ^args_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}
