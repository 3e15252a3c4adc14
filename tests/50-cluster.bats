#!/usr/bin/env bats
# 50-cluster: lb on several hosts.  Each test builds its own lab of
# network namespaces (tools/nslab.bash: a client, a router, balancers,
# backends on a private test subnet) and teardown removes it, whatever
# happened.  Figures measured are printed as TAP comments ("# ...").

load helpers/lib
load ../tools/nslab

setup_file() {
	local ns="lbprobe$$x$RANDOM"
	if [ "$(id -u)" -ne 0 ] || ! ip netns add "$ns" 2>/dev/null; then
		skip "network namespaces cannot be made here (needs root and ip netns)"
	fi
	ip netns del "$ns"
}

teardown() {
	lab_down
	lb_teardown
}

# say TEXT: a figure, as a TAP comment in the suite's output
say() { echo "# $*" >&3; }

# the lines of FILE, one a line (wait_for predicates)
lines_ge() { [ "$(wc -l < "$1")" -ge "$2" ]; }
has_line() { grep -qx -- "$2" "$1"; }
probed_twice() { [ "$(grep -c '^probed$' "$1")" -eq 2 ]; }

# map HOST_ADDR FIRST COUNT: flows.py map from the client
map() { lab_in client flows.py map "$1:$LAB_PORT" "$2" "$3"; }

@test "cluster: lb-ctl sync of one list on every host gives identical dumps" {
	lab_up 3 0
	cat > "$LAB_DIR/web.list" <<-'EOF'
	# the web tier, as kept in version control
	192.0.2.101:8080 name=s1 weight=2
	192.0.2.102:8080 name=s2
	192.0.2.103:8080 name=s3 state=drain
	192.0.2.104:8080 name=spare backup=yes
	EOF
	lab_sync "$LAB_DIR/web.list"
	for k in 1 2 3; do
		lab_in "b$k" lb-ctl -t web dump > "$LAB_DIR/dump.b$k"
	done
	cmp "$LAB_DIR/dump.b1" "$LAB_DIR/dump.b2"
	cmp "$LAB_DIR/dump.b1" "$LAB_DIR/dump.b3"
	[ "$(wc -l < "$LAB_DIR/dump.b1")" -eq 4 ]
	grep -q '^192.0.2.103:8080 name=s3 .*state=drain' "$LAB_DIR/dump.b1"
	# a change to the list reaches every host the same way
	sed -i -e '/name=s2/d' -e 's/state=drain//' "$LAB_DIR/web.list"
	echo "192.0.2.105:8080 name=s5 weight=3" >> "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	for k in 1 2 3; do
		lab_in "b$k" lb-ctl -t web dump > "$LAB_DIR/after.b$k"
	done
	cmp "$LAB_DIR/after.b1" "$LAB_DIR/after.b2"
	cmp "$LAB_DIR/after.b1" "$LAB_DIR/after.b3"
	run ! cmp -s "$LAB_DIR/dump.b1" "$LAB_DIR/after.b1"
	run ! grep -q 'name=s2' "$LAB_DIR/after.b1"
	grep -q '^192.0.2.105:8080 name=s5 weight=3' "$LAB_DIR/after.b1"
	# and each host's table is its own: b1's is not b2's
	lab_in b1 lb-ctl -t web del s5
	run -0 lab_in b1 lb-ctl -t web dump
	[[ "$output" != *s5* ]]
	run -0 lab_in b2 lb-ctl -t web dump
	[[ "$output" == *s5* ]]
}

@test "cluster: lb-tcp listens on an address before its host holds it" {
	lab_up 1 1
	lab_backends
	lab_list > "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	# the virtual address is nowhere yet; lb-tcp binds it all the same
	run ! lab_has_vip b1
	lab_lb b1 "$LAB_VIP"
	lab_in b1 ss -Hltn "( sport = :$LAB_PORT )" | grep -q "$LAB_VIP:$LAB_PORT"
	# it arrives (as keepalived would bring it), and is served at once
	ip -n "$LAB-b1" addr add "$LAB_VIP/24" dev eth0
	run -0 lab_in client tcli -n 3 "$LAB_VIP:$LAB_PORT"
	[ "$output" = "$(printf 's1\ns1\ns1\nok 3 failed 0')" ]
}

