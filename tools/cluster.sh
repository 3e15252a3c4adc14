#!/bin/bash
# cluster.sh: lb on several hosts (make demo-cluster).  Builds, as network
# namespaces on this machine, a client, a router, 3 balancers and 4
# backends on a private test subnet (tools/nslab.bash); feeds one backend
# list to every balancer with lb-ctl sync; runs lb-check, lb-tcp -a maglev
# and keepalived on each; shows the same client-to-backend map on every
# balancer, ECMP spreading connections over all of them, and a failover
# when the VRRP master dies.  Removes everything it made when it ends.
# Needs root (ip netns).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="${LB_BIN:?}:${LB_BIN}/tests:$here/../tests/helpers:$PATH"
if [ "$(id -u)" -ne 0 ]; then
	echo "cluster.sh: needs root, to make network namespaces" >&2
	exit 1
fi
. "$here/nslab.bash"
trap lab_down EXIT
trap 'exit 1' INT TERM

if [ -t 1 ]; then B=$(printf '\033[1m') N=$(printf '\033[0m'); else B= N=; fi
note() { printf '\n%s# %s%s\n' "$B" "$*" "$N"; }
on() {	# on HOST CMD...: show and run CMD on HOST
	local h=$1
	shift
	printf '%s%s$ %s%s\n' "$B" "$h" "$*" "$N"
	lab_in "$h" "$@"
}
indent() { sed 's/^/    /'; }

# who SOURCE...: a connection from each SOURCE (a client address) to
# ADDR through the router; which backend answered each
who() {
	local a=$1 s
	shift
	for s in "$@"; do
		printf '%-12s %s\n' "$s" "$(lab_in client tcli -n 1 -s "$s" \
		    "$a:$LAB_PORT" 2>/dev/null || echo "(failed)")"
	done
}

note "A client, a router, balancers b1-b3 and backends s1-s4, each a" \
    "network namespace; the LAN is ${LAB_LAN}.0/24."
lab_up 3 4
echo "    namespaces $LAB-*: $(ip netns list | grep "^$LAB-" |
    sed "s/^$LAB-//; s/ .*//" | sort | paste -sd' ')"
lab_backends

note "One backend list, the kind kept in version control, synced to" \
    "every balancer; each host's table is its own, and their dumps agree."
lab_list > "$LAB_DIR/web.list"
indent < "$LAB_DIR/web.list"
for k in 1 2 3; do
	on "b$k" lb-ctl -t web sync "$LAB_DIR/web.list"
done
for k in 1 2 3; do
	printf '    b%s: %s\n' "$k" "$(lab_in "b$k" lb-ctl -t web dump | md5sum)"
done

note "On every balancer: lb-check, and lb-tcp -a maglev on two addresses:" \
    "the VRRP address $LAB_VIP (not held yet: IP_FREEBIND) and the" \
    "ECMP address $LAB_ANYCAST (on each one's lo)."
lab_ecmp
for k in 1 2 3; do
	lab_check "b$k"
	lab_lb "b$k" "$LAB_VIP" -q
	lab_lb "b$k" "$LAB_ANYCAST"
	printf '    b%s: lb-tcp -a maglev -t web -l %s:%s; -l %s:%s\n' "$k" \
	    "$LAB_VIP" "$LAB_PORT" "$LAB_ANYCAST" "$LAB_PORT"
done
note "keepalived on every balancer (VRRP v3, an advert every" \
    "${LAB_ADVERT}s); b1 has the highest priority:"
lab_keepalived_conf b1 190 | indent
lab_vrrp
echo "    master: $(lab_master)"
note "The router's ECMP route to $LAB_ANYCAST, hashed on the 5-tuple:"
ip -n "$LAB-router" route show "$LAB_ANYCAST" | indent

# who4 SOURCE...: four connections from each SOURCE to ECMP's address
who4() {
	local s i
	for s in "$@"; do
		for i in 1 2 3 4; do
			lab_in client tcli -n 1 -s "$s" \
			    "$LAB_ANYCAST:$LAB_PORT" 2>/dev/null ||
			    echo "(failed)"
		done | sort | uniq -c |
		    awk -v s="$s" '{ printf "%-12s %s x%d\n", s, $2, $1 }'
	done
}

