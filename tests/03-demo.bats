#!/usr/bin/env bats
# 03-demo: make demo's job runs whole and shows what it says.

load helpers/lib

@test "demo: backends, lb-tcp, lb-check, lb-ctl and lb-stat on loopback" {
	run -0 timeout 120 bash tools/demo.sh
	# all three served, then only web1 after the kill and the drain
	# (counts as uniq -c prints them: "    15 web1")
	grep -Eq '^ +[0-9]+ web2$' <<< "$output"
	grep -Eq '^ +[0-9]+ web3$' <<< "$output"
	grep -Eq '^ +30 web1$' <<< "$output"
	[[ "$output" != *"(failed)"* ]]
	[[ "$output" == *$'\tup\tdown\tconnect: refused\t'* ]]
	[[ "$output" == *'lb_backend_total{table="demo-'* ]]
	[[ "$output" == *$'\n# backend\thealth\tactive\ttotal_rate\tbytes_out_rate\n'* ]]
	# lb-http: /auth to the two auth servers, /settings to its one
	# (each worker keeps its own round robin: both, not always 5 and 5)
	grep -Eq '^ +[1-9] auth1$' <<< "$output"
	grep -Eq '^ +[1-9] auth2$' <<< "$output"
	grep -Eq '^ +10 settings1$' <<< "$output"
	[[ "$output" == *$'lb-http: no route for this host and path\n    status 404'* ]]
	# and it left no table behind
	! ls /dev/shm | grep -q "^lb\.demo-"
}
