#!/usr/bin/env bats
# 00-usage: every program answers -h, -V and bad flags the same way.

load helpers/lib

programs() { ls "$LB_BIN" | grep '^lb-'; }

@test "every program: -V prints its name and a version, exit 0" {
	for p in $(programs); do
		run -0 "$p" -V
		[[ "$output" =~ ^$p\ [0-9] ]] || { echo "$p: $output"; false; }
	done
}

@test "every program: -h prints a usage line on stdout, exit 0" {
	for p in $(programs); do
		run -0 --separate-stderr "$p" -h
		[[ "$output" == usage:\ $p* ]] || { echo "$p: $output"; false; }
	done
}

@test "every program: an unknown flag is named, then the usage, exit 2" {
	for p in $(programs); do
		run -2 --separate-stderr "$p" -Z
		[ -z "$output" ] || { echo "$p wrote to stdout"; false; }
		[[ "${stderr_lines[0]}" == *"$p: invalid option -- 'Z'" ]] ||
		    { echo "$p: $stderr"; false; }
		[[ "${stderr_lines[1]}" == "usage: $p "* ]] ||
		    { echo "$p: $stderr"; false; }
	done
}

@test "lb-ctl: no table named anywhere is bad usage" {
	unset LB_TABLE
	run -2 --separate-stderr lb-ctl dump
	[ "$stderr" = "lb-ctl: no table: give -t TABLE or set LB_TABLE" ]
}

@test "lb-ctl: an unknown command is named" {
	run -2 --separate-stderr lb-ctl -t "$T" frobnicate
	[ "$stderr" = "lb-ctl: unknown command 'frobnicate'" ]
}

@test "lb-ctl: a command without its arguments prints usage, exit 2" {
	run -2 --separate-stderr lb-ctl -t "$T" add
	[[ "$stderr" == usage:* ]]
	run -2 --separate-stderr lb-ctl -t "$T" set onlyname
	[[ "$stderr" == usage:* ]]
}

@test "lb-stat: a stray argument is bad usage" {
	run -2 --separate-stderr lb-stat -t "$T" extra
	[[ "$stderr" == usage:* ]]
}