@test "cluster: VRRP: the virtual address moves within about a second when the master dies" {
	lab_up 3 3
	lab_backends
	lab_list > "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	for k in 1 2 3; do lab_lb "b$k" "$LAB_VIP"; done
	lab_vrrp
	run ! lab_has_vip b2
	run ! lab_has_vip b3
	# a connection every 10ms for 3s, each given 300ms to be served
	f=$LAB_DIR/rate
	lab_bg client flows.py rate "$LAB_VIP:$LAB_PORT" 10 3000 300 > "$f"
	rate=$LAB_PID
	wait_for 5 lines_ge "$f" 30
	lab_kill b1
	wait_for 5 lab_has_vip b2
	wait "$rate"
	sort -n "$f" > "$f.sorted"
	read -r total fails first last <<< "$(awk '
	    { n++ } $2 == "fail" { if (!f++) a = $1; b = $1 }
	    END { print n, f + 0, a + 0, b + 0 }' "$f.sorted")"
	say "VRRP failover: $fails of $total connections failed, started" \
	    "over $((last - first)) ms (advert every ${LAB_ADVERT}s)"
	[ "$total" -eq 300 ]
	# the master did go, and the failures are one run, then none
	[ "$fails" -gt 0 ]
	[ $((last - first)) -le 1200 ]
	[ "$(awk -v a="$first" -v b="$last" '$1 >= a && $1 <= b' "$f.sorted" |
	    grep -vc ' fail ')" -eq 0 ]
	# one client address: the same backend before and after, from b2
	[ "$(awk '$2 == "ok" {print $3}' "$f" | sort -u | wc -l)" -eq 1 ]
	lab_has_vip b2
	run ! lab_has_vip b3
}

@test "cluster: Maglev: 1,000 clients map to the same backend through every balancer; removing 1 of 5 backends moves a fifth" {
	lab_up 3 5
	lab_backends
	lab_list > "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	for k in 1 2 3; do lab_lb "b$k" self; done
	# 198.18.0.1 .. 198.18.3.232 through each balancer's own address
	for k in 1 2 3; do
		map "$(lab_addr "b$k")" 198.18.0.1 1000 > "$LAB_DIR/map.b$k"
	done
	[ "$(grep -c ' s[1-5]$' "$LAB_DIR/map.b1")" -eq 1000 ]
	cmp "$LAB_DIR/map.b1" "$LAB_DIR/map.b2"
	cmp "$LAB_DIR/map.b1" "$LAB_DIR/map.b3"
	# every backend has its share
	for k in 1 2 3 4 5; do
		n=$(grep -c " s$k\$" "$LAB_DIR/map.b1")
		[ "$n" -ge 120 ]
		[ "$n" -le 280 ]
	done
	# s3 leaves the list, on every host
	lab_list s3 > "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	for k in 1 2 3; do
		map "$(lab_addr "b$k")" 198.18.0.1 1000 > "$LAB_DIR/after.b$k"
	done
	cmp "$LAB_DIR/after.b1" "$LAB_DIR/after.b2"
	cmp "$LAB_DIR/after.b1" "$LAB_DIR/after.b3"
	read -r moved on3 others <<< "$(paste -d' ' "$LAB_DIR/map.b1" \
	    "$LAB_DIR/after.b1" | awk '$2 != $4 { m++; if ($2 != "s3") o++ }
	    $2 == "s3" { s++ } END { print m + 0, s + 0, o + 0 }')"
	say "Maglev: removing 1 of 5 backends moved $moved of 1000 clients" \
	    "($on3 were on it), $others others"
	# all of s3's clients move, and others only as Maglev's table
	# fill shifts a few entries: at most 1%
	[ "$others" -le 10 ]
	[ "$moved" -eq $((on3 + others)) ]
	[ "$moved" -ge 150 ]
	[ "$moved" -le 250 ]
	run ! grep -q ' s3$' "$LAB_DIR/after.b1"
}

