#!/usr/bin/env bats
# 12-lb-stat: one table's rows, and the list of tables, in every format.

load helpers/lib

HEADER="# pxname	svname	addr	admin	health	weight	share	slim	bck	scur	stot	econ	bin	bout	req_tot	hrsp_1xx	hrsp_2xx	hrsp_3xx	hrsp_4xx	hrsp_5xx	hrsp_other	check_status	check_duration	lastchg"

two_backends() {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a weight=3 maxconn=10
	lb-ctl -t "$T" add '[::1]:2' name=b state=drain backup=yes
}

@test "lb-stat: TSV with a # header when stdout is no terminal; -H drops it" {
	two_backends
	run -0 lb-stat -t "$T"
	[ "${lines[0]}" = "$HEADER" ]
	[ "${lines[1]}" = "$T	a	127.0.0.1:1	enabled	unknown	3	100	10	0	0	0	0	0	0	0	0	0	0	0	0	0	-	-	0" ]
	[ "${lines[2]}" = "$T	b	[::1]:2	drain	unknown	1	100	0	1	0	0	0	0	0	0	0	0	0	0	0	0	-	-	0" ]
	run -0 lb-stat -t "$T" -H
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "$T	a	"* ]]
}

@test "lb-stat: counters, health and the last check show as they move" {
	two_backends
	lbt bump "$T" a total 12
	lbt bump "$T" a bytes_in 1000
	lbt bump "$T" a bytes_out 2000
	lbt bump "$T" a requests 7
	lbt bump "$T" a 2xx 5
	lbt bump "$T" a 5xx 2
	lbt bump "$T" a fail 3
	lbt health "$T" a up
	lbt check "$T" a 12 L7OK
	[ "$(stat_col "$T" a stot)" = 12 ]
	[ "$(stat_col "$T" a econ)" = 3 ]
	[ "$(stat_col "$T" a bin)" = 1000 ]
	[ "$(stat_col "$T" a bout)" = 2000 ]
	[ "$(stat_col "$T" a req_tot)" = 7 ]
	[ "$(stat_col "$T" a hrsp_2xx)" = 5 ]
	[ "$(stat_col "$T" a hrsp_5xx)" = 2 ]
	[ "$(stat_col "$T" a health)" = up ]
	[ "$(stat_col "$T" a check_status)" = L7OK ]
	[ "$(stat_col "$T" a check_duration)" = 12 ]
	[ "$(stat_col "$T" b stot)" = 0 ]
}

@test "lb-stat: awk can pick the backends that are down" {
	two_backends
	lbt health "$T" b down
	run -0 bash -c "lb-stat -t '$T' | awk -F'\t' '\$5 == \"down\" {print \$2}'"
	[ "$output" = b ]
}

@test "lb-stat: -j prints one JSON object per backend, numbers as numbers" {
	two_backends
	lbt check "$T" a 5 'L4CON "refused"'
	run -0 lb-stat -t "$T" -j
	[ "${#lines[@]}" -eq 2 ]
	run -0 python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
a, b = rows
assert a["svname"] == "a" and a["weight"] == 3 and a["slim"] == 10, a
assert a["check_status"] == "L4CON?\"refused\"", a["check_status"]
assert a["check_duration"] == 5
assert b["check_status"] is None and b["check_duration"] is None
assert b["admin"] == "drain" and b["bck"] == 1
print("ok")' < <(lb-stat -t "$T" -j)
	[ "$output" = ok ]
}

@test "lb-stat: -p is valid Prometheus text, with table and backend labels" {
	two_backends
	lbt bump "$T" a 4xx 9
	lbt check "$T" a 250 L7OK
	run -0 bash -c "lb-stat -t '$T' -p | promcheck.py"
	run -0 lb-stat -t "$T" -p
	[[ "$output" == *'lb_backend_http_responses_total{table="'"$T"'",backend="a",code="4xx"} 9'* ]]
	[[ "$output" == *'lb_backend_check_duration_seconds{table="'"$T"'",backend="a"} 0.25'* ]]
	[[ "$output" == *'# TYPE lb_backend_connections_total counter'* ]]
	[[ "$output" == *'lb_backend_weight_share_ratio{table="'"$T"'",backend="b"} 1'* ]]
}

@test "lb-stat: the strict Prometheus checker does fail bad text" {
	run -1 promcheck.py <<< 'lb_x_total{table="a} 1'
	run -1 promcheck.py <<< $'# TYPE lb_c counter\n# HELP lb_c x\nlb_c 1'
	run -1 promcheck.py <<< $'# HELP m x\n# TYPE m gauge\nm 1\nm 2'
}

@test "lb-stat: aligned columns on a terminal" {
	two_backends
	run -0 script -qec "lb-stat -t $T" /dev/null
	[[ "${lines[0]}" == pxname* ]]
	[[ "${lines[0]}" == *"  svname  "* ]]
	# every row as wide as the header: aligned
	w0=$(printf '%s' "${lines[0]}" | tr -d '\r' | wc -c)
	w1=$(printf '%s' "${lines[1]}" | tr -d '\r' | wc -c)
	[ "$w0" -eq "$w1" ]
}

@test "lb-stat: with no table, one line per table on the machine" {
	two_backends
	lbt health "$T" a up
	lb-ctl -t "$T.x" create -n 16
	run -0 lb-stat -H
	[[ "$output" == *"$T	256	2	1	0	0	0	0	"* ]]
	[[ "$output" == *"$T.x	16	0	0	0	0	0	0	"* ]]
	# (other tables on the machine may be named on stderr: not here)
	run -0 bash -c "lb-stat -j 2>/dev/null | grep '\"table\":\"$T\"' | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"backends\"] == 2; print(d[\"slots\"])'"
	[ "$output" = 256 ]
	lb-ctl -t "$T.x" destroy
}

@test "lb-stat: a damaged table in the list is named; the others still show" {
	two_backends
	head -c 5000 /dev/urandom > "/dev/shm/lb.$T.bad"
	run -1 --separate-stderr lb-stat -H
	rm -f "/dev/shm/lb.$T.bad"
	[[ "$stderr" == *"lb-stat: table $T.bad: not an lb table (bad magic)"* ]]
	[[ "$output" == *"$T	256	2	"* ]]
}

@test "lb-stat: -p with no table is bad usage" {
	unset LB_TABLE
	run -2 --separate-stderr lb-stat -p
	[ "$stderr" = "lb-stat: -p needs a table: give -t TABLE" ]
}
