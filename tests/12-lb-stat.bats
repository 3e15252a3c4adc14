#!/usr/bin/env bats
# 12-lb-stat: one table's rows, and the list of tables, in every format.

load helpers/lib

HEADER="# table	backend	addr	admin	health	weight	share	maxconn	backup	active	total	fail	fail_run	bytes_in	bytes_out	requests	status_1xx	status_2xx	status_3xx	status_4xx	status_5xx	status_other	check	check_ms	changed"
ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

two_backends() {
	lb-ctl -t "$T" add 127.0.0.1:1 name=a weight=3 maxconn=10
	lb-ctl -t "$T" add '[::1]:2' name=b state=drain backup=yes
}

@test "lb-stat: TSV with a # header of the vocabulary's words; -H drops it" {
	two_backends
	run -0 lb-stat -t "$T"
	[ "${lines[0]}" = "$HEADER" ]
	[[ "${lines[1]}" =~ ^"$T	a	127.0.0.1:1	enabled	unknown	3	100	10	0	0	0	0	0	0	0	0	0	0	0	0	0	0	-	-	"$ISO$ ]]
	[[ "${lines[2]}" =~ ^"$T	b	[::1]:2	drain	unknown	1	100	0	1	0	0	0	0	0	0	0	0	0	0	0	0	0	-	-	"$ISO$ ]]
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
	lbt bump "$T" a consec 2
	lbt health "$T" a up
	lbt check "$T" a 12 L7OK
	[ "$(stat_col "$T" a total)" = 12 ]
	[ "$(stat_col "$T" a fail)" = 3 ]
	[ "$(stat_col "$T" a fail_run)" = 2 ]
	[ "$(stat_col "$T" a bytes_in)" = 1000 ]
	[ "$(stat_col "$T" a bytes_out)" = 2000 ]
	[ "$(stat_col "$T" a requests)" = 7 ]
	[ "$(stat_col "$T" a status_2xx)" = 5 ]
	[ "$(stat_col "$T" a status_5xx)" = 2 ]
	[ "$(stat_col "$T" a health)" = up ]
	[ "$(stat_col "$T" a check)" = L7OK ]
	[ "$(stat_col "$T" a check_ms)" = 12 ]
	[ "$(stat_col "$T" b total)" = 0 ]
	# changed: the time of the last change, ISO 8601 in UTC
	[[ "$(stat_col "$T" a changed)" =~ ^$ISO$ ]]
}

@test "lb-stat: a new address makes the old check result go, as the health" {
	two_backends
	lbt health "$T" a up
	lbt check "$T" a 3 L4OK
	[ "$(stat_col "$T" a check)" = L4OK ]
	lb-ctl -t "$T" set a weight=2
	[ "$(stat_col "$T" a check)" = L4OK ]
	lb-ctl -t "$T" set a addr=127.0.0.1:9
	[ "$(stat_col "$T" a health)" = unknown ]
	[ "$(stat_col "$T" a check)" = - ]
	[ "$(stat_col "$T" a check_ms)" = - ]
	# the checker's next result, about the new address, shows again
	lbt check "$T" a 4 L4CON:refused
	[ "$(stat_col "$T" a check)" = L4CON:refused ]
}

@test "lb-stat: awk can pick the backends that are down, by -o or by position" {
	two_backends
	lbt health "$T" b down
	run -0 bash -c "lb-stat -t '$T' | awk -F'\t' '\$5 == \"down\" {print \$2}'"
	[ "$output" = b ]
	run -0 bash -c "lb-stat -t '$T' -H -o backend,health | awk -F'\t' '\$2 == \"down\" {print \$1}'"
	[ "$output" = b ]
}

