#!/usr/bin/env bats
# 10-lb-ctl: the operator's writes to the table, good and bad.

load helpers/lib

dump() { lb-ctl -t "$T" dump; }

@test "lb-ctl: create makes a table of mode 0600, and not twice" {
	run -0 lb-ctl -t "$T" create
	[ "$(stat -c %a "/dev/shm/lb.$T")" = 600 ]
	run -1 --separate-stderr lb-ctl -t "$T" create
	[ "$stderr" = "lb-ctl: table $T: table exists" ]
}

@test "lb-ctl: create -m sets the mode, -n the slots; both are checked" {
	run -0 lb-ctl -t "$T" create -m 0640 -n 8
	[ "$(stat -c %a "/dev/shm/lb.$T")" = 640 ]
	run lb-stat		# other tables of the machine may fail: not ours
	[[ "$output" == *"$T"$'\t'8$'\t'* ]]
	run -2 --separate-stderr lb-ctl -t "$T.b" create -m 0999
	[ "$stderr" = "lb-ctl: bad mode '0999': octal, 1 to 0777" ]
	run -2 --separate-stderr lb-ctl -t "$T.b" create -n 0
	[[ "$stderr" == "lb-ctl: bad slot count '0'"* ]]
	[ ! -e "/dev/shm/lb.$T.b" ]
}

@test "lb-ctl: a table of 65536 slots works" {
	run -0 lb-ctl -t "$T" create -n 65536
	run -0 lb-ctl -t "$T" add 127.0.0.1:80
	run -0 dump
	[ "$output" = "127.0.0.1:80 weight=1 maxconn=0 state=enabled" ]
}

@test "lb-ctl: add creates a missing table; the name defaults to the address" {
	run -0 lb-ctl -t "$T" add 127.0.0.1:8001
	run -0 lb-ctl -t "$T" add '[::1]:8002' name=v6 weight=5 maxconn=10 \
	    state=drain backup=yes
	run -0 lb-ctl -t "$T" add unix:/run/x.sock name=sock
	run -0 dump
	[ "${lines[0]}" = "127.0.0.1:8001 weight=1 maxconn=0 state=enabled" ]
	[ "${lines[1]}" = "[::1]:8002 name=v6 weight=5 maxconn=10 state=drain backup=yes" ]
	[ "${lines[2]}" = "unix:/run/x.sock name=sock weight=1 maxconn=0 state=enabled" ]
}

@test "lb-ctl: a host name is resolved when it is written" {
	run -0 lb-ctl -t "$T" add localhost:9 name=lh
	run -0 stat_col "$T" lh addr
	[ "$output" = localhost:9 ]
	run -1 --separate-stderr lb-ctl -t "$T" add no-such-host.invalid:80
	[[ "$stderr" == "lb-ctl: bad address 'no-such-host.invalid:80': cannot resolve"* ]]
}

@test "lb-ctl: LB_TABLE is the default table" {
	LB_TABLE=$T run -0 lb-ctl add 127.0.0.1:1
	run -0 dump
	[ "${#lines[@]}" -eq 1 ]
}

@test "lb-ctl: a second backend of the same name is refused, table unchanged" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	before=$(dump)
	run -1 --separate-stderr lb-ctl -t "$T" add 127.0.0.1:2 name=a
	[ "$stderr" = "lb-ctl: table $T: a backend named 'a' exists" ]
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: bad table names are refused, exit 2, nothing made" {
	# a folder of the test's own: ../x is one nobody else made
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
	for n in ../x '' "$(printf 'a%.0s' {1..65})" 'a b' . .. 'x/..' '/tmp/a b'; do
		run -2 --separate-stderr lb-ctl -t "$n" add 127.0.0.1:1
		[[ "$stderr" == "lb-ctl: bad table name '$n'"* ]] ||
		    { echo "for '$n': $stderr"; false; }
	done
	[ ! -e ../x ] && [ ! -e "/dev/shm/lb." ]
}

