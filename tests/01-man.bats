#!/usr/bin/env bats
# 01-man: the manual is part of every feature.

load helpers/lib

@test "man pages: mandoc -Tlint finds nothing" {
	run -0 mandoc -Tlint -W warning man/*.[1-8]
	[ -z "$output" ]
}

@test "man pages: every program has one, and lb-table(5), lb-cluster(7) exist" {
	for p in $(ls "$LB_BIN" | grep '^lb-'); do
		[ -f "man/$p.1" ] || { echo "no man/$p.1"; false; }
	done
	[ -f man/lb-table.5 ]
	[ -f man/lb-cluster.7 ]
}

@test "man pages: each page's SYNOPSIS names the flags its usage() does" {
	for p in $(ls "$LB_BIN" | grep '^lb-'); do
		run -0 "$p" -h
		# every option group of usage(): "[-1eHhjpV" or "[-l"
		groups=$(printf '%s\n' "$output" | grep -oE '\[-[A-Za-z0-9]+')
		[ -n "$groups" ]
		syn=$(mandoc -Tascii "man/$p.1" | sed 's/.\x08//g' |
		    awk '/^SYNOPSIS/ {on = 1; next} /^[A-Z]/ {on = 0} on' |
		    tr -s ' \n' ' ')
		for g in $groups; do
			[[ "$syn" == *"$g"[]\ ]* ]] ||
			    { echo "$p: $g not in SYNOPSIS: $syn"; false; }
		done
	done
}

@test "man pages: make install puts programs and pages under DESTDIR" {
	run -0 make -s install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/usr
	[ -x "$BATS_TEST_TMPDIR/root/usr/bin/lb-ctl" ]
	[ -x "$BATS_TEST_TMPDIR/root/usr/bin/lb-stat" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/man/man1/lb-ctl.1" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/man/man5/lb-table.5" ]
	[ -f "$BATS_TEST_TMPDIR/root/usr/share/man/man7/lb-cluster.7" ]
}
