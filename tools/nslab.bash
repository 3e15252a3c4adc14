# nslab.bash: hosts as network namespaces on this machine, for
# tools/cluster.sh and tests/50-cluster.bats.  A client, a router,
# balancers b1..bN and backends s1..sM on a private test subnet that no
# other namespace reaches; lab_down stops every process started here, by
# pid, and removes every namespace.  Source it (bash), then lab_up N M.
# Needs root (ip netns) and lb's programs and tsrv on PATH.
#
#   client 198.51.100.2, and 198.18.0.0/22 as extra source addresses
#     |
#   router 198.51.100.1 | br0 192.0.2.1: routes, and the LAN's switch
#     |
#   LAN 192.0.2.0/24: balancers .11 .12 ..., backends .101 .102 ...
#   VRRP's virtual address 192.0.2.10, held by one balancer at a time
#   ECMP's address 203.0.113.20, on every balancer's lo, routed by the
#   router over all of them
#
# Fixed addresses are safe: they exist only inside the lab's namespaces.

LAB_LAN=192.0.2
LAB_VIP=192.0.2.10
LAB_ANYCAST=203.0.113.20
LAB_CLIENT=198.51.100.2
LAB_SOURCES=198.18.0.0/22
LAB_PORT=80
LAB_BEPORT=8080
# VRRP adverts every 200ms: a backup takes over 3 missed adverts and a
# skew after the master went, about 0.7s; "about a second" with room.
LAB_ADVERT=0.2

# lab_up N M [DIR]: the namespaces, links and routes of a lab of N
# balancers and M backends.  Its files (tables, logs, configurations) go
# in DIR (default: a new temporary folder, removed by lab_down).
lab_up() {
	local n=$1 m=$2 k
	LAB="lb$$x$RANDOM"
	LAB_N=$n LAB_M=$m
	LAB_PIDS=()
	LAB_NS=()
	LAB_OWNDIR=
	if [ -n "${3:-}" ]; then
		LAB_DIR=$3
		mkdir -p "$LAB_DIR"
	else
		LAB_DIR=$(mktemp -d)
		LAB_OWNDIR=$LAB_DIR
	fi
	lab_host client
	lab_host router
	lab_in router sysctl -qw net.ipv4.ip_forward=1
	ip -n "$LAB-router" link add br0 type bridge
	ip -n "$LAB-router" addr add "$LAB_LAN.1/24" dev br0
	ip -n "$LAB-router" link set br0 up
	lab_link client router c
	ip -n "$LAB-router" addr add 198.51.100.1/24 dev c
	ip -n "$LAB-client" addr add "$LAB_CLIENT/24" dev eth0
	ip -n "$LAB-client" route add default via 198.51.100.1
	# AnyIP: every address of the prefix is the client's own, so that
	# it can bind a thousand source addresses without adding each
	ip -n "$LAB-client" route add local "$LAB_SOURCES" dev lo
	ip -n "$LAB-router" route add "$LAB_SOURCES" via "$LAB_CLIENT"
	for k in $(seq "$n"); do
		lab_lanhost "b$k" "$(lab_addr "b$k")"
		eval "LAB_PIDS_b$k=()"
	done
	for k in $(seq "$m"); do
		lab_lanhost "s$k" "$(lab_addr "s$k")"
	done
}

# lab_host NAME: a namespace of the lab, its loopback up, no IPv6 (the
# lab is IPv4; it keeps router solicitations and DAD out of the way)
lab_host() {
	ip netns add "$LAB-$1"
	LAB_NS+=("$LAB-$1")
	mkdir -p "$LAB_DIR/$1/shm"
	ip -n "$LAB-$1" link set lo up
	lab_in "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	lab_in "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}

# lab_link HOST ROUTER PORT: a cable: eth0 in HOST, PORT in ROUTER
lab_link() {
	ip -n "$LAB-$2" link add "$3" type veth peer name eth0 netns "$LAB-$1"
	ip -n "$LAB-$2" link set "$3" up
	ip -n "$LAB-$1" link set eth0 up
}

# lab_lanhost HOST ADDR: a host on the LAN at ADDR, its cable plugged
# into the router's bridge
lab_lanhost() {
	lab_host "$1"
	lab_link "$1" router "$1"
	ip -n "$LAB-router" link set "$1" master br0
	ip -n "$LAB-$1" addr add "$2/24" dev eth0
	ip -n "$LAB-$1" route add default via "$LAB_LAN.1"
}

# lab_addr HOST: the LAN address of b1.. (.11..) or s1.. (.101..)
lab_addr() {
	case $1 in
	b*) echo "$LAB_LAN.$((10 + ${1#b}))" ;;
	s*) echo "$LAB_LAN.$((100 + ${1#s}))" ;;
	esac
}

