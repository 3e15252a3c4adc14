#!/usr/bin/env bats
# 62-lb-http-cache: lb-http -M, the cache of responses: what RFC 9111 lets
# it store and serve, revalidation, Vary, collapsing, RFC 5861, purges, the
# bound, against a backend (csrv.py) that writes down every request it gets.

load helpers/lib
load helpers/http
bats_require_minimum_version 1.5.0

# start_csrv: the counting backend; CS its address, CSREQ its requests
start_csrv() {
	local f="$BATS_TEST_TMPDIR/cs"
	CSREQ="$f.req"
	bg csrv.py -1 -r "$CSREQ" -l 127.0.0.1:0 > "$f"
	CSPID=$BG_PID
	wait_for 10 test -s "$f"
	CS=$(head -1 "$f")
}

# reached PATTERN: how many requests the backend got whose line holds it
reached() { grep -cF -- "$1" "$CSREQ" || true; }
reached_is() { [ "$(reached "$1")" = "$2" ]; }
# words: the cache field of the log's lines, in the order of their times
words() { lhlog | sort | awk -F'\t' '{print $NF}' | tr '\n' ' '; }
# cstat COLUMN: the cache's column of the list of tables, for LHTABLE
cstat() {
	lb-stat -H -o "table,$1" 2>/dev/null | awk -F'\t' -v t="$LHTABLE" '
	    $1 == t { print $2 }'
}
cstat_is() { [ "$(cstat "$1")" = "$2" ]; }

@test "lb-http -M: a fresh object is served from memory, with an Age, and reaches nothing" {
	start_csrv
	start_lbh -M 1m -w 2 -l 127.0.0.1:0 "$CS"
	u="/a?cc=max-age=60"
	[ "$(get "$u")" = "csrv $u n=1" ]
	for i in 1 2 3 4 5; do [ "$(get "$u")" = "csrv $u n=1" ]; done
	[ "$(reached "GET $u ")" = 1 ]
	run -0 curl -sS -m 10 -D - -o /dev/null "http://$LH$u"
	[[ "$output" == *$'\r\nAge: '[0-9]* ]]
	[[ "$output" == *$'\r\nContent-Length: 26\r\n'* ]]
	# the log says what the cache did; the header names its field
	grep -q $'^# time\tclient.*\tend\tcache$' "$LHLOG"
	wait_for 5 lh_has 7
	[ "$(words)" = "miss hit hit hit hit hit hit " ]
	# lb-stat counts it for the route's table, Prometheus too
	wait_for 5 cstat_is cache_hits 6
	[ "$(cstat cache_misses)" = 1 ]
	wait_for 5 cstat_is cache_objects 1
	run -0 bash -c "lb-stat -t '$LHTABLE' -p | promcheck.py"
	run -0 lb-stat -t "$LHTABLE" -p
	[[ "$output" == *"lb_table_cache_responses_total{table=\"$LHTABLE\",cache=\"hit\"} 6"* ]]
	stop_lbh
}

@test "lb-http -M: freshness from Date and Age as received; Expires; no lifetime, no store" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	# an Age of 100 on a max-age of 60: stale as it arrives
	u="/b?cc=max-age=60&age=100"
	get "$u" > /dev/null; get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 2 ]
	# an Age below it: fresh, and the Age served counts from it
	u="/c?cc=max-age=600&age=100"
	get "$u" > /dev/null
	run -0 curl -sS -m 10 -D - -o /dev/null "http://$LH$u"
	[[ "$output" == *$'\r\nAge: 10'[0-9]$'\r\n'* ]]
	[ "$(reached "GET $u ")" = 1 ]
	# Expires, in the future and in the past
	u="/d?expires=600"
	get "$u" > /dev/null; get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 1 ]
	u="/e?expires=-10"
	get "$u" > /dev/null; get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 2 ]
	# nothing says how long: no heuristic, never stored
	get /f > /dev/null; get /f > /dev/null
	[ "$(reached "GET /f ")" = 2 ]
	stop_lbh
}

