#!/usr/bin/env bats
# 13-lb-stat-watch: -w rates as lines, -e events, and tables that go away.

load helpers/lib

two_backends() {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lb-ctl -t "$T" add 127.0.0.1:2 name=b
}

# has FILE PATTERN: FILE has a line matching the extended regex
has() { grep -Eq -- "$2" "$1"; }

@test "lb-stat -w: rates are the counters' moves over the printed interval" {
	two_backends
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$T" -w 500ms -n 2 > "$out"
	# The header is printed once the first samples are taken.
	wait_for 5 has "$out" '^# time	interval	table	backend	'
	lbt bump "$T" a total 40
	lbt bump "$T" a requests 20
	lbt bump "$T" a fail 4
	lbt bump "$T" a 5xx 6
	lbt bump "$T" b bytes_in 4000
	lbt bump "$T" b bytes_out 9000
	wait "$BG_PID"
	[ "$(grep -vc '^#' "$out")" -eq 4 ]
	# Whichever report took a move, rate x interval adds up to it.
	run -0 awk -F'\t' '
	    function near(x, want) { return x >= want - want / 100 - 0.5 &&
		x <= want + want / 100 + 0.5 }
	    !/^#/ { for (i = 9; i <= 14; i++) { s[$4, i] += $i * $2;
		if ($i < 0) bad = 1 } }
	    END { if (bad) { print "negative"; exit }
		print near(s["a", 9], 40) near(s["a", 10], 20) near(s["b", 11], 4000) \
		    near(s["b", 12], 9000) near(s["a", 13], 4) near(s["a", 14], 6) \
		    near(s["b", 9], 0) near(s["a", 11], 0) }' "$out"
	[ "$output" = 11111111 ]
}

@test "lb-stat -w -j: JSON lines with numbers, one per backend and interval" {
	two_backends
	run -0 lb-stat -t "$T" -w 100ms -n 2 -j
	[ "${#lines[@]}" -eq 4 ]
	run -0 python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [r["backend"] for r in rows] == ["a", "b", "a", "b"], rows
for r in rows:
    assert r["total_rate"] == 0 and r["interval"] > 0 and r["weight"] == 1, r
    assert r["active"] == 0 and r["table"], r
    assert r["time"].endswith("Z") and r["health"] == "unknown", r
print("ok")' < <(lb-stat -t "$T" -w 100ms -n 2 -j)
	[ "$output" = ok ]
}

@test "lb-stat -w: a backend deleted and added again never has a negative rate" {
	two_backends
	lbt bump "$T" b total 1000
	lbt bump "$T" b bytes_out 5000
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$T" -w 300ms -n 3 > "$out"
	wait_for 5 has "$out" '^# time'
	lb-ctl -t "$T" del b
	lb-ctl -t "$T" add 127.0.0.1:2 name=b
	lbt bump "$T" b total 5
	wait "$BG_PID"
	run -0 awk -F'\t' '!/^#/ && $4 == "b" { s += $9 * $2;
	    for (i = 9; i <= 14; i++) if ($i < 0) bad = 1 }
	    END { printf "%s %.0f\n", bad ? "negative" : "ok", s }' "$out"
	[[ "$output" == "ok 0" || "$output" == "ok 5" ]]
}

@test "lb-stat -w 1 | head -3 ends at once, killed quietly by SIGPIPE" {
	two_backends
	run -0 timeout 10 bash -c "lb-stat -t '$T' -w 1 | head -3"
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == "# time"* ]]
	# An empty table writes nothing after its header: still it ends.
	lb-ctl -t "$T" del a b
	run -0 --separate-stderr timeout 10 bash -c \
	    "lb-stat -t '$T' -w 1 | head -1; echo \${PIPESTATUS[0]}"
	[ "${lines[1]}" = 141 ]
	[ -z "$stderr" ]
}

@test "lb-stat -w: a table destroyed while watched: one line, exit 1" {
	two_backends
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$T" -w 100ms > "$out" 2> "$out.err"
	wait_for 5 has "$out" '^# time'
	lb-ctl -t "$T" destroy
	st=0
	wait "$BG_PID" || st=$?
	[ "$st" -eq 1 ]
	[ "$(cat "$out.err")" = "lb-stat: table $T: the table was removed" ]
}