@test "lb-stat: -o chooses and orders the columns in every format and view" {
	two_backends
	run -0 lb-stat -t "$T" -o health,backend,weight
	[ "${lines[0]}" = "# health	backend	weight" ]
	[ "${lines[1]}" = "unknown	a	3" ]
	run -0 lb-stat -t "$T" -j -o backend,weight,check
	[ "${lines[0]}" = '{"backend":"a","weight":3,"check":null}' ]
	run -0 script -qec "lb-stat -t $T -o backend,active" /dev/null
	[ "$(printf '%s' "${lines[0]}" | tr -d '\r')" = "backend active" ]
	[ "$(printf '%s' "${lines[1]}" | tr -d '\r')" = "a            0" ]
	run -0 lb-stat -t "$T" -P -o pid,table
	[ "${lines[0]}" = "# pid	table" ]
	run lb-stat -o table,backends -H
	[[ "$output" == *"$T	2"* ]]
	run -0 lb-stat -t "$T" -o help
	[[ "$output" == "table, backend, addr, admin, health, "*", changed" ]]
}

@test "lb-stat: a bad -o field exits 2, naming it and listing the valid ones" {
	two_backends
	run -2 --separate-stderr lb-stat -t "$T" -o backend,nope
	[ "$stderr" = "lb-stat: -o: unknown field 'nope': the fields are table, backend, addr, admin, health, weight, share, maxconn, backup, active, total, fail, fail_run, bytes_in, bytes_out, requests, status_1xx, status_2xx, status_3xx, status_4xx, status_5xx, status_other, check, check_ms, changed" ]
	[ -z "$output" ]
	# HAProxy's names are told the word for them
	run -2 --separate-stderr lb-stat -t "$T" -o svname,scur
	[ "$stderr" = "lb-stat: -o: 'svname' is HAProxy's name for what lb calls backend" ]
	run -2 --separate-stderr lb-stat -o table,nope
	[[ "$stderr" == "lb-stat: -o: unknown field 'nope': the fields are table, slots, backends, up, down, active, queued, total, procs, generation" ]]
	run -2 --separate-stderr lb-stat -t "$T" -o backend,backend
	[ "$stderr" = "lb-stat: -o: field 'backend' named twice" ]
	run -2 --separate-stderr lb-stat -t "$T" -o $'x\e[2J'
	[[ "$stderr" == "lb-stat: -o: unknown field 'x\\x1b[2J': "* ]]
}

@test "lb-stat: -j prints one JSON object per backend, escaped, numbers as numbers" {
	two_backends
	lbt check "$T" a 5 'L4CON: "refused"'
	run -0 lb-stat -t "$T" -j
	[ "${#lines[@]}" -eq 2 ]
	run -0 python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
a, b = rows
assert a["backend"] == "a" and a["weight"] == 3 and a["maxconn"] == 10, a
assert a["check"] == "L4CON: \"refused\"", a["check"]
assert a["check_ms"] == 5 and a["fail_run"] == 0 and "queued" not in a
assert b["check"] is None and b["check_ms"] is None
assert b["admin"] == "drain" and b["backup"] == 1
assert a["changed"].endswith("Z")
print("ok")' < <(lb-stat -t "$T" -j)
	[ "$output" = ok ]
	# TSV keeps the space, escapes only what would break a column
	lbt check "$T" a 5 $'L7RSP:a\tb\\c'
	[ "$(stat_col "$T" a check)" = 'L7RSP:a\tb\\c' ]
}

@test "lb-stat: a table path with a space shows as it is, and can be given back" {
	d="$BATS_TEST_TMPDIR/sp ace"
	mkdir "$d"
	lb-ctl -t "$d/web" add 127.0.0.1:1 name=a
	run -0 lb-stat -t "$d/web" -j -o table,backend
	[ "$output" = "{\"table\":\"$d/web\",\"backend\":\"a\"}" ]
	tbl=$(lb-stat -t "$d/web" -H -o table)
	[ "$tbl" = "$d/web" ]
	run -0 lb-stat -t "$tbl" -H -o backend
	[ "$output" = a ]
}

