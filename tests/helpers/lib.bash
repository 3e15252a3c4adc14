# lib.bash: what every suite shares: programs on PATH, a table of the
bats_require_minimum_version 1.5.0
# test's own, and processes started in the background, stopped by pid.

export PATH="${LB_BIN:?}:${LB_BIN}/tests:${BATS_TEST_DIRNAME}/helpers:$PATH"
export LC_ALL=C

# A shared-memory table name of this test alone.
lb_setup() {
	T="bt$$-${BATS_TEST_NUMBER}-$RANDOM"
	export T
	PIDS=()
}

lb_teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		# One a test stopped exits only once it runs again.  Only
		# then: a SIGCONT would cancel the stop of LeakSanitizer's
		# tracer in a process that is exiting, which then hangs.
		if [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null)" = T ]
		then
			kill -CONT "$p" 2>/dev/null || true
		fi
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	lb-ctl -t "$T" destroy 2>/dev/null || true
}

setup() { lb_setup; }
teardown() { lb_teardown; }

# wait_for TIMEOUT_S CMD...: run CMD until it succeeds, at most TIMEOUT_S
# seconds.  A bounded poll, not a guess at how long something takes.
wait_for() {
	local limit=$(( $1 * 100 )) i=0
	shift
	until "$@"; do
		i=$((i + 1))
		if [ "$i" -ge "$limit" ]; then
			echo "wait_for: timed out: $*" >&2
			return 1
		fi
		sleep 0.01
	done
}

# bg CMD...: start CMD in the background, remember its pid in PIDS and
# BG_PID.  fd 3 is closed so that bats does not wait for it.
bg() {
	"$@" 3>&- &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

# field N: the Nth tab-separated field of each line of stdin
field() { cut -f "$1"; }

# stat_col TABLE BACKEND COLUMN: one value from lb-stat's TSV, the
# column chosen by its name (lb-table(5), VOCABULARY) with -o.
stat_col() {
	lb-stat -t "$1" -H -o "backend,$3" | awk -F'\t' -v b="$2" '
	    $1 == b { print $2 }'
}

# table_queued TABLE: the work waiting for TABLE, from the list of tables
table_queued() {
	lb-stat -H -o table,queued 2>/dev/null | awk -F'\t' -v t="$1" '
	    $1 == t { print $2 }'
}

# predicates for wait_for, evaluated afresh on each try
col_is() { [ "$(stat_col "$1" "$2" "$3")" = "$4" ]; }	# TABLE BACKEND COL VALUE
gone() { ! kill -0 "$1" 2>/dev/null; }
queued_is() { [ "$(table_queued "$1")" = "$2" ]; }	# TABLE VALUE			# PID has exited

# in_private_shm CMD...: CMD in a mount namespace of its own, with an
# empty /dev/shm of its own: a test that lists every table on the machine
# sees its own alone, not those of other runs (nor of another layout).
in_private_shm() {
	unshare -m sh -c 'mount -t tmpfs -o size=64m tmpfs /dev/shm && exec "$@"' \
	    sh "$@"
}
