#!/usr/bin/env bats
# 60-lb-http-sticky: sessions that stay on one backend: sticky cookies
# (-k, -K) and hash keys (-a maglev,hdr=...), across connections,
# processes, hosts' tables and restarts, and what moves them.

load helpers/lib
load helpers/http
bats_require_minimum_version 1.5.0

# ask PATH [CURL-ARGS...]: a request through lb-http ($LH); its body in
# BODY, the value of the LB cookie it sets in SET ("" for none), its
# Set-Cookie lines in SETS.
ask() {
	local p=$1 h="$BATS_TEST_TMPDIR/head"
	shift
	BODY=$(curl -sS -m 10 -D "$h" "$@" "http://$LH$p")
	SETS=$(tr -d '\r' < "$h" | grep -i '^set-cookie:' || true)
	SET=$(printf '%s\n' "$SETS" | sed -n 's/^Set-Cookie: LB=\([^;]*\).*/\1/p')
}

# the table $1 with backends named $2... (started with start_hsrv)
fill() {
	local t=$1 b
	shift
	for b in "$@"; do lb-ctl -t "$t" add "${HS[$b]}" name="$b"; done
}

# keyfile FILE: a key as an operator makes one
keyfile() { openssl rand -hex 32 > "$1"; chmod 600 "$1"; }

# sticky_col N: the sticky field (the last) of log line N
sticky_col() { lhlog | sed -n "${1}p" | awk -F'\t' '{print $NF}'; }