@test "lb-ctl: bad addresses are refused, exit 2, table unchanged" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=keep
	before=$(dump)
	for a in nohost 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:x \
	    ::1:80 '[::1]80' :80 unix: unix:rel 'bad host:80' 'unix:/tmp/a b'; do
		run -2 --separate-stderr lb-ctl -t "$T" add "$a" name=n
		[[ "$stderr" == "lb-ctl: bad address '$a'"* ]] ||
		    { echo "for '$a': $stderr"; false; }
	done
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: old IPv4 forms that mean another address are refused, naming it" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=keep
	before=$(dump)
	run -2 --separate-stderr lb-ctl -t "$T" add 0177.0.0.1:80 name=n
	[ "$stderr" = "lb-ctl: bad address '0177.0.0.1:80': bad host '0177.0.0.1': an old form of the address 127.0.0.1 (octal, hex or fewer than four parts): write 127.0.0.1" ]
	run -2 --separate-stderr lb-ctl -t "$T" add 010.1.1.1:80 name=n
	[[ "$stderr" == *"an old form of the address 8.1.1.1 "* ]]
	run -2 --separate-stderr lb-ctl -t "$T" set keep addr=127.1:80
	[[ "$stderr" == *"an old form of the address 127.0.0.1 "* ]]
	run -1 --separate-stderr lb-ctl -t "$T" sync <<< '0x7f.0.0.1:80 name=n'
	[[ "$stderr" == *"line 1: "*"an old form of the address 127.0.0.1 "* ]]
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: unknown keys and values out of range are named, exit 2" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	before=$(dump)
	run -2 --separate-stderr lb-ctl -t "$T" add 127.0.0.1:2 colour=red
	[ "$stderr" = "lb-ctl: unknown key 'colour'" ]
	run -2 --separate-stderr lb-ctl -t "$T" add 127.0.0.1:2 weight=257
	[ "$stderr" = "lb-ctl: bad weight '257': 0 to 256" ]
	run -2 --separate-stderr lb-ctl -t "$T" set a weight=-1
	[ "$stderr" = "lb-ctl: bad weight '-1': 0 to 256" ]
	run -2 --separate-stderr lb-ctl -t "$T" set a weight=
	[ "$stderr" = "lb-ctl: bad weight '': 0 to 256" ]
	run -2 --separate-stderr lb-ctl -t "$T" set a maxconn=1000001
	[[ "$stderr" == "lb-ctl: bad maxconn '1000001'"* ]]
	run -2 --separate-stderr lb-ctl -t "$T" set a state=up
	[ "$stderr" = "lb-ctl: bad state 'up': enabled, drain or maint" ]
	run -2 --separate-stderr lb-ctl -t "$T" set a backup=maybe
	[ "$stderr" = "lb-ctl: bad backup 'maybe': yes or no" ]
	run -2 --separate-stderr lb-ctl -t "$T" set a 'name=b c'
	[[ "$stderr" == "lb-ctl: bad backend name 'b c'"* ]]
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: a full table refuses one more, exit 1, unchanged" {
	lb-ctl -t "$T" create -n 2
	lb-ctl -t "$T" add 127.0.0.1:1
	lb-ctl -t "$T" add 127.0.0.1:2
	before=$(dump)
	run -1 --separate-stderr lb-ctl -t "$T" add 127.0.0.1:3
	[ "$stderr" = "lb-ctl: table $T: full (2 slots): cannot add '127.0.0.1:3'; its slots are fixed when it is made: destroy it and make it again with lb-ctl -t $T create -n 4 (or more), or add to a new table" ]
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: a missing table is an error for every reader and writer" {
	for c in dump destroy "del a" "set a weight=1" "drain a"; do
		run -1 --separate-stderr lb-ctl -t "$T" $c
		[ "$stderr" = "lb-ctl: table $T: no such table" ] ||
		    { echo "$c: $stderr"; false; }
	done
	run -1 --separate-stderr lb-stat -t "$T"
	[ "$stderr" = "lb-stat: table $T: no such table" ]
}