@test "lb-stat -w: a table made anew with another capacity is followed" {
	f=$BATS_TEST_TMPDIR/web
	lb-ctl -t "$f" create -n 8
	lb-ctl -t "$f" add 127.0.0.1:1 name=a
	lbt bump "$f" a total 1000
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$f" -w 100ms > "$out" 2> "$out.err"
	wait_for 5 has "$out" '	a	'
	# A file table can be replaced in one step: no moment without one.
	lb-ctl -t "$f.new" create -n 64
	lb-ctl -t "$f.new" add 127.0.0.1:1 name=a
	lbt bump "$f.new" a total 3
	mv "$f.new" "$f"
	wait_for 5 has "$out.err" "table $f was made anew, with 64 slots"
	n=$(wc -l < "$out")
	wait_for 5 bash -c "[ \$(wc -l < '$out') -gt $((n + 1)) ]"
	kill "$BG_PID"
	run -0 awk -F'\t' '!/^#/ { for (i = 9; i <= 14; i++) if ($i < 0) bad = 1 }
	    END { print bad ? "negative" : "ok" }' "$out"
	[ "$output" = ok ]
}

@test "lb-stat -e: a line per change, as lb-ctl and the checker make them" {
	two_backends
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$T" -e > "$out"
	wait_for 5 has "$out" '^# time	table	backend	event	from	to	reason$'
	lbt health "$T" a down "L4CON refused"
	wait_for 5 has "$out" "	$T	a	health	unknown	down	L4CON refused$"
	lbt health "$T" a up
	wait_for 5 has "$out" "	$T	a	health	down	up	-$"
	lb-ctl -t "$T" set a weight=5
	wait_for 5 has "$out" "	$T	a	weight	1	5	-$"
	lb-ctl -t "$T" drain b
	wait_for 5 has "$out" "	$T	b	admin	enabled	drain	-$"
	lb-ctl -t "$T" set b addr=127.0.0.1:9
	wait_for 5 has "$out" "	$T	b	addr	127.0.0.1:2	127.0.0.1:9	-$"
	lb-ctl -t "$T" del b
	wait_for 5 has "$out" "	$T	b	removed	127.0.0.1:9	-	-$"
	lb-ctl -t "$T" add '[::1]:3' name=c
	wait_for 5 has "$out" "	$T	c	added	-	\[::1\]:3	-$"
	# Each line starts with an ISO 8601 time in UTC.
	run -0 grep -vc '^#' "$out"
	[ "$output" -eq 7 ]
	run -1 grep -Ev '^(# |[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z	)' "$out"
}

@test "lb-stat -e -j -n: JSON events, and it stops after n of them" {
	two_backends
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$T" -e -j -n 2 > "$out"
	# No header with -j: in its loop, it has its first snapshot.
	wait_for 5 grep -q epoll_wait "/proc/$BG_PID/wchan"
	lb-ctl -t "$T" maint a
	wait_for 5 test -s "$out"
	lb-ctl -t "$T" del b
	wait "$BG_PID"
	run -0 python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
assert len(ev) == 2, ev
assert ev[0]["event"] == "admin" and ev[0]["to"] == "maint", ev
assert ev[0]["reason"] is None and ev[1]["event"] == "removed", ev
print("ok")' < "$out"
	[ "$output" = ok ]
}