# lab_in HOST CMD...: run CMD in HOST's namespace.  ip netns exec gives
# it a mount namespace of its own, where the host's folder HOST/shm is
# mounted on /dev/shm, so that every host has its own tables (lb-ctl -t
# web on b1 is not b2's web), and LAB_DIR/resolv.conf, when there is
# one, on /etc/resolv.conf.
lab_in() {
	ip netns exec "$LAB-$1" sh -c "$LAB_MOUNTS" "$LAB_DIR" "$@"
}
LAB_MOUNTS='mount --bind "$0/$1/shm" /dev/shm &&
    { [ ! -f "$0/resolv.conf" ] ||
    mount --bind "$0/resolv.conf" /etc/resolv.conf; } && shift && exec "$@"'

# lab_bg HOST CMD...: start CMD in HOST in the background; its pid in
# LAB_PID, remembered for lab_down.  fd 3 is closed (bats waits on it).
lab_bg() {
	# a simple command, not a function: $! is the program itself
	ip netns exec "$LAB-$1" sh -c "$LAB_MOUNTS" "$LAB_DIR" "$@" 3>&- &
	LAB_PID=$!
	LAB_PIDS+=("$LAB_PID")
}

# lab_wait LIMIT_S CMD...: run CMD until it succeeds, at most LIMIT_S
# seconds: a bounded poll
lab_wait() {
	local limit=$(($1 * 100)) i=0
	shift
	until "$@"; do
		i=$((i + 1))
		if [ "$i" -ge "$limit" ]; then
			echo "nslab: timed out: $*" >&2
			return 1
		fi
		sleep 0.01
	done
}

# lab_backends [MODE]: tsrv on every backend, port 8080, answering
# with its name (s1, s2, ...)
lab_backends() {
	local k f
	for k in $(seq "$LAB_M"); do
		f="$LAB_DIR/s$k.addr"
		lab_bg "s$k" tsrv -1 -n "s$k" -m "${1:-name}" \
		    -l "$(lab_addr "s$k"):$LAB_BEPORT" > "$f"
		eval "LAB_PID_s$k=$LAB_PID"
	done
	for k in $(seq "$LAB_M"); do
		lab_wait 5 test -s "$LAB_DIR/s$k.addr"
	done
}

# lab_list [SKIP]: the backend list of the lab's backends, less SKIP
lab_list() {
	local k
	echo "# the web tier: one list for every balancer"
	for k in $(seq "$LAB_M"); do
		[ "s$k" = "${1:-}" ] && continue
		echo "$(lab_addr "s$k"):$LAB_BEPORT name=s$k"
	done
}

# lab_sync FILE: lb-ctl sync of FILE on every balancer, as each host
# would do it from its own copy of the list
lab_sync() {
	local k
	for k in $(seq "$LAB_N"); do
		lab_in "b$k" lb-ctl -t web sync "$1"
	done
}

# lab_lb HOST ADDR [LB-TCP-FLAGS...]: lb-tcp -a maglev on HOST over its
# table, listening on ADDR:80 (self: the host's own LAN address); its
# pid in LAB_PID_lb_HOST (several: the last), its log in HOST/lb.ADDR
lab_lb() {
	local h=$1 a=$2 f
	shift 2
	[ "$a" = self ] && a=$(lab_addr "$h")
	f="$LAB_DIR/$h/lb.$a"
	lab_bg "$h" lb-tcp -1 -a maglev -t web -w 1 -g 1s \
	    -l "$a:$LAB_PORT" "$@" > "$f" 2> "$f.err"
	eval "LAB_PIDS_$h+=($LAB_PID)"
	lab_wait 5 test -s "$f"
}

# lab_check HOST: lb-check on HOST over its table, a TCP connect every
# 200ms, its transitions in HOST/check
lab_check() {
	lab_bg "$1" lb-check -t web -i 200ms -f 2 -r 2 tcp \
	    > "$LAB_DIR/$1/check" 2> "$LAB_DIR/$1/check.err"
	eval "LAB_PIDS_$1+=($LAB_PID)"
}

# lab_vrrp: keepalived on every balancer, b1 the preferred master, with
# a configuration, pid files and logs of the lab's own; returns once b1
# holds the virtual address
lab_vrrp() {
	local k d
	for k in $(seq "$LAB_N"); do
		d=$LAB_DIR/b$k
		lab_keepalived_conf "b$k" $((200 - 10 * k)) > "$d/keepalived.conf"
		lab_bg "b$k" keepalived -n -l -G -P -f "$d/keepalived.conf" \
		    -p "$d/keepalived.pid" -r "$d/vrrp.pid" \
		    > "$d/keepalived.log" 2>&1
		eval "LAB_PIDS_b$k+=($LAB_PID)"
		eval "LAB_KA_b$k=$LAB_PID"
	done
	lab_wait 10 lab_master_is b1
}