@test "lb-http -M: no-store, private, Set-Cookie and Authorization are never stored; public and s-maxage let a shared cache store with credentials" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	for u in "/n?cc=no-store" "/p?cc=private,max-age=60" \
	    "/k?cc=max-age=60&cookie=1"; do
		for i in 1 2 3; do get "$u" > /dev/null; done
		[ "$(reached "GET $u ")" = 3 ] || { echo "$u stored"; false; }
	done
	# the client's no-store: that answer is not kept
	u="/q?cc=max-age=60"
	get "$u" -H 'Cache-Control: no-store' > /dev/null
	get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 2 ]
	# credentials: only when the response says a shared cache may
	u="/au?cc=max-age=60"
	get "$u" -u x:y > /dev/null; get "$u" -u x:y > /dev/null
	[ "$(reached "GET $u ")" = 2 ]
	for u in "/pu?cc=max-age=60,public" "/sm?cc=s-maxage=60"; do
		get "$u" -u x:y > /dev/null; get "$u" -u x:y > /dev/null
		[ "$(reached "GET $u ")" = 1 ] || { echo "$u not stored"; false; }
	done
	# no Set-Cookie of one client is served to another
	run -0 curl -sS -m 10 -D - -o /dev/null "http://$LH/k?cc=max-age=60&cookie=1"
	[[ "$output" == *"Set-Cookie: a=1"* ]]
	stop_lbh
}

@test "lb-http -M: a stale object is revalidated with If-None-Match and If-Modified-Since; a 304 refreshes it" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	u="/r?cc=max-age=60&etag=v1&age=100"
	[ "$(get "$u")" = "csrv $u n=1" ]
	# stale: asked again with its validator, a 304, the stored body
	[ "$(get "$u")" = "csrv $u n=1" ]
	[ "$(reached "GET $u inm=\"v1\" ims=1")" = 1 ]
	# refreshed: fresh now, so the next reaches nothing
	[ "$(get "$u")" = "csrv $u n=1" ]
	[ "$(reached "GET $u ")" = 2 ]
	# Last-Modified alone: If-Modified-Since
	u="/lm?cc=max-age=60&lm=1&age=100"
	get "$u" > /dev/null; get "$u" > /dev/null; get "$u" > /dev/null
	[ "$(reached "GET $u inm=- ims=1")" = 1 ]
	[ "$(reached "GET $u ")" = 2 ]
	# no-cache: stored, but validated before each use
	u="/nc?cc=no-cache&etag=w"
	for i in 1 2 3; do [ "$(get "$u")" = "csrv $u n=1" ]; done
	[ "$(reached "GET $u inm=\"w\"")" = 2 ]
	wait_for 5 lh_has 9
	[ "$(words)" = "miss revalidated hit miss revalidated hit miss revalidated revalidated " ]
	stop_lbh
}

@test "lb-http -M: the cache answers a client's conditional request with 304 itself" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	u="/cond?cc=max-age=60&etag=v2&lm=1"
	get "$u" > /dev/null
	[ "$(code "$u" -H 'If-None-Match: "v2"')" = 304 ]
	[ "$(code "$u" -H 'If-None-Match: "x", W/"v2"')" = 304 ]
	[ "$(code "$u" -H 'If-None-Match: "other"')" = 200 ]
	[ "$(code "$u" -H 'If-Modified-Since: Tue, 01 Jun 2021 00:00:00 GMT')" = 304 ]
	[ "$(code "$u" -H 'If-Modified-Since: Tue, 01 Jun 2010 00:00:00 GMT')" = 200 ]
	run -0 curl -sS -m 10 -D - -H 'If-None-Match: "v2"' "http://$LH$u"
	[[ "$output" == *'ETag: "v2"'* && "$output" == *"Age: "* ]]
	[[ "$output" != *"Content-Length"* ]]
	[ "$(reached "GET $u ")" = 1 ]
	stop_lbh
}

