#!/usr/bin/env bats
# 11-table: attaching to damaged tables, hostile writers, dead processes.

load helpers/lib

# poke FILE OFFSET BYTES...: write bytes (printf escapes) into a file
poke() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "table: another layout version is refused by name, the file unchanged" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" add 127.0.0.1:1
	poke "$f" 8 '\x63\x00\x00\x00'
	sum=$(sha256sum < "$f")
	run -1 --separate-stderr lb-ctl -t "$f" add 127.0.0.1:2
	[ "$stderr" = "lb-ctl: table $f: table layout version 99, this program reads version 1" ]
	run -1 --separate-stderr lb-stat -t "$f"
	[ "$stderr" = "lb-stat: table $f: table layout version 99, this program reads version 1" ]
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
