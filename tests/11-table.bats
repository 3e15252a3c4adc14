#!/usr/bin/env bats
# 11-table: attaching to damaged tables, hostile writers, dead processes.

load helpers/lib

# poke FILE OFFSET BYTES...: write bytes (printf escapes) into a file
poke() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Where a table of CAP slots keeps what (lb-table(5), Layout):
# conf_at CAP BUF: configuration buffer 0 or 1; ctr_at CAP: the counters;
# rows_at CAP ENTRY: the row of counts of registration ENTRY
conf_at() { echo $(( 4096 + $2 * ((64 + $1 * 384 + 4095) / 4096 * 4096) )); }
ctr_at() { conf_at "$1" 2; }
rows_at() {
	local ck
	ck=$(( $(ctr_at "$1") + ($1 * 128 + 4095) / 4096 * 4096 ))
	echo $(( ck + ($1 * 64 + 4095) / 4096 * 4096 + $2 * (($1 * 4 + 63) / 64 * 64) ))
}

@test "table: another layout version is refused by name, the file unchanged" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" add 127.0.0.1:1
	poke "$f" 8 '\x63\x00\x00\x00'
	sum=$(sha256sum < "$f")
	run -1 --separate-stderr lb-ctl -t "$f" add 127.0.0.1:2
	[ "$stderr" = "lb-ctl: table $f: table layout version 99, this program reads version 2" ]
	run -1 --separate-stderr lb-stat -t "$f"
	[ "$stderr" = "lb-stat: table $f: table layout version 99, this program reads version 2" ]
	[ "$(sha256sum < "$f")" = "$sum" ]
}

@test "table: a truncated object is refused, never a crash" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" add 127.0.0.1:1
	truncate -s 100000 "$f"
	run -1 --separate-stderr lb-ctl -t "$f" dump
	[[ "$stderr" == "lb-ctl: table $f: table of 256 slots should be"*"truncated or damaged)" ]]
	truncate -s 100 "$f"
	run -1 --separate-stderr lb-stat -t "$f"
	[ "$stderr" = "lb-stat: table $f: not an lb table: only 100 bytes" ]
}

@test "table: random bytes are not a table" {
	f=$BATS_TEST_TMPDIR/t
	head -c 400000 /dev/urandom > "$f"
	run -1 --separate-stderr lb-stat -t "$f"
	[ "$stderr" = "lb-stat: table $f: not an lb table (bad magic)" ]
	run -1 --separate-stderr lb-ctl -t "$f" add 127.0.0.1:1
	[ "$stderr" = "lb-ctl: table $f: not an lb table (bad magic)" ]
}

@test "table: a header whose capacity lies is refused" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" create -n 4
	poke "$f" 32 '\x00\x10\x00\x00'		# capacity 4096
	run -1 --separate-stderr lb-stat -t "$f"
	[[ "$stderr" == "lb-stat: table $f: table of 4096 slots should be"* ]]
	poke "$f" 32 '\x00\x00\x00\x00'
	run -1 --separate-stderr lb-stat -t "$f"
	[ "$stderr" = "lb-stat: table $f: table capacity 0 out of range 1..1048576" ]
}

@test "table: an empty object left by a dead creator is named, quickly" {
	: > "$BATS_TEST_TMPDIR/t"
	run -1 --separate-stderr timeout 5 lb-stat -t "$BATS_TEST_TMPDIR/t"
	[[ "$stderr" == *"the table is empty (its creator died?)"* ]]
}

