#!/bin/bash
# bench/http.sh: lb-http against HAProxy (mode http) and nginx (proxy_pass
# with upstream keepalive), side by side on loopback: the same nginx
# backends, the same clients, the proxy pinned to its own CPU and everything
# else to another; and, caching, against Varnish, nginx's proxy_cache and
# HAProxy's cache.  See bench/README.md.
#
#   bench/http.sh                     every proxy, 1 then 2 workers, 5 s a case
#   DUR=10 WORKERS=1 PROXIES="lb-http haproxy" bench/http.sh
#   CASES="syscalls perf" WORKERS=1 bench/http.sh     the profiles
#   CASES=cache WORKERS=1 bench/http.sh               the caches alone
#   bench/tls.sh                      the TLS cases (CASES="tls-full ...")
#
# Environment: DUR (seconds a case, 5), WORKERS ("1 2"), PROXIES ("lb-http
# haproxy nginx"), SHAPES (wrk shapes of the request cases, "t1c64 t2c256":
# tTcC is -tT -cC), BULK_SHAPES (of the 1 MiB case, "t1c1 t2c16"), LB_HTTP
# (the binary, bin/lb-http), PCPU (the proxy's CPU, 1), OCPU (everything
# else, 0), IDLE (idle keep-alive clients, 10000; 0 skips the case), CASES
# ("keepalive close bulk idle cache"; also "syscalls" and "perf", see
# bench/prof.sh; and the TLS cases "tls-full tls-resume tls-keepalive
# tls-bulk", below), CACHE_PROXIES (those of the cache case, "lb-http
# varnish haproxy nginx": each caches the backends' 100-byte file, fresh
# for an hour, in 64 MiB of memory, and every request of wrk is a hit),
# TLS_KEYS (the certificates of the TLS cases, "ec
# rsa": ECDSA P-256, RSA 2048), TLS_SHAPES (bench/tlsc's threads in the
# handshake cases, "t1 t8"), ROUNDS (1: rounds of every row; each row then is the
# median round), OUT (also write the results as TSV there), PROF_DIR (keep
# the profiles there), KEEP (keep the scratch folder).
# stdout: Markdown tables of the results; stderr: progress.
set -u
cd "$(dirname "$0")/.."

DUR=${DUR:-5}
WORKERS=${WORKERS:-"1 2"}
PROXIES=${PROXIES:-"lb-http haproxy nginx"}
SHAPES=${SHAPES:-"t1c64 t2c256"}
BULK_SHAPES=${BULK_SHAPES:-"t1c1 t2c16"}
LB_HTTP=${LB_HTTP:-$PWD/bin/lb-http}
PCPU=${PCPU:-1}
OCPU=${OCPU:-0}
OUT=${OUT:-}
IDLE=${IDLE:-10000}
CASES=${CASES:-"keepalive close bulk idle cache"}
CACHE_PROXIES=${CACHE_PROXIES:-"lb-http varnish haproxy nginx"}
TLS_KEYS=${TLS_KEYS:-"ec rsa"}
TLS_SHAPES=${TLS_SHAPES:-"t1 t8"}
TLS=""				# the key of the proxy started, for TLS cases
ROUNDS=${ROUNDS:-1}
MAXCONN=4096			# the anchors' connection limits
HZ=$(getconf CLK_TCK)
SMALL=/100			# a 100-byte file on the backends
CACHED=/c/100			# the same, fresh for an hour (cache case)
BIG=/1m				# a 1 MiB one
BIGBYTES=1048576
ME=${ME:-http.sh}

sh tools/deps.sh bench/deps.list || exit 1
work=$(mktemp -d /tmp/lb-bench.XXXXXX)
PIDS=()
RES=()				# case shape proxy workers rps p99 gbps cpu errors
				# busy% of OCPU and PCPU
IRES=()				# proxy workers conns rss0 rss1 bconns bconns-later

# An idle client costs a proxy one descriptor or more, the idle client one:
# raise the soft limit to the hard one (20000 in a container where root
# cannot raise it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
IDLE_N=$IDLE
if [ "$IDLE" -gt $((NOFILE - 200)) ]; then
	IDLE_N=$((NOFILE - 200))
	echo "$ME: open files limited to $NOFILE: $IDLE_N idle" \
	    "clients instead of $IDLE (RSS scaled to $IDLE too)" >&2
