#!/usr/bin/env bats
# 11-table-trust: whose table is it?  Attaching refuses what another user
# could have made or may write, unless the operator said it is shared.

load helpers/lib

teardown() {
	rm -f "/dev/shm/lb.$T.x"
	lb_teardown
}

# every program that attaches, each as it would: the checker first, while
# the table has no backend to find down
attachers() {
	printf '%s\n' "lb-check -1 $*" "lb-ctl $* dump" "lb-stat $*" \
	    "lb-stat -j $*" "lb-ctl $* add 127.0.0.1:9 name=z"
}

# refused_by_all MESSAGE ARGS...: each attacher exits 1 with the message
refused_by_all() {
	local msg=$1 cmd
	shift
	while read -r cmd; do
		run -1 --separate-stderr timeout 10 $cmd
		[ "$stderr" = "${cmd%% *}: table $T: $msg" ] ||
		    { echo "$cmd: '$stderr'"; false; }
	done < <(attachers "$@")
}

# accepted_by_all ARGS...: each attacher exits 0
accepted_by_all() {
	local cmd
	while read -r cmd; do
		run --separate-stderr timeout 10 $cmd
		[ "$status" -eq 0 ] || { echo "$cmd: $status '$stderr'"; false; }
	done < <(attachers "$@")
	# the add went in, once
	run -0 lb-ctl "$@" dump
	[ "$output" = "127.0.0.1:9 name=z weight=1 maxconn=0 state=enabled" ]
}

@test "trust: a table owned by another user is refused by every program, exit 1" {
	lb-ctl -t "$T" create
	chown 65534 "/dev/shm/lb.$T"
	refused_by_all "owned by uid 65534 (nobody), mode 0600: not trusted (see lb-table(5); -m 0620 accepts it)" -t "$T"
	# nothing was written: still no backend
	[ -z "$(lb-ctl -m 0620 -t "$T" dump)" ]
	# the operator says the table is shared: then it is used
	accepted_by_all -m 0620 -t "$T"
}

@test "trust: a table others may write is refused, -m 0666 accepts it" {
	lb-ctl -t "$T" create
	chmod 0666 "/dev/shm/lb.$T"
	refused_by_all "owned by uid 0 (root), mode 0666: not trusted (see lb-table(5); -m 0666 accepts it)" -t "$T"
	# less than its mode is not enough
	run -1 --separate-stderr lb-ctl -m 0644 -t "$T" dump
	[ "$stderr" = "lb-ctl: table $T: owned by uid 0 (root), mode 0666: not trusted (see lb-table(5); -m 0666 accepts it)" ]
	accepted_by_all -m 0666 -t "$T"
}

@test "trust: a group-writable table file is refused, and accepted with its mode" {
	f=$BATS_TEST_TMPDIR/t
	lb-ctl -t "$f" create
	chmod 0660 "$f"
	run -1 --separate-stderr lb-stat -t "$f"
	[ "$stderr" = "lb-stat: table $f: owned by uid 0 (root), mode 0660: not trusted (see lb-table(5); -m 0660 accepts it)" ]
	run -0 lb-stat -m 0660 -t "$f"
	run -0 lb-stat -m 0666 -t "$f"
	# group read only is no write: the default accepts it
	chmod 0640 "$f"
	run -0 lb-stat -t "$f"
}

@test "trust: a table made by another user is refused by root" {
	# what a local user can do before root's lb-tcp or lb-ctl starts
	run -0 setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$LB_BIN/lb-ctl" -t "$T" add 127.0.0.1:1 name=trap
	[ "$(stat -c %u:%a "/dev/shm/lb.$T")" = 65534:600 ]
	run -1 --separate-stderr lb-ctl -t "$T" sync -e /dev/null
	[ "$stderr" = "lb-ctl: table $T: owned by uid 65534 (nobody), mode 0600: not trusted (see lb-table(5); -m 0620 accepts it)" ]
	run -1 --separate-stderr lb-ctl -t "$T" add 127.0.0.1:2 name=mine
	[[ "$stderr" == *"not trusted"* ]]
	# a shared table, made so and named so by both sides
	lb-ctl -t "$T" destroy
	run -0 setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$LB_BIN/lb-ctl" -m 0666 -t "$T" add 127.0.0.1:1 name=shared
	[ "$(stat -c %u:%a "/dev/shm/lb.$T")" = 65534:666 ]
	run -1 lb-ctl -t "$T" dump
	run -0 lb-ctl -m 0666 -t "$T" dump
	[ "$output" = "127.0.0.1:1 name=shared weight=1 maxconn=0 state=enabled" ]
}