@test "table: a slot a hostile writer filled with garbage is shown in maint" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" create -n 4
	lb-ctl -t "$f" add 127.0.0.1:1 name=a
	lb-ctl -t "$f" add 127.0.0.1:2 name=b
	# slot 0 of both buffers: admin 77, and a name with a newline
	for buf in 4096 8192; do
		poke "$f" $((buf + 64 + 237)) '\x4d'
		poke "$f" $((buf + 64 + 8)) 'evil\nname=x'
	done
	run -0 --separate-stderr lb-stat -t "$f" -H
	[ "$stderr" = "lb-stat: table $f: 1 damaged slots shown in maint" ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "$f"$'\tevil_name_x\t127.0.0.1:1\tmaint\t'* ]]
	[[ "${lines[1]}" == "$f"$'\tb\t127.0.0.1:2\tenabled\t'* ]]
	# the next writer quarantines it; the other backend is untouched
	run -0 lb-ctl -t "$f" set b weight=2
	run -0 --separate-stderr lb-ctl -t "$f" dump
	[ "${lines[0]}" = "127.0.0.1:1 name=evil_name_x weight=1 maxconn=0 state=maint" ]
	[ "${lines[1]}" = "127.0.0.1:2 name=b weight=2 maxconn=0 state=enabled" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "table: connections of a process killed with -9 are taken back" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	coproc HOLD { exec lbt hold "$T" a 5 3>&-; }
	PIDS+=("$HOLD_PID")
	read -r -t 10 line <&"${HOLD[0]}"
	[ "$line" = held ]
	[ "$(stat_col "$T" a active)" = 5 ]
	run lb-stat -H		# other tables of the machine may fail: not ours
	[[ "$output" == *"$T"$'\t'256$'\t'1$'\t'0$'\t'0$'\t'5$'\t'* ]]
	kill -9 "$HOLD_PID"
	wait "$HOLD_PID" || true
	# lb-stat, which never writes, already shows the right figure ...
	[ "$(stat_col "$T" a active)" = 0 ]
	[ "$(lbt raw "$T" a)" = 5 ]
	# ... and the next writer takes them off the counter itself
	lb-ctl -t "$T" set a weight=2
	[ "$(lbt raw "$T" a)" = 0 ]
}

@test "table: a process that exits cleanly gives its connections back" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	echo | lbt hold "$T" a 3
	[ "$(lbt raw "$T" a)" = 0 ]
}

@test "table: reading never writes, even with a dead process to reclaim" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" add 127.0.0.1:1 name=a
	coproc HOLD { exec lbt hold "$f" a 2 3>&-; }
	read -r -t 10 line <&"${HOLD[0]}"
	kill -9 "$HOLD_PID"; wait "$HOLD_PID" || true
	sum=$(sha256sum < "$f")
	run -0 lb-stat -t "$f"
	run -0 lb-stat -t "$f" -j
	run -0 lb-stat -t "$f" -p
	run -0 lb-ctl -t "$f" dump
	[ "$(sha256sum < "$f")" = "$sum" ]
}

@test "table: readers during a sync see the list before or after, never a mix" {
	run -0 table_test sync "$BATS_TEST_TMPDIR/t"
	echo "$output"
	[[ "$output" == *", 0 mixed" ]]
}

@test "table: two processes racing read-modify-write lose no change" {
	run -0 table_test race "$BATS_TEST_TMPDIR/t"
	[ "$output" = "race: maxconn 4000 after 2x2000 increments, 801 backends" ]
}

@test "table: a dead registrant is subtracted by readers, reclaimed by writers" {
	run -0 table_test reclaim "$BATS_TEST_TMPDIR/t"
	[ "${lines[0]}" = "reclaim: raw active 8, seen 1" ]
	[ "${lines[1]}" = "reclaim: after a writer, raw active 1" ]
}

@test "table: a deleted backend's slot waits until its connections end" {
	run -0 table_test reuse "$BATS_TEST_TMPDIR/t"
	[ "$output" = "reuse: ok" ]
}

@test "table: random bytes under a valid header crash no reader or writer" {
	f=$BATS_TEST_TMPDIR/t
	for seed in $(seq 1 25); do
		rm -f "$f"
		lb-ctl -t "$f" create -n 8
		for i in 1 2 3 4 5; do lb-ctl -t "$f" add "127.0.0.1:$i"; done
		# scribble over everything past the magic, version and sizes
		python3 -c '
import random, sys
random.seed(int(sys.argv[2]))
with open(sys.argv[1], "r+b") as fp:
    size = fp.seek(0, 2)
    for _ in range(400):
        off = random.randrange(48, size)
        fp.seek(off)
        n = min(random.randrange(1, 16), size - off)
        fp.write(bytes(random.randrange(256) for _ in range(n)))
' "$f" "$seed"
		for cmd in "lb-stat -t $f" "lb-stat -t $f -j" "lb-stat -t $f -p" \
		    "lb-ctl -t $f dump" "lb-ctl -t $f add 127.0.0.1:9 name=new" \
		    "lb-ctl -t $f drain 127.0.0.1:1" "lb-ctl -t $f sync -e /dev/null"; do
			run timeout 10 $cmd
			[ "$status" -le 2 ] ||
			    { echo "seed $seed: '$cmd' exit $status: $output"; false; }
		done
		# after a writer, readers see a sane table again
		run -0 lb-ctl -t "$f" dump
		[ -z "$output" ]
	done
}

