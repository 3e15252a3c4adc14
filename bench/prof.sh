# bench/prof.sh: what bench/tcp.sh and bench/http.sh share to see where
# CPU goes, sourced by both (not run on its own): the CPU meters of every
# row, and the profiling cases.
#
#   cpu_mark, cpu_busy N  how busy CPU N was (user, system, softirq, ...:
#             all but idle and iowait), in percent, since cpu_mark: the
#             client's CPU at 100 says the client side was the bound; the
#             proxy's CPU well above the proxy's own share says something
#             else ran there.
#
#   syscalls  strace -c -f on every process and thread of the proxy while
#             wrk runs a fixed shape (PROF_SHAPE, t1c16) for PROF_DUR (3)
#             seconds, keep-alive then Connection: close: system calls a
#             request, by kind.  strace slows the proxy many times over, so
#             only the counts are read, never the times.
#   perf      perf record -g on the proxy's processes while wrk runs
#             each of PROF_PERF_CASES (keepalive; close too, say), shape
#             PROF_PERF_SHAPE (the first of SHAPES), for DUR seconds: the
#             share of each object (the kernel, the proxy, libc) and the
#             top symbols, by self time.
#
# They use from the caller: work, ME, OCPU, DUR, SHAPES, PROF_PATH (the
# small request's path), run_wrk, tree_pids, say.  PROF_DIR keeps the raw
# strace summaries and perf data (in the run's scratch folder otherwise,
# removed with it).

PROF_SHAPE=${PROF_SHAPE:-t1c16}
PROF_DUR=${PROF_DUR:-3}
PROF_DIR=${PROF_DIR:-}
PROF_TOP=${PROF_TOP:-12}
PROF_PERF_SHAPE=${PROF_PERF_SHAPE:-${SHAPES%% *}}
PROF_PERF_CASES=${PROF_PERF_CASES:-keepalive}
SRES=()				# proxy workers case requests kind=calls...
PRES=()				# proxy workers case file

cpu_mark() {
	CPU_MARK=$(grep '^cpu[0-9]' /proc/stat)
}
cpu_busy() {
	{ echo "$CPU_MARK"; grep '^cpu[0-9]' /proc/stat; } | awk -v c="cpu$1" '
	    $1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i
		idle = $5 + $6; n++; T[n] = t; I[n] = idle }
	    END { dt = T[2] - T[1]
		printf "%d", (dt > 0 ? 100 * (dt - (I[2] - I[1])) / dt : 0) }'
}

prof_dir() {
	if [ -z "$PROF_DIR" ]; then
		PROF_DIR=$work/prof
	fi
	mkdir -p "$PROF_DIR"
}

# proxy_pids ROOT: the proxy's processes (ROOT is the timeout(1) above them)
proxy_pids() {
	tree_pids "$1" | tail -n +2
}

# prof_syscalls PROXY WORKERS PORT ROOT
prof_syscalls() {
	local px=$1 w=$2 port=$3 root=$4 c hdr p args=() st out i req sum keep
	command -v strace >/dev/null || { say "syscalls: no strace"; return; }
	prof_dir
	for p in $(proxy_pids "$root"); do
		args+=(-p "$p")
	done
	for c in keepalive close; do
		hdr=()
		[ "$c" = close ] && hdr=(-H 'Connection: close')
		st=$PROF_DIR/strace.$px.$w.$c
		rm -f "$st" "$st.err"
		timeout -k 2 $((PROF_DUR + 40)) strace -c -f -o "$st" \
		    "${args[@]}" 2>"$st.err" &
		out=$!
		for i in $(seq 100); do
			grep -q attached "$st.err" 2>/dev/null && break
			sleep 0.05
		done
		sleep 0.5	# the other threads' attaches
		keep=$DUR
		DUR=$PROF_DUR
		run_wrk "$PROF_SHAPE" "$port" "$PROF_PATH" "${hdr[@]}"
		DUR=$keep
		kill -INT "$out" 2>/dev/null
		wait "$out" 2>/dev/null
		req=$(echo "$WRK" | awk '/requests in/ { print $1 }')
		# strace -c: "% time seconds usecs/call calls [errors] syscall"
		sum=$(awk '$1 ~ /^[0-9.]+$/ && $NF != "total" {
			printf " %s=%d", $NF, $4 }' "$st" 2>/dev/null)
		SRES+=("$px $w $c ${req:-0}$sum")
		say "syscalls $px $w $c: ${req:-0} requests"
	done
}

# prof_perf PROXY WORKERS PORT ROOT
prof_perf() {
	local px=$1 w=$2 port=$3 root=$4 c
	command -v perf >/dev/null || { say "perf: no perf"; return; }
	prof_dir
	for c in $PROF_PERF_CASES; do
		prof_perf1 "$px" "$w" "$port" "$root" "$c"
	done
}

