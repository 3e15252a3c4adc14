#!/usr/bin/env bats
# 50-cluster: lb on several hosts.  Each test builds its own lab of
# network namespaces (tools/nslab.bash: a client, a router, balancers,
# backends on a private test subnet; its files in the test's own folder)
# and teardown removes it, whatever happened.  Figures measured are
# printed as TAP comments ("# ...").

load helpers/lib
load ../tools/nslab

setup_file() {
	local ns="lbprobe$$x$RANDOM"
	if [ "$(id -u)" -ne 0 ] || ! ip netns add "$ns" 2>/dev/null; then
		skip "network namespaces cannot be made here (needs root and ip netns)"
	fi
	ip netns del "$ns"
}

# After each test every balancer's processes that were not killed on
# purpose are still running, and stop cleanly (exit 0: no sanitizer
# report either).
teardown() {
	local rc=0
	[ -z "${LAB:-}" ] || lab_stop_balancers || rc=1
	lab_down
	lb_teardown
	return "$rc"
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
	lab_up 3 0 "$BATS_TEST_TMPDIR/lab"
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
	lab_up 1 1 "$BATS_TEST_TMPDIR/lab"
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
	lab_up 3 3 "$BATS_TEST_TMPDIR/lab"
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
	lab_up 3 5 "$BATS_TEST_TMPDIR/lab"
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
	lab_up 3 4 "$BATS_TEST_TMPDIR/lab"
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
	kill -TERM "$hold"
	wait "$hold"
}

