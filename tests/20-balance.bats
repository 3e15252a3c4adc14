#!/usr/bin/env bats
# 20-balance: the balancing algorithms, unit-tested over a real table.

load helpers/lib
bats_require_minimum_version 1.5.0

@test "balance: rr, lc, p2c, source, maglev, backup, maxconn, slow start" {
	run timeout 60 balance_test "$BATS_TEST_TMPDIR/bal"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" =~ ^balance_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}