@test "lb-http -M: the client's Cache-Control: no-cache and max-age=0 revalidate, max-stale takes stale, only-if-cached is a 504 on a miss" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	u="/cc?cc=max-age=60&etag=c"
	get "$u" > /dev/null
	[ "$(get "$u" -H 'Cache-Control: no-cache')" = "csrv $u n=1" ]
	[ "$(get "$u" -H 'Pragma: no-cache')" = "csrv $u n=1" ]
	[ "$(get "$u" -H 'Cache-Control: max-age=0')" = "csrv $u n=1" ]
	[ "$(reached "GET $u inm=\"c\"")" = 3 ]
	get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 4 ]
	# stale by its Age, taken as it is by a client that says so
	u="/ms?cc=max-age=60&age=100"
	get "$u" > /dev/null
	[ "$(get "$u" -H 'Cache-Control: max-stale=3600')" = "csrv $u n=1" ]
	[ "$(reached "GET $u ")" = 1 ]
	[ "$(code "/none?cc=max-age=60" -H 'Cache-Control: only-if-cached')" = 504 ]
	[ "$(reached "GET /none")" = 0 ]
	stop_lbh
}

@test "lb-http -M: Vary keeps one object for each variant" {
	start_csrv
	start_lbh -M 1m -w 2 -l 127.0.0.1:0 "$CS"
	u="/v?cc=max-age=60&vary=Accept-Language"
	for l in en fr en fr en; do
		run -0 get "$u" -H "Accept-Language: $l"
		[ "${lines[1]}" = "Accept-Language=$l" ]
	done
	# without the field: a variant of its own
	run -0 get "$u"
	[ "${lines[1]}" = "Accept-Language=-" ]
	get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 3 ]
	# Vary: * is never served from the cache
	u="/vs?cc=max-age=60&vary=*"
	get "$u" > /dev/null; get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 2 ]
	stop_lbh
}

@test "lb-http -M: POST, PUT and DELETE invalidate the target URI; HEAD is answered from a GET's object" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	u="/inv?cc=max-age=60"
	[ "$(get "$u")" = "csrv $u n=1" ]
	[ "$(get "$u")" = "csrv $u n=1" ]
	[ "$(code "$u" -X POST -d x)" = 204 ]
	[ "$(get "$u")" = "csrv $u n=3" ]
	[ "$(get "$u")" = "csrv $u n=3" ]
	[ "$(code "$u" -X DELETE)" = 204 ]
	[ "$(get "$u")" = "csrv $u n=5" ]
	# another URI stays
	w="/other?cc=max-age=60"
	get "$w" > /dev/null
	[ "$(code "$u" -X PUT -d y)" = 204 ]
	get "$w" > /dev/null
	[ "$(reached "GET $w ")" = 1 ]
	run -0 curl -sS -m 10 -I "http://$LH$w"
	[[ "$output" == *"Content-Length: 30"* && "$output" == *"Age: "* ]]
	[ "$(reached "HEAD $w ")" = 0 ]
	stop_lbh
}

@test "lb-http -M: an unsafe method's Location on the same host is invalidated too; an error invalidates nothing" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	u="/loc?cc=max-age=60"
	w="/err?cc=max-age=60"
	get "$u" > /dev/null; get "$w" > /dev/null
	[ "$(code "/new?location=%2Floc%3Fcc%3Dmax-age%3D60&status=201" -X POST -d x)" = 201 ]
	[ "$(code "/new?location=http%3A%2F%2F$LH%2Ferr%3Fcc%3Dmax-age%3D60&status=500" -X POST -d x)" = 500 ]
	get "$u" > /dev/null; get "$w" > /dev/null
	[ "$(reached "GET $u ")" = 2 ]
	[ "$(reached "GET $w ")" = 1 ]
	# an absolute Location on the same host (its port ignored)
	[ "$(code "/new?location=http%3A%2F%2F127.0.0.1%3A1%2Ferr%3Fcc%3Dmax-age%3D60&status=303" -X POST -d x)" = 303 ]
	get "$w" > /dev/null
	[ "$(reached "GET $w ")" = 2 ]
	stop_lbh
}

