#!/usr/bin/env bats
# 15-lb-stat-live: the live view, driven in a tmux of the test's own.

load helpers/lib

setup() {
	lb_setup
	TM0="lbtest-$T"		# our own tmux server: never another's
	TM=$TM0
}

teardown() {
	tmux -L "$TM0" kill-server 2>/dev/null || true
	tmux -L "$TM0-b" kill-server 2>/dev/null || true
	lb_teardown
}

three_backends() {
	lb-ctl -t "$T" add 127.0.0.1:1 name=app1
	lb-ctl -t "$T" add 127.0.0.1:2 name=app2 weight=2
	lb-ctl -t "$T" add 127.0.0.1:3 name=app3 state=drain
	lbt health "$T" app1 up
	lbt health "$T" app2 down
}

# live W H [ENV...]: lb-stat -w in a W x H window
live() {
	local w=$1 h=$2
	shift 2
	tmux -L "$TM" -u -f /dev/null new-session -d -x "$w" -y "$h" \
	    "env LC_ALL=C.UTF-8 PATH='$PATH' $* lb-stat -t $T -w 200ms"
}

screen() { tmux -L "$TM" capture-pane -p; }
shows() { screen | grep -q -- "$1"; }

# widest W: no line of the screen is wider than W characters
widest() {
	screen | python3 -c '
import sys
w = max((len(l.rstrip("\n")) for l in sys.stdin.buffer.read().decode().splitlines()), default=0)
sys.exit(0 if w <= int(sys.argv[1]) else 1)' "$1"
}

@test "lb-stat live: 80x24: totals, states, shares, sparklines; q quits" {
	three_backends
	live 80 24 NO_COLOR=1
	wait_for 5 shows "^backend "
	# Traffic: app1 three times app2's connections, all the time.
	( while :; do
		lbt bump "$T" app1 total 30
		lbt bump "$T" app2 total 10
		lbt bump "$T" app1 bytes_out 200000
	done ) 2>/dev/null 3>&- &
	PIDS+=($!)
	wait_for 10 shows "^app1 *enabled *up .* 7[0-9]% █"
	wait_for 10 shows "^app1 .*[▂▃▄▅▆▇█][▂▃▄▅▆▇█]$"
	screen > "$BATS_TEST_TMPDIR/screen"
	sed "s/^/# /" "$BATS_TEST_TMPDIR/screen" >&3
	grep -q "^lb-stat $T .*every 0.2s .*q: quit" "$BATS_TEST_TMPDIR/screen"
	grep -q "^backends 3  up 1  down 1  active 0" "$BATS_TEST_TMPDIR/screen"
	grep -q "^total_rate [0-9.kMG]*  requests_rate " "$BATS_TEST_TMPDIR/screen"
	grep -q "^backend  *admin  *health  *weight  *active  *total_rate  *% of rate  *recent" "$BATS_TEST_TMPDIR/screen"
	grep -q "^app2 *enabled *down *2 " "$BATS_TEST_TMPDIR/screen"
	grep -q "^app3 *drain *unknown " "$BATS_TEST_TMPDIR/screen"
	widest 80
	tmux -L "$TM" send-keys q
	wait_for 5 bash -c "! tmux -L '$TM' has-session 2>/dev/null"
}

@test "lb-stat live: colour on a terminal, none with NO_COLOR" {
	three_backends
	live 80 24
	wait_for 5 shows "^backend "
	run -0 tmux -L "$TM" capture-pane -p -e
	[[ "$output" == *$'\e[32m'* ]]
	# A second server: one being killed may still hold the first name.
	TM="$TM-b"
	live 80 24 NO_COLOR=1
	wait_for 5 shows "^backend "
	run -0 tmux -L "$TM" capture-pane -p -e
	[[ "$output" != *$'\e[3'* ]]
}

@test "lb-stat live: a narrow window drops columns, never wraps; resizing redraws" {
	three_backends
	live 40 10 NO_COLOR=1
	wait_for 5 shows "^backend "
	widest 40
	shows "^app1 *enabled *up"
	screen | sed "s/^/# /" >&3
	tmux -L "$TM" resize-window -t 0 -x 100 -y 20
	wait_for 5 shows "recent"
	widest 100
	tmux -L "$TM" resize-window -t 0 -x 20 -y 4
	wait_for 5 shows "^lb-stat: window too"
	widest 20
	tmux -L "$TM" resize-window -t 0 -x 80 -y 24
	wait_for 5 shows "^backend "
}

@test "lb-stat live: more backends than lines: the last line says how many more" {
	for i in $(seq 30); do
		echo "127.0.0.1:$((1000 + i)) name=b$i"
	done | lb-ctl -t "$T" sync
	live 80 12 NO_COLOR=1
	wait_for 5 shows "^\.\.\. 23 more"
	widest 80
}

@test "lb-stat live: a table destroyed: the screen is restored and the reason shown" {
	three_backends
	tmux -L "$TM" -u -f /dev/null new-session -d -x 80 -y 24 \
	    "env LC_ALL=C.UTF-8 PATH='$PATH' lb-stat -t $T -w 200ms; echo exit=\$?; exec cat"
	wait_for 5 shows "^backend "
	lb-ctl -t "$T" destroy
	wait_for 5 shows "^exit=1"
	shows "^lb-stat: table $T: the table was removed"
	! shows "^backend "
}

@test "lb-stat live: each column keeps its form from frame to frame" {
	three_backends
	live 80 24 NO_COLOR=1
	wait_for 5 shows "^backend "
	# the tmux server is started: the fifo's writer is ours alone
	mkfifo "$BATS_TEST_TMPDIR/hold"
	bg sh -c "exec lbt hold '$T' app1 1 < '$BATS_TEST_TMPDIR/hold' > /dev/null"
	exec 7> "$BATS_TEST_TMPDIR/hold"
	# active is a count: 1, never 1.0; a rate has one decimal, 0.0 too
	wait_for 5 shows "^app1 *enabled *up *1 *1 *0\.0 "
	! shows "1\.0 "
	exec 7>&-
	wait_for 5 shows "^app1 *enabled *up *1 *0 *0\.0 "
	shows "^app2 *enabled *down *2 *0 *0\.0 "
}
