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

@test "lb-ctl: a command without its arguments says what is missing, exit 2" {
	run -2 --separate-stderr lb-ctl -t "$T" add
	[ "$stderr" = "lb-ctl: add: no address given: lb-ctl [-t table] add addr [name=N] [weight=N] [maxconn=N] [state=S] [backup=yes]" ]
	run -2 --separate-stderr lb-ctl -t "$T" set onlyname
	[ "$stderr" = "lb-ctl: set onlyname: nothing to set: give key=value, with a key of addr, backup, maxconn, name, state or weight" ]
	run -2 --separate-stderr lb-ctl -t "$T" set
	[ "$stderr" = "lb-ctl: set: no backend named: lb-ctl [-t table] set name key=value ..." ]
	run -2 --separate-stderr lb-ctl -t "$T" del
	[ "$stderr" = "lb-ctl: del: no backend named: lb-ctl [-t table] del name ..." ]
	run -2 --separate-stderr lb-ctl -t "$T" drain
	[ "$stderr" = "lb-ctl: drain: no backend named: lb-ctl [-t table] drain name ..." ]
	[ ! -e "/dev/shm/lb.$T" ]
}

@test "lb-ctl: options after the command are told to come before it" {
	run -2 --separate-stderr lb-ctl dump -t web
	[ "$stderr" = "lb-ctl: options come before the command: lb-ctl -t web dump ..." ]
	run -2 --separate-stderr lb-ctl -t "$T" sync -W 1s
	[ "$stderr" = "lb-ctl: options come before the command: lb-ctl -W sync ..." ]
	run -2 --separate-stderr lb-ctl -t "$T" dump extra
	[ "$stderr" = "lb-ctl: dump takes no operand, not 'extra'" ]
	run -2 --separate-stderr lb-ctl -t a -t b dump
	[ "$stderr" = "lb-ctl: -t given twice: one table" ]
}

@test "every program: --help is -h: a usage that helps, on stdout, exit 0" {
	for p in lb-check lb-ctl lb-http lb-stat lb-tcp; do
		run -0 --separate-stderr "$p" --help
		[[ "${lines[0]}" == "usage: $p "* ]] || { echo "$p: $output"; false; }
		[[ "$output" == *"See $p(1)"* ]] || { echo "$p: $output"; false; }
		[ -z "$stderr" ]
		[ "$output" = "$("$p" -h)" ]
	done
}

@test "every program: control bytes of an argument never reach the terminal" {
	run -2 --separate-stderr lb-ctl -t $'x\e[2J' dump
	[[ "$stderr" == "lb-ctl: bad table name 'x\x1b[2J\x07': "* ]]
	run -2 --separate-stderr lb-ctl -t "$T" add $'10.0.0.1:80
name=x'
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"\x0a"* ]]
	run -2 --separate-stderr lb-tcp -l :0 -a $'rr\e[31m'
	[ "$stderr" = "lb-tcp: bad algorithm 'rr\x1b[31m': rr, lc, p2c, source or maglev" ]
	run -2 --separate-stderr lb-check -t "$T" -i $'2s'
	[[ "$stderr" == "lb-check: bad interval '2s\x07' (-i): "* ]]
	run -2 --separate-stderr lb-stat -w $'1\e'
	[[ "$stderr" == "lb-stat: bad -w '1\x1b': "* ]]
}

@test "lb-stat: a stray argument is bad usage" {
	run -2 --separate-stderr lb-stat -t "$T" extra
	[[ "$stderr" == usage:* ]]
}
