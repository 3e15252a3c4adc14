#!/usr/bin/env bats
# 02-readme: every example in the README runs.

load helpers/lib

# The README's sh blocks after "## Examples", with the table names made
# this test's own.
examples() {
	awk '/^## Examples/ {on = 1} on && /^```sh$/ {code = 1; next}
	    code && /^```$/ {code = 0; next} code' README.md |
	    sed -e "s/-t web-copy\\b/-t $T.copy/g" -e "s/-t web\\b/-t $T/g"
}

@test "README: the two set-up commands are on its first screen" {
	run -0 head -30 README.md
	[[ "$output" == *"make demo"* ]]
	[[ "$output" == *"make check"* ]]
}

@test "README: the examples run, each command succeeding" {
	[ -n "$(examples)" ]
	cd "$BATS_TEST_TMPDIR"
	run -0 bash -e -o pipefail -c "$(cd "$BATS_TEST_DIRNAME/.." && examples)"
	[[ "$output" == *"app2"* ]]
	[ -s web.prom ]
	run -0 promcheck.py < web.prom
	[ ! -e "/dev/shm/lb.$T" ]
}