@test "lb-stat: -p is valid Prometheus text, with table and backend labels" {
	two_backends
	lbt bump "$T" a 4xx 9
	# one process says two connections of its wait for the table
	mkfifo "$BATS_TEST_TMPDIR/q"
	bg sh -c "exec lbt queue '$T' 2 < '$BATS_TEST_TMPDIR/q' > '$BATS_TEST_TMPDIR/queued'"
	exec 7> "$BATS_TEST_TMPDIR/q"
	wait_for 5 grep -q queued "$BATS_TEST_TMPDIR/queued"
	lbt check "$T" a 250 L7OK:200
	lbt check "$T" b 3 L4CON:refused
	run -0 bash -c "lb-stat -t '$T' -p | promcheck.py"
	run -0 bash -c "lb-stat -t '$T' -p | promtool check metrics"
	run -0 lb-stat -t "$T" -p
	l='table="'"$T"'",backend="a"'
	[[ "$output" == *"lb_backend_responses_total{$l,status=\"4xx\"} 9"* ]]
	[[ "$output" == *"lb_backend_check_seconds{$l} 0.25"* ]]
	[[ "$output" == *"lb_table_queued{table=\"$T\"} 2"* ]]
	[ "$(table_queued "$T")" = 2 ]
	# gone with its process
	exec 7>&-
	wait "$BG_PID"
	[ "$(table_queued "$T")" = 0 ]
	[[ "$output" == *"lb_backend_check_passed{$l,check=\"L7OK\"} 1"* ]]
	[[ "$output" == *'lb_backend_check_passed{table="'"$T"'",backend="b",check="L4CON"} 0'* ]]
	[[ "$output" == *'# TYPE lb_backend_total counter'* ]]
	[[ "$output" == *'lb_backend_share_ratio{table="'"$T"'",backend="b"} 1'* ]]
	[[ "$output" == *"lb_table_slots{table=\"$T\"} 256"* ]]
	[[ "$output" == *"lb_table_backends{table=\"$T\"} 2"* ]]
	[[ "$output" == *"lb_table_processes{table=\"$T\"} 1"* ]]	# the one queueing
	# the state's change as a timestamp, in seconds since the epoch
	ts=$(printf '%s\n' "$output" | sed -n "s/^lb_backend_state_changed_timestamp_seconds{$l} //p")
	now=$(date +%s)
	[ "${ts%.*}" -le "$now" ] && [ "${ts%.*}" -ge $((now - 60)) ]
}

@test "lb-stat: the strict Prometheus checker does fail bad text" {
	run -1 promcheck.py <<< 'lb_x_total{table="a} 1'
	run -1 promcheck.py <<< $'# TYPE lb_c counter\n# HELP lb_c x\nlb_c 1'
	run -1 promcheck.py <<< $'# HELP m x\n# TYPE m gauge\nm 1\nm 2'
}

@test "lb-stat -p with no table: every table of the machine, one valid exposition" {
	cat > "$BATS_TEST_TMPDIR/p.sh" <<-'EOF'
	set -e
	lb-ctl -t web add 127.0.0.1:1 name=a
	lb-ctl -t web add 127.0.0.1:2 name=b
	lb-ctl -t api create -n 8
	lb-ctl -t api add 127.0.0.1:3 name=a
	lbt check web a 2 L4OK
	lb-stat -p
	EOF
	run -0 in_private_shm bash "$BATS_TEST_TMPDIR/p.sh"
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/all.prom"
	run -0 promcheck.py < "$BATS_TEST_TMPDIR/all.prom"
	run -0 promtool check metrics < "$BATS_TEST_TMPDIR/all.prom"
	run -0 cat "$BATS_TEST_TMPDIR/all.prom"
	# one HELP and one TYPE per family, the samples of both tables under it
	[ "$(grep -c '^# TYPE lb_backend_weight ' <<< "$output")" -eq 1 ]
	[ "$(grep -c '^lb_backend_weight{' <<< "$output")" -eq 3 ]
	[[ "$output" == *'lb_backend_weight{table="api",backend="a"} 1'* ]]
	[[ "$output" == *'lb_table_slots{table="api"} 8'* ]]
	[[ "$output" == *'lb_table_slots{table="web"} 256'* ]]
	[ "$(grep '^# HELP' <<< "$output" | sort | uniq -d)" = "" ]
}