@test "lb-http -M: 50 concurrent misses for one object send one request; the rest wait for it" {
	start_csrv
	start_lbh -M 4m -w 2 -l 127.0.0.1:0 "$CS"
	u="/slow?cc=max-age=60&slow=300&size=100000&chunked=1"
	run -0 bash -c "seq 50 | xargs -P 50 -I{} curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download}\n' 'http://$LH$u' | sort | uniq -c"
	[ "$(echo $output)" = "50 200 100000" ]
	[ "$(reached "GET $u ")" = 1 ]
	stop_lbh
}

@test "lb-http -M: a wait for another's fetch is bounded by -T collapse; a client that leaves while it waits costs nothing" {
	start_csrv
	start_lbh -M 1m -w 2 -T collapse=200ms -l 127.0.0.1:0 "$CS"
	u="/long?cc=max-age=60&slow=1500"
	run -0 bash -c "seq 4 | xargs -P 4 -I{} curl -sS -m 10 -o /dev/null -w '%{http_code}\n' 'http://$LH$u' | sort | uniq -c"
	[ "$(echo $output)" = "4 200" ]
	# each waited 200 ms, then went itself: the bound, not the fetch
	[ "$(reached "GET $u ")" = 4 ]
	# clients that give up while they wait
	u="/gone?cc=max-age=60&slow=800"
	curl -s -m 10 -o /dev/null "http://$LH$u" &
	cpid=$!
	wait_for 5 reached_is "GET $u " 1
	for i in 1 2 3; do curl -s -m 0.1 -o /dev/null "http://$LH$u" || true; done
	wait "$cpid"
	[[ "$(get "$u")" == "csrv $u n="[1-4] ]]
	kill -0 "$LHPID"
	stop_lbh
}

@test "lb-http -M: stale-while-revalidate serves stale at once and revalidates behind; stale-if-error serves while the backend is down" {
	start_csrv
	start_lbh -M 1m -w 1 -l 127.0.0.1:0 "$CS"
	u="/swr?cc=max-age=60,stale-while-revalidate=600&etag=s&age=100"
	get "$u" > /dev/null
	[ "$(get "$u")" = "csrv $u n=1" ]
	wait_for 5 reached_is "GET $u inm=\"s\"" 1
	get "$u" > /dev/null
	[ "$(reached "GET $u ")" = 2 ]
	u="/sie?cc=max-age=1,stale-if-error=600&age=10"
	[ "$(get "$u")" = "csrv $u n=1" ]
	kill "$CSPID"
	wait_for 5 gone "$CSPID"
	[ "$(get "$u")" = "csrv $u n=1" ]
	[ "$(get "$u")" = "csrv $u n=1" ]
	# what it cannot serve stale is an error as before
	[ "$(code "/x?cc=max-age=60")" = 503 ]
	wait_for 5 lh_has 7
	[ "$(words)" = "miss stale hit miss stale stale miss " ]
	stop_lbh
}

@test "lb-http -M: the bound holds: least recently used objects go, one over -z object= is not stored" {
	start_csrv
	start_lbh -M 1m -z object=64k -w 2 -l 127.0.0.1:0 "$CS"
	get "/keep?cc=max-age=600&size=50000" > /dev/null
	for i in $(seq 40); do
		get "/e$i?cc=max-age=600&size=50000" > /dev/null
		# used all along: never the least recently used
		get "/keep?cc=max-age=600&size=50000" > /dev/null
	done
	# a function, so that each try reads the counter afresh
	evicted() { [ "$(cstat cache_evictions)" -gt 10 ]; }
	wait_for 5 evicted
	wait_for 5 cstat_is cache_misses 41
	# objects and bytes reach the table at the next second's tick,
	# after the misses: wait for it, then the bound must hold
	held() { b=$(cstat cache_bytes); [ "$b" -gt $((512 * 1024)) ]; }
	wait_for 5 held
	b=$(cstat cache_bytes)
	[ "$b" -le $((1024 * 1024)) ] && [ "$b" -gt $((512 * 1024)) ]
	[ "$(reached "GET /keep")" = 1 ]
	# the oldest went first
	get "/e1?cc=max-age=600&size=50000" > /dev/null
	[ "$(reached "GET /e1?")" = 2 ]
	get "/big?cc=max-age=600&size=70000" > /dev/null
	get "/big?cc=max-age=600&size=70000" > /dev/null
	[ "$(reached "GET /big")" = 2 ]
	stop_lbh
}

