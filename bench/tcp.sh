#!/bin/bash
# bench/tcp.sh: lb-tcp against HAProxy (tcp mode), nginx (stream) and pen,
# side by side on loopback: the same backends, the same clients, the proxy
# pinned to its own CPU and everything else to another.  See bench/README.md.
#
#   bench/tcp.sh                      every proxy, 1 then 2 workers, 5 s a case
#   DUR=10 WORKERS=1 PROXIES="lb-tcp haproxy" bench/tcp.sh
#
# Environment: DUR (seconds a case, 5), CONNS (wrk connections, 64),
# WORKERS ("1 2"), PROXIES ("lb-tcp haproxy nginx pen"), LB_TCP (the lb-tcp
# binary, bin/lb-tcp), PCPU (the proxy's CPU, 1), OCPU (everything else, 0),
# OUT (also write the results as TSV there).
# stdout: a Markdown table of the results; stderr: progress.
set -u
cd "$(dirname "$0")/.."

DUR=${DUR:-5}
CONNS=${CONNS:-64}
WORKERS=${WORKERS:-"1 2"}
PROXIES=${PROXIES:-"lb-tcp haproxy nginx pen"}
LB_TCP=${LB_TCP:-$PWD/bin/lb-tcp}
PCPU=${PCPU:-1}
OCPU=${OCPU:-0}
OUT=${OUT:-}
LIFE=$((DUR * 3 + 60))		# no server outlives this, whatever happens
HZ=$(getconf CLK_TCK)
STREAM_MOD=/usr/lib/nginx/modules/ngx_stream_module.so

sh bench/deps.sh || exit 1
work=$(mktemp -d /tmp/lb-bench.XXXXXX)
PIDS=()
RES=()				# case proxy workers rps p99 gbps cpu errors

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
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