@test "sticky: Cookie pairs, hash keys, HMAC values, key files and maps pass their unit test" {
	run -0 timeout 60 sticky_test "$BATS_TEST_TMPDIR"
	[[ "${lines[-1]}" =~ ^sticky_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}

@test "lb-http -k: the first response pins the client with an opaque cookie; it comes back to its backend on every connection" {
	start_hsrv one; start_hsrv two; start_hsrv three
	fill "$T" one two three
	start_lbh -w 1 -k LB -t "$T" -l 127.0.0.1:0
	# without the cookie, round robin: three clients, three backends
	ask /; first=$BODY; c=$SET
	# the cookie: 22 characters that name no backend, on the root
	[ "${#c}" -eq 22 ]
	[ "$SETS" = "Set-Cookie: LB=$c; Path=/; HttpOnly; SameSite=Lax" ]
	ask /; [ "$BODY" != "$first" ]; [ -n "$SET" ]; [ "$SET" != "$c" ]
	ask /; [ "$BODY" != "$first" ]
	for b in one two three; do
		[[ "$c" != *"$b"* && "$c" != *"${HS[$b]##*:}"* ]]
	done
	# 30 requests, a new connection each: the same backend, no new cookie
	for i in $(seq 30); do
		ask / -b "LB=$c"
		[ "$BODY" = "$first" ]
		[ -z "$SETS" ]
	done
	# 20 on one kept-alive connection, through pooled backend connections
	before=$(conns_of "$first")
	run -0 curl -sS -m 10 -b "LB=$c" $(for i in $(seq 20); do echo "http://$LH/"; done)
	[ "$(printf '%s\n' "$output" | sort -u)" = "$first" ]
	[ "$(conns_of "$first")" -le $((before + 1)) ]
	# the log says what was done: new, then kept
	wait_for 5 lh_has 53
	grep -q $'\tend\tsticky$' "$LHLOG"
	[ "$(sticky_col 1)" = new ]
	[ "$(sticky_col 4)" = kept ]
	[ "$(lhlog | awk -F'\t' '$NF == "kept"' | wc -l)" -eq 50 ]
}

@test "lb-http -k: the backend never sees the cookie; the client's others pass as they came" {
	start_hsrv one
	fill "$T" one
	start_lbh -w 1 -k LB -t "$T" -l 127.0.0.1:0
	ask /; c=$SET
	ask /echo -b "theme=dark; LB=$c;  lang=fr"
	[[ "$BODY" == *$'\r\nCookie: theme=dark; lang=fr\r\n'* ]]
	[[ "$BODY" != *"LB="* ]]
	[ -z "$SETS" ]
	# ours alone: no Cookie field at all
	ask /echo -b "LB=$c"
	[[ "$BODY" != *$'\r\nCookie:'* ]]
	# a name that only begins like ours is not ours
	ask /echo -b "LBX=1; LB=$c"
	[[ "$BODY" == *$'\r\nCookie: LBX=1\r\n'* ]]
}

@test "lb-http -k: a forged, altered or foreign cookie is ignored: the client is re-pinned with a fresh one" {
	start_hsrv one; start_hsrv two
	fill "$T" one two
	start_lbh -w 1 -k LB -t "$T" -l 127.0.0.1:0
	ask /; [ "$BODY" = one ]; c=$SET
	# one character changed: names nothing; rr picks, a valid cookie comes
	last=${c: -1}; [ "$last" = A ] && alt=B || alt=A
	ask / -b "LB=${c%?}$alt"
	[ "$BODY" = two ]
	[ -n "$SET" ] && [ "$SET" != "${c%?}$alt" ]
	c2=$SET
	ask / -b "LB=$c2"; [ "$BODY" = two ]; [ -z "$SET" ]
	# made up, empty, too long, another key's
	for bad in forged "" "${c}x" "AAAAAAAAAAAAAAAAAAAAAA"; do
		ask / -b "LB=$bad"
		[ -n "$SET" ] && [ "$SET" != "$bad" ]
	done
	# a forged one before a valid one: the valid one pins
	ask / -b "LB=forged; LB=$c2"; [ "$BODY" = two ]; [ -z "$SET" ]
	wait_for 5 lh_has 8
	[ "$(sticky_col 2)" = invalid ]
	[ "$(sticky_col 3)" = kept ]
	# a process with no -K has a key of its own: another's cookie is foreign
	stop_lbh
	start_lbh -w 1 -k LB -t "$T" -l 127.0.0.1:0
	ask / -b "LB=$c2"
	[ -n "$SET" ] && [ "$SET" != "$c2" ]
}

@test "lb-http -k: hostile Cookie fields: malformed, huge, many, split; each request answered, our cookie never passed on" {
	start_hsrv one; start_hsrv two
	fill "$T" one two
	start_lbh -w 1 -k LB -t "$T" -l 127.0.0.1:0
	ask /; [ "$BODY" = one ]; c=$SET
	# malformed: each names nothing, the client is pinned anew (the
	# cookie of a backend is always the same value: only that it is set
	# says the one sent was not honoured)
	long=$(head -c 6000 /dev/zero | tr '\0' A)
	for bad in "LB" "=LB" ";;;;" "LB=;LB" 'LB="' "LB=$c$c" "LB = " \
	    "LB=${c:0:21}" "LB=$long" "$c" "lb=$c" " =$c"; do
		# -H, not -b: curl leaves out a cookie as long as $long
		ask / -H "Cookie: $bad"
		[ -n "$SET" ] || { echo "bad: $bad"; false; }
	done
	# blanks and quotes around a valid value are as RFC 6265 reads them
	ask / -b "  LB = $c ;"; [ "$BODY" = one ]; [ -z "$SET" ]
	ask / -b "LB=\"$c\""; [ "$BODY" = one ]; [ -z "$SET" ]
	# ours 40 times between the others: the backend gets the others alone
	many="" want=""
	for i in $(seq 40); do
		many="${many}LB=x$i; k$i=v$i;"
		want="${want:+$want; }k$i=v$i"
	done
	ask /echo -b "${many}LB=$c"
	[ -z "$SET" ]
	[[ "$BODY" == *$'\r\nCookie: '"$want"$'\r\n'* ]]
	[[ "$BODY" != *"LB="* ]]
	# two Cookie fields: a forged one, then ours; neither reaches the backend
	ask /echo -H "Cookie: LB=forged; a=1" -H "Cookie: LB=$c"
	[ -z "$SET" ]
	[[ "$BODY" == *$'\r\nCookie: a=1\r\n'* ]]
	[[ "$BODY" != *"LB="* ]]
	# more stretches than a head can be forwarded in: 431, not a leak
	many=""
	for i in $(seq 200); do many="${many}LB=x;k$i=v;"; done
	[ "$(code /echo -H "Cookie: $many")" = 431 ]
	# past the head's limit: 431 too
	[ "$(code / -H "Cookie: LB=$long$long$long")" = 431 ]
	# and the balancer still answers, the pin still holds
	ask / -b "LB=$c"; [ "$BODY" = one ]; [ -z "$SET" ]
	kill -0 "$LHPID"
}

@test "lb-http -K: processes and hosts given one key file honour each other's cookies; another key does not" {
	start_hsrv one; start_hsrv two; start_hsrv three
	keyfile "$BATS_TEST_TMPDIR/key"; keyfile "$BATS_TEST_TMPDIR/other"
	# two hosts' tables filled from one list: other slots, other uids
	fill "$T.a" one two three
	lb-ctl -t "$T.b" add 127.0.0.1:1 name=gone
	fill "$T.b" three two one
	lb-ctl -t "$T.b" del gone
	start_lbh -w 1 -k LB -K "$BATS_TEST_TMPDIR/key" -t "$T.a" -l 127.0.0.1:0
	A=$LH
	start_lbh -w 2 -k LB -K "$BATS_TEST_TMPDIR/key" -t "$T.b" -l 127.0.0.1:0
	B=$LH
	start_lbh -w 1 -k LB -K "$BATS_TEST_TMPDIR/other" -t "$T.a" -l 127.0.0.1:0
	C=$LH
	declare -A ck
	for i in 1 2 3; do
		LH=$A; ask /; ck[$BODY]=$SET
	done
	[ "${#ck[@]}" -eq 3 ]
	for b in one two three; do
		# the other process, with the other table: the same backend
		LH=$B
		for i in 1 2 3 4 5; do
			ask / -b "LB=${ck[$b]}"
			[ "$BODY" = "$b" ]
			[ -z "$SET" ]
		done
		# another key: a cookie that names nothing there
		LH=$C
		ask / -b "LB=${ck[$b]}"
		[ -n "$SET" ] && [ "$SET" != "${ck[$b]}" ]
	done
	for t in a b; do lb-ctl -t "$T.$t" destroy; done
}

@test "lb-http -K: a key that others may read, too short or missing is refused (1); -K without -k, a bad name (2)" {
	k=$BATS_TEST_TMPDIR/key
	keyfile "$k"
	chmod 644 "$k"
	run -1 --separate-stderr lb-http -k LB -K "$k" -l 127.0.0.1:0 127.0.0.1:1
	[ "$stderr" = "lb-http: -K $k: a cookie key that others may read (mode 0644): chmod o-rw it" ]
	echo short > "$k"; chmod 600 "$k"
	run -1 --separate-stderr lb-http -k LB -K "$k" -l 127.0.0.1:0 127.0.0.1:1
	[[ "$stderr" == "lb-http: -K $k: a cookie key of 16 to 1024 bytes"* ]]
	run -1 --separate-stderr lb-http -k LB -K "$k.none" -l 127.0.0.1:0 127.0.0.1:1
	[ "$stderr" = "lb-http: -K $k.none: No such file or directory" ]
	# a FIFO (or a directory) is no key, and no writer is waited for
	# (KILL: a process stuck in open(2) stays through TERM)
	mkfifo -m 600 "$k.fifo"
	run -1 --separate-stderr timeout -s KILL 10 lb-http -k LB -K "$k.fifo" -l 127.0.0.1:0 127.0.0.1:1
	[ "$stderr" = "lb-http: -K $k.fifo: not a regular file" ]
	run -1 --separate-stderr timeout -s KILL 10 lb-http -k LB -K "$BATS_TEST_TMPDIR" -l 127.0.0.1:0 127.0.0.1:1
	[ "$stderr" = "lb-http: -K $BATS_TEST_TMPDIR: not a regular file" ]
	run -2 --separate-stderr lb-http -K "$k" -l 127.0.0.1:0 127.0.0.1:1
	[ "$stderr" = "lb-http: -K keys the cookies of -k: give -k too" ]
	run -2 --separate-stderr lb-http -k 'a b' -l 127.0.0.1:0 127.0.0.1:1
	[[ "$stderr" == "lb-http: bad cookie name 'a b': a token"* ]]
	[ "${#lines[@]}" -eq 0 ]
}

@test "lb-http -K: with a new key first and the old one after, old cookies hold and are signed again" {
	start_hsrv one; start_hsrv two
	fill "$T" one two
	keyfile "$BATS_TEST_TMPDIR/old"; keyfile "$BATS_TEST_TMPDIR/new"
	start_lbh -w 1 -k LB -K "$BATS_TEST_TMPDIR/old" -t "$T" -l 127.0.0.1:0
	ask /; ask /; [ "$BODY" = two ]; old=$SET
	stop_lbh
	start_lbh -w 1 -k LB -K "$BATS_TEST_TMPDIR/new" -K "$BATS_TEST_TMPDIR/old" -t "$T" -l 127.0.0.1:0
	ask / -b "LB=$old"
	[ "$BODY" = two ]
	[ -n "$SET" ] && [ "$SET" != "$old" ]
	new=$SET
	ask / -b "LB=$new"; [ "$BODY" = two ]; [ -z "$SET" ]
	wait_for 5 lh_has 2
	[ "$(sticky_col 1)" = kept ]
}

@test "lb-http -k: drain (the operator's, a check's, weight 0) keeps pinned clients and takes no new ones" {
	start_hsrv one; start_hsrv two
	fill "$T" one two
	start_lbh -w 1 -k LB -t "$T" -l 127.0.0.1:0
	ask /; [ "$BODY" = one ]; c=$SET
	lb-ctl -t "$T" drain one
	for i in $(seq 10); do
		ask / -b "LB=$c"; [ "$BODY" = one ]; [ -z "$SET" ]
	done
	# new sessions go elsewhere, pinned there
	for i in 1 2 3; do
		ask /; [ "$BODY" = two ]; [ -n "$SET" ]
	done
	lb-ctl -t "$T" enable one
	lb-ctl -t "$T" set one weight=0
	ask / -b "LB=$c"; [ "$BODY" = one ]; [ -z "$SET" ]
	ask /; [ "$BODY" = two ]
	# lb-check's drain (an agent's word) is the same as the operator's
	lb-ctl -t "$T" set one weight=1
	run -0 lb-check -1 -t "$T" exec sh -c 'test "$LB_BACKEND" = one && echo drain; echo up'
	[ "$(stat_col "$T" one health)" = drain ]
	for i in 1 2 3; do
		ask / -b "LB=$c"; [ "$BODY" = one ]; [ -z "$SET" ]
		ask /; [ "$BODY" = two ]; [ -n "$SET" ]
	done
}

@test "lb-http -k: maint, down, removed or full moves a pinned client, with a fresh cookie" {
	start_hsrv one; start_hsrv two
	lb-ctl -t "$T" add "${HS[one]}" name=one maxconn=1
	lb-ctl -t "$T" add "${HS[two]}" name=two
	start_lbh -w 1 -k LB -t "$T" -l 127.0.0.1:0
	ask /; [ "$BODY" = one ]; c=$SET
	# maint: moved, pinned anew there, and stays there
	lb-ctl -t "$T" maint one
	ask / -b "LB=$c"; [ "$BODY" = two ]; [ -n "$SET" ]; c2=$SET
	wait_for 5 lh_has 2
	[ "$(sticky_col 2)" = moved ]
	lb-ctl -t "$T" enable one
	ask / -b "LB=$c2"; [ "$BODY" = two ]; [ -z "$SET" ]
	ask / -b "LB=$c"; [ "$BODY" = one ]; [ -z "$SET" ]
	# full: its one slot taken by a slow request, the pinned one moves
	curl -sS -m 10 -b "LB=$c" "http://$LH/slow/2000" > "$BATS_TEST_TMPDIR/slow" &
	slow=$!
	wait_for 5 col_is "$T" one active 1
	ask / -b "LB=$c"; [ "$BODY" = two ]; [ -n "$SET" ]
	wait "$slow"
	[ "$(cat "$BATS_TEST_TMPDIR/slow")" = slow ]
	# down (its check fails, the server still answers)
	ask / -b "LB=$c"; [ "$BODY" = one ]
	run -1 lb-check -1 -t "$T" http / body=two
	[ "$(stat_col "$T" one health)" = down ]
	ask / -b "LB=$c"; [ "$BODY" = two ]; [ -n "$SET" ]
	run -0 lb-check -1 -t "$T" tcp
	ask / -b "LB=$c"; [ "$BODY" = one ]; [ -z "$SET" ]
	# gone from the table, while a pinned request is in flight there:
	# that one finishes, the next moves
	curl -sS -m 10 -b "LB=$c" "http://$LH/slow/1000" > "$BATS_TEST_TMPDIR/slow" &
	slow=$!
	wait_for 5 col_is "$T" one active 1
	lb-ctl -t "$T" del one
	ask / -b "LB=$c"; [ "$BODY" = two ]; [ -n "$SET" ]
	wait "$slow"
	[ "$(cat "$BATS_TEST_TMPDIR/slow")" = slow ]
	# and a new backend in its slot is not what the cookie names
	lb-ctl -t "$T" add 127.0.0.1:1 name=three
	ask / -b "LB=$c"; [ "$BODY" = two ]; [ -n "$SET" ]
	lb-ctl -t "$T" del three
	# a backend that stopped listening: the connect fails, the next one answers
	lb-ctl -t "$T" add "${HS[one]}" name=one
	ask / -b "LB=$c"; [ "$BODY" = one ]
	kill "${HSPID[one]}"; wait "${HSPID[one]}" 2>/dev/null || true
	ask / -b "LB=$c"; [ "$BODY" = two ]; [ -n "$SET" ]
}

@test "lb-http -k: a rule's nosticky turns it off there; each rule's path is its cookie's" {
	start_hsrv www; start_hsrv api; start_hsrv app1; start_hsrv app2
	fill "$T" www
	fill "$T.api" api
	fill "$T.app" app1 app2
	start_lbh -w 1 -k LB -r "/api=$T.api,nosticky,strip" -r "/app/=$T.app" \
	    -r "/m/x;v=1=$T.app" -r "/n;v=$T.app" -t "$T" -l 127.0.0.1:0
	# a ';' would end the Path: the cookie is on the segments before it
	ask "/m/x;v=1/a"
	[ "$SETS" = "Set-Cookie: LB=$SET; Path=/m/; HttpOnly; SameSite=Lax" ]
	ask "/n;v"
	[ "$SETS" = "Set-Cookie: LB=$SET; Path=/; HttpOnly; SameSite=Lax" ]
	# off: no cookie set, the client's passes untouched
	ask /api/echo -b "LB=abc"
	[ -z "$SETS" ]
	[[ "$BODY" == *$'\r\nCookie: LB=abc\r\n'* ]]
	ask /app/x
	[ "$SETS" = "Set-Cookie: LB=$SET; Path=/app; HttpOnly; SameSite=Lax" ]
	app=$BODY; cap=$SET
	ask /; [ "$SETS" = "Set-Cookie: LB=$SET; Path=/; HttpOnly; SameSite=Lax" ]
	croot=$SET
	# a browser sends both under /app, the longer path first
	for i in 1 2 3 4; do
		ask /app/y -b "LB=$cap; LB=$croot"
		[ "$BODY" = "$app" ]; [ -z "$SET" ]
		ask / -b "LB=$croot"; [ "$BODY" = www ]; [ -z "$SET" ]
	done
	# the cookie jar of curl does the same
	rm -f "$BATS_TEST_TMPDIR/jar"
	for i in 1 2 3 4; do
		curl -sS -m 10 -b "$BATS_TEST_TMPDIR/jar" -c "$BATS_TEST_TMPDIR/jar" "http://$LH/app/z" >> "$BATS_TEST_TMPDIR/got"
		curl -sS -m 10 -b "$BATS_TEST_TMPDIR/jar" -c "$BATS_TEST_TMPDIR/jar" "http://$LH/" > /dev/null
	done
	[ "$(sort -u "$BATS_TEST_TMPDIR/got" | wc -l)" -eq 1 ]
	for t in api app; do lb-ctl -t "$T.$t" destroy; done
}

@test "lb-http -k: a backend's own Set-Cookie fields (nginx) pass as they are; ours is one more" {
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
				add_header Set-Cookie "sid=s1; Path=/; HttpOnly";
				add_header Set-Cookie "LBtheme=dark, light; Max-Age=60";
				return 200 "ng\n";
			}
		}
	}
	EOF
	bg nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" -g "daemon off; pid $NG/pid;"
	wait_for 10 test -S "$NG/sock"
	start_lbh -w 1 -k LB -l 127.0.0.1:0 "unix:$NG/sock"
	ask /
	[ "$BODY" = ng ]
	[ "$(printf '%s\n' "$SETS" | wc -l)" -eq 3 ]
	[ "$(printf '%s\n' "$SETS" | sed -n 1p)" = "Set-Cookie: sid=s1; Path=/; HttpOnly" ]
	[ "$(printf '%s\n' "$SETS" | sed -n 2p)" = "Set-Cookie: LBtheme=dark, light; Max-Age=60" ]
	[ "$(printf '%s\n' "$SETS" | sed -n 3p)" = "Set-Cookie: LB=$SET; Path=/; HttpOnly; SameSite=Lax" ]
	# honoured: the backend's fields still come, ours no more
	ask / -b "LB=$SET; sid=s1"
	[ "$(printf '%s\n' "$SETS" | wc -l)" -eq 2 ]
}