@test "cluster: ECMP: 3 balancers share connections; one dies, only its connections fail, new ones land on the same backends" {
	lab_up 3 4
	lab_backends
	lab_list > "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	lab_ecmp
	for k in 1 2 3; do lab_lb "b$k" "$LAB_ANYCAST"; done
	# 90 connections from 90 client addresses, kept open
	h=$LAB_DIR/held
	lab_bg client flows.py hold "$LAB_ANYCAST:$LAB_PORT" 198.18.1.0 90 > "$h"
	hold=$LAB_PID
	wait_for 10 has_line "$h" held
	[ "$(grep -c ' s[1-4]$' "$h")" -eq 90 ]
	# which balancer holds each, as each sees it
	for k in 1 2 3; do
		lab_in "b$k" ss -Htn state connected "( sport = :$LAB_PORT )" |
		    awk -v b="b$k" '{ print $NF, b }'
	done | sort > "$LAB_DIR/where"
	[ "$(wc -l < "$LAB_DIR/where")" -eq 90 ]
	read -r n1 n2 n3 <<< "$(for k in 1 2 3; do
	    grep -c " b$k\$" "$LAB_DIR/where"; done | tr '\n' ' ')"
	say "ECMP: 90 connections over 3 balancers: $n1, $n2, $n3"
	[ "$n1" -ge 10 ]
	[ "$n2" -ge 10 ]
	[ "$n3" -ge 10 ]
	# b2 dies; a byte on every connection: those on b2 go unanswered
	lab_kill b2
	kill -USR1 "$hold"
	wait_for 10 has_line "$h" probed
	sed -n '/^held$/,/^probed$/p' "$h" | grep ':' | sort |
	    join "$LAB_DIR/where" - > "$LAB_DIR/state"
	[ "$(wc -l < "$LAB_DIR/state")" -eq 90 ]
	[ "$(grep -c ' b2 dead$' "$LAB_DIR/state")" -eq "$n2" ]
	[ "$(grep -c ' alive$' "$LAB_DIR/state")" -eq $((n1 + n3)) ]
	# the router gives up on b2 (ARP) and hashes its share elsewhere;
	# the connections on b1 and b3 stay where they are
	wait_for 10 lab_nexthop_failed b2
	kill -USR1 "$hold"
	wait_for 10 probed_twice "$h"
	[ "$(sed -n '/^probed$/,$p' "$h" | grep -c ' alive$')" -eq $((n1 + n3)) ]
	# new connections from the same 90 addresses, whichever balancer
	# the router now picks: the same backend as before
	sed '/^held$/q' "$h" | grep ':' | sed 's/:[0-9]* / /' | sort > "$LAB_DIR/before"
	map "$LAB_ANYCAST" 198.18.1.0 90 | sort > "$LAB_DIR/after"
	cmp "$LAB_DIR/before" "$LAB_DIR/after"
}

@test "cluster: each host's lb-check marks a dead backend down; the map stays the same on every host" {
	lab_up 3 3
	lab_backends
	lab_list > "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	for k in 1 2 3; do lab_check "b$k"; lab_lb "b$k" self; done
	ups() { [ "$(grep -c $'\tUP\t' "$LAB_DIR/$1/check")" -ge 3 ]; }
	downs() { grep -q $'\ts2\t.*\tDOWN\t' "$LAB_DIR/$1/check"; }
	for k in 1 2 3; do wait_for 10 ups "b$k"; done
	map "$(lab_addr b1)" 198.18.0.1 200 > "$LAB_DIR/before"
	kill "$LAB_PID_s2"
	for k in 1 2 3; do wait_for 10 downs "b$k"; done
	for k in 1 2 3; do
		map "$(lab_addr "b$k")" 198.18.0.1 200 > "$LAB_DIR/after.b$k"
	done
	cmp "$LAB_DIR/after.b1" "$LAB_DIR/after.b2"
	cmp "$LAB_DIR/after.b1" "$LAB_DIR/after.b3"
	run ! grep -q ' s2$' "$LAB_DIR/after.b1"
	# s2's clients moved, and (Maglev) at most 1% of the others
	others=$(paste -d' ' "$LAB_DIR/before" "$LAB_DIR/after.b1" |
	    awk '$2 != $4 && $2 != "s2"' | wc -l)
	say "health: s2 of 3 down on every host: $others of 200 other clients moved"
	[ "$others" -le 2 ]
}