prof_perf1() {
	local px=$1 w=$2 port=$3 root=$4 c=$5 pids f pr hdr=()
	[ "$c" = close ] && hdr=(-H 'Connection: close')
	pids=$(proxy_pids "$root" | paste -sd, -)
	f=$PROF_DIR/perf.$px.$w.$c.data
	timeout -k 2 $((DUR + 30)) perf record -q -g -o "$f" -p "$pids" \
	    -- sleep "$DUR" >/dev/null 2>"$f.err" &
	pr=$!
	run_wrk "$PROF_PERF_SHAPE" "$port" "$PROF_PATH" "${hdr[@]}"
	wait "$pr" 2>/dev/null
	if [ ! -s "$f" ]; then
		say "perf $px $c: no data: $(tail -n 1 "$f.err")"
		return
	fi
	perf report -i "$f" --no-children -g none --sort dso,sym --stdio \
	    --percent-limit 0.3 2>/dev/null | grep -v '^$' >"$f.sym"
	perf report -i "$f" --no-children -g none --sort dso --stdio \
	    2>/dev/null | grep -v '^$' >"$f.dso"
	PRES+=("$px $w $c $f")
	say "perf $px $w $c: $(echo "$WRK" | awk '/requests in/ { print $1 }')" \
	    "requests"
}

# prof_syms AWK-CONDITION FILE: the top PROF_TOP symbols of a perf report
# that the condition takes, as table rows
prof_syms() {
	awk '$1 ~ /%$/ && '"$1"' { s = $1; o = $2; $1 = $2 = ""; sub(/^ +/, "");
	    printf "| %s | %s | %s |\n", s, o, $0 }' "$2" | head -n "$PROF_TOP"
}

prof_report() {
	local r px w c f
	if [ ${#SRES[@]} -gt 0 ]; then
		echo
		echo "System calls a request (strace -c -f, wrk $PROF_SHAPE," \
		    "${PROF_DUR} s a case):"
		echo
		printf '%s\n' "${SRES[@]}" | awk '
		function grp(k) {
			if (k ~ /^(read|readv|recvfrom|recvmsg|recvmmsg)$/) return "read";
			if (k ~ /^(write|writev|sendto|sendmsg|sendmmsg|sendfile)$/) return "write";
			if (k ~ /^(epoll_wait|epoll_pwait|epoll_pwait2)$/) return "epoll_wait";
			if (k ~ /^(accept|accept4)$/) return "accept";
			if (k ~ /^(setsockopt|getsockopt)$/) return "sockopt";
			if (k ~ /^(splice|epoll_ctl|connect|close|shutdown|socket|getsockname|getpeername)$/) return k;
			return "other";
		}
		BEGIN { ng = split("read write splice epoll_wait epoll_ctl accept connect close shutdown socket sockopt getsockname getpeername other", G, " ")
			printf "| proxy | workers | case | requests | calls a request |"
			for (i = 1; i <= ng; i++) printf " %s |", G[i]
			printf " other calls |\n|"
			for (i = 1; i <= ng + 6; i++) printf "---|"
			printf "\n" }
		{
			delete v; tot = 0; oth = ""
			for (i = 5; i <= NF; i++) {
				split($i, kv, "="); v[grp(kv[1])] += kv[2]; tot += kv[2]
				if (grp(kv[1]) == "other" && $4 > 0 && kv[2] / $4 >= 0.01)
					oth = oth sprintf(" %s %.2f", kv[1], kv[2] / $4)
			}
			if ($4 <= 0) { printf "| %s | %s | %s | 0 | - |\n", $1, $2, $3; next }
			printf "| %s | %s | %s | %d | %.2f |", $1, $2, $3, $4, tot / $4
			for (i = 1; i <= ng; i++) printf " %.2f |", v[G[i]] / $4
			printf "%s |\n", (oth == "") ? " -" : oth
		}'
	fi
	for r in "${PRES[@]}"; do
		set -- $r
		px=$1 w=$2 c=$3 f=$4
		echo
		echo "perf, $px, $w workers, $c $PROF_PERF_SHAPE: self time by"
		echo "object, then the top $PROF_TOP symbols in user space and in the kernel:"
		echo
		echo '| share | object |'
		echo '|---|---|'
		awk '$1 ~ /%$/ { printf "| %s | %s |\n", $1, $2 }' "$f.dso" |
		    head -n 8
		echo
		echo '| share | object | symbol (user space) |'
		echo '|---|---|---|'
		prof_syms '$2 != "[kernel.kallsyms]"' "$f.sym"
		echo
		echo '| share | object | symbol (kernel) |'
		echo '|---|---|---|'
		prof_syms '$2 == "[kernel.kallsyms]"' "$f.sym"
	done
}