@test "lb-http -k: on a TLS listener the cookie is Secure; on a plain one it is not" {
	d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$d/lb.key" -out "$d/lb.crt" -subj "/CN=localhost" \
	    -addext subjectAltName=DNS:localhost -days 1 -nodes 2>/dev/null
	chmod 600 "$d/lb.key"
	start_hsrv one
	start_lbh -w 1 -k LB -c "$d/lb.crt,$d/lb.key" -l 127.0.0.1:0 -L 127.0.0.1:0 "${HS[one]}"
	tls=$(sed -n 2p "$LHLOG")
	run -0 curl -sS -m 10 -k -D - -o /dev/null "https://$tls/"
	[[ "$output" == *$'Set-Cookie: LB='*$'; Path=/; HttpOnly; SameSite=Lax; Secure\r'* ]]
	ask /
	[[ "$SETS" == *"SameSite=Lax" ]]
}

@test "lb-http -a maglev,hdr=X-User: two processes, other slots and a restart send each user to one backend, no cookie" {
	start_hsrv b1; start_hsrv b2; start_hsrv b3; start_hsrv b4
	fill "$T.a" b1 b2 b3 b4
	fill "$T.b" b4 b3 b2 b1
	start_lbh -w 2 -a maglev,hdr=X-User -t "$T.a" -l 127.0.0.1:0
	A=$LH; APID=$LHPID
	start_lbh -w 1 -a maglev,hdr=X-User -t "$T.b" -l 127.0.0.1:0
	B=$LH
	declare -A via
	for u in $(seq 40); do
		LH=$A; ask / -H "X-User: user$u"; via[$u]=$BODY
		[ -z "$SETS" ]
		LH=$B; ask / -H "X-User: user$u"; [ "$BODY" = "${via[$u]}" ]
		LH=$A; ask / -H "X-User: user$u"; [ "$BODY" = "${via[$u]}" ]
	done
	# the users spread over the backends
	[ "$(printf '%s\n' "${via[@]}" | sort -u | wc -l)" -ge 3 ]
	# a restart changes nothing
	LHPID=$APID; stop_lbh
	start_lbh -w 1 -a maglev,hdr=X-User -t "$T.a" -l 127.0.0.1:0
	for u in $(seq 40); do
		ask / -H "X-User: user$u"; [ "$BODY" = "${via[$u]}" ]
	done
	for t in a b; do lb-ctl -t "$T.$t" destroy; done
}