@test "lb-ctl: del, set, enable, drain and maint change what dump shows" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lb-ctl -t "$T" add 127.0.0.1:2 name=b
	lb-ctl -t "$T" add 127.0.0.1:3 name=c
	run -0 lb-ctl -t "$T" set b weight=7 maxconn=3 backup=yes addr=127.0.0.1:22
	run -0 lb-ctl -t "$T" drain a c
	run -0 lb-ctl -t "$T" maint c
	run -0 dump
	[ "${lines[0]}" = "127.0.0.1:1 name=a weight=1 maxconn=0 state=drain" ]
	[ "${lines[1]}" = "127.0.0.1:22 name=b weight=7 maxconn=3 state=enabled backup=yes" ]
	[ "${lines[2]}" = "127.0.0.1:3 name=c weight=1 maxconn=0 state=maint" ]
	run -0 lb-ctl -t "$T" enable a c
	run -0 lb-ctl -t "$T" del a b
	run -0 dump
	[ "$output" = "127.0.0.1:3 name=c weight=1 maxconn=0 state=enabled" ]
}

@test "lb-ctl: del and drain of several names are all or nothing" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	before=$(dump)
	run -1 --separate-stderr lb-ctl -t "$T" del a nosuch
	[ "$stderr" = "lb-ctl: table $T: no backend named 'nosuch'" ]
	run -1 lb-ctl -t "$T" drain a nosuch
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: set renames, but never onto another backend's name" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lb-ctl -t "$T" add 127.0.0.1:2 name=b
	run -1 --separate-stderr lb-ctl -t "$T" set a name=b
	[ "$stderr" = "lb-ctl: table $T: a backend named 'b' exists" ]
	run -0 lb-ctl -t "$T" set a name=z
	run -0 dump
	[ "${lines[0]}" = "127.0.0.1:1 name=z weight=1 maxconn=0 state=enabled" ]
}

@test "lb-ctl: a new address makes health unknown again, other keys do not" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lbt health "$T" a down "connect: refused"
	[ "$(stat_col "$T" a health)" = down ]
	lb-ctl -t "$T" set a weight=3
	[ "$(stat_col "$T" a health)" = down ]
	lb-ctl -t "$T" set a addr=127.0.0.1:2
	[ "$(stat_col "$T" a health)" = unknown ]
}

# lock_table: another writer holds $T's lock (lbt lock) until unlock_table;
# its pid in LOCKER.
lock_table() {
	[ -p "$BATS_TEST_TMPDIR/lock" ] || mkfifo "$BATS_TEST_TMPDIR/lock"
	bg sh -c "exec lbt lock '$T' < '$BATS_TEST_TMPDIR/lock' > '$BATS_TEST_TMPDIR/locked'"
	LOCKER=$BG_PID
	exec 8> "$BATS_TEST_TMPDIR/lock"
	wait_for 5 grep -q locked "$BATS_TEST_TMPDIR/locked"
}
unlock_table() { exec 8>&-; wait "$LOCKER"; }

@test "lb-ctl: a writer kept waiting for the lock says for whom, and -W bounds it" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lock_table
	t0=$(date +%s%3N)
	run -1 --separate-stderr lb-ctl -W 1.5s -t "$T" add 127.0.0.1:2 name=b
	t1=$(date +%s%3N)
	[ "${stderr_lines[0]}" = "lb-ctl: table $T: waiting for its lock, held by pid $LOCKER (lbt); at most 1.5s (-W)" ]
	[ "${stderr_lines[1]}" = "lb-ctl: table $T: still locked after 1.5s, held by pid $LOCKER (lbt): nothing changed" ]
	[ "$((t1 - t0))" -ge 1500 ] && [ "$((t1 - t0))" -lt 10000 ]
	# nothing changed: the lock was never ours
	unlock_table
	[ "$(dump)" = "127.0.0.1:1 name=a weight=1 maxconn=0 state=enabled" ]
}