fi
if [ "$IDLE" -gt 0 ] && ! cc -O2 -o "$work/idle" bench/idle.c; then
	echo "$ME: cannot build bench/idle.c" >&2
	exit 1
fi
case " $CASES " in
*" tls-"*)
	if ! cc -O2 -o "$work/tlsc" bench/tlsc.c -lssl -lcrypto -lpthread; then
		echo "$ME: cannot build bench/tlsc.c" >&2
		exit 1
	fi
	# One certificate of each kind, self-signed, for bench.test: the
	# same files for every proxy, the key mode 0600.
	for k in $TLS_KEYS; do
		case $k in
		ec) ka=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
		rsa) ka=(-newkey rsa:2048) ;;
		*) echo "$ME: TLS_KEYS: no key '$k' (ec or rsa)" >&2; exit 2 ;;
		esac
		(umask 077; openssl req -x509 "${ka[@]}" -nodes -days 365 \
		    -subj /CN=bench.test -addext subjectAltName=DNS:bench.test \
		    -keyout "$work/$k.key" -out "$work/$k.crt" 2>/dev/null &&
		    cat "$work/$k.crt" "$work/$k.key" >"$work/$k.pem") || {
			echo "$ME: cannot make the $k certificate" >&2
			exit 1
		}
	done
	;;
esac

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] && { echo "$ME: kept $work" >&2; return; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "$ME: $*" >&2; }

freeport() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# spawn CPU CMD...: run CMD pinned to CPU, bounded by LIFE, its stdout to
# SPAWN_OUT (servers.log by default); SPAWNED is the pid of the timeout(1)
# at the root of its process tree.
spawn() {
	local cpu=$1
	shift
	taskset -c "$cpu" timeout -k 2 "$LIFE" "$@" \
	    >>"${SPAWN_OUT:-$work/servers.log}" 2>>"$work/servers.log" \
	    </dev/null &
	SPAWNED=$!
	PIDS+=("$SPAWNED")
}

stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# wait_listen PORT: poll, bounded, until something listens on PORT.
wait_listen() {
	local i
	for i in $(seq 200); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	say "nothing listens on port $1"
	return 1
}

tree_pids() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		tree_pids "$c"
	done
}
# tree_cpu PID: utime + stime, in ticks, of PID and all its descendants.
tree_cpu() {
	local p s t=0
	for p in $(tree_pids "$1"); do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }	# past "pid (comm) ": field 3 is now first
		set -- $s
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}
# tree_rss PID: VmRSS, in KiB, summed over PID's descendants (PID itself
# is the timeout(1) that spawn() put at the root: left out).
tree_rss() {
	local p t=0 v
	for p in $(tree_pids "$1" | tail -n +2); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# ms VALUE: wrk's "1.23ms", "850.00us" or "1.02s" in milliseconds
ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else print "n/a" }'
}

record() { RES+=("$*"); say "$*"; }

has() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }
# inlist WORD LIST...: is WORD one of LIST?
inlist() {
	local x=$1
	shift
	case " $* " in *" $x "*) return 0 ;; esac
	return 1
}