@test "lb-http -a: cookie= and path keys; a request without its key hashes the client's address" {
	start_hsrv b1; start_hsrv b2; start_hsrv b3; start_hsrv b4
	fill "$T" b1 b2 b3 b4
	start_lbh -w 1 -a maglev,cookie=sid -t "$T" -l 127.0.0.1:0
	A=$LH
	start_lbh -w 1 -a maglev,cookie=sid -t "$T" -l 127.0.0.1:0
	B=$LH
	declare -A via
	for s in $(seq 30); do
		LH=$A; ask / -b "theme=x; sid=s$s"; via[$s]=$BODY
		LH=$B; ask / -b "sid=s$s"; [ "$BODY" = "${via[$s]}" ]
	done
	[ "$(printf '%s\n' "${via[@]}" | sort -u | wc -l)" -ge 3 ]
	# no sid: the address, as -a maglev alone hashes it
	start_lbh -w 1 -a maglev -t "$T" -l 127.0.0.1:0
	ask /; byaddr=$BODY
	for i in 1 2 3 4 5; do
		LH=$A; ask /; [ "$BODY" = "$byaddr" ]
		LH=$A; ask / -b "sid="; [ "$BODY" = "$byaddr" ]
		LH=$B; ask / -H "X-User: u$i"; [ "$BODY" = "$byaddr" ]
	done
	# the path, without its query, across two processes whose tables
	# hold the backends in other slots (as two hosts' may)
	fill "$T.b" b4 b3 b2 b1
	start_lbh -w 1 -a source,path -t "$T" -l 127.0.0.1:0
	A=$LH
	start_lbh -w 1 -a source,path -t "$T.b" -l 127.0.0.1:0
	B=$LH
	for p in $(seq 30); do
		LH=$A; ask "/p$p?a=1"; via[$p]=$BODY
		LH=$B; ask "/p$p?b=2"; [ "$BODY" = "${via[$p]}" ]
	done
	[ "$(printf '%s\n' "${via[@]}" | sort -u | wc -l)" -ge 3 ]
	lb-ctl -t "$T.b" destroy
}

