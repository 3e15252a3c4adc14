# tcp.bash: backends and an lb-tcp of the test's own, for the suites that
# talk TCP to them (02, 30-32, 40).  Load it after helpers/lib:
#	load helpers/lib
#	load helpers/tcp
# Every process starts with bg, so teardown stops it by pid.

# BE[NAME]: a backend's address, BEPID[NAME]: its pid
declare -gA BE BEPID

# start_tsrv NAME TSRV-FLAGS...: tsrv -1 -n NAME FLAGS (give it -l); its
# address in BE[NAME], its pid in BEPID[NAME]
start_tsrv() {
	local name=$1 f="$BATS_TEST_TMPDIR/be.$1"
	shift
	bg tsrv -1 -n "$name" "$@" > "$f"
	BEPID[$name]=$BG_PID
	wait_for 5 test -s "$f"
	BE[$name]=$(head -1 "$f")
}

# start_backend NAME [MODE] [ADDR]: a tsrv answering in MODE (default
# name: it says its name) on ADDR (default 127.0.0.1:0)
start_backend() {
	start_tsrv "$1" -m "${2:-name}" -l "${3:-127.0.0.1:0}"
}

# start_tls NAME [CN]: an openssl s_server whose certificate, made afresh,
# says CN=CN (default NAME); its address in BE[NAME], its pid in
# BEPID[NAME], its certificate in $BATS_TEST_TMPDIR/NAME.crt
start_tls() {
	local name=$1 cn=${2:-$1} d=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$d/$name.key" -out "$d/$name.crt" -subj "/CN=$cn" \
	    -days 1 -nodes 2>/dev/null
	bg openssl s_server -accept 127.0.0.1:0 -cert "$d/$name.crt" \
	    -key "$d/$name.key" -www < /dev/null > "$d/$name.out" 2>&1
	BEPID[$name]=$BG_PID
	wait_for 10 grep -q '^ACCEPT ' "$d/$name.out"
	BE[$name]=$(awk '/^ACCEPT / {print $2; exit}' "$d/$name.out")
}

# start_lb ARGS...: lb-tcp -1 ARGS; LB is its address, LBTABLE its table,
# LBPID its pid,
# LBLOG its stdout (LBLOG.err its stderr)
start_lb() {
	LBLOG="$BATS_TEST_TMPDIR/lb.$RANDOM"
	bg lb-tcp -1 "$@" > "$LBLOG" 2> "$LBLOG.err"
	LBPID=$BG_PID
	wait_for 5 nlines_ge "$LBLOG" 2
	LB=$(head -1 "$LBLOG")
	LBTABLE=$(sed -n '2s/^table //p' "$LBLOG")
}

# stop_lb: TERM, and its exit status must be 0
stop_lb() {
	kill -TERM "$LBPID" 2>/dev/null || true
	run -0 timeout 15 bash -c "while kill -0 $LBPID 2>/dev/null; do sleep 0.02; done"
	wait "$LBPID"
}

# the log lines (the first two lines of LBLOG are the address and the
# table, then comes the log's # header line)
loglines() { tail -n +3 "$LBLOG" | sed '/^# /d'; }

# predicates for wait_for, evaluated afresh on each try
has_lines() { [ "$(loglines | wc -l)" -ge "$1" ]; }	# N log lines
nlines_ge() { [ "$(wc -l < "$1")" -ge "$2" ]; }	# FILE has N lines