@test "lb-ctl: a writer that waits goes on once the lock is free; -W 0 waits without end" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lock_table
	# (8>&-: the fifo's writer is the test's alone)
	bg lb-ctl -W 0 -t "$T" add 127.0.0.1:2 name=b 2> "$BATS_TEST_TMPDIR/err" 8>&-
	waiter=$BG_PID
	wait_for 10 grep -q "waiting for its lock, held by pid $LOCKER (lbt); no end (-W 0)" "$BATS_TEST_TMPDIR/err"
	unlock_table
	wait "$waiter"
	[ "$(stat_col "$T" b addr)" = 127.0.0.1:2 ]
	# a wait shorter than a second says nothing
	lock_table
	bg lb-ctl -t "$T" drain b 2> "$BATS_TEST_TMPDIR/err2" 8>&-
	waiter=$BG_PID
	# its watch has begun: a second thread
	wait_for 5 bash -c "[ \$(ls /proc/$waiter/task | wc -l) -ge 2 ]"
	unlock_table
	wait "$waiter"
	[ ! -s "$BATS_TEST_TMPDIR/err2" ]
	[ "$(stat_col "$T" b admin)" = drain ]
	run -2 --separate-stderr lb-ctl -W x -t "$T" dump
	[ "$stderr" = "lb-ctl: bad -W 'x': a duration from 0ms to 30d, as 250ms, 1.5s or 2m (0: no end)" ]
}

@test "lb-ctl: sync adds, updates and removes in one change, keeping counters" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=stay weight=2
	lb-ctl -t "$T" add 127.0.0.1:2 name=gone
	lbt bump "$T" stay total 42
	gen=$(lb-stat -H -o table,generation | awk -v t="$T" '$1 == t {print $2}')
	run -0 lb-ctl -t "$T" sync <<-EOF
		# the new list
		127.0.0.1:1 name=stay weight=9   # updated
		127.0.0.1:3 name=new state=drain
	EOF
	run -0 dump
	[ "${lines[0]}" = "127.0.0.1:1 name=stay weight=9 maxconn=0 state=enabled" ]
	[ "${lines[1]}" = "127.0.0.1:3 name=new weight=1 maxconn=0 state=drain" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(stat_col "$T" stay total)" = 42 ]
	gen2=$(lb-stat -H -o table,generation | awk -v t="$T" '$1 == t {print $2}')
	[ "$gen2" -eq $((gen + 1)) ]
}

@test "lb-ctl: sync reads a file, and - or nothing means stdin" {
	printf '127.0.0.1:1\n127.0.0.1:2 weight=3\n' > "$BATS_TEST_TMPDIR/list"
	run -0 lb-ctl -t "$T" sync "$BATS_TEST_TMPDIR/list"
	[ "$(dump | wc -l)" -eq 2 ]
	echo 127.0.0.1:5 | lb-ctl -t "$T" sync -
	[ "$(dump)" = "127.0.0.1:5 weight=1 maxconn=0 state=enabled" ]
	run -1 --separate-stderr lb-ctl -t "$T" sync "$BATS_TEST_TMPDIR/none"
	[[ "$stderr" == "lb-ctl: $BATS_TEST_TMPDIR/none: No such file"* ]]
}

@test "lb-ctl: dump | sync makes another table equal" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a weight=4 maxconn=9
	lb-ctl -t "$T" add '[::1]:2' backup=yes state=maint
	lb-ctl -t "$T" add unix:/tmp/s name=u
	lb-ctl -t "$T" dump | lb-ctl -t "$T.copy" sync
	run -0 diff <(lb-ctl -t "$T" dump) <(lb-ctl -t "$T.copy" dump)
	lb-ctl -t "$T.copy" destroy
}