# shape_args SHAPE: "t2c256" as wrk's "-t2 -c256"
shape_args() {
	local t=${1#t}
	echo "-t${t%%c*} -c${t#*c}"
}

# backend_conns: established connections to the backends' ports, counted
# from the proxy's side (the backend's ends are the same number).
backend_conns() {
	ss -Htn state established "( dport = :$B1 or dport = :$B2 )" |
	    wc -l
}

# run_wrk SHAPE PORT PATH [ARG...]: wrk's output in WRK
run_wrk() {
	local shape=$1 port=$2 path=$3
	shift 3
	WRK=$(taskset -c "$OCPU" timeout $((DUR + 30)) wrk $(shape_args "$shape") \
	    -d"${DUR}s" --latency "$@" "${SCHEME:-http}://127.0.0.1:$port$path" 2>&1)
}

# wrk_errors: socket errors and non-2xx answers in WRK
wrk_errors() {
	echo "$WRK" | awk '
	    /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
	    /Non-2xx/ { n += $NF } END { print n + 0 }'
}

# http CASE SHAPE PROXY WORKERS PORT ROOT [LABEL]: a request case: rate,
# p99, proxy CPU, recorded as LABEL (CASE).  Cases: keepalive, close (the
# client says Connection: close), bulk (1 MiB responses, kept alive),
# cache (keep-alive hits of a cached 100-byte response); over HTTPS when
# SCHEME is https.
http() {
	local c=$1 shape=$2 px=$3 w=$4 port=$5 root=$6 label=${7:-$1} hdr=()
	local path=$SMALL
	local c0=0 c1=0 rps p99 gbps=-
	[ "$c" = close ] && hdr=(-H 'Connection: close')
	[ "$c" = bulk ] && path=$BIG
	[ "$c" = cache ] && path=$CACHED
	[ -n "$root" ] && c0=$(tree_cpu "$root")
	cpu_mark
	run_wrk "$shape" "$port" "$path" "${hdr[@]}"
	[ -n "$root" ] && c1=$(tree_cpu "$root")
	rps=$(echo "$WRK" | awk '/^Requests\/sec:/ { printf "%d", $2 }')
	p99=$(ms "$(echo "$WRK" | awk '$1 == "99%" { print $2 }')")
	if [ "$c" = bulk ]; then
		gbps=$(awk -v r="${rps:-0}" -v b="$BIGBYTES" \
		    'BEGIN { printf "%.2f", r * b * 8 / 1e9 }')
	fi
	record "$label" "$shape" "$px" "$w" "${rps:-0}" "$p99" "$gbps" \
	    "$(((c1 - c0) * 1000 / HZ))" "$(wrk_errors)" "$(cpu_busy "$OCPU")" \
	    "$(cpu_busy "$PCPU")"
}

# handshakes MODE SHAPE PROXY WORKERS PORT ROOT KEY: bench/tlsc's threads
# (SHAPE "t8": 8), each a new TLS connection a request: MODE full (no
# session offered) or resume (the last one's offered).  A resumed case
# where the proxy resumed fewer than nine in ten is said, and its misses
# counted as errors.
handshakes() {
	local m=$1 shape=$2 px=$3 w=$4 port=$5 root=$6 key=$7 out c0 c1
	local n e r s rps miss
	c0=$(tree_cpu "$root")
	cpu_mark
	out=$(taskset -c "$OCPU" timeout $((DUR + 30)) "$work/tlsc" -m "$m" \
	    -t "${shape#t}" -d "$DUR" "$port" 2>&1)
	c1=$(tree_cpu "$root")
	set -- $out
	n=${2:-0} e=${4:-0} r=${6:-0} s=${10:-$DUR}
	rps=$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%d", n / s }')
	miss=0
	if [ "$m" = resume ] && [ $((r * 10)) -lt $((n * 9)) ]; then
		say "tls-resume $px: only $r of $n handshakes resumed"
		miss=$((n - r))
	fi
	if [ "$m" = full ] && [ "$r" -gt 0 ]; then
		say "tls-full $px: $r of $n handshakes resumed, none should"
		miss=$r
	fi
	record "tls-$m-$key" "$shape" "$px" "$w" "$rps" - - \
	    "$(((c1 - c0) * 1000 / HZ))" "$((e + miss))" "$(cpu_busy "$OCPU")" \
	    "$(cpu_busy "$PCPU")"
}

# tls_cases PX W PORT ROOT KEY: the TLS cases of one proxy, its listener
# on KEY's certificate.
tls_cases() {
	local px=$1 w=$2 port=$3 root=$4 key=$5 s
	for s in $TLS_SHAPES; do
		has tls-full && handshakes full "$s" "$px" "$w" "$port" "$root" "$key"
		has tls-resume && handshakes resume "$s" "$px" "$w" "$port" "$root" "$key"
	done
	for s in $SHAPES; do
		has tls-keepalive && SCHEME=https http keepalive "$s" "$px" "$w" \
		    "$port" "$root" "tls-keepalive-$key"
	done
	for s in $BULK_SHAPES; do
		has tls-bulk && SCHEME=https http bulk "$s" "$px" "$w" "$port" \
		    "$root" "tls-bulk-$key"
	done
}

# idle PROXY WORKERS PORT ROOT: hold IDLE_N keep-alive clients through the
# proxy (each has had one 100-byte response), note the proxy's RSS before
# and while they are held, and the backend connections it holds meanwhile:
# a second after the last answer, and IDLE_WAIT (8) seconds later, when
# the pools of HAProxy and lb-http (5 s) have aged.
idle() {
	local px=$1 w=$2 port=$3 root=$4 r0 r1 i ready="" bc bc2 cl
	r0=$(tree_rss "$root")
	rm -f "$work/hold" "$work/idle.out"
	mkfifo "$work/hold"
	taskset -c "$OCPU" timeout -k 2 "$LIFE" "$work/idle" -h "$port" \
	    "$IDLE_N" "$SMALL" <"$work/hold" >"$work/idle.out" 2>&1 &
	cl=$!
	exec 9>"$work/hold"
	for i in $(seq 1800); do
		ready=$(awk '/^ready/ { print $2 }' "$work/idle.out")
		[ -n "$ready" ] && break
		kill -0 "$cl" 2>/dev/null || break
		sleep 0.05
	done
	if [ -n "$ready" ]; then
		sleep 1		# let lazy allocations settle
		r1=$(tree_rss "$root")
		bc=$(backend_conns)
		sleep "${IDLE_WAIT:-8}"
		bc2=$(backend_conns)
		IRES+=("$px $w $ready $r0 $r1 $bc $bc2")
		say "idle $px $w: $ready clients, RSS $r0 -> $r1 KiB," \
		    "$bc then $bc2 backend connections"
		grep -v '^ready' "$work/idle.out" >&2
	else
		say "idle $px $w: failed: $(tail -n 1 "$work/idle.out")"
		IRES+=("$px $w 0 $r0 0 0 0")
	fi
	exec 9>&-
	wait "$cl" 2>/dev/null
}

# start_proxy NAME WORKERS BACKEND...: P is its port, SPAWNED its root pid
# (empty when it did not start).
start_proxy() {
	local px=$1 w=$2 b i
	shift 2
	SPAWNED=""
	case $px in
	lb-http)
		rm -f "$work/lb.out"
		if [ -n "$TLS" ]; then
			set -- -L 127.0.0.1:0 -c "$work/$TLS.pem" -C min=1.3 "$@"
		else
			set -- -l 127.0.0.1:0 "$@"
		fi
		SPAWN_OUT=$work/lb.out spawn "$PCPU" "$LB_HTTP" -1 -q -w "$w" \
		    ${CACHE:+-M 64m} "$@"
		P=""
		for i in $(seq 200); do
			P=$(sed -n '1s/^127\.0\.0\.1://p' "$work/lb.out" \
			    2>/dev/null)
			[ -n "$P" ] && break
			kill -0 "$SPAWNED" 2>/dev/null || break
			sleep 0.05
		done
		[ -n "$P" ] || P=0
		return 0
		;;
	haproxy)
		P=$(freeport)
		# HAProxy 2.6 refuses to start when the open-files limit is
		# below two descriptors a connection (and some): hold it there.
		i=$MAXCONN
		[ "$i" -gt $(((NOFILE - 40) / 2)) ] && i=$(((NOFILE - 40) / 2))
		{
			printf 'global\n\tnbthread %d\n\tmaxconn %d\n' "$w" \
			    "$i"
			printf 'defaults\n\tmode http\n\toption http-keep-alive\n'
			printf '\thttp-reuse always\n\toption forwardfor\n'
			printf '\ttimeout connect 5s\n\ttimeout client 60s\n'
			printf '\ttimeout server 60s\n'
			printf '\ttimeout http-keep-alive 60s\n'
			printf '\ttimeout http-request 10s\n'
			if [ -n "${CACHE:-}" ]; then
				printf 'cache c\n\ttotal-max-size 64\n'
				printf '\tmax-object-size 1048576\n'
				printf '\tmax-age 3600\n'
			fi
			if [ -n "$TLS" ]; then
				# TLS 1.3 as the others; tickets and a session
				# cache (20000) are HAProxy's defaults
				printf 'listen bench\n\tbind 127.0.0.1:%d ssl crt %s' \
				    "$P" "$work/$TLS.pem"
				printf ' ssl-min-ver TLSv1.3 alpn http/1.1\n'
				printf '\thttp-request set-header X-Forwarded-Proto https\n'
			else
				printf 'listen bench\n\tbind 127.0.0.1:%d\n' "$P"
				printf '\thttp-request set-header X-Forwarded-Proto http\n'
			fi
			printf '\tbalance roundrobin\n'
			printf '\thttp-request set-header X-Forwarded-Host %%[req.hdr(host)]\n'
			if [ -n "${CACHE:-}" ]; then
				printf '\thttp-request cache-use c\n'
				printf '\thttp-response cache-store c\n'
			fi
			for b in "$@"; do
				printf '\tserver s%s %s\n' "${b##*:}" "$b"
			done
		} >"$work/haproxy.cfg"
		spawn "$PCPU" haproxy -db -f "$work/haproxy.cfg"
		;;
	nginx)
		P=$(freeport)
		{
			printf 'daemon off;\nworker_processes %d;\n' "$w"
			printf 'pid %s/px.pid;\nerror_log %s/px.err;\n' \
			    "$work" "$work"
			printf 'worker_rlimit_nofile %d;\n' "$NOFILE"
			printf 'events { worker_connections %d; }\n' \
			    $((MAXCONN * 2))
			printf 'http {\n\taccess_log off;\n'
			for i in client_body proxy fastcgi uwsgi scgi; do
				printf '\t%s_temp_path %s/px;\n' "$i" "$work"
			done
			printf '\tkeepalive_timeout 60s;\n'
			printf '\tkeepalive_requests 10000000;\n'
			printf '\tproxy_max_temp_file_size 0;\n'
			if [ -n "${CACHE:-}" ]; then
				mkdir -p "$work/pxc"
				printf '\tproxy_cache_path %s/pxc levels=1:2' "$work"
				printf ' keys_zone=c:8m max_size=64m inactive=1h;\n'
			fi
			printf '\tupstream be {\n'
			for b in "$@"; do
				printf '\t\tserver %s;\n' "$b"
			done
			printf '\t\tkeepalive 64;\n'
			printf '\t\tkeepalive_requests 10000000;\n\t}\n'
			if [ -n "$TLS" ]; then
				# what lb-http does by default: tickets, and a
				# session cache every worker shares
				printf '\tserver {\n\t\tlisten 127.0.0.1:%d ssl backlog=4096;\n' \
				    "$P"
				printf '\t\tssl_certificate %s;\n' "$work/$TLS.crt"
				printf '\t\tssl_certificate_key %s;\n' "$work/$TLS.key"
				printf '\t\tssl_protocols TLSv1.3;\n'
				printf '\t\tssl_session_cache shared:TLS:10m;\n'
				printf '\t\tssl_session_tickets on;\n'
			else
				printf '\tserver {\n\t\tlisten 127.0.0.1:%d backlog=4096;\n' \
				    "$P"
			fi
			printf '\t\tlocation / {\n\t\t\tproxy_pass http://be;\n'
			if [ -n "${CACHE:-}" ]; then
				printf '\t\t\tproxy_cache c;\n'
				printf '\t\t\tproxy_cache_lock on;\n'
				printf '\t\t\tadd_header X-Cache $upstream_cache_status;\n'
			fi
			printf '\t\t\tproxy_http_version 1.1;\n'
			printf '\t\t\tproxy_set_header Connection "";\n'
			printf '\t\t\tproxy_set_header Host $host;\n'
			printf '\t\t\tproxy_set_header X-Forwarded-For $remote_addr;\n'
			printf '\t\t\tproxy_set_header X-Forwarded-Proto $scheme;\n'
			printf '\t\t\tproxy_set_header X-Forwarded-Host $host;\n'
			printf '\t\t}\n\t}\n}\n'
		} >"$work/px.conf"
		mkdir -p "$work/px"
		spawn "$PCPU" nginx -p "$work" -c "$work/px.conf"
		;;
	varnish)
		# Caching only: the first backend, as the others cache it.
		P=$(freeport)
		rm -rf "$work/varnish"
		spawn "$PCPU" varnishd -F -n "$work/varnish" \
		    -a "127.0.0.1:$P" -b "$1" -s malloc,64m \
		    -p thread_pools="$w"
		;;
	*)
		say "$px: unknown proxy"
		return 1
		;;
	esac
}