@test "trust: -m is the mode a table is made with, and attaching asks for it again" {
	run -0 lb-ctl -m 0640 -t "$T" add 127.0.0.1:1
	[ "$(stat -c %a "/dev/shm/lb.$T")" = 640 ]
	lb-ctl -t "$T" destroy
	run -0 lb-ctl -m 0660 -t "$T" create -n 8
	[ "$(stat -c %a "/dev/shm/lb.$T")" = 660 ]
	run -1 lb-ctl -t "$T" dump
	run -0 lb-ctl -m 0660 -t "$T" dump
	# create -m, after the command, still works, and wins
	run -0 lb-ctl -m 0660 -t "$T.x" create -m 0600
	[ "$(stat -c %a "/dev/shm/lb.$T.x")" = 600 ]
}

@test "trust: -m is octal, 1 to 0777, for every program" {
	run -2 --separate-stderr lb-ctl -m 0999 -t "$T" dump
	[ "$stderr" = "lb-ctl: bad mode '0999': octal, 1 to 0777" ]
	run -2 --separate-stderr lb-stat -m 01000 -t "$T"
	[ "$stderr" = "lb-stat: bad mode '01000': octal, 1 to 0777" ]
	run -2 --separate-stderr lb-check -m x -t "$T"
	[ "$stderr" = "lb-check: bad mode 'x': octal, 1 to 0777" ]
	[ ! -e "/dev/shm/lb.$T" ]
}

@test "trust: lb-stat's list names a table it refuses, skips it, and succeeds" {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a
	lb-ctl -t "$T.x" create -n 16
	chmod 0666 "/dev/shm/lb.$T.x"
	run -0 --separate-stderr lb-stat -H
	[[ "$output" == *"$T	256	1	"* ]]
	[[ "$output" != *"$T.x	"* ]]
	[[ "$stderr" == *"lb-stat: table $T.x: owned by uid 0 (root), mode 0666: not trusted (see lb-table(5); -m 0666 accepts it)"* ]]
	run -0 --separate-stderr lb-stat -H -m 0666
	[[ "$output" == *"$T.x	16	0	"* ]]
}

@test "trust: an untrusted table can still be destroyed, being never read" {
	lb-ctl -t "$T" create
	chown 65534 "/dev/shm/lb.$T"
	run -0 lb-ctl -t "$T" destroy
	[ ! -e "/dev/shm/lb.$T" ]
	# a file that is no table is still never removed
	f=$BATS_TEST_TMPDIR/t
	echo precious > "$f"
	chmod 0666 "$f"
	run -1 --separate-stderr lb-ctl -t "$f" destroy
	[ "$stderr" = "lb-ctl: table $f: not an lb table: only 9 bytes" ]
	[ -f "$f" ]
}

@test "trust: lb-ctl(1)'s shared table example runs" {
	# the example's commands, with this test's table and a group there is
	run -0 bash -e -c "$(mandoc -Tascii "$BATS_TEST_DIRNAME/../man/lb-ctl.1" |
	    sed 's/.\x08//g' |
	    sed -n 's/^ *\$ \(.*\(-m 0660\|chgrp lb\).*\)$/\1/p' |
	    sed -e "s/-t shop/-t $T/" -e "s|lb\.shop|lb.$T|" \
	    -e 's/chgrp lb /chgrp nogroup /')"
	[ "$(stat -c %G:%a "/dev/shm/lb.$T")" = nogroup:660 ]
	[[ "$output" == *"10.0.0.1:8080"* ]]
}