@test "lb-ctl: a bad list is refused whole, naming its line" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	before=$(dump)
	run -1 --separate-stderr lb-ctl -t "$T" sync <<-EOF
		127.0.0.1:7
		127.0.0.1:8 weight=999
	EOF
	[ "$stderr" = "lb-ctl: stdin: line 2: bad weight '999': 0 to 256" ]
	run -1 --separate-stderr lb-ctl -t "$T" sync <<-EOF
		127.0.0.1:7 name=x
		127.0.0.1:8 name=x
	EOF
	[ "$stderr" = "lb-ctl: stdin: line 2: name 'x' also on line 1" ]
	run -1 --separate-stderr lb-ctl -t "$T" sync < <(printf '127.0.0.1:7\0\n')
	[ "$stderr" = "lb-ctl: stdin: line 1: holds a NUL byte" ]
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: sync refuses an empty list unless -e says it is meant" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	before=$(dump)
	# the inventory is down: the pipe brings nothing
	run -1 --separate-stderr bash -c "(exit 7) | lb-ctl -t '$T' sync"
	[ "$stderr" = "lb-ctl: stdin: the list is empty: refusing to empty table $T (sync -e empties it)" ]
	run -1 --separate-stderr lb-ctl -t "$T" sync <<-EOF
		# only comments and blank lines

	EOF
	[ "$stderr" = "lb-ctl: stdin: the list is empty: refusing to empty table $T (sync -e empties it)" ]
	printf '# none yet\n' > "$BATS_TEST_TMPDIR/list"
	run -1 --separate-stderr lb-ctl -t "$T" sync "$BATS_TEST_TMPDIR/list"
	[ "$stderr" = "lb-ctl: $BATS_TEST_TMPDIR/list: the list is empty: refusing to empty table $T (sync -e empties it)" ]
	[ "$(dump)" = "$before" ]
	# nor is a missing table made from nothing
	run -1 lb-ctl -t "$T.new" sync < /dev/null
	[ ! -e "/dev/shm/lb.$T.new" ]
	# said explicitly, an empty list empties the table
	run -0 lb-ctl -t "$T" sync -e "$BATS_TEST_TMPDIR/list"
	run -0 dump
	[ -z "$output" ]
	# and -e with backends in the list is a plain sync
	run -0 lb-ctl -t "$T" sync -e <<< 127.0.0.1:2
	[ "$(dump)" = "127.0.0.1:2 weight=1 maxconn=0 state=enabled" ]
	run -2 lb-ctl -t "$T" sync -x
}

@test "lb-ctl: a list too long for a missing table makes no table, and says how" {
	for i in $(seq 300); do echo "127.0.0.1:$((10000 + i))"; done \
	    > "$BATS_TEST_TMPDIR/list"
	run -1 --separate-stderr lb-ctl -t "$T" sync "$BATS_TEST_TMPDIR/list"
	[ "$stderr" = "lb-ctl: table $T: full (256 slots): cannot add '127.0.0.1:10257': the list has 300 backends; make the table with lb-ctl -t $T create -n 300 (or more)" ]
	[ ! -e "/dev/shm/lb.$T" ]
	f=$BATS_TEST_TMPDIR/web
	run -1 lb-ctl -t "$f" sync "$BATS_TEST_TMPDIR/list"
	[ ! -e "$f" ]
	# what it says works: nothing is in the way
	run -0 lb-ctl -t "$T" create -n 300
	run -0 lb-ctl -t "$T" sync "$BATS_TEST_TMPDIR/list"
	[ "$(dump | wc -l)" -eq 300 ]
}

@test "lb-ctl: a list longer than the table is refused, table unchanged" {
	lb-ctl -t "$T" create -n 2
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	before=$(dump)
	run -1 --separate-stderr lb-ctl -t "$T" sync <<< $'127.0.0.1:5\n127.0.0.1:6\n127.0.0.1:7'
	[ "$stderr" = "lb-ctl: table $T: full (2 slots): cannot add '127.0.0.1:7': the list has 3 backends; its slots are fixed when it is made: destroy it and make it again with lb-ctl -t $T create -n 3 (or more), or sync into a new table" ]
	[ "$(dump)" = "$before" ]
}