# The backends: one nginx worker on two ports serving two files, a 100-byte
# one and a 1 MiB one, keep-alive without a limit.
start_backends() {
	mkdir -p "$work/be" "$work/www"
	chmod 711 "$work"		# nginx workers run as nobody
	head -c 99 /dev/zero | tr '\0' x >"$work/www/100"
	echo >>"$work/www/100"
	head -c "$BIGBYTES" /dev/urandom >"$work/www/1m"
	cat >"$work/be.conf" <<-EOF
	daemon off;
	worker_processes 1;
	pid $work/be.pid;
	error_log $work/be.err;
	worker_rlimit_nofile $NOFILE;
	events { worker_connections 16384; }
	http {
		access_log off;
		client_body_temp_path $work/be;
		proxy_temp_path $work/be;
		fastcgi_temp_path $work/be;
		uwsgi_temp_path $work/be;
		scgi_temp_path $work/be;
		keepalive_requests 10000000;
		keepalive_timeout 120s;
		sendfile on;
		tcp_nopush on;
		open_file_cache max=16 inactive=600s;
		open_file_cache_valid 600s;
		default_type application/octet-stream;
		server {
			listen 127.0.0.1:$B1 backlog=4096;
			listen 127.0.0.1:$B2 backlog=4096;
			root $work/www;
			location /c/ {
				alias $work/www/;
				expires 1h;
			}
		}
	}
	EOF
	spawn "$OCPU" nginx -p "$work" -c "$work/be.conf"
	BE_PID=$SPAWNED
	wait_listen "$B1" && wait_listen "$B2"
}

