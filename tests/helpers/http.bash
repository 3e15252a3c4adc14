# http.bash: HTTP backends (hsrv.py) and an lb-http of the test's own.
# Load it after helpers/lib:
#	load helpers/lib
#	load helpers/http
# Every process starts with bg, so teardown stops it by pid.

# HS[NAME]: a backend's address, HSPID[NAME]: its pid, HSC[NAME]: the
# file of its counts ("requests N connections M")
declare -gA HS HSPID HSC

# start_hsrv NAME [ADDR]: an hsrv.py answering as NAME
start_hsrv() {
	local name=$1 f="$BATS_TEST_TMPDIR/hs.$1"
	bg hsrv.py -1 -n "$name" -c "$f.count" -l "${2:-127.0.0.1:0}" > "$f"
	HSPID[$name]=$BG_PID
	HSC[$name]="$f.count"
	wait_for 10 test -s "$f"
	HS[$name]=$(head -1 "$f")
}

# requests_of NAME, conns_of NAME: what the backend has seen
requests_of() { awk '{print $2}' "${HSC[$1]}"; }
conns_of() { awk '{print $4}' "${HSC[$1]}"; }

# start_lbh ARGS...: lb-http -1 ARGS; LH is its (first) address, LHTABLE
# its default table ("-" for none), LHPID its pid, LHLOG its stdout
# (LHLOG.err its stderr)
start_lbh() {
	LHLOG="$BATS_TEST_TMPDIR/lh.$RANDOM"
	bg lb-http -1 "$@" > "$LHLOG" 2> "$LHLOG.err"
	LHPID=$BG_PID
	wait_for 5 grep -q '^table ' "$LHLOG"
	LH=$(head -1 "$LHLOG")
	LHTABLE=$(sed -n 's/^table //p' "$LHLOG")
}

# stop_lbh: TERM, and its exit status must be 0
stop_lbh() {
	kill -TERM "$LHPID" 2>/dev/null || true
	wait_for 15 gone "$LHPID"
	wait "$LHPID"
}

# lhlog: the access log's lines (no addresses, table or header)
lhlog() { sed -e '1,/^table /d' -e '/^#/d' "$LHLOG"; }
lh_has() { [ "$(lhlog | wc -l)" -ge "$1" ]; }	# N log lines

# get PATH [CURL-ARGS...]: a request through lb-http; the body on stdout
get() { local p=$1; shift; curl -sS -m 10 "$@" "http://$LH$p"; }
# code PATH [CURL-ARGS...]: its status
code() { local p=$1; shift; curl -s -o /dev/null -m 10 -w '%{http_code}\n' "$@" "http://$LH$p"; }