src="198.18.0.1 198.18.0.2 198.18.0.3 198.18.0.4 198.18.0.5"
note "Five client addresses through the VRRP address (to b1):"
who "$LAB_VIP" $src | indent
note "The same five through the ECMP address, four connections each;" \
    "the router sends them to any balancer, Maglev to the same backend:"
who4 $src | indent
served() {	# the connections each balancer's lb-tcp on ECMP's address logged
	local k
	for k in 1 2 3; do
		tail -n +2 "$LAB_DIR/b$k/lb.$LAB_ANYCAST" | wc -l
	done | paste -sd' '
}
logged() { [ "$(served | awk '{print $1 + $2 + $3}')" -ge 20 ]; }
lab_wait 5 logged
served | awk '{printf "    served by b1: %d, b2: %d, b3: %d\n", $1, $2, $3}'

note "b1, the VRRP master, dies (its link and its processes) while the" \
    "client opens a connection every 10ms for 3s:"
lab_bg client flows.py rate "$LAB_VIP:$LAB_PORT" 10 3000 300 > "$LAB_DIR/rate"
rate=$LAB_PID
three() { [ "$(wc -l < "$LAB_DIR/rate")" -ge 30 ]; }
lab_wait 5 three
lab_kill b1
wait "$rate"
sort -n "$LAB_DIR/rate" | awk '
    { n++ } $2 == "fail" { if (!f++) a = $1; b = $1 }
    $2 == "ok" { ok[$3]++ }
    END {
	printf "    %d connections, %d failed, started over %d ms\n",
	    n, f, b - a
	for (s in ok) printf "    %d served, all by %s\n", ok[s], s
    }'
echo "    master now: $(lab_master | grep -vx b1)"
note "ECMP: the router still hashes a third of new connections to b1 until" \
    "it gives up on it (no ARP answer, about a second; a SYN sent there is" \
    "sent again after 1s, and then goes to b2 or b3).  The five clients," \
    "four connections each, reach the same backends as before:"
who4 $src | indent
ip -n "$LAB-router" neigh show "$(lab_addr b1)" | sed 's/^/    router: /'

note "The list changes (s4 leaves) and reaches the live balancers:"
lab_in client flows.py map "$LAB_ANYCAST:$LAB_PORT" 198.18.0.1 1000 \
    > "$LAB_DIR/map.before"
lab_list s4 > "$LAB_DIR/web.list"
for k in 2 3; do
	on "b$k" lb-ctl -t web sync "$LAB_DIR/web.list"
done
for k in 2 3; do
	printf '    b%s: %s\n' "$k" "$(lab_in "b$k" lb-ctl -t web dump | md5sum)"
done
who "$LAB_ANYCAST" $src | indent
lab_in client flows.py map "$LAB_ANYCAST:$LAB_PORT" 198.18.0.1 1000 \
    > "$LAB_DIR/map.after"
paste -d' ' "$LAB_DIR/map.before" "$LAB_DIR/map.after" | awk '
    $2 == "s4" { on++ } $2 != $4 { m++; if ($2 != "s4") o++ }
    END { printf "    of 1000 clients %d moved: %d were on s4, %d others\n",
	m, on, o }'

note "Health on each host by its own lb-check: s1 stops, and b2 and b3" \
    "each mark it down."
kill "$LAB_PID_s1"
down() { grep -q $'\ts1\t.*\tdown\t' "$LAB_DIR/$1/check"; }
lab_wait 10 down b2
lab_wait 10 down b3
for k in 2 3; do
	grep $'\ts1\t' "$LAB_DIR/b$k/check" | tail -1 | cut -f2- |
	    sed "s/^/b$k: /" | indent
done
who "$LAB_ANYCAST" $src | indent
printf '\nEverything started here stops now, and the namespaces go.\n'