# with_proxy PX W: start it over both backends; PX its root, P its port; 1
# when it did not start (said why).
with_proxy() {
	local px=$1 w=$2
	start_proxy "$px" "$w" "127.0.0.1:$B1" "127.0.0.1:$B2"
	PX=$SPAWNED
	if [ -z "$PX" ] || [ "$P" = 0 ] || ! wait_listen "$P"; then
		say "$px: did not start; see the log:"
		tail -n 5 "$work/servers.log" >&2
		[ -n "$PX" ] && stop "$PX"
		return 1
	fi
	return 0
}

# one_proxy PX W ROUND: every case of one proxy with W workers.
one_proxy() {
	local px=$1 w=$2 round=$3 s
	if inlist "$px" $CACHE_PROXIES && has cache &&
	    CACHE=1 with_proxy "$px" "$w"; then
		# Filled once; and each proxy says it answered from its cache.
		curl -s -o /dev/null -m 10 "http://127.0.0.1:$P$CACHED"
		say "$px, $w workers, caching: $(curl -s -m 10 -D - -o /dev/null \
		    "http://127.0.0.1:$P$CACHED" | tr -d '\r' |
		    grep -iE '^(age|x-cache|x-varnish):' | tr '\n' ' ')"
		for s in $SHAPES; do
			http cache "$s" "$px" "$w" "$P" "$PX"
		done
		stop "$PX"
	fi
	# The other cases are those of PROXIES alone.
	inlist "$px" $PROXIES || return 0
	if (has keepalive || has close || has bulk) &&
	    with_proxy "$px" "$w"; then
		say "$px, $w workers, port $P"
		for s in $SHAPES; do
			has keepalive && http keepalive "$s" "$px" "$w" "$P" "$PX"
			has close && http close "$s" "$px" "$w" "$P" "$PX"
		done
		for s in $BULK_SHAPES; do
			has bulk && http bulk "$s" "$px" "$w" "$P" "$PX"
		done
		stop "$PX"
	fi
	for key in $TLS_KEYS; do
		has tls-full || has tls-resume || has tls-keepalive ||
		    has tls-bulk || break
		TLS=$key
		if with_proxy "$px" "$w"; then
			say "$px, $w workers, TLS with $key, port $P"
			tls_cases "$px" "$w" "$P" "$PX" "$key"
			stop "$PX"
		fi
		TLS=""
	done
	[ "$round" -eq 1 ] || return 0
	if has idle && [ "$IDLE" -gt 0 ]; then
		MAXCONN=$((IDLE_N + 100))
		if with_proxy "$px" "$w"; then
			idle "$px" "$w" "$P" "$PX"
			stop "$PX"
		fi
		MAXCONN=4096
	fi
	if (has syscalls || has perf) && with_proxy "$px" "$w"; then
		has syscalls && prof_syscalls "$px" "$w" "$P" "$PX"
		has perf && prof_perf "$px" "$w" "$P" "$PX"
		stop "$PX"
	fi
}

