#!/usr/bin/env bats
# 02-readme: every example in the README runs.

load helpers/lib
load helpers/tcp

# The README's sh blocks after "## Examples", run in a /dev/shm of their
# own (in_private_shm): listing every table sees theirs alone.
examples() {
	awk '/^## / {on = 0} /^## Examples/ {on = 1}
	    on && /^```sh$/ {code = 1; next}
	    code && /^```$/ {code = 0; next} code' README.md
}

# The README's sh blocks after "## Balancing", with this test's servers
# and table.
balancing() {
	awk '/^## Balancing/ {on = 1} /^## Layer 7/ {on = 0}
	    on && /^```sh$/ {code = 1; next} code && /^```$/ {code = 0; next}
	    code' README.md |
	    sed -e "s/127.0.0.1:9001/$B1/g" -e "s/127.0.0.1:9002/$B2/g" \
	    -e "s/-t shop\\b/-t $T/g"
}

@test "README: the two set-up commands are on its first screen" {
	run -0 head -30 README.md
	[[ "$output" == *"make demo"* ]]
	[[ "$output" == *"make check"* ]]
}

@test "README: the examples run, each command succeeding" {
	[ -n "$(examples)" ]
	cd "$BATS_TEST_TMPDIR"
	(cd "$BATS_TEST_DIRNAME/.." && examples) > ex.sh
	run -0 in_private_shm bash -e -o pipefail ex.sh
	# the drained backend alone, not the header's name
	[[ "$output" == *$'\napp2\n'* ]]
	[[ "$output" != *$'\nbackend\n'* ]]
	# rates of each backend, twice, under the words asked for
	[ "$(grep -Ec $'^(app1|app4)\t[0-9]+\\.[0-9]{2}\t[0-9]+\\.[0-9]{2}$' <<< "$output")" -eq 4 ]
	[ -s web.prom ]
	run -0 promcheck.py < web.prom
	run -0 promcheck.py < all.prom
	grep -q '^lb_table_slots{table="web-copy"} 256$' all.prom
}

@test "README: the balancing examples run and balance" {
	# tsrv answering HTTP with their names
	start_backend one http; B1=${BE[one]}
	start_backend two http; B2=${BE[two]}
	[ -n "$(balancing)" ]
	cd "$BATS_TEST_TMPDIR"
	# whatever the examples leave running stops with them
	run -0 timeout 60 bash -e -o pipefail -c \
	    "trap 'kill \$(jobs -p) 2>/dev/null' EXIT
	    $(cd "$BATS_TEST_DIRNAME/.." && balancing)"
	# round robin: one, then two; then only b (two) after the drain
	[ "${lines[0]}" = one ]
	[ "${lines[1]}" = two ]
	[[ "${lines[2]}" =~ ^"$B1	"[01]$ ]]
	[[ "${lines[3]}" =~ ^"$B2	"[01]$ ]]
	[ "${lines[4]}" = two ]
	# lb-check -1: all up, then a line per backend
	[ "${lines[5]}" = "all up" ]
	[[ "$output" == *$'\na\tup'* ]]
	[[ "$output" == *$'\nb\tup'* ]]
	[ "${#lines[@]}" -eq 8 ]
}

# The README's sh blocks of "## Layer 7", with this test's servers and
# tables.
layer7() {
	awk '/^## Layer 7/ {on = 1} /^## How/ {on = 0}
	    on && /^```sh$/ {code = 1; next} code && /^```$/ {code = 0; next}
	    code' README.md |
	    sed -e "s/127.0.0.1:9001/$B1/g" -e "s/127.0.0.1:9002/$B2/g" \
	    -e "s/-t auth\\b/-t $T.auth/g" -e "s/=auth\\b/=$T.auth/g" \
	    -e "s/-t settings\\b/-t $T.settings/g" \
	    -e "s/=settings\\b/=$T.settings/g" \
	    -e "s/-t shop\\b/-t $T.shop/g"
}

@test "README: the Layer 7 examples run, route, pin, redirect, answer and speak HTTPS" {
	start_backend auth http; B1=${BE[auth]}
	start_backend settings http; B2=${BE[settings]}
	[ -n "$(layer7)" ]
	cd "$BATS_TEST_TMPDIR"
	run -0 timeout 60 bash -e -o pipefail -c \
	    "trap 'kill \$(jobs -p) 2>/dev/null || true' EXIT
	    $(cd "$BATS_TEST_DIRNAME/.." && layer7)"
	[ "${lines[0]}" = auth ]
	[ "${lines[1]}" = settings ]
	[ "${lines[2]}" = 404 ]
	# a line each, in the order each worker wrote them
	[ "$(printf '%s\n' "${lines[@]:3:3}" | sort | tr '\n' '|')" = "GET	/auth/login	200	/auth	$B1	keep-alive|GET	/other	404	-	-	no-route|GET	/settings/theme	200	/settings	$B2	keep-alive|" ]
	[ ! -e "/dev/shm/lb.$T.auth" ]
	# sticky: four times the backend the cookie named, in the jar
	[[ "${lines[6]}" =~ ^(auth|settings)$ ]]
	for i in 7 8 9; do [ "${lines[$i]}" = "${lines[6]}" ]; done
	grep -q $'\tSRV\t' jar
	[[ "${lines[10]}" =~ ^"301 http://127.0.0.1:"[0-9]+/new$ ]]
	[ "${lines[11]}" = ok ]
	# HTTPS, verified against the certificate it made
	[ "${lines[12]}" = auth ]
	[ "${#lines[@]}" -eq 13 ]
	[ "$(stat -c %a cookie.key)" = 600 ]
	[ ! -e "/dev/shm/lb.$T.shop" ]
}