@test "lb-stat: aligned on a terminal, 80 columns wide; -A all columns; -C into a pipe" {
	lb-ctl -t "$T" add 127.0.0.1:8001 name=app1 weight=2
	lb-ctl -t "$T" add 127.0.0.1:8002 name=app2
	lb-ctl -t "$T" add '[::1]:8003' name=spare backup=yes
	lbt check "$T" app2 1 L4CON:refused
	run -0 script -qec "lb-stat -t $T" /dev/null
	[ "$(printf '%s' "${lines[0]}" | tr -d '\r')" = "backend addr           admin   health  weight active total fail check" ]
	for l in "${lines[@]}"; do
		[ "$(printf '%s' "$l" | tr -d '\r' | wc -c)" -le 80 ]
	done
	# -C: the same into a pipe, for watch(1) and ssh
	run -0 lb-stat -t "$T" -C
	[ "${lines[0]}" = "backend addr           admin   health  weight active total fail check" ]
	[[ "${lines[2]}" == "app2    127.0.0.1:8002 enabled unknown      1      0     0    0 L4CON:refused" ]]
	# -A: every column, the same as TSV's
	run -0 lb-stat -t "$T" -C -A
	[ "$(echo "${lines[0]}" | tr -s ' ' '\t')" = "${HEADER#\# }" ]
	# -H: no header in the aligned form either
	run -0 lb-stat -t "$T" -C -H
	[ "${#lines[@]}" -eq 3 ]
}

@test "lb-stat: with no table, one line per table on the machine" {
	cat > "$BATS_TEST_TMPDIR/l.sh" <<-'EOF'
	set -e
	lb-ctl -t web add 127.0.0.1:1 name=a weight=3 maxconn=10
	lb-ctl -t web add '[::1]:2' name=b state=drain backup=yes
	lbt health web a up
	lb-ctl -t web.x create -n 16
	lb-stat
	lb-stat -H
	lb-stat -j
	EOF
	run -0 in_private_shm bash "$BATS_TEST_TMPDIR/l.sh"
	[ "${lines[0]}" = "# table	slots	backends	up	down	active	queued	total	procs	generation" ]
	[[ "${lines[1]}" =~ ^"web	256	2	1	0	0	0	0	0	"[0-9]+$ ]]
	[[ "${lines[2]}" =~ ^"web.x	16	0	0	0	0	0	0	0	"[0-9]+$ ]]
	[ "${lines[3]}" = "${lines[1]}" ]
	[[ "${lines[5]}" =~ ^'{"table":"web","slots":256,"backends":2,"up":1,"down":0,"active":0,"queued":0,"total":0,"procs":0,"generation":'[0-9]+'}'$ ]]
}

@test "lb-stat -P: the processes attached to a table, pid and program" {
	two_backends
	mkfifo "$BATS_TEST_TMPDIR/hold"
	bg sh -c "exec lbt hold '$T' a 1 < '$BATS_TEST_TMPDIR/hold' > '$BATS_TEST_TMPDIR/held'"
	exec 7> "$BATS_TEST_TMPDIR/hold"
	wait_for 5 grep -q held "$BATS_TEST_TMPDIR/held"
	run -0 lb-stat -t "$T" -P
	[ "${lines[0]}" = "# table	pid	program" ]
	[ "${lines[1]}" = "$T	$BG_PID	lbt" ]
	[ "${#lines[@]}" -eq 2 ]
	# the count behind procs, and the rows behind the count
	[ "$(lb-stat -H -o table,procs | awk -F'\t' -v t="$T" '$1 == t {print $2}')" = 1 ]
	run lb-stat -P -H
	[[ "$output" == *"$T	$BG_PID	lbt"* ]]
	run -0 lb-stat -t "$T" -P -j
	[ "$output" = "{\"table\":\"$T\",\"pid\":$BG_PID,\"program\":\"lbt\"}" ]
	exec 7>&-
	wait "$BG_PID"
	run -0 lb-stat -t "$T" -P -H
	[ -z "$output" ]
}

@test "lb-stat: a damaged table in the list is named; the others still show" {
	two_backends
	head -c 5000 /dev/urandom > "/dev/shm/lb.$T.bad"
	run -1 --separate-stderr lb-stat -H
	rm -f "/dev/shm/lb.$T.bad"
	[[ "$stderr" == *"lb-stat: table $T.bad: not an lb table (bad magic)"* ]]
	[[ "$output" == *"$T	256	2	"* ]]
}