@test "lb-stat -e -j: numbers are JSON numbers; -o chooses the fields" {
	two_backends
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$T" -e -j -n 2 -o backend,event,from,to > "$out"
	wait_for 5 grep -q epoll_wait "/proc/$BG_PID/wchan"
	lb-ctl -t "$T" set a weight=5 backup=yes
	wait "$BG_PID"
	[ "$(cat "$out")" = '{"backend":"a","event":"weight","from":1,"to":5}
{"backend":"a","event":"backup","from":0,"to":1}' ]
}

@test "lb-stat -w: decimals are read as written; -o and -C shape the rows" {
	two_backends
	run -0 lb-stat -t "$T" -w 0.2 -n 1 -o backend,interval,total_rate
	[ "${lines[0]}" = "# backend	interval	total_rate" ]
	re=$'^a\t0\\.[12][0-9]{2}\t0\\.00$'
	[[ "${lines[1]}" =~ $re ]]
	run -0 lb-stat -t "$T" -w 1.5s -n 1 -o interval -H
	[[ "${lines[0]}" =~ ^1\.[45][0-9]{2}$ ]]
	# any column of a backend row may be watched, fail_run too
	run -0 lb-stat -t "$T" -w 100ms -n 1 -H -o backend,requests,fail_run
	[ "${lines[0]}" = "a	0	0" ]
	# aligned into a pipe: a block per interval, each under its names
	run -0 lb-stat -t "$T" -w 100ms -n 2 -C
	[ "${lines[0]}" = "backend health  active total_rate bytes_in_rate bytes_out_rate fail_rate" ]
	[ "${lines[1]}" = "a       unknown      0       0.00          0.00           0.00      0.00" ]
	[[ "$output" == *$'\n\n'"${lines[0]}"$'\n'* ]]
	[ "${lines[3]}" = "${lines[0]}" ]
}

@test "lb-stat -e: a table made anew is a line; a table destroyed ends it, exit 1" {
	f=$BATS_TEST_TMPDIR/web
	lb-ctl -t "$f" create -n 8
	lb-ctl -t "$f" add 127.0.0.1:1 name=a
	out=$BATS_TEST_TMPDIR/out
	bg lb-stat -t "$f" -e > "$out" 2> "$out.err"
	wait_for 5 has "$out" '^# time'
	lb-ctl -t "$f.new" create -n 64
	lb-ctl -t "$f.new" add 127.0.0.1:1 name=a weight=7
	mv "$f.new" "$f"
	wait_for 5 has "$out" "	$f	-	table	8	64	made anew$"
	wait_for 5 has "$out" "	$f	a	weight	1	7	-$"
	rm "$f"
	st=0
	wait "$BG_PID" || st=$?
	[ "$st" -eq 1 ]
	[ "$(cat "$out.err")" = "lb-stat: table $f: the table was removed" ]
}

@test "lb-stat: -w, -e and -l need a table, and bad values are named" {
	unset LB_TABLE
	run -2 --separate-stderr lb-stat -w 1
	[ "$stderr" = "lb-stat: -w needs a table: give -t TABLE" ]
	run -2 --separate-stderr lb-stat -t "$T" -w 0
	[ "$stderr" = "lb-stat: bad -w '0': a duration from 1ms to 30d, as 250ms, 1.5s or 2m" ]
	run -2 --separate-stderr lb-stat -t "$T" -w 1.5ms
	[[ "$stderr" == "lb-stat: bad -w '1.5ms': a duration from 1ms"* ]]
	run -2 --separate-stderr lb-stat -t "$T" -w 1 -n x
	[ "$stderr" = "lb-stat: bad -n 'x': a count from 1" ]
	run -2 --separate-stderr lb-stat -t "$T" -p -w 1
	[[ "$stderr" == "lb-stat: -p prints once"* ]]
	run -2 --separate-stderr lb-stat -t "$T" -n 3
	[[ "$stderr" == "lb-stat: -n counts"* ]]
	run -2 --separate-stderr lb-stat -t "$T" -1
	[[ "$stderr" == "lb-stat: -1 prints the address of -l"* ]]
	run -1 --separate-stderr lb-stat -t "$T" -w 1
	[ "$stderr" = "lb-stat: table $T: no such table" ]
}

@test "lb-stat.1 example: the backends over 100 connections a second" {
	two_backends
	out=$BATS_TEST_TMPDIR/out
	# The example, with -n so that it ends.
	bg bash -c "lb-stat -t '$T' -w 1 -H -o backend,total_rate -n 2 | awk -F'\t' '\$2 > 100 {print \$1, \$2}' > '$out'"
	wait_for 5 bash -c "grep -qs epoll_wait /proc/\$(pgrep -P $BG_PID -x lb-stat)/wchan"
	lbt bump "$T" b total 500
	wait "$BG_PID"
	run -0 cat "$out"
	[[ "$output" =~ ^b\ [0-9.]+$ ]]
}