# lab_keepalived_conf HOST PRIORITY: the configuration of one balancer
lab_keepalived_conf() {
	cat <<EOF
# keepalived on $1: VRRP version 3 (adverts under a second) for the
# virtual address $LAB_VIP; the host of highest priority holds it.
global_defs {
	router_id $1
	vrrp_version 3
	vrrp_garp_master_delay 0
}
vrrp_instance web {
	state BACKUP
	interface eth0
	virtual_router_id 51
	priority $2
	advert_int $LAB_ADVERT
	virtual_ipaddress {
		$LAB_VIP/24 dev eth0
	}
}
EOF
}

# lab_master: the balancer holding the virtual address (none: empty)
lab_master() {
	local k
	for k in $(seq "$LAB_N"); do
		if lab_has_vip "b$k"; then
			echo "b$k"
		fi
	done
}

lab_master_is() { [ "$(lab_master)" = "$1" ]; }

# lab_has_vip HOST: HOST holds the virtual address (a dead host may
# too: keepalived killed with SIGKILL leaves it behind)
lab_has_vip() {
	ip -n "$LAB-$1" -br addr show dev eth0 | grep -q " $LAB_VIP/"
}

# lab_ecmp: ECMP's address on every balancer and, in the router, one
# route to it with a next hop per balancer, hashed on the 5-tuple.  A
# next hop whose host stops answering ARP is left out by the kernel
# (fib_multipath_use_neigh); the router's ARP timers are short so that
# it takes about a second.
lab_ecmp() {
	local k hops=()
	for k in $(seq "$LAB_N"); do
		ip -n "$LAB-b$k" addr add "$LAB_ANYCAST/32" dev lo
		hops+=(nexthop via "$(lab_addr "b$k")")
	done
	lab_in router sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	lab_in router sysctl -qw net.ipv4.fib_multipath_use_neigh=1
	ip -n "$LAB-router" ntable change name arp_cache dev br0 \
	    base_reachable 500 delay_probe 100 retrans 100 ucast_probes 2
	ip -n "$LAB-router" route add "$LAB_ANYCAST/32" "${hops[@]}"
}

# lab_nexthop_failed HOST: the router has given up on HOST's address
lab_nexthop_failed() {
	ip -n "$LAB-router" neigh show "$(lab_addr "$1")" | grep -q FAILED
}

# lab_kill HOST: the host dies: its cable is pulled, then its processes
# are killed (lb-tcp, lb-check, keepalived and keepalived's VRRP child),
# so that it sends nothing more, not even a last advert
lab_kill() {
	local h=$1 p v pids
	LAB_DEAD="${LAB_DEAD:-} $h"
	ip -n "$LAB-router" link set "$h" down
	eval "pids=(\${LAB_PIDS_$h[@]})"
	v=$(lab_vrrp_child "$h")
	for p in "${pids[@]}" $v; do
		kill -KILL "$p" 2>/dev/null || true
	done
	# reaped here, quietly, rather than reported as "Killed" later
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}

# lab_vrrp_child HOST: the pid of keepalived's VRRP process on HOST,
# if it runs
lab_vrrp_child() {
	local p
	p=$(cat "$LAB_DIR/$1/vrrp.pid" 2>/dev/null || true)
	[ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = keepalived ] &&
	    echo "$p"
	return 0
}

# lab_stop_balancers: TERM lb-tcp, lb-check and keepalived on every
# balancer that did not die by lab_kill; each must still have been
# running, and must exit 0.  Says which did not, and returns 1.
lab_stop_balancers() {
	local k p rc=0 st pids
	for k in $(seq "$LAB_N"); do
		case " ${LAB_DEAD:-} " in *" b$k "*) continue ;; esac
		eval "pids=(\${LAB_PIDS_b$k[@]})"
		for p in "${pids[@]}"; do
			if ! kill -0 "$p" 2>/dev/null; then
				echo "nslab: b$k: pid $p died" >&2
				rc=1
			fi
			kill -TERM "$p" 2>/dev/null || true
		done
		for p in "${pids[@]}"; do
			st=0
			wait "$p" || st=$?
			if [ "$st" -ne 0 ]; then
				echo "nslab: b$k: pid $p exited $st" >&2
				rc=1
			fi
		done
	done
	return "$rc"
}

# lab_down: stop what the lab started, by pid, and remove its
# namespaces and (when it made it) its folder
lab_down() {
	local p ns v i
	[ -n "${LAB:-}" ] || return 0
	# keepalived's VRRP child is not ours: TERM its parent, which
	# stops it, then make sure by its pid file
	for p in "${LAB_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${LAB_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	for v in $(seq "$LAB_N"); do
		p=$(lab_vrrp_child "b$v")
		[ -n "$p" ] || continue
		for i in $(seq 200); do
			kill -0 "$p" 2>/dev/null || break
			[ "$i" -eq 100 ] && kill -KILL "$p" 2>/dev/null
			sleep 0.01
		done
	done
	for ns in "${LAB_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	[ -z "$LAB_OWNDIR" ] || rm -rf "$LAB_OWNDIR"
	LAB=
}