PROF_PATH=$SMALL
. bench/prof.sh

B1=$(freeport)
B2=$(freeport)
# The proxies: those of PROXIES, then those that only the cache case has.
ALL=$PROXIES
if has cache; then
	for px in $CACHE_PROXIES; do
		case " $ALL " in *" $px "*) ;; *) ALL="$ALL $px" ;; esac
	done
fi
NW=$(echo $WORKERS | wc -w)
NP=$(echo $ALL | wc -w)
NS=$(($(echo $SHAPES | wc -w) * 3 + $(echo $BULK_SHAPES | wc -w) + 2))
NS=$((NS + $(echo $TLS_KEYS | wc -w) * ($(echo $TLS_SHAPES | wc -w) * 2 +
    $(echo $SHAPES $BULK_SHAPES | wc -w))))
LIFE=$(((NW * NP + 1) * (NS * (DUR + 5) + 120) * ROUNDS + 120))	# the backends
start_backends || exit 1
LIFE=$((NS * (DUR + 5) + 3 * IDLE / 1000 + 120))	# a proxy

# Each round runs every row once, proxies one after the other, so that
# the rows of a round share the machine's mood; the idle case and the
# profiles run in the first round only.
for round in $(seq "$ROUNDS"); do
	[ "$ROUNDS" -gt 1 ] && say "round $round of $ROUNDS"
	say "direct: wrk to a backend"
	for s in $SHAPES; do
		has keepalive && http keepalive "$s" direct - "$B1" ""
		has close && http close "$s" direct - "$B1" ""
	done
	for s in $BULK_SHAPES; do
		has bulk && http bulk "$s" direct - "$B1" ""
	done
	for w in $WORKERS; do
		for px in $ALL; do
			if [ "$px" = lb-http ] && [ ! -x "$LB_HTTP" ]; then
				say "lb-http: skipped: no $LB_HTTP (build it, or set LB_HTTP)"
				continue
			fi
			one_proxy "$px" "$w" "$round"
		done
	done