# http CASE PROXY WORKERS PORT ROOT: run wrk, note rate, p99 and proxy CPU.
http() {
	local c=$1 px=$2 w=$3 port=$4 root=$5 hdr=() c0 c1 out rps p99 errs
	[ "$c" = close ] && hdr=(-H 'Connection: close')
	c0=0
	[ -n "$root" ] && c0=$(tree_cpu "$root")
	out=$(taskset -c "$OCPU" timeout $((DUR + 30)) wrk -t1 -c"$CONNS" \
	    -d"${DUR}s" --latency "${hdr[@]}" "http://127.0.0.1:$port/" 2>&1)
	c1=0
	[ -n "$root" ] && c1=$(tree_cpu "$root")
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { printf "%d", $2 }')
	p99=$(ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
	errs=$(echo "$out" | awk '
	    /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
	    /Non-2xx/ { n += $NF } END { print n + 0 }')
	record "$c" "$px" "$w" "${rps:-0}" "$p99" "-" \
	    "$(((c1 - c0) * 1000 / HZ))" "$errs"
}

# bulk PROXY WORKERS PORT ROOT: one iperf3 stream of DUR seconds.
bulk() {
	local px=$1 w=$2 port=$3 root=$4 c0 c1 out gbps
	c0=0
	[ -n "$root" ] && c0=$(tree_cpu "$root")
	out=$(taskset -c "$OCPU" timeout $((DUR + 30)) iperf3 -c 127.0.0.1 \
	    -p "$port" -t "$DUR" -J 2>&1)
	c1=0
	[ -n "$root" ] && c1=$(tree_cpu "$root")
	gbps=$(echo "$out" | python3 -c 'import json, sys
try: print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("0")')
	record bulk "$px" "$w" "-" "-" "$gbps" "$(((c1 - c0) * 1000 / HZ))" "-"
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
			printf 'global\n\tnbthread %d\n\tmaxconn 4096\n' "$w"
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
			printf 'events { worker_connections 4096; }\n'
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
		spawn "$PCPU" pen -f -r -x 4096 -c 4096 \
		    "127.0.0.1:$port" "$@"
		;;
	esac
}

# The HTTP backends: one nginx worker on two ports, a 6-byte body,
# keep-alive without limit.
start_backends() {
	mkdir -p "$work/be"
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
		server {
			listen 127.0.0.1:$B1 backlog=4096;
			listen 127.0.0.1:$B2 backlog=4096;
			location / { return 200 "hello\n"; }
		}
	}
	EOF
	spawn "$OCPU" nginx -p "$work" -c "$work/be.conf"
	BE_PID=$SPAWNED
	wait_listen "$B1" && wait_listen "$B2"
}

B1=$(freeport)
B2=$(freeport)
LIFE=$((40 * (DUR + 10)))	# the backends live through the whole run
start_backends || exit 1
LIFE=$((DUR * 3 + 60))

say "direct: wrk to a backend, iperf3 to its server"
http keepalive direct - "$B1" ""
http close direct - "$B1" ""
IP=$(freeport)
spawn "$OCPU" iperf3 -s -p "$IP"
IPERF=$SPAWNED
wait_listen "$IP"
bulk direct - "$IP" ""
stop "$IPERF"

for w in $WORKERS; do
	for px in $PROXIES; do
		if [ "$px" = lb-tcp ] && [ ! -x "$LB_TCP" ]; then
			say "lb-tcp: skipped: no $LB_TCP (build it, or set LB_TCP)"
			continue
		fi
		P=$(freeport)
		start_proxy "$px" "$w" "$P" "127.0.0.1:$B1" "127.0.0.1:$B2"
		if [ -z "$SPAWNED" ]; then
			say "$px: skipped with $w workers: it has one loop"
			continue
		fi
		PX=$SPAWNED
		if ! wait_listen "$P"; then
			say "$px: did not start; see $work/servers.log"
			tail -n 5 "$work/servers.log" >&2
			stop "$PX"
			continue
		fi
		http keepalive "$px" "$w" "$P" "$PX"
		http close "$px" "$w" "$P" "$PX"
		stop "$PX"

		IP=$(freeport)
		spawn "$OCPU" iperf3 -s -p "$IP"
		IPERF=$SPAWNED
		wait_listen "$IP"
		P=$(freeport)
		start_proxy "$px" "$w" "$P" "127.0.0.1:$IP"
		PX=$SPAWNED
		wait_listen "$P" && bulk "$px" "$w" "$P" "$PX"
		stop "$PX"
		stop "$IPERF"
	done
done

[ -n "$OUT" ] && printf '%s\n' "${RES[@]}" | tr ' ' '\t' >"$OUT"

# The table: per case, per CPU-second of the proxy, and lb-tcp's ratio to
# each anchor with the same case and workers (n/a without lb-tcp).
printf '%s\n' "${RES[@]}" | awk -v dur="$DUR" '
function per(i) {	# work per proxy CPU-second, 0 when unknown
	if (cpu[i] <= 0) return 0;
	if (c[i] == "bulk") return g[i] * dur / (cpu[i] / 1000);
	return r[i] * dur / (cpu[i] / 1000);
}
function fper(i) {
	if (p[i] == "direct" || per(i) == 0) return "-";
	return sprintf(c[i] == "bulk" ? "%.2f" : "%d", per(i));
}
{ n++; c[n] = $1; p[n] = $2; w[n] = $3; r[n] = $4; l[n] = $5; g[n] = $6
  cpu[n] = $7; e[n] = $8; key[$1 " " $2 " " $3] = n }
END {
	print "| case | proxy | workers | req/s | p99 ms | Gbit/s | errors |" \
	    " proxy CPU-s | per proxy CPU-s | lb-tcp / this: rate, per CPU-s |"
	print "|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		k = c[i] " lb-tcp " w[i]
		if (p[i] == "direct" && c[i] == "bulk")
			k = c[i] " lb-tcp 1"
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
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		    c[i], p[i], w[i], r[i], l[i], g[i], e[i],
		    (p[i] == "direct") ? "-" : sprintf("%.2f", cpu[i] / 1000),
		    fper(i), ratio
	}
}'
