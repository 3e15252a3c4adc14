#!/bin/bash
# bench/tcp.sh: lb-tcp against HAProxy (tcp mode), nginx (stream) and pen,
# side by side on loopback: the same backends, the same clients, the proxy
# pinned to its own CPU and everything else to another.  See bench/README.md.
#
#   bench/tcp.sh                      every proxy, 1 then 2 workers, 5 s a case
#   DUR=10 WORKERS=1 PROXIES="lb-tcp haproxy" bench/tcp.sh
#   CASES="syscalls perf" WORKERS=1 bench/tcp.sh      the profiles
#
# Environment: DUR (seconds a case, 5), SHAPES (the HTTP clients, "t1:6
# t2:100": tT[cC]:BYTES is wrk -tT -cC, CONNS connections when there is no
# cC, against a BYTES-byte file), CONNS (64), WORKERS ("1 2"), PROXIES
# ("lb-tcp haproxy nginx pen"), LB_TCP (the lb-tcp binary, bin/lb-tcp),
# PCPU (the proxy's CPU, 1), OCPU (everything else, 0), IDLE (idle
# connections held through each proxy, 10000; 0 skips the case), CASES
# ("keepalive close bulk idle"; also "syscalls" and "perf", see
# bench/prof.sh), ROUNDS (1: rounds of every row; each row then is the
# median round), OUT (also write the results as TSV there), PROF_DIR (keep
# the profiles there), KEEP (keep the scratch folder), NOPUSH (the
# backends' tcp_nopush, on: a response's head and body in one segment; off:
# in two, as many servers send them).
# stdout: Markdown tables of the results; stderr: progress.
set -u
cd "$(dirname "$0")/.."

DUR=${DUR:-5}
CONNS=${CONNS:-64}
SHAPES=${SHAPES:-"t1:6 t2:100"}
NOPUSH=${NOPUSH:-on}
WORKERS=${WORKERS:-"1 2"}
PROXIES=${PROXIES:-"lb-tcp haproxy nginx pen"}
LB_TCP=${LB_TCP:-$PWD/bin/lb-tcp}
PCPU=${PCPU:-1}
OCPU=${OCPU:-0}
OUT=${OUT:-}
IDLE=${IDLE:-10000}
CASES=${CASES:-"keepalive close bulk idle"}
ROUNDS=${ROUNDS:-1}
MAXCONN=4096			# the anchors' connection limits
LIFE=$((DUR * 3 + 60))		# no server outlives this, whatever happens
HZ=$(getconf CLK_TCK)
STREAM_MOD=/usr/lib/nginx/modules/ngx_stream_module.so
ME=tcp.sh

sh tools/deps.sh bench/deps.list || exit 1
work=$(mktemp -d /tmp/lb-bench.XXXXXX)
PIDS=()
RES=()				# case shape proxy workers rps p99 gbps cpu errors
				# busy% of OCPU and PCPU
IRES=()				# proxy workers conns rss0 rss1 (KiB)

# The idle case needs two descriptors a connection in the proxy: raise the
# soft limit to the hard one, and hold no more than that allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
if [ "$IDLE" -gt $(((NOFILE - 200) / 2)) ]; then
	IDLE_N=$(((NOFILE - 200) / 2))
	echo "tcp.sh: open files limited to $NOFILE: $IDLE_N idle" \
	    "connections instead of $IDLE (RSS scaled to $IDLE too)" >&2
else
	IDLE_N=$IDLE
fi
if [ "$IDLE" -gt 0 ] && ! cc -O2 -o "$work/idle" bench/idle.c; then
	echo "tcp.sh: cannot build bench/idle.c" >&2
	exit 1
fi

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

say() { echo "tcp.sh: $*" >&2; }

freeport() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# spawn CPU CMD...: run CMD pinned to CPU, bounded by LIFE; SPAWNED is the
# pid of the timeout(1) at the root of its process tree.
spawn() {
	local cpu=$1
	shift
	taskset -c "$cpu" timeout -k 2 "$LIFE" "$@" \
	    >>"$work/servers.log" 2>&1 </dev/null &
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

# tree_cpu PID: utime + stime, in ticks, of PID and all its descendants.
tree_pids() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		tree_pids "$c"
	done
}
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