@test "table: a writer survives another process scribbling its bounds" {
	run -0 timeout 60 table_test hostile "$BATS_TEST_TMPDIR/t"
	[ "$output" = "hostile: 3000 changes while another process scribbled" ]
}

@test "table: stale counts while a slot is reused leave nothing behind" {
	run -0 timeout 60 table_test stale "$BATS_TEST_TMPDIR/t"
	[ "$output" = "stale: active 0 after 3000 reuses" ]
}

@test "table: a dead process's entry, taken by a live one, is not subtracted" {
	run -0 timeout 60 table_test regreuse "$BATS_TEST_TMPDIR/t"
	[ "$output" = "regreuse: the live process's connection counts 1" ]
}

@test "table: processes racing to create one table all succeed" {
	for round in $(seq 1 40); do
		for i in 1 2 3 4; do
			lb-ctl -t "$T.$round" add "127.0.0.1:$i" 3>&- &
		done
		fails=0
		for i in 1 2 3 4; do wait -n || fails=$((fails + 1)); done
		[ "$fails" -eq 0 ] || { echo "round $round: $fails failed"; false; }
		[ "$(lb-ctl -t "$T.$round" dump | wc -l)" -eq 4 ]
		lb-ctl -t "$T.$round" destroy
	done
}

@test "table: a fifo or a device is no table, and nothing hangs" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run -1 --separate-stderr timeout 5 lb-ctl -t "$BATS_TEST_TMPDIR/fifo" dump
	[ "$stderr" = "lb-ctl: table $BATS_TEST_TMPDIR/fifo: not a regular file" ]
	run -1 --separate-stderr timeout 5 lb-stat -t /dev/null
	[ "$stderr" = "lb-stat: table /dev/null: not a regular file" ]
}

@test "table: garbage where a process counts shows clamped with a warning; least-connections goes on" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lb-ctl -t "$T" add 127.0.0.1:2 name=b
	coproc HOLD { exec lbt hold "$T" a 2 3>&-; }
	PIDS+=("$HOLD_PID")
	read -r -t 10 line <&"${HOLD[0]}"
	[ "$line" = held ]
	# stopped, it is alive but repairs nothing
	kill -STOP "$HOLD_PID"
	# where version 1 kept slot a's open count, and lbt's own count of a
	poke "/dev/shm/lb.$T" "$(ctr_at 256)" '00000000'
	poke "/dev/shm/lb.$T" "$(rows_at 256 0)" '\xff\xff\xff\x7f'
	run -0 --separate-stderr lb-stat -t "$T" -H
	[ "$stderr" = "lb-stat: table $T: 1 slots counted out of range, shown clamped" ]
	[ "$(stat_col "$T" a active)" = 16777216 ]
	run -0 lb-stat -H
	[[ "$output" == *"$T"$'\t'256$'\t'2$'\t'0$'\t'0$'\t'16777216$'\t'* ]]
	# a balancer (under UBSan too) reads a as the busiest, no overflow
	for algo in lc p2c; do
		run -0 lbt pick "$T" "$algo" 4
		[ "$output" = "$(printf 'b 2\nb 2\nb 2\nb 2')" ]
	done
	# let it run: within about a second its count is its own again
	kill -CONT "$HOLD_PID"
	wait_for 5 col_is "$T" a active 2
	run -0 --separate-stderr lb-stat -t "$T"
	[ -z "$stderr" ]
}