done

[ -n "$OUT" ] && [ ${#RES[@]} -gt 0 ] &&
    printf '%s\n' "${RES[@]}" | tr ' ' '\t' >"$OUT"

# The table: per case and shape, per CPU-second of the proxy, and lb-http's
# ratio to each row with the same case, shape and workers (the direct bulk
# rows: lb-http's 1-worker throughput over the direct one; n/a without
# lb-http); then lb-http against the targets.  With ROUNDS above 1 each row
# is the round with the median figure (per proxy CPU-second; the rate for
# direct rows), its range over the rounds in brackets.
[ ${#RES[@]} -gt 0 ] && printf '%s\n' "${RES[@]}" | awk -v dur="$DUR" '
function per(i) {	# work per proxy CPU-second, 0 when unknown
	if (cpu[i] <= 0) return 0;
	if (c[i] ~ /bulk/) return g[i] * dur / (cpu[i] / 1000);
	return r[i] * dur / (cpu[i] / 1000);
}
function met(i) {	# what the median is taken of
	if (p[i] != "direct" && per(i) > 0) return per(i);
	return (c[i] ~ /bulk/) ? g[i] : r[i];
}
function fper(i, k) {
	if (p[i] == "direct" || per(i) == 0) return "-";
	k = c[i] " " s[i] " " p[i] " " w[i]
	if (cnt[k] < 2)
		return sprintf(c[i] ~ /bulk/ ? "%.2f" : "%d", per(i));
	return sprintf(c[i] ~ /bulk/ ? "%.2f (%.2f-%.2f)" : "%d (%d-%d)",
	    per(i), lo[k], hi[k]);
}
{ n++; c[n] = $1; s[n] = $2; p[n] = $3; w[n] = $4; r[n] = $5; l[n] = $6
  g[n] = $7; cpu[n] = $8; e[n] = $9; b0[n] = $10; b1[n] = $11
  k = $1 " " $2 " " $3 " " $4
  if (!(k in cnt)) keys[++nk] = k
  idx[k, ++cnt[k]] = n }
END {
	for (q = 1; q <= nk; q++) {
		k = keys[q]; m = cnt[k]
		for (a = 1; a <= m; a++) v[a] = idx[k, a]
		for (a = 2; a <= m; a++) {
			t = v[a]
			for (b = a - 1; b >= 1 && met(v[b]) > met(t); b--)
				v[b + 1] = v[b]
			v[b + 1] = t
		}
		key[k] = v[int((m + 1) / 2)]
		lo[k] = met(v[1]); hi[k] = met(v[m])
		row[q] = key[k]
	}
	print "| case | shape | proxy | workers | req/s | p99 ms | Gbit/s |" \
	    " errors | CPU 0, 1 busy % | proxy CPU-s | per proxy CPU-s |" \
	    " lb-http / this: rate, per CPU-s |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (q = 1; q <= nk; q++) {
		i = row[q]
		k = c[i] " " s[i] " lb-http " w[i]
		if (p[i] == "direct" && c[i] ~ /bulk/)
			k = c[i] " " s[i] " lb-http 1"
		ratio = "n/a"
		if (p[i] == "lb-http")
			ratio = "-"
		else if (k in key) {
			j = key[k]
			a = (c[i] ~ /bulk/) ? g[i] : r[i]
			b = (c[i] ~ /bulk/) ? g[j] : r[j]
			ratio = (a > 0) ? sprintf("%.2fx", b / a) : "n/a"
			if (p[i] != "direct" && per(i) > 0 && per(j) > 0)
				ratio = ratio sprintf(", %.2fx", per(j) / per(i))
		}
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s, %s | %s | %s | %s |\n",
		    c[i], s[i], p[i], w[i], r[i], l[i], g[i], e[i], b0[i], b1[i],
		    (p[i] == "direct") ? "-" : sprintf("%.2f", cpu[i] / 1000),
		    fper(i), ratio
	}

	# Against the targets: the best anchor of the same case, shape and
	# workers per proxy CPU-second (1.2x), a direct connection (0.9x).
	print ""
	print "| target | shape | workers | lb-http | best anchor | ratio | target | met |"
	print "|---|---|---|---|---|---|---|---|"
	for (q = 1; q <= nk; q++) {
		i = row[q]
		if (p[i] != "lb-http") continue
		k = c[i] " " s[i] " direct -"
		if (c[i] ~ /bulk/ && (k in key) && g[key[k]] > 0) {
			x = g[i] / g[key[k]]
			printf "| bulk Gbit/s vs direct | %s | %s | %.2f | direct %.2f | %.2fx | 0.9x | %s |\n",
			    s[i], w[i], g[i], g[key[k]], x, (x >= 0.9) ? "yes" : "no"
			continue
		}
		best = 0; bn = ""
		for (t = 1; t <= nk; t++) {
			j = row[t]
			if (c[j] == c[i] && s[j] == s[i] && w[j] == w[i] &&
			    p[j] != "lb-http" && p[j] != "direct" && per(j) > best) {
				best = per(j); bn = p[j]
			}
		}
		if (best <= 0 || per(i) <= 0) continue
		x = per(i) / best
		# TLS: OpenSSL does the heavy part for all three (1.1x)
		want = (c[i] ~ /^tls-/) ? 1.1 : 1.2
		f = (c[i] ~ /bulk/) ? "%.2f" : "%d"
		printf "| %s %s per CPU-s | %s | %s | " f " | %s " f " | %.2fx | %.1fx | %s |\n",
		    c[i], (c[i] ~ /bulk/) ? "Gbit" : "req", s[i], w[i], per(i),
		    bn, best, x, want, (x >= want) ? "yes" : "no"
	}
}'

# The idle table: RSS of the proxy's processes before and while holding
# the clients, that scaled to IDLE clients (the per-client slope times
# IDLE, when fewer were held), and the backend connections held meanwhile.
[ ${#IRES[@]} -gt 0 ] && printf '%s\n' "${IRES[@]}" | awk -v want="$IDLE" \
    -v wait="${IDLE_WAIT:-8}" '
{ n++; p[n] = $1; w[n] = $2; c[n] = $3; r0[n] = $4; r1[n] = $5; bc[n] = $6
  bc2[n] = $7
  est[n] = (c[n] > 0) ? r0[n] + (r1[n] - r0[n]) * want / c[n] : 0
  key[$1 " " $2] = n }
END {
	print ""
	printf "| idle | proxy | workers | clients held | RSS before MiB |" \
	    " RSS held MiB | KiB per client | RSS at %d MiB |" \
	    " backend conns: 1 s, %d s later | this / lb-http |\n", want, wait
	print "|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		ratio = "n/a"
		k = "lb-http " w[i]
		if (p[i] == "lb-http")
			ratio = "-"
		else if ((k in key) && est[key[k]] > 0 && est[i] > 0)
			ratio = sprintf("%.2fx", est[i] / est[key[k]])
		per = "-"
		at = "failed"
		if (c[i] > 0) {
			per = sprintf("%.2f", (r1[i] - r0[i]) / c[i])
			at = sprintf("%.1f", est[i] / 1024)
		}
		printf "| idle | %s | %s | %d | %.1f | %.1f | %s | %s | %d, %d | %s |\n",
		    p[i], w[i], c[i], r0[i] / 1024, r1[i] / 1024, per, at,
		    bc[i], bc2[i], ratio
	}
}'

prof_report