# shape_args SHAPE: "t2:100" as wrk's "-t2 -c64", "t2c256:100" as "-t2
# -c256"; shape_path SHAPE: its file, "/100"
shape_args() {
	local t=${1%%:*} c=$CONNS
	t=${t#t}
	case $t in *c*) c=${t#*c} t=${t%%c*} ;; esac
	echo "-t$t -c$c"
}
shape_path() {
	case $1 in *:*) echo "/${1#*:}" ;; *) echo /6 ;; esac
}

# run_wrk SHAPE PORT PATH [ARG...]: wrk's output in WRK
run_wrk() {
	local shape=$1 port=$2 path=$3
	shift 3
	WRK=$(taskset -c "$OCPU" timeout $((DUR + 30)) wrk $(shape_args "$shape") \
	    -d"${DUR}s" --latency "$@" "http://127.0.0.1:$port$path" 2>&1)
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

# idle PROXY WORKERS PORT ROOT: hold IDLE_N connections through the proxy
# (each echoed once end to end), note the proxy's RSS before and after.
idle() {
	local px=$1 w=$2 port=$3 root=$4 r0 r1 i ready=""
	r0=$(tree_rss "$root")
	rm -f "$work/hold" "$work/idle.out"
	mkfifo "$work/hold"
	taskset -c "$OCPU" timeout -k 2 "$LIFE" "$work/idle" -c "$port" \
	    "$IDLE_N" <"$work/hold" >"$work/idle.out" 2>&1 &
	local cl=$!
	exec 9>"$work/hold"
	for i in $(seq 1200); do
		ready=$(awk '/^ready/ { print $2 }' "$work/idle.out")
		[ -n "$ready" ] && break
		kill -0 "$cl" 2>/dev/null || break
		sleep 0.05
	done
	if [ -n "$ready" ]; then
		sleep 1		# let lazy allocations settle
		r1=$(tree_rss "$root")
		IRES+=("$px $w $ready $r0 $r1")
		say "idle $px $w: $ready conns, RSS $r0 -> $r1 KiB"
		grep -v '^ready' "$work/idle.out" >&2
	else
		say "idle $px $w: failed: $(tail -n 1 "$work/idle.out")"
		IRES+=("$px $w 0 $r0 0")
	fi
	exec 9>&-
	wait "$cl" 2>/dev/null
}

# http CASE SHAPE PROXY WORKERS PORT ROOT: run wrk, note rate, p99 and
# proxy CPU.
http() {
	local c=$1 shape=$2 px=$3 w=$4 port=$5 root=$6 hdr=() c0 c1 out rps
	local p99 errs
	[ "$c" = close ] && hdr=(-H 'Connection: close')
	c0=0
	[ -n "$root" ] && c0=$(tree_cpu "$root")
	cpu_mark
	run_wrk "$shape" "$port" "$(shape_path "$shape")" "${hdr[@]}"
	out=$WRK
	c1=0
	[ -n "$root" ] && c1=$(tree_cpu "$root")
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { printf "%d", $2 }')
	p99=$(ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
	errs=$(echo "$out" | awk '
	    /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
	    /Non-2xx/ { n += $NF } END { print n + 0 }')
	record "$c" "$shape" "$px" "$w" "${rps:-0}" "$p99" "-" \
	    "$(((c1 - c0) * 1000 / HZ))" "$errs" "$(cpu_busy "$OCPU")" \
	    "$(cpu_busy "$PCPU")"
}

# bulk PROXY WORKERS PORT ROOT: one iperf3 stream of DUR seconds.
bulk() {
	local px=$1 w=$2 port=$3 root=$4 c0 c1 out gbps
	c0=0
	[ -n "$root" ] && c0=$(tree_cpu "$root")
	cpu_mark
	out=$(taskset -c "$OCPU" timeout $((DUR + 30)) iperf3 -c 127.0.0.1 \
	    -p "$port" -t "$DUR" -J 2>&1)
	c1=0
	[ -n "$root" ] && c1=$(tree_cpu "$root")
	gbps=$(echo "$out" | python3 -c 'import json, sys
try: print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("0")')
	record bulk - "$px" "$w" "-" "-" "$gbps" "$(((c1 - c0) * 1000 / HZ))" "-" \
	    "$(cpu_busy "$OCPU")" "$(cpu_busy "$PCPU")"
}

# start_proxy NAME WORKERS PORT BACKEND...: SPAWNED is its root pid, or
# empty when this proxy cannot run with that many workers.
start_proxy() {
	local px=$1 w=$2 port=$3 b
	shift 3
	SPAWNED=""
	case $px in
	lb-tcp)
		spawn "$PCPU" "$LB_TCP" -q -w "$w" -l "127.0.0.1:$port" "$@"
		;;
	haproxy)
		{
			printf 'global\n\tnbthread %d\n\tmaxconn %d\n' "$w" \
			    "$MAXCONN"
			printf 'defaults\n\tmode tcp\n\ttimeout connect 5s\n'
			printf '\ttimeout client 60s\n\ttimeout server 60s\n'
			printf 'listen bench\n\tbind 127.0.0.1:%d\n' "$port"
			printf '\tbalance roundrobin\n'
			for b in "$@"; do
				printf '\tserver s%s %s\n' "${b##*:}" "$b"
			done
		} >"$work/haproxy.cfg"
		spawn "$PCPU" haproxy -db -f "$work/haproxy.cfg"
		;;
	nginx)
		{
			printf 'load_module %s;\n' "$STREAM_MOD"
			printf 'daemon off;\nworker_processes %d;\n' "$w"
			printf 'pid %s/px.pid;\nerror_log %s/px.err;\n' \
			    "$work" "$work"
			printf 'worker_rlimit_nofile 65536;\n'
			printf 'events { worker_connections %d; }\n' \
			    $((MAXCONN * 2))
			printf 'stream {\n\tupstream be {\n'
			for b in "$@"; do
				printf '\t\tserver %s;\n' "$b"
			done
			printf '\t}\n\tserver {\n\t\tlisten 127.0.0.1:%d;\n' \
			    "$port"
			printf '\t\tproxy_pass be;\n\t}\n}\n'
		} >"$work/px.conf"
		spawn "$PCPU" nginx -p "$work" -c "$work/px.conf"
		;;
	pen)
		# pen is one process with one event loop: no second worker.
		[ "$w" -eq 1 ] || return 0
		spawn "$PCPU" pen -f -r -x "$MAXCONN" -c 4096 \
		    "127.0.0.1:$port" "$@"
		;;
	esac
}