@test "table: 64 bytes over the registrations: the live process registers again within a second" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	coproc HOLD { exec lbt hold "$T" a 20 3>&-; }
	PIDS+=("$HOLD_PID")
	read -r -t 10 line <&"${HOLD[0]}"
	[ "$line" = held ]
	[ "$(stat_col "$T" a active)" = 20 ]
	kill -STOP "$HOLD_PID"
	poke "/dev/shm/lb.$T" 128 "$(printf 'A%.0s' $(seq 64))"
	# what readers see of a process whose entry is garbage: nothing ...
	[ "$(stat_col "$T" a active)" = 0 ]
	# ... and a writer that frees the garbage takes nothing below zero
	lb-ctl -t "$T" set a weight=2
	[ "$(stat_col "$T" a active)" = 0 ]
	kill -CONT "$HOLD_PID"
	wait_for 5 col_is "$T" a active 20
	run -0 lb-stat -H
	[[ "$output" == *"$T"$'\t'256$'\t'1$'\t'0$'\t'0$'\t'20$'\t'0$'\t'20$'\t'1$'\t'* ]]
	[ "$(lbt raw "$T" a)" = 20 ]
	# it still gives back what it holds, all of it, when its stdin closes
	pid=$HOLD_PID
	eval "exec ${HOLD[1]}>&-"
	wait_for 5 gone "$pid"
	[ "$(lbt raw "$T" a)" = 0 ]
	[ "$(stat_col "$T" a active)" = 0 ]
}

@test "table: two bytes over a slot's binary port: shown damaged, never picked" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" add 127.0.0.1:1 name=a
	lb-ctl -t "$f" add 127.0.0.1:2 name=b
	lb-ctl -t "$f" add localhost:3 name=c
	# port 1337 over a's (a number) and c's (a name) in both buffers
	for buf in 0 1; do
		poke "$f" $(( $(conf_at 256 $buf) + 64 + 210 )) '\x39\x05'
		poke "$f" $(( $(conf_at 256 $buf) + 64 + 2 * 384 + 210 )) '\x39\x05'
	done
	run -0 --separate-stderr lb-stat -t "$f" -H
	[ "$stderr" = "lb-stat: table $f: 2 damaged slots shown in maint" ]
	[[ "${lines[0]}" == "$f"$'\ta\t127.0.0.1:1\tmaint\t'* ]]
	[[ "${lines[1]}" == "$f"$'\tb\t127.0.0.1:2\tenabled\t'* ]]
	[[ "${lines[2]}" == "$f"$'\tc\tlocalhost:3\tmaint\t'* ]]
	run -0 --separate-stderr lb-ctl -t "$f" dump
	[ "$stderr" = "$(printf 'lb-ctl: table %s: slot 0 is damaged: shown in maint\nlb-ctl: table %s: slot 2 is damaged: shown in maint' "$f" "$f")" ]
	[ "${lines[0]}" = "127.0.0.1:1 name=a weight=1 maxconn=0 state=maint" ]
	for algo in rr lc p2c source maglev; do
		run -0 lbt pick "$f" "$algo" 6
		[ "$output" = "$(printf 'b 2\nb 2\nb 2\nb 2\nb 2\nb 2')" ] ||
		    { echo "$algo: $output"; false; }
	done
	# the operator's fix makes it whole and enabled again
	lb-ctl -t "$f" set a addr=127.0.0.1:1 state=enabled
	run -0 --separate-stderr lb-ctl -t "$f" dump
	[ "${lines[0]}" = "127.0.0.1:1 name=a weight=1 maxconn=0 state=enabled" ]
	[ "$stderr" = "lb-ctl: table $f: slot 2 is damaged: shown in maint" ]
}

@test "table: a registrant that died but is not reaped holds no connection" {
	run -0 timeout 60 table_test zombie "$BATS_TEST_TMPDIR/t"
	[ "$output" = "zombie: its 3 connections count 0, 0 processes alive" ]
}

@test "table: a registrant repairs its entry and its counts, under counting threads too" {
	run -0 timeout 60 table_test repair "$BATS_TEST_TMPDIR/t"
	[ "$output" = "repair: ok" ]
	run -0 timeout 60 table_test repairrace "$BATS_TEST_TMPDIR/t2"
	[ "$output" = "repairrace: 10 open after 2000 repairs, 10 held" ]
}

# changed_ago TABLE: seconds since the first backend's state changed
changed_ago() {
	lb-stat -t "$1" -p | awk -v now="$(date +%s)" \
	    '/^lb_backend_state_changed_timestamp_seconds/ { print int(now - $2) }'
}

@test "table: a health time in the future or long past shows a sane changed" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lbt health "$T" a up "" +3600000
	n=$(changed_ago "$T")
	[ "$n" -ge -1 ] && [ "$n" -le 1 ]	# now, not an hour to come
	lbt health "$T" a up "" 1
	n=$(changed_ago "$T")
	[ "$n" -ge -1 ] && [ "$n" -lt 60 ]	# the admin state changed just now
}