@test "lb-stat: options that do not go together are refused, exit 2" {
	two_backends
	run -2 --separate-stderr lb-stat -t "$T" -p -j
	[ "$stderr" = "lb-stat: -j and -p do not go together: JSON lines or Prometheus text" ]
	run -2 --separate-stderr lb-stat -t "$T" -t "$T"
	[ "$stderr" = "lb-stat: -t given twice: one table, or none for every table" ]
	run -2 --separate-stderr lb-stat -t "$T" -A -o backend
	[ "$stderr" = "lb-stat: -A shows all the columns, -o some: not both" ]
	run -2 --separate-stderr lb-stat -t "$T" -C -j
	[ "$stderr" = "lb-stat: -C aligns columns for a person: not with -j" ]
	run -2 --separate-stderr lb-stat -t "$T" -p -o backend
	[[ "$stderr" == "lb-stat: -p prints once or serves with -l: not with "* ]]
	run -2 --separate-stderr lb-stat -t "$T" -P -w 1
	[ "$stderr" = "lb-stat: -P lists the attached processes once: not with -e or -w" ]
	run -2 --separate-stderr lb-stat -t "$T" -l :0 -j
	[[ "$stderr" == "lb-stat: -l serves Prometheus metrics: not with "* ]]
}

@test "lb-stat: a table name's control bytes never reach the terminal" {
	run -2 --separate-stderr lb-stat -t $'we\ab\e[31m'
	[ "$stderr" = "lb-stat: bad table name 'we\\x07b\\x1b[31m': use 1 to 64 of A-Z a-z 0-9 _ . - (or a path with a /)" ]
	run -1 --separate-stderr lb-stat -t $'/tmp/no\nsuch/web'
	[ "$stderr" = "lb-stat: table /tmp/no\\x0asuch/web: no such table" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "lb-stat: -h and --help print a usage that helps, on stdout" {
	run -0 --separate-stderr lb-stat --help
	[[ "${lines[0]}" == "usage: lb-stat "* ]]
	[[ "$output" == *"-o field,...    these columns"* ]]
	[[ "$output" == *"lb-table(5), VOCABULARY"* ]]
	[ -z "$stderr" ]
	run -0 lb-stat -h
	[[ "$output" == *"-A, -C          all the columns"* ]]
}

@test "lb-stat: the EXAMPLES of lb-stat(1) run" {
	cd "$BATS_TEST_TMPDIR"
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/lb-stat.1" | sed 's/.\x08//g' |
	    awk '/^EXAMPLES/ { on = 1 } /^SEE ALSO/ { on = 0 } on' |
	    sed -n 's/^ *\$ //p' |
	    sed -e "s|/var/lib/node_exporter/|$BATS_TEST_TMPDIR/|" \
	    -e 's/:9273/127.0.0.1:0/' > examples
	[ "$(wc -l < examples)" -eq 13 ]
	# A table "web" in a /dev/shm of the test's own: one backend down.
	cat > run.sh <<-'EOF'
	lb-ctl -t web add 127.0.0.1:1 name=a
	lb-ctl -t web add 127.0.0.1:2 name=b
	lbt health web a up
	lbt health web b down
	while IFS= read -r cmd; do
		# those that run until stopped get a second, on a terminal
		case $cmd in
		*"-w 1"*|watch*|*" -e "*|*" -l "*) lim=2 ;;
		*) lim=20 ;;
		esac
		rc=0
		timeout "$lim" script -qec "$cmd" /dev/null > out 2> /dev/null < /dev/null ||
		    rc=$?
		echo "$rc $cmd"
		{ tr -d '\r' < out; echo; } | sed 's/^/> /'
	done < examples
	EOF
	run -0 in_private_shm bash run.sh
	printf '%s\n' "$output" | grep -v '^> ' > rcs
	# each ends well, or runs until stopped (124)
	awk '$1 != 0 && $1 != 124' rcs > bad
	[ ! -s bad ] || { cat bad; false; }
	[ "$(grep -c "^124 " rcs)" -eq 5 ] || { cat rcs; false; }
	# both awk lines and jq print the backend that is down, alone
	[ "$(grep -c '^> b$' <<< "$output")" -eq 3 ]
	promcheck.py < web.prom
	promcheck.py < lb.prom
	grep -q '^lb_table_slots{table="web"} 256$' lb.prom
}