@test "lb-http -M: over TLS too; an https object is not the http one" {
	start_csrv
	d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$d/c.key" -out "$d/c.crt" -subj /CN=localhost -days 2 \
	    -nodes 2>/dev/null
	start_lbh -M 1m -w 2 -L 127.0.0.1:0 -c "$d/c.crt,$d/c.key" \
	    -l 127.0.0.1:0 "$CS"
	tls=$(sed -n 1p "$LHLOG")
	plain=$(sed -n 2p "$LHLOG")
	u="/t?cc=max-age=60&size=100000"
	for i in 1 2 3; do
		[ "$(curl -sSk -m 10 "https://$tls$u" | wc -c)" = 100000 ]
	done
	[ "$(curl -sS -m 10 "http://$plain$u" | wc -c)" = 100000 ]
	[ "$(reached "GET $u ")" = 2 ]
	stop_lbh
}

@test "lb-http -M: lb-ctl purge drops one URL, or a prefix, from the shell" {
	start_csrv
	start_lbh -M 1m -w 2 -l 127.0.0.1:0 "$CS"
	for u in "/p/a?cc=max-age=60" "/p/b?cc=max-age=60" "/q?cc=max-age=60"; do
		get "$u" > /dev/null; get "$u" > /dev/null
	done
	run -0 lb-ctl -t "$LHTABLE" purge "/p/a?cc=max-age=60"
	get "/p/a?cc=max-age=60" > /dev/null; get "/p/b?cc=max-age=60" > /dev/null
	[ "$(reached "GET /p/a")" = 2 ]
	[ "$(reached "GET /p/b")" = 1 ]
	run -0 lb-ctl -t "$LHTABLE" purge "127.0.0.1/p/*"
	for u in "/p/a?cc=max-age=60" "/p/b?cc=max-age=60" "/q?cc=max-age=60"; do
		get "$u" > /dev/null
	done
	[ "$(reached "GET /p/a")" = 3 ]
	[ "$(reached "GET /p/b")" = 2 ]
	[ "$(reached "GET /q")" = 1 ]
	stop_lbh
}

@test "lb-http -M: a rule with nocache is not cached; bypass in the log" {
	start_csrv
	lb-ctl -t "$T" add "$CS"
	start_lbh -M 1m -w 1 -r "/live=$T,nocache" -r "/=$T" -l 127.0.0.1:0
	for i in 1 2; do get "/live?cc=max-age=60" > /dev/null; done
	for i in 1 2; do get "/st?cc=max-age=60" > /dev/null; done
	[ "$(reached "GET /live")" = 2 ]
	[ "$(reached "GET /st")" = 1 ]
	wait_for 5 lh_has 4
	[ "$(words)" = "bypass bypass miss hit " ]
	stop_lbh
}

@test "lb-http -M: bad sizes and durations are bad usage" {
	run -2 --separate-stderr lb-http -M 12x -l 127.0.0.1:0 127.0.0.1:1
	[ "$stderr" = "lb-http: bad cache size (-M) '12x': 65536 to 1099511627776 (k, m and g multiply by 1024)" ]
	run -2 --separate-stderr lb-http -M 1m -z object=0 -l 127.0.0.1:0 127.0.0.1:1
	[[ "$stderr" == "lb-http: bad cached object size '0': "* ]]
	run -2 --separate-stderr lb-http -T collapse=x -l 127.0.0.1:0 127.0.0.1:1
	[[ "$stderr" == "lb-http: bad -T collapse 'x': "* ]]
	run -2 --separate-stderr lb-http -r "/=t,cache" -l 127.0.0.1:0
	[[ "$stderr" == *"unknown option 'cache' (strip, tls, noverify, nocache, "* ]]
}

# man_cache_example TEXT: the example command of lb-http(1) holding TEXT,
# made this test's own: its table, port 0 and address, no "&".
man_cache_example() {
	sed -n 's/^\$ //p' "$BATS_TEST_DIRNAME/../man/lb-http.1" | grep -F -- "$1" |
	    sed -e 's/\\e/\\/g' -e "s/-t web\b/-t $T/g" -e "s/=web,/=$T,/g" \
	    -e "s/-l :8080/-l 127.0.0.1:0/" -e "s|http://127.0.0.1:8080|http://$LH|" \
	    -e 's/ &$//' -e 's/^lb-http //'
}

@test "lb-http(1): the cache's EXAMPLES run" {
	start_csrv
	lb-ctl -t "$T" add "$CS"
	eval "start_lbh -w 2 $(man_cache_example "-M 64m")"
	LHTABLE=$T
	# /about must say how long it stays fresh: csrv is asked to
	[ "$(eval "$(man_cache_example "curl -s" | sed 's|/about|/about?cc=max-age=60|')")" = 200 ]
	[ "$(get "/about?cc=max-age=60")" = "csrv /about?cc=max-age=60 n=1" ]
	[ "$(get "/feed?cc=max-age=60")" = "csrv /feed?cc=max-age=60 n=1" ]
	[ "$(get "/feed?cc=max-age=60")" = "csrv /feed?cc=max-age=60 n=2" ]
	run -0 eval "$(man_cache_example "purge /about" | sed 's|/about|/about?cc=max-age=60|')"
	[ "$(get "/about?cc=max-age=60")" = "csrv /about?cc=max-age=60 n=2" ]
	for a in 1 2; do get "/articles/$a?cc=max-age=60" -H 'Host: www.example.com' > /dev/null; done
	run -0 eval "$(man_cache_example "purge 'www.example.com")"
	for a in 1 2; do get "/articles/$a?cc=max-age=60" -H 'Host: www.example.com' > /dev/null; done
	[ "$(reached "GET /articles/")" = 4 ]
	wait_for 5 cstat_is cache_hits 1
	run -0 --separate-stderr eval "$(man_cache_example "lb-stat -o")"
	[[ "$output" == *"$T"$'\t1\t'[0-9]*$'\t'[0-9]*$'\t'[0-9]* ]]
	stop_lbh
}

@test "lb-http -M: with prefix= (and host=) the backend gets the rewritten path, a revalidation too; sticky cookies still work" {
	start_csrv
	lb-ctl -t "$T" add "$CS"
	start_lbh -M 1m -w 1 -k LB -r "/api=$T,prefix=/v2,host=be.internal" -l 127.0.0.1:0
	u="/api/r?cc=max-age=60&etag=p&age=100"
	[ "$(get "$u")" = "csrv /v2/r?cc=max-age=60&etag=p&age=100 n=1" ]
	[ "$(get "$u")" = "csrv /v2/r?cc=max-age=60&etag=p&age=100 n=1" ]
	[ "$(reached "GET /v2/r?cc=max-age=60&etag=p&age=100 inm=\"p\"")" = 1 ]
	[ "$(reached "GET /api/")" = 0 ]
	# a miss gets its pin; the cache serves the object to anyone
	run -0 curl -sS -m 10 -D - -o /dev/null "http://$LH/api/s?cc=max-age=60"
	[[ "$output" == *"Set-Cookie: LB="* ]]
	[ "$(get "/api/s?cc=max-age=60")" = "csrv /v2/s?cc=max-age=60 n=1" ]
	stop_lbh
}