@test "cluster: each host's lb-check marks a dead backend down; the map stays the same on every host" {
	lab_up 3 3 "$BATS_TEST_TMPDIR/lab"
	lab_backends
	lab_list > "$LAB_DIR/web.list"
	lab_sync "$LAB_DIR/web.list"
	for k in 1 2 3; do lab_check "b$k"; lab_lb "b$k" self; done
	ups() { [ "$(grep -c $'\tup\t' "$LAB_DIR/$1/check")" -ge 3 ]; }
	downs() { grep -q $'\ts2\t.*\tdown\t' "$LAB_DIR/$1/check"; }
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

# The example commands of lb-cluster(7) (EXAMPLES: "$ " lines, with
# the lines that continue them) and of the README's "Past one machine",
# one a line.
join_cmds() {
	awk 'function flush() { if (cmd != "") print cmd; cmd = "" }
	    { sub(/^ +/, "") }
	    /^\$ / { flush(); cmd = substr($0, 3); next }
	    cmd != "" && cmd ~ /[|\\]$/ && $0 != "" {
		sub(/ *\\$/, "", cmd); cmd = cmd " " $0; next }
	    { flush() }
	    END { flush() }'
}
man_examples() {
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/lb-cluster.7" |
	    sed 's/.\x08//g' | awk '/^[A-Z]/ { on = /^EXAMPLES/ } on' |
	    join_cmds
}
readme_examples() {
	awk '/^## / { on = /^## Past one machine/ }
	    on && /^```sh$/ { code = 1; next } code && /^```$/ { code = 0 }
	    code && /^[^# ]/ { print "$ " $0; next } code' \
	    "$BATS_TEST_DIRNAME/../README.md" |
	    sed 's/ *# .*//' | join_cmds
}
# the keepalived.conf of lb-cluster(7)
man_keepalived() {
	awk '/^global_defs \{/ { on = 1 } on && /^\.Ed/ { exit } on' \
	    "$BATS_TEST_DIRNAME/../man/lb-cluster.7"
}

# ex TEXT: the one example command holding TEXT (^TEXT: starting
# with it), marked as run
ex() {
	local c
	c=$(awk -v t="${1#^}" -v a="${1%%[!^]*}" '
	    a ? index($0, t) == 1 : index($0, t)' "$EX")
	[ -n "$c" ] && [ "$(wc -l <<< "$c")" -eq 1 ] ||
	    { echo "not one example holds: $1" >&2; return 1; }
	printf '%s\n' "$c" | tee -a "$EX.ran"
}
# on_all CMD: CMD on every balancer, in its folder (the example's cwd)
on_all() {
	local k
	for k in 1 2 3; do
		lab_in "b$k" env ETCDCTL_ENDPOINTS="http://$LAB_LAN.1:2379" \
		    sh -c "cd '$LAB_DIR/b$k' && $1"
	done
}
# bg_all CMD: CMD without its "&", started on every balancer
bg_all() {
	local k c=${1% &}
	for k in 1 2 3; do
		lab_bg "b$k" env ETCDCTL_ENDPOINTS="http://$LAB_LAN.1:2379" \
		    sh -c "cd '$LAB_DIR/b$k' && exec $c" \
		    > "$LAB_DIR/b$k/ex.$RANDOM" 2>&1
	done
}
# dumps_agree: every balancer's table dumps the same; the dump in DUMP
dumps_agree() {
	local k
	for k in 1 2 3; do
		lab_in "b$k" lb-ctl -t web dump > "$LAB_DIR/dump.b$k"
	done
	cmp -s "$LAB_DIR/dump.b1" "$LAB_DIR/dump.b2" &&
	    cmp -s "$LAB_DIR/dump.b1" "$LAB_DIR/dump.b3" &&
	    DUMP=$(cat "$LAB_DIR/dump.b1")
}

@test "lb-cluster(7), README: the examples run on every host of a lab" {
	EX=$BATS_TEST_TMPDIR/examples
	man_examples > "$EX"
	[ "$(wc -l < "$EX")" -eq 15 ]
	# the configuration shown is the one the lab runs
	diff <(man_keepalived) <(lab_keepalived_conf b1 190 | grep -v '^#')
	lab_up 3 3 "$BATS_TEST_TMPDIR/lab"
	lab_backends
	for k in 1 2 3; do
		lab_list > "$LAB_DIR/b$k/web.list"
		man_keepalived | sed -e "s/router_id b1/router_id b$k/" \
		    -e "s/priority 190/priority $((200 - 10 * k))/" \
		    > "$LAB_DIR/b$k/keepalived.conf"
	done
	# VRRP
	on_all "$(ex 'lb-ctl -t web sync web.list')"
	dumps_agree
	bg_all "$(ex 'lb-check -t web tcp &')"
	bg_all "$(ex "-l $LAB_VIP:80 &")"
	bg_all "$(ex 'keepalived -n -P')"
	wait_for 10 lab_master_is b1
	run -0 lab_in client tcli -n 2 "$LAB_VIP:80"
	[[ "${lines[0]}" == s[123] ]]
	# ECMP
	on_all "$(ex "ip addr add $LAB_ANYCAST/32 dev lo")"
	bg_all "$(ex "-l $LAB_ANYCAST:80 &")"
	lab_in router sh -c "$(ex 'fib_multipath_hash_policy=1')"
	lab_in router sh -c "$(ex 'fib_multipath_use_neigh=1')"
	lab_in router sh -c "$(ex "ip route add $LAB_ANYCAST/32")"
	[ "$(ip -n "$LAB-router" route show "$LAB_ANYCAST" | grep -c nexthop)" -eq 3 ]
	run -0 lab_in client tcli -n 2 "$LAB_ANYCAST:80"
	[[ "${lines[0]}" == s[123] ]]
	# a list in git: a change committed elsewhere reaches every host
	git init -q --bare "$LAB_DIR/origin.git"
	git clone -q "$LAB_DIR/origin.git" "$LAB_DIR/edit" 2> /dev/null
	lab_list > "$LAB_DIR/edit/web.list"
	g() { git -C "$LAB_DIR/edit" -c user.name=t -c user.email=t@example.com "$@"; }
	g add web.list
	g commit -q -m list
	g push -q origin HEAD
	for k in 1 2 3; do
		git clone -q "$LAB_DIR/origin.git" "$LAB_DIR/b$k/lb"
	done
	lab_list s3 > "$LAB_DIR/edit/web.list"
	g commit -q -am "s3 leaves"
	g push -q origin HEAD
	on_all "$(ex 'git -C lb pull -q')"
	dumps_agree
	[[ "$DUMP" == *name=s2* ]]
	[[ "$DUMP" != *name=s3* ]]
	# DNS SRV, from a dnsmasq of the lab's own on the router
	lab_bg router dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
	    --bind-interfaces --listen-address="$LAB_LAN.1" --user=root \
	    --pid-file="$LAB_DIR/router/dnsmasq.pid" \
	    --srv-host=_http._tcp.web.example,s1.web.example,8080,0,10 \
	    --srv-host=_http._tcp.web.example,s2.web.example,8080,0,20 \
	    --host-record=s1.web.example,"$(lab_addr s1)" \
	    --host-record=s2.web.example,"$(lab_addr s2)" \
	    2> "$LAB_DIR/router/dnsmasq.log"
	echo "nameserver $LAB_LAN.1" > "$LAB_DIR/resolv.conf"
	wait_for 5 lab_in b1 dig +short +time=1 +tries=1 s1.web.example
	on_all "$(ex 'dig +short SRV _http._tcp.web.example')"
	dumps_agree
	[ "$DUMP" = "$(printf '%s\n' \
	    "s1.web.example:8080 name=s1.web.example weight=10 maxconn=0 state=enabled" \
	    "s2.web.example:8080 name=s2.web.example weight=20 maxconn=0 state=enabled")" ]
	# etcd, one of the lab's own on the router
	lab_bg router etcd --data-dir "$LAB_DIR/router/etcd" \
	    --listen-client-urls "http://$LAB_LAN.1:2379" \
	    --advertise-client-urls "http://$LAB_LAN.1:2379" \
	    --listen-peer-urls http://127.0.0.1:2380 \
	    --initial-advertise-peer-urls http://127.0.0.1:2380 \
	    --initial-cluster default=http://127.0.0.1:2380 \
	    > "$LAB_DIR/router/etcd.log" 2>&1
	etcd_up() { on_all "etcdctl endpoint health" > /dev/null 2>&1; }
	wait_for 20 etcd_up
	on_all "$(ex 'etcdctl put /lb/web/s1')" > /dev/null
	on_all "$(ex '^etcdctl get --prefix')"
	dumps_agree
	[ "$DUMP" = "192.0.2.101:8080 name=s1 weight=1 maxconn=0 state=enabled" ]
	bg_all "$(ex 'etcdctl watch --prefix /lb/web/ --')"
	# a key added: every host's watch syncs its table.  A watch sees
	# only what changes once it is set up, and nothing says when that
	# is: until every host has it, the key is written anew (its weight
	# changed) on each try.
	w=0
	has_s2() {
		dumps_agree && [[ "$DUMP" == *name=s2* ]] && return 0
		w=$((w + 1))
		lab_in b1 env ETCDCTL_ENDPOINTS="http://$LAB_LAN.1:2379" \
		    etcdctl put /lb/web/s2 "$(lab_addr s2):8080 name=s2 weight=$w" \
		    > /dev/null
		return 1
	}
	wait_for 10 has_s2
	# the demo's own test runs make demo-cluster's script
	ex 'make demo-cluster' > /dev/null
	grep -q 'tools/cluster.sh' "$BATS_TEST_DIRNAME/../Makefile"
	# every example of the page ran; the README's are among them
	[ "$(sort -u "$EX.ran" | wc -l)" -eq "$(wc -l < "$EX")" ]
	readme_examples > "$EX.readme"
	[ "$(wc -l < "$EX.readme")" -eq 7 ]
	while IFS= read -r c; do
		grep -qxF -- "$c" "$EX" || { echo "README: not run: $c"; false; }
	done < "$EX.readme"
}

@test "cluster: make demo-cluster's script runs whole and shows a failover" {
	run -0 timeout 120 bash "$BATS_TEST_DIRNAME/../tools/cluster.sh"
	[[ "$output" == *"master: b1"* ]]
	[[ "$output" == *"master now: b2"* ]]
	[[ "$output" != *"(failed)"* ]]
	grep -Eq '^    300 connections, [0-9]+ failed, started over [0-9]+ ms$' <<< "$output"
	grep -Eq '^    [0-9]+ served, all by s[1-4]$' <<< "$output"
	grep -Eq 'of 1000 clients ([0-9]+) moved: \1 were on s4, 0 others' <<< "$output"
	[[ "$output" == *"router: 192.0.2.11 dev br0 FAILED"* ]]
	[ "$(grep -c $'\ts1\t.*\tup\tdown\t' <<< "$output")" -eq 2 ]
	# and it left none of its namespaces behind
	lab=$(sed -n 's/^    namespaces \(lb[0-9x]*\)-\*: b1 b2 b3 client router s1 s2 s3 s4$/\1/p' <<< "$output")
	[ -n "$lab" ]
	run ! bash -c "ip netns list | grep -q '^$lab-'"
}