@test "lb-ctl: slots that still count connections are not reused, and sync says so" {
	lb-ctl -t "$T" create -n 2
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lb-ctl -t "$T" add 127.0.0.1:2 name=b
	# a proxy holds a connection to a: its slot is not free when a goes
	mkfifo "$BATS_TEST_TMPDIR/hold"
	exec 5<>"$BATS_TEST_TMPDIR/hold"
	# (a background job's stdin is /dev/null unless it says otherwise)
	bg sh -c 'exec lbt hold "$1" a 1 < "$2"' sh "$T" \
	    "$BATS_TEST_TMPDIR/hold" > "$BATS_TEST_TMPDIR/held" 5>&-
	wait_for 5 test -s "$BATS_TEST_TMPDIR/held"
	before=$(dump)
	run -1 --separate-stderr lb-ctl -t "$T" sync <<< $'127.0.0.1:2 name=b\n127.0.0.1:3 name=c'
	[ "$stderr" = "lb-ctl: table $T: full (2 slots): cannot add 'c': the slots of removed backends still count open connections; try again when they have closed" ]
	[ "$(dump)" = "$before" ]
	# closed: the same sync goes through
	exec 5>&-
	wait_for 5 gone "$BG_PID"
	run -0 lb-ctl -t "$T" sync <<< $'127.0.0.1:2 name=b\n127.0.0.1:3 name=c'
	[ "$(dump | wc -l)" -eq 2 ]
}