@test "lb-http: a rule's hash-KEY is its own key; -k pins before the hash; bad keys are refused (2)" {
	start_hsrv b1; start_hsrv b2; start_hsrv b3; start_hsrv b4
	fill "$T" b1 b2 b3 b4
	start_lbh -w 1 -a maglev -r "/t=$T,hash-hdr=X-Tenant" -t "$T" -l 127.0.0.1:0
	declare -A via
	for t in $(seq 20); do
		ask /t -H "X-Tenant: t$t"; via[$t]=$BODY
		ask /t/x -H "X-Tenant: t$t"; [ "$BODY" = "${via[$t]}" ]
	done
	[ "$(printf '%s\n' "${via[@]}" | sort -u | wc -l)" -ge 3 ]
	# the default route hashes the address: one backend for all tenants
	[ "$(for t in 1 2 3 4 5 6; do curl -s -H "X-Tenant: t$t" "http://$LH/"; done | sort -u | wc -l)" -eq 1 ]
	stop_lbh
	# a cookie wins over the hash: a user moved by it stays where pinned
	start_lbh -w 1 -k LB -a maglev,hdr=X-User -t "$T" -l 127.0.0.1:0
	ask / -H "X-User: alice"; home=$BODY
	for b in b1 b2 b3 b4; do [ "$b" = "$home" ] || other=$b; done
	lb-ctl -t "$T" maint "$home"
	ask / -H "X-User: alice"; [ "$BODY" != "$home" ]; c=$SET; moved=$BODY
	lb-ctl -t "$T" enable "$home"
	ask / -H "X-User: alice" -b "LB=$c"; [ "$BODY" = "$moved" ]
	ask / -H "X-User: alice"; [ "$BODY" = "$home" ]
	for bad in rr,hdr=X maglev,hdr= maglev,hdr=a:b maglev,foo 'maglev,cookie=a b' lc,path; do
		run -2 --separate-stderr lb-http -a "$bad" -l 127.0.0.1:0 127.0.0.1:1
		[[ "$stderr" == "lb-http: bad "*"'"* ]]
	done
	run -2 --separate-stderr lb-http -r "/x=$T,hash-hdr=X" -l 127.0.0.1:0
	[ "$stderr" = "lb-http: bad rule '/x=$T,hash-hdr=X': 'hash-hdr=X': a hash key goes with -a source or -a maglev" ]
	run -2 --separate-stderr lb-http -a maglev -r "/x=$T,hash-nope" -l 127.0.0.1:0
	[[ "$stderr" == "lb-http: bad rule '/x=$T,hash-nope': bad hash key 'hash-nope': "* ]]
}