# The HTTP backends: one nginx worker on two ports, a file of each size
# that SHAPES asks for (/6, /100), keep-alive without limit.  sendfile(2)
# with tcp_nopush (as Debian's nginx.conf has it) sends a small response in
# one segment; without it, the head and the body go in two.
start_backends() {
	local s n
	mkdir -p "$work/be" "$work/www"
	chmod 711 "$work"		# nginx workers run as nobody
	for s in $SHAPES 100; do
		n=$(shape_path "$s")
		n=${n#/}
		head -c "$((n - 1))" /dev/zero | tr '\0' x >"$work/www/$n"
		echo >>"$work/www/$n"
	done
	cat >"$work/be.conf" <<-EOF
	daemon off;
	worker_processes 1;
	pid $work/be.pid;
	error_log $work/be.err;
	worker_rlimit_nofile 65536;
	events { worker_connections 4096; }
	http {
		access_log off;
		client_body_temp_path $work/be;
		proxy_temp_path $work/be;
		fastcgi_temp_path $work/be;
		uwsgi_temp_path $work/be;
		scgi_temp_path $work/be;
		keepalive_requests 10000000;
		keepalive_timeout 60s;
		sendfile on;
		tcp_nopush $NOPUSH;
		open_file_cache max=16 inactive=600s;
		open_file_cache_valid 600s;
		default_type text/plain;
		server {
			listen 127.0.0.1:$B1 backlog=4096;
			listen 127.0.0.1:$B2 backlog=4096;
			root $work/www;
		}
	}
	EOF
	spawn "$OCPU" nginx -p "$work" -c "$work/be.conf"
	BE_PID=$SPAWNED
	wait_listen "$B1" && wait_listen "$B2"
}

PROF_PATH=/100			# the profiles' small request
PROF_PERF_SHAPE=${PROF_PERF_SHAPE:-t2:100}
. bench/prof.sh

B1=$(freeport)
B2=$(freeport)
NSH=$(echo $SHAPES | wc -w)
LIFE=$(((20 * NSH + 20) * (DUR + 10) * ROUNDS))	# the backends: the whole run
start_backends || exit 1
LIFE=$(((2 * NSH + 1) * (DUR + 5) + 60))	# a proxy: its cases

# with_proxy PX W BACKEND...: start it on a fresh port P, PX its root;
# 1 when it cannot run (skipped, said why).
with_proxy() {
	local px=$1 w=$2
	shift 2
	P=$(freeport)
	start_proxy "$px" "$w" "$P" "$@"
	if [ -z "$SPAWNED" ]; then
		say "$px: skipped with $w workers: it has one loop"
		return 1
	fi
	PX=$SPAWNED
	if ! wait_listen "$P"; then
		say "$px: did not start; see $work/servers.log"
		tail -n 5 "$work/servers.log" >&2
		stop "$PX"
		return 1
	fi
	return 0
}

# one_proxy PX W ROUND: every case of one proxy with W workers (the
# profiles and the idle case in the first round only).
one_proxy() {
	local px=$1 w=$2 round=$3 s
	if (has keepalive || has close) &&
	    with_proxy "$px" "$w" "127.0.0.1:$B1" "127.0.0.1:$B2"; then
		for s in $SHAPES; do
			has keepalive && http keepalive "$s" "$px" "$w" "$P" "$PX"
			has close && http close "$s" "$px" "$w" "$P" "$PX"
		done
		stop "$PX"
	fi

	if [ "$round" -eq 1 ] && (has syscalls || has perf) &&
	    with_proxy "$px" "$w" "127.0.0.1:$B1" "127.0.0.1:$B2"; then
		has syscalls && prof_syscalls "$px" "$w" "$P" "$PX"
		has perf && prof_perf "$px" "$w" "$P" "$PX"
		stop "$PX"
	fi

	if has bulk; then
		IP=$(freeport)
		spawn "$OCPU" iperf3 -s -p "$IP"
		IPERF=$SPAWNED
		wait_listen "$IP"
		if with_proxy "$px" "$w" "127.0.0.1:$IP"; then
			bulk "$px" "$w" "$P" "$PX"
			stop "$PX"
		fi
		stop "$IPERF"
	fi

	if [ "$round" -eq 1 ] && has idle && [ "$IDLE" -gt 0 ]; then
		IP=$(freeport)
		spawn "$OCPU" "$work/idle" -s "$IP"
		ISRV=$SPAWNED
		wait_listen "$IP"
		MAXCONN=$((IDLE_N + 20))
		if with_proxy "$px" "$w" "127.0.0.1:$IP"; then
			idle "$px" "$w" "$P" "$PX"
			stop "$PX"
		fi
		MAXCONN=4096
		stop "$ISRV"
	fi
}

# Each round runs every row once, proxies one after the other, so that
# the rows of a round share the machine's mood.
for round in $(seq "$ROUNDS"); do
	[ "$ROUNDS" -gt 1 ] && say "round $round of $ROUNDS"
	say "direct: wrk to a backend, iperf3 to its server"
	for s in $SHAPES; do
		has keepalive && http keepalive "$s" direct - "$B1" ""
		has close && http close "$s" direct - "$B1" ""
	done
	if has bulk; then
		IP=$(freeport)
		spawn "$OCPU" iperf3 -s -p "$IP"
		IPERF=$SPAWNED
		wait_listen "$IP"
		bulk direct - "$IP" ""
		stop "$IPERF"
	fi
	for w in $WORKERS; do
		for px in $PROXIES; do
			if [ "$px" = lb-tcp ] && [ ! -x "$LB_TCP" ]; then
				say "lb-tcp: skipped: no $LB_TCP (build it, or set LB_TCP)"
				continue
			fi
			one_proxy "$px" "$w" "$round"
		done
	done
done

[ -n "$OUT" ] && printf '%s\n' "${RES[@]}" | tr ' ' '\t' >"$OUT"

# The table: per case and shape, per CPU-second of the proxy, and lb-tcp's
# ratio to each row with the same case, shape and workers (the direct bulk
# rows: lb-tcp's 1-worker throughput over the direct one; n/a without
# lb-tcp); then lb-tcp against the targets.  With ROUNDS above 1 each row
# is the round with the median figure (per proxy CPU-second; the rate for
# direct rows), its range over the rounds in brackets.
[ ${#RES[@]} -gt 0 ] && printf '%s\n' "${RES[@]}" | awk -v dur="$DUR" '
function per(i) {	# work per proxy CPU-second, 0 when unknown
	if (cpu[i] <= 0) return 0;
	if (c[i] == "bulk") return g[i] * dur / (cpu[i] / 1000);
	return r[i] * dur / (cpu[i] / 1000);
}
function met(i) {	# what the median is taken of
	if (p[i] != "direct" && per(i) > 0) return per(i);
	return (c[i] == "bulk") ? g[i] : r[i];
}
function fper(i, k) {
	if (p[i] == "direct" || per(i) == 0) return "-";
	k = c[i] " " s[i] " " p[i] " " w[i]
	if (cnt[k] < 2)
		return sprintf(c[i] == "bulk" ? "%.2f" : "%d", per(i));
	return sprintf(c[i] == "bulk" ? "%.2f (%.2f-%.2f)" : "%d (%d-%d)",
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
	    " lb-tcp / this: rate, per CPU-s |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (q = 1; q <= nk; q++) {
		i = row[q]
		k = c[i] " " s[i] " lb-tcp " w[i]
		if (p[i] == "direct" && c[i] == "bulk")
			k = c[i] " " s[i] " lb-tcp 1"
		ratio = "n/a"
		if (p[i] == "lb-tcp")
			ratio = "-"
		else if (k in key) {
			j = key[k]
			a = (c[i] == "bulk") ? g[i] : r[i]
			b = (c[i] == "bulk") ? g[j] : r[j]
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
	print "| target | shape | workers | lb-tcp | best anchor | ratio | target | met |"
	print "|---|---|---|---|---|---|---|---|"
	for (q = 1; q <= nk; q++) {
		i = row[q]
		if (p[i] != "lb-tcp") continue
		if (c[i] == "bulk") {
			k = c[i] " " s[i] " direct -"
			if (!(k in key) || g[key[k]] <= 0) continue
			x = g[i] / g[key[k]]
			printf "| bulk Gbit/s vs direct | %s | %s | %.2f | direct %.2f | %.2fx | 0.9x | %s |\n",
			    s[i], w[i], g[i], g[key[k]], x, (x >= 0.9) ? "yes" : "no"
			continue
		}
		best = 0; bn = ""
		for (t = 1; t <= nk; t++) {
			j = row[t]
			if (c[j] == c[i] && s[j] == s[i] && w[j] == w[i] &&
			    p[j] != "lb-tcp" && p[j] != "direct" && per(j) > best) {
				best = per(j); bn = p[j]
			}
		}
		if (best <= 0 || per(i) <= 0) continue
		x = per(i) / best
		printf "| %s req per CPU-s | %s | %s | %d | %s %d | %.2fx | 1.2x | %s |\n",
		    c[i], s[i], w[i], per(i), bn, best, x, (x >= 1.2) ? "yes" : "no"
	}
}'

# The idle table: RSS of the proxy's processes before and while holding
# the connections, and that scaled to IDLE connections (when the open-file
# limit held fewer: the per-connection slope times IDLE).
[ ${#IRES[@]} -gt 0 ] && printf '%s\n' "${IRES[@]}" | awk -v want="$IDLE" '
{ n++; p[n] = $1; w[n] = $2; c[n] = $3; r0[n] = $4; r1[n] = $5
  est[n] = (c[n] > 0) ? r0[n] + (r1[n] - r0[n]) * want / c[n] : 0
  key[$1 " " $2] = n }
END {
	print ""
	printf "| idle | proxy | workers | conns held | RSS before MiB |" \
	    " RSS held MiB | KiB per conn | RSS at %d MiB |" \
	    " this / lb-tcp |\n", want
	print "|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		ratio = "n/a"
		k = "lb-tcp " w[i]
		if (p[i] == "lb-tcp")
			ratio = "-"
		else if ((k in key) && est[key[k]] > 0 && est[i] > 0)
			ratio = sprintf("%.2fx", est[i] / est[key[k]])
		per = "-"
		at = "failed"
		if (c[i] > 0) {
			per = sprintf("%.2f", (r1[i] - r0[i]) / c[i])
			at = sprintf("%.1f", est[i] / 1024)
		}
		printf "| idle | %s | %s | %d | %.1f | %.1f | %s | %s | %s |\n",
		    p[i], w[i], c[i], r0[i] / 1024, r1[i] / 1024, per, at,
		    ratio
	}
}'

prof_report