@test "lb-ctl: sync replaces the backends of a full table" {
	lb-ctl -t "$T" create -n 2
	printf '127.0.0.1:1\n127.0.0.1:2\n' | lb-ctl -t "$T" sync
	run -0 lb-ctl -t "$T" sync <<< $'127.0.0.1:2\n127.0.0.1:3'
	run -0 bash -c "lb-ctl -t '$T' dump | sort"
	[ "${lines[0]}" = "127.0.0.1:2 weight=1 maxconn=0 state=enabled" ]
	[ "${lines[1]}" = "127.0.0.1:3 weight=1 maxconn=0 state=enabled" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "lb-ctl: two writers at once lose nothing" {
	lb-ctl -t "$T" create -n 512
	( for i in $(seq 1 100); do lb-ctl -t "$T" add "127.0.0.1:$i" name="a$i"; done ) 3>&- &
	p1=$!
	( for i in $(seq 1 100); do lb-ctl -t "$T" add "127.0.0.1:$i" name="b$i"; done ) 3>&- &
	p2=$!
	wait $p1; wait $p2
	[ "$(dump | wc -l)" -eq 200 ]
	[ "$(dump | grep -c 'name=a')" -eq 100 ]
}

@test "lb-ctl: destroy removes the table; destroy refuses a file that is no table" {
	lb-ctl -t "$T" create
	run -0 lb-ctl -t "$T" destroy
	[ ! -e "/dev/shm/lb.$T" ]
	echo precious > "$BATS_TEST_TMPDIR/notes"
	run -1 --separate-stderr lb-ctl -t "$BATS_TEST_TMPDIR/notes" destroy
	[[ "$stderr" == *"not an lb table"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/notes")" = precious ]
}

@test "lb-ctl: a table can be a file path, which survives as a file" {
	f=$BATS_TEST_TMPDIR/web
	run -0 lb-ctl -t "$f" add 127.0.0.1:1
	[ -f "$f" ] && [ "$(stat -c %a "$f")" = 600 ]
	run -0 lb-ctl -t "$f" dump
	[ "$output" = "127.0.0.1:1 weight=1 maxconn=0 state=enabled" ]
	run -0 lb-stat -t "$f" -H
	[[ "$output" == "$f"$'\t'127.0.0.1:1$'\t'* ]]
}

# man_blocks PAGE: the literal blocks of PAGE's EXAMPLES, "$ " taken off
man_blocks() {
	awk '/^\.Sh EXAMPLES/ { on = 1; next } /^\.Sh / { on = 0 }
	    on && /^\.Bd -literal/ { code = 1; next } on && /^\.Ed/ { code = 0 }
	    on && code' "$BATS_TEST_DIRNAME/../man/$1" | sed 's/^\$ //'
}

@test "lb-ctl(1): the EXAMPLES run, in a /dev/shm of their own" {
	cd "$BATS_TEST_TMPDIR"
	{
		echo 'set -e'
		# the table the copy example reads from
		echo 'lb-ctl -t a add 10.9.9.9:80 name=x'
		# (the shared table's group: one every machine has; what
		# the examples print is not what is checked here)
		echo '{'
		man_blocks lb-ctl.1 | sed 's/^chgrp lb /chgrp nogroup /'
		echo '} > examples.out'
		echo 'lb-ctl -t b dump; echo; lb-ctl -t web dump'
	} > ex.sh
	grep -q '^lb-ctl -W 2s -t web drain web2$' ex.sh
	run -0 in_private_shm bash ex.sh
	[ "${lines[0]}" = "10.9.9.9:80 name=x weight=1 maxconn=0 state=enabled" ]
	# web was emptied on purpose by the last example
	[ "${#lines[@]}" -eq 1 ]
}

@test "lb-table(5): the EXAMPLES run: a list, loaded into a table and a file" {
	cd "$BATS_TEST_TMPDIR"
	man_blocks lb-table.5 | awk '/^lb-ctl / { exit } { print }' > shop.list
	man_blocks lb-table.5 | grep '^lb-ctl ' |
	    sed "s|/var/lib/lb/|$BATS_TEST_TMPDIR/|" > ex.sh
	[ "$(wc -l < ex.sh)" -eq 2 ]
	run -0 in_private_shm sh -c 'set -e; . ./ex.sh; lb-ctl -t shop dump'
	[ "${#lines[@]}" -eq 6 ]
	[ "${lines[2]}" = "10.0.0.3:8080 name=web3 weight=1 maxconn=0 state=drain" ]
	[ "${lines[5]}" = "unix:/run/shop/app.sock name=local weight=1 maxconn=0 state=enabled backup=yes" ]
	run -0 lb-ctl -t "$BATS_TEST_TMPDIR/shop" dump
	[ "${#lines[@]}" -eq 6 ]
}

@test "lb-ctl purge: waits for every process that takes purges, at most -W, naming who did not apply it" {
	lb-ctl -t "$T" create
	# nobody caches for the table: at once
	run -0 lb-ctl -t "$T" purge example.com/a
	coproc CACHE { exec lbt purges "$T" 3>&-; }
	PIDS+=("$CACHE_PID")
	read -r -t 10 line <&"${CACHE[0]}"
	[ "$line" = "taking purges after 1" ]
	# it does not apply: lb-ctl gives up after -W, and says who
	run -1 --separate-stderr lb-ctl -W 300ms -t "$T" purge '/img/*'
	[ "$stderr" = "lb-ctl: table $T: purge 2 not applied after 300ms by 1 process (pid $CACHE_PID)" ]
	# it applies the next one while lb-ctl waits for it
	lb-ctl -t "$T" purge 'HTTP://Shop.Example:8080/x?y=1' &
	ctl=$!
	echo "apply 3" >&"${CACHE[1]}"
	read -r -t 10 line <&"${CACHE[0]}"
	[ "$line" = "applied 3" ]
	wait "$ctl"
}

@test "lb-ctl purge: what a URL may be; no table is made for it" {
	run -2 --separate-stderr lb-ctl -t "$T" purge
	[ "$stderr" = "lb-ctl: purge: no URL given: lb-ctl [-t table] purge url ..." ]
	for u in 'a b' 'example.com' ':80/x' 'http:///x' 'http://x' "$(printf '/x\001')"; do
		run -2 lb-ctl -t "$T" purge "$u"
	done
	run -1 --separate-stderr lb-ctl -t "$T" purge /x
	[ "$stderr" = "lb-ctl: table $T: no such table" ]
	[ ! -e "/dev/shm/lb.$T" ]
}
